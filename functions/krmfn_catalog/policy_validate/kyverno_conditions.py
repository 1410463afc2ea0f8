"""Kyverno `preconditions`: when they do not hold, the rule is skipped for the resource.

Conditions are `{key, operator, value}` with variables resolved by `kyverno_variables`;
a list is read as `all:`. Operators: Equals, NotEquals, AnyIn, AllIn, AnyNotIn, AllNotIn
(and the older In = AllIn, NotIn = AnyNotIn), GreaterThan, GreaterThanOrEquals, LessThan,
LessThanOrEquals (numbers, quantities, durations). Membership matches wildcards both ways.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from krmfn._text.nodes import int_text

from .kyverno_errors import KyvernoPolicyError, UnsupportedFeature
from .kyverno_quantity import parse_duration, parse_quantity
from .kyverno_scalar import compare, scalar_matches
from .kyverno_variables import substitute_tree
from .kyverno_wildcard import wildcard_match

__all__ = ["preconditions_hold"]


def preconditions_hold(preconditions: object, resource: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether the rule applies, and when it does not, which condition said so."""
    if isinstance(preconditions, list):
        blocks: Mapping[str, Any] = {"all": preconditions}
    elif isinstance(preconditions, Mapping):
        blocks = preconditions
    else:
        raise KyvernoPolicyError("preconditions must be a list or a map with any/all")
    unknown = sorted(set(blocks) - {"any", "all"})
    if unknown:
        raise KyvernoPolicyError(f"preconditions have unknown fields: {', '.join(unknown)}")
    any_block = _conditions(blocks.get("any"), "any")
    if any_block:
        results = [_holds(c, resource) for c in any_block]
        if not any(results):
            return False, _failure(any_block[0], "none of the preconditions under any hold")
    for condition in _conditions(blocks.get("all"), "all"):
        if not _holds(condition, resource):
            return False, _failure(condition, "a precondition under all does not hold")
    return True, ""


def _conditions(value: object, block: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, Mapping) for c in value):
        raise KyvernoPolicyError(f"preconditions.{block} must be a list of conditions")
    return value


def _failure(condition: Mapping[str, Any], default: str) -> str:
    message = condition.get("message")
    return str(message) if message else default


def _holds(condition: Mapping[str, Any], resource: Mapping[str, Any]) -> bool:
    operator = str(condition.get("operator", ""))
    check = _OPERATORS.get(operator.lower())
    if check is None:
        raise UnsupportedFeature(f"precondition operator {operator!r}")
    key = substitute_tree(condition.get("key"), resource)
    value = substitute_tree(condition.get("value"), resource)
    return check(key, value)


def _equals(key: object, value: object) -> bool:
    if isinstance(key, bool | int | float):
        return scalar_matches(value, key)
    if isinstance(key, str):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return False
        for parse in (parse_duration, parse_quantity):
            left, right = parse(key), parse(_go_text(value))
            if left is not None and right is not None:
                return left == right
        return isinstance(value, str) and wildcard_match(value, key)
    return key == value


def _texts(value: object) -> list[str]:
    if isinstance(value, list):
        return [_go_text(item) for item in value]
    if isinstance(value, str) and value.startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return [value]
        if isinstance(parsed, list):
            return [_go_text(item) for item in parsed]
    return [_go_text(value)]


def _go_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int):
        return int_text(value)
    return json.dumps(value, default=str)


def _member(key: str, value: object, values: list[str]) -> bool:
    if isinstance(value, str) and _is_range(value):
        return scalar_matches(key, value)
    return any(wildcard_match(key, v) or wildcard_match(v, key) for v in values)


def _is_range(text: str) -> bool:
    low, dash, high = text.partition("-")
    return bool(dash) and low[:1].isdigit() and high[:1].isdigit()


def _membership(every: bool, inside: bool) -> Callable[[object, object], bool]:
    def check(key: object, value: object) -> bool:
        values = _texts(value)
        found = [_member(k, value, values) == inside for k in _texts(key)]
        return all(found) if every else any(found)

    return check


def _ordering(operator: str) -> Callable[[object, object], bool]:
    return lambda key, value: compare(key, operator, _go_text(value))


_OPERATORS: dict[str, Callable[[object, object], bool]] = {
    "equals": _equals,
    "notequals": lambda key, value: not _equals(key, value),
    "anyin": _membership(every=False, inside=True),
    "allin": _membership(every=True, inside=True),
    "in": _membership(every=True, inside=True),
    "anynotin": _membership(every=False, inside=False),
    "notin": _membership(every=False, inside=False),
    "allnotin": _membership(every=True, inside=False),
    "greaterthan": _ordering(">"),
    "greaterthanorequals": _ordering(">="),
    "lessthan": _ordering("<"),
    "lessthanorequals": _ordering("<="),
}
