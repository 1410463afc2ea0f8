"""A resource as policies see it, built only for the policies that may select it.

Building a whole resource as plain data costs more than evaluating most policies on it,
and most resources of a package are of kinds no rule selects. So the identity comes first
(apiVersion and kind, spelled as matching spells them), and the data only when a policy
may select the resource.

As applied to a cluster: kpt's bookkeeping annotations are removed, so a pattern on
annotations sees only what the author wrote.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from krmfn import KubeObject

__all__ = ["AppliedView"]

_BOOKKEEPING = ("config.kubernetes.io/index", "config.kubernetes.io/path", "config.k8s.io/id")
_INTERNAL = "internal.config.kubernetes.io/"
# Text that is the same string whatever YAML tag it carries (then the SDK's identity, the
# scalar's text, is what matching reads from the data): a letter first and no number,
# boolean, null or float word; and, being base64 too, what !!binary would write back.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9./-]*")
_NOT_PLAIN = frozenset(("yes", "no", "true", "false", "on", "off", "null", "inf", "infinity",
                        "nan"))


class AppliedView:
    """One resource: its identity at once, its data on demand (built once)."""

    __slots__ = ("_data", "api_version", "kind", "obj")

    def __init__(self, obj: KubeObject, api_version: str, kind: str) -> None:
        """`api_version` and `kind` are the object's own (`obj.api_version`, `obj.kind`):
        used as they are when plain, else read from the data (which a merge key, a tag or
        a value of another type can make differ)."""
        self.obj = obj
        self._data: dict[str, Any] | None = None
        if not (_plain(api_version) and _plain(kind)):
            data = self.data()
            api_version = str(data.get("apiVersion") or "")
            kind = str(data.get("kind") or "")
        self.api_version, self.kind = api_version, kind

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = _as_applied(self.obj.to_dict())
        return self._data


@lru_cache(maxsize=1024)
def _plain(text: str) -> bool:
    if _PLAIN.fullmatch(text) is None or text.lower() in _NOT_PLAIN:
        return False
    try:
        decoded = base64.decodebytes(text.encode("ascii"))
    except binascii.Error:
        return True  # not base64: no !!binary can hold it
    return base64.b64encode(decoded).decode() == text


def _as_applied(data: dict[str, Any]) -> dict[str, Any]:
    """The resource without the annotations kpt adds while it works on a package."""
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(metadata, dict) and isinstance(annotations, dict):
        kept = {k: v for k, v in annotations.items()
                if k not in _BOOKKEEPING and not str(k).startswith(_INTERNAL)}
        if kept:
            metadata["annotations"] = kept
        else:
            del metadata["annotations"]
    return data
