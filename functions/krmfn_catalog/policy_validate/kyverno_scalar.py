"""Kyverno's leaf comparison: one resource value against one scalar pattern.

A string pattern is a small language: `a | b` (or, binds loosest), `a & b` (and), then per
condition an operator `!`, `>`, `>=`, `<`, `<=`, a range `1-10` or its negation `1!-10`
(`!1-10` is read the same way), or an equality with wildcards `*` and `?`. Both sides are
compared as Go durations when both parse as one, else as Kubernetes quantities when both
parse as one, else as text (only `=` and `!` apply to text). A missing or null value counts
as `0` for numbers and as "no text" for wildcards, as Kyverno does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from fractions import Fraction
from typing import TypeGuard

from .kyverno_quantity import parse_duration, parse_quantity
from .kyverno_wildcard import wildcard_match

__all__ = ["Scalar", "compare", "is_scalar", "scalar_matches"]

Scalar = str | int | float | bool | None

_RANGE = re.compile(r"(\d+(?:\.\d+)?[^-]*)-(\d+(?:\.\d+)?[^-]*)")
_NOT_IN_RANGE = re.compile(r"(\d+(?:\.\d+)?[^-]*)!-(\d+(?:\.\d+)?[^-]*)")
_GO_INT = re.compile(r"[+-]?\d+")
_GO_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)", re.I)
_ORDERINGS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "": lambda a, b: a == b,
    "!": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def is_scalar(value: object) -> TypeGuard[Scalar]:
    return value is None or isinstance(value, str | int | float | bool)


def scalar_matches(value: object, pattern: Scalar) -> bool:
    """True when `value` satisfies the scalar `pattern` (bool before int: bool is an int)."""
    if isinstance(pattern, bool):
        return isinstance(value, bool) and value == pattern
    if isinstance(pattern, int):
        return _matches_int(value, pattern)
    if isinstance(pattern, float):
        return _matches_float(value, pattern)
    if pattern is None:
        return _matches_null(value)
    return _matches_text_pattern(value, pattern)


def _matches_int(value: object, pattern: int) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value == pattern
    if isinstance(value, float):
        return value.is_integer() and int(value) == pattern
    if isinstance(value, str) and _GO_INT.fullmatch(value):
        return int(value) == pattern
    return False


def _matches_float(value: object, pattern: float) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return pattern.is_integer() and int(pattern) == value
    if isinstance(value, float):
        return value == pattern
    if isinstance(value, str) and _GO_FLOAT.fullmatch(value):
        return float(value) == pattern
    return False


def _matches_null(value: object) -> bool:
    """A null pattern accepts the zero value of every scalar type."""
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str):
        return value == ""
    return False


def _matches_text_pattern(value: object, pattern: str) -> bool:
    if isinstance(value, str) and value == pattern:
        return True
    return any(
        all(_matches_condition(value, condition.strip()) for condition in alternative.split("&"))
        for alternative in pattern.split("|")
    )


def _matches_condition(value: object, condition: str) -> bool:
    operator, operand = _split_operator(condition)
    if operator == "!" and (bounds := _RANGE.fullmatch(operand)):
        return not _in_range(value, bounds[1], bounds[2])
    if operator == "" and (bounds := _NOT_IN_RANGE.fullmatch(operand)):
        return not _in_range(value, bounds[1], bounds[2])
    if operator == "" and (bounds := _RANGE.fullmatch(operand)):
        return _in_range(value, bounds[1], bounds[2])
    return compare(value, operator, operand)


def _split_operator(condition: str) -> tuple[str, str]:
    if len(condition) < 2:
        return "", condition
    for operator in (">=", "<=", ">", "<", "!"):
        if condition.startswith(operator):
            return operator, condition[len(operator) :].strip()
    return "", condition


def _in_range(value: object, low: str, high: str) -> bool:
    return compare(value, ">=", low.strip()) and compare(value, "<=", high.strip())


def compare(value: object, operator: str, operand: str) -> bool:
    """`value <operator> operand` with operator one of "", "!", ">", ">=", "<", "<="."""
    ordering = _ORDERINGS[operator]
    number_text = _as_number_text(value)
    if number_text is not None:
        for parse in (parse_duration, parse_quantity):
            expected, actual = parse(operand), parse(number_text)
            if expected is not None and actual is not None:
                return ordering(actual, expected)
    if operator not in ("", "!"):
        return False
    text = _as_text(value)
    if text is None:
        return False
    found = wildcard_match(operand, text)
    return not found if operator == "!" else found


def _as_number_text(value: object) -> str | None:
    if value is None:
        return "0"
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:f}"
    return None


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None
