"""Small helpers over plain values (what `KubeObject.get` and `to_dict` return)."""

from __future__ import annotations

__all__ = ["FieldPath", "format_path"]

FieldPath = tuple[str | int, ...]


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
