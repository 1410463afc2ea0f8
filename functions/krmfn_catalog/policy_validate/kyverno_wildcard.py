"""Kyverno's glob: `*` is any run of characters, `?` exactly one; nothing else is special.

Kept apart from `fnmatch` because Kyverno has no character classes: `[a]` is literal.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["has_wildcard", "wildcard_match"]


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def wildcard_match(pattern: str, text: str) -> bool:
    """True when `text` as a whole matches the glob `pattern`."""
    if not has_wildcard(pattern):
        return pattern == text
    return _compile(pattern).fullmatch(text) is not None
