"""Comparing plain values (what `KubeObject.to_dict` and `get` give) as YAML sees them."""

from __future__ import annotations

from typing import Any

__all__ = ["same_value"]


def same_value(a: Any, b: Any) -> bool:
    """Equal values of equal types, all the way down.

    Python's `==` calls `1`, `1.0` and `True` equal, where YAML writes three different
    scalars, and calls a NaN unequal to itself, where the text `.nan` is one value: a
    function that writes a field only when its value differs would rewrite every NaN it
    meets (`.NaN` becoming `.nan`) and so change text it meant to leave alone. Floats are
    compared by `repr`, so a NaN equals a NaN and `0.0` is not `-0.0`."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)
