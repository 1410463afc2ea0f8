"""Exact numbers from Kubernetes quantities (`500m`, `128Mi`, `1e3`) and Go durations (`1h30m`).

Kyverno compares `>`, `<`, ranges and equality numerically when both sides parse as one of
these; `Fraction` keeps `0.1` and `100m` equal, which floats would not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

__all__ = ["parse_duration", "parse_quantity"]

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_QUANTITY = re.compile(
    rf"(?P<number>[+-]?{_NUMBER})"
    r"(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?"
)
_SUFFIX_SCALE: dict[str, tuple[int, int]] = {  # numerator, denominator
    "Ki": (2**10, 1),
    "Mi": (2**20, 1),
    "Gi": (2**30, 1),
    "Ti": (2**40, 1),
    "Pi": (2**50, 1),
    "Ei": (2**60, 1),
    "n": (1, 10**9),
    "u": (1, 10**6),
    "m": (1, 10**3),
    "k": (10**3, 1),
    "M": (10**6, 1),
    "G": (10**9, 1),
    "T": (10**12, 1),
    "P": (10**15, 1),
    "E": (10**18, 1),
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
    from fractions import Fraction  # only once a number is read: a costly import

    value = _fraction(found["number"])
    if found["exponent"]:
        return value * Fraction(10) ** int(found["exponent"][1:])
    if found["suffix"]:
        return value * Fraction(*_SUFFIX_SCALE[found["suffix"]])
    return value


def parse_duration(text: str) -> Fraction | None:
    """Nanoseconds of a Go duration (`300ms`, `1h30m`, `0`), or None when `text` is not one."""
    text = text.strip()
    zero = text.lstrip("+-") == "0"
    if not zero and _DURATION.fullmatch(text) is None:
        return None
    from fractions import Fraction

    if zero:
        return Fraction(0)
    parts = _DURATION_PART.findall(text)
    total = sum((_fraction(number) * _UNIT_NANOSECONDS[unit] for number, unit in parts),
                Fraction(0))
    return -total if text.startswith("-") else total


def _fraction(number: str) -> Fraction:
    """`Fraction(number)` for a decimal number of any length (Python converts more than
    4,300 digits to an int only in parts)."""
    from fractions import Fraction

    try:
        return Fraction(number)
    except ValueError:
        pass
    from krmfn._text.nodes import decimal_int

    sign = -1 if number.startswith("-") else 1
    whole, _, part = number.lstrip("+-").partition(".")
    return Fraction(sign * decimal_int(whole + part or "0"), 10 ** len(part))
