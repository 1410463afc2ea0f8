"""Exact numbers from Kubernetes quantities (`500m`, `128Mi`, `1e3`) and Go durations (`1h30m`).

Kyverno compares `>`, `<`, ranges and equality numerically when both sides parse as one of
these; `Fraction` keeps `0.1` and `100m` equal, which floats would not.
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["parse_duration", "parse_quantity"]

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_QUANTITY = re.compile(
    rf"(?P<number>[+-]?{_NUMBER})"
    r"(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?"
)
_SUFFIX_SCALE: dict[str, Fraction] = {
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}

_DURATION_PART = re.compile(rf"({_NUMBER})(ns|us|µs|μs|ms|s|m|h)")
_DURATION = re.compile(rf"[+-]?(?:{_DURATION_PART.pattern})+")
_UNIT_NANOSECONDS: dict[str, int] = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def parse_quantity(text: str) -> Fraction | None:
    """The value of a Kubernetes quantity, or None when `text` is not one."""
    found = _QUANTITY.fullmatch(text.strip())
    if found is None:
        return None
    value = Fraction(found["number"])
    if found["exponent"]:
        return value * Fraction(10) ** int(found["exponent"][1:])
    if found["suffix"]:
        return value * _SUFFIX_SCALE[found["suffix"]]
    return value


def parse_duration(text: str) -> Fraction | None:
    """Nanoseconds of a Go duration (`300ms`, `1h30m`, `0`), or None when `text` is not one."""
    text = text.strip()
    if text.lstrip("+-") == "0":
        return Fraction(0)
    if _DURATION.fullmatch(text) is None:
        return None
    parts = _DURATION_PART.findall(text)
    total = sum((Fraction(number) * _UNIT_NANOSECONDS[unit] for number, unit in parts), Fraction(0))
    return -total if text.startswith("-") else total
