"""What `config_kind` may say: `Kind` (of the group fn.kpt.dev, any version) or
`group/version/Kind`. Its own module, light, because the decorator checks it when a
function's module is imported, before any YAML machinery is needed."""

from __future__ import annotations

import re

__all__ = ["split_config_kind"]

_KIND = re.compile(r"[A-Z][A-Za-z0-9]*")
_GROUP = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+")
_VERSION = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def split_config_kind(text: str) -> tuple[str | None, str]:
    """`Kind` (of the group fn.kpt.dev, any version) or `group/version/Kind`, as
    (apiVersion or None, Kind); a ValueError for anything else, so that a function
    declares a config it could never accept at import time rather than at run time."""
    parts = text.split("/")
    problem = ""
    if len(parts) not in (1, 3):
        problem = "give Kind or group/version/Kind"
    elif not _KIND.fullmatch(parts[-1]):
        problem = f"{parts[-1]!r} is not a Kind (CamelCase letters and digits)"
    elif len(parts) == 3 and not _GROUP.fullmatch(parts[0]):
        problem = f"{parts[0]!r} is not an API group (a DNS name such as example.com)"
    elif len(parts) == 3 and not _VERSION.fullmatch(parts[1]):
        problem = f"{parts[1]!r} is not an API version (such as v1 or v1alpha1)"
    if problem:
        raise ValueError(f"config_kind {text!r}: {problem}")
    return (f"{parts[0]}/{parts[1]}" if len(parts) == 3 else None), parts[-1]
