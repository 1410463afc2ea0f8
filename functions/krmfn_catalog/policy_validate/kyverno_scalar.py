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
from functools import lru_cache
from typing import TYPE_CHECKING, TypeGuard

from krmfn._text.nodes import int_text

from .kyverno_quantity import parse_duration, parse_quantity
from .kyverno_wildcard import wildcard_match

if TYPE_CHECKING:
    from fractions import Fraction

__all__ = ["Scalar", "compare", "is_scalar", "scalar_matcher", "scalar_matches"]

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
    return scalar_matcher(pattern)(value)


@lru_cache(maxsize=4096, typed=True)  # typed: 1, 1.0 and True are different patterns
def scalar_matcher(pattern: Scalar) -> Callable[[object], bool]:
    """`scalar_matches` for one pattern, its text read once: a policy applies the same few
    patterns to every resource."""
    if isinstance(pattern, bool):
        return lambda value: isinstance(value, bool) and value == pattern
    if isinstance(pattern, int):
        return lambda value: _matches_int(value, pattern)
    if isinstance(pattern, float):
        return lambda value: _matches_float(value, pattern)
    if pattern is None:
        return _matches_null
    return _TextPattern(pattern)


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


class _Comparison:
    """`value <operator> operand`, the operand parsed as a duration and a quantity once, when
    first compared with a value that may be a number. A value is parsed only as what the
    operand is."""

    __slots__ = ("numbers", "operand", "operator", "ordering")

    def __init__(self, operator: str, operand: str) -> None:
        self.ordering = _ORDERINGS[operator]
        self.operator = operator
        self.operand = operand
        self.numbers: tuple[Fraction | None, Fraction | None] | None = None

    def holds(self, value: object) -> bool:
        number_text = _as_number_text(value)
        if number_text is not None:
            if self.numbers is None:
                self.numbers = parse_duration(self.operand), parse_quantity(self.operand)
            duration, quantity = self.numbers
            if duration is not None and (actual := parse_duration(number_text)) is not None:
                return self.ordering(actual, duration)
            if quantity is not None and (actual := parse_quantity(number_text)) is not None:
                return self.ordering(actual, quantity)
        if self.operator not in ("", "!"):
            return False
        text = _as_text(value)
        if text is None:
            return False
        found = wildcard_match(self.operand, text)
        return not found if self.operator == "!" else found


@lru_cache(maxsize=4096)
def _comparison(operator: str, operand: str) -> _Comparison:
    return _Comparison(operator, operand)


class _Condition:
    """One condition of a text pattern: its comparisons all hold, or (negated) not all."""

    __slots__ = ("comparisons", "negated")

    def __init__(self, comparisons: tuple[_Comparison, ...], *, negated: bool = False) -> None:
        self.comparisons = comparisons
        self.negated = negated

    def holds(self, value: object) -> bool:
        return all(c.holds(value) for c in self.comparisons) != self.negated


def _condition(condition: str) -> _Condition:
    operator, operand = _split_operator(condition)
    if operator == "!" and (bounds := _RANGE.fullmatch(operand)):
        return _Condition(_range(bounds[1], bounds[2]), negated=True)
    if operator == "" and (bounds := _NOT_IN_RANGE.fullmatch(operand)):
        return _Condition(_range(bounds[1], bounds[2]), negated=True)
    if operator == "" and (bounds := _RANGE.fullmatch(operand)):
        return _Condition(_range(bounds[1], bounds[2]))
    return _Condition((_comparison(operator, operand),))


def _range(low: str, high: str) -> tuple[_Comparison, ...]:
    return _comparison(">=", low.strip()), _comparison("<=", high.strip())


class _TextPattern:
    """`a | b & c`: alternatives of conditions, split once."""

    __slots__ = ("alternatives", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.alternatives = tuple(
            tuple(_condition(condition.strip()) for condition in alternative.split("&"))
            for alternative in pattern.split("|")
        )

    def __call__(self, value: object) -> bool:
        if isinstance(value, str) and value == self.pattern:
            return True
        return any(
            all(condition.holds(value) for condition in alternative)
            for alternative in self.alternatives
        )


def _split_operator(condition: str) -> tuple[str, str]:
    if len(condition) < 2:
        return "", condition
    for operator in (">=", "<=", ">", "<", "!"):
        if condition.startswith(operator):
            return operator, condition[len(operator) :].strip()
    return "", condition


def compare(value: object, operator: str, operand: str) -> bool:
    """`value <operator> operand` with operator one of "", "!", ">", ">=", "<", "<="."""
    return _comparison(operator, operand).holds(value)


def _as_number_text(value: object) -> str | None:
    if value is None:
        return "0"
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return int_text(value)
    if isinstance(value, float):
        return f"{value:f}"
    return None


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    if isinstance(value, bool | float):
        return json.dumps(value)
    return None
