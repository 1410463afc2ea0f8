"""Small helpers over plain values (what `KubeObject.get` and `to_dict` return)."""

from __future__ import annotations

from typing import Any

__all__ = ["FieldPath", "format_path", "same"]

FieldPath = tuple[str | int, ...]


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down: `1`, `1.0` and `true` differ in YAML."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def format_path(path: FieldPath) -> str:
    """A field path as results show it: `spec.containers[0].image`, `metadata.labels["a.b/c"]`."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif "." in seg or "[" in seg or not seg:
            out += f'["{seg}"]'
        else:
            out += f".{seg}" if out else seg
    return out
