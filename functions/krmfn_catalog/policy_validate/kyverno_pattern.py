"""Kyverno's validation pattern language over plain data (dicts, lists and scalars).

A pattern mirrors the resource: every key of a map pattern must match, a list pattern whose
first element is a map applies that map to every element of the resource list, a scalar
pattern is compared by `kyverno_scalar`. Anchored keys change the rule for their field:

- `(key)` condition: when the field is missing or does not match, the pattern does not
  apply (skipped, not failed). Inside a list, only the elements meeting the condition are
  checked; the pattern is skipped only when no element meets it.
- `<(key)` global condition: like `(key)`, but a missing field does not skip.
- `=(key)` equality: checked only when the field is present.
- `X(key)` negation: the field must be absent.
- `^(key)` existence: each map of the list pattern must match at least one element.

Unlike Kyverno, which stops at the first difference, every mismatch is reported. A skip
still wins over mismatches found beside it, because Kyverno evaluates the branches that hold
conditions first and stops there. Wildcard keys under `metadata.labels` and
`metadata.annotations` name existing keys (`app.kubernetes.io/*: "?*"`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from .kyverno_anchor import Anchor, AnchorKind, parse_key
from .kyverno_scalar import Scalar, is_scalar, scalar_matches
from .kyverno_wildcard import has_wildcard, wildcard_match

__all__ = ["Mismatch", "PatternOutcome", "check_pattern", "join_path"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final = _Missing()
_Trail = tuple[str, str]
_NO_TRAIL: _Trail = ("", "")
_METADATA_MAPS = (("metadata", "labels"), ("metadata", "annotations"))


@dataclass(frozen=True)
class Mismatch:
    """One place where the resource differs from the pattern."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class PatternOutcome:
    """Skipped means a condition anchor was not met: the pattern does not apply."""

    skipped: bool = False
    mismatches: list[Mismatch] = field(default_factory=list)
    reason: str = ""

    @property
    def passed(self) -> bool:
        return not self.skipped and not self.mismatches


_PASS: Final = PatternOutcome()


def check_pattern(pattern: object, resource: object, path: str = "") -> PatternOutcome:
    """Match `resource` against a Kyverno `pattern`; `path` prefixes every reported path."""
    return _check(pattern, resource, path, _NO_TRAIL)


def join_path(path: str, key: str) -> str:
    """`spec` + `containers` -> `spec.containers`; keys with dots are quoted: `labels["a.b"]`.

    The same syntax as the SDK's field paths, so results can point at the field.
    """
    if not key or any(char in key for char in ".[]"):
        return f"{path}[{json.dumps(key, ensure_ascii=False)}]"
    return f"{path}.{key}" if path else key


def _describe(value: object) -> str:
    """A short rendering of a resource value for messages."""
    if value is _MISSING:
        return "nothing"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return _show(value)


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _fail(path: str, message: str) -> PatternOutcome:
    return PatternOutcome(mismatches=[Mismatch(path, message)])


def _skip(reason: str) -> PatternOutcome:
    return PatternOutcome(skipped=True, reason=reason)


def _combine(outcomes: Iterable[PatternOutcome]) -> PatternOutcome:
    collected = list(outcomes)
    for outcome in collected:
        if outcome.skipped:
            return outcome
    return PatternOutcome(mismatches=[m for outcome in collected for m in outcome.mismatches])


def _first_reason(outcome: PatternOutcome) -> str:
    return outcome.reason if outcome.skipped else str(outcome.mismatches[0])


def _check(pattern: object, value: object, path: str, trail: _Trail) -> PatternOutcome:
    if isinstance(pattern, dict):
        if isinstance(value, dict):
            return _check_map(pattern, value, path, trail)
        return _fail(path, _structure_message("a map", value))
    if isinstance(pattern, list):
        if isinstance(value, list):
            return _check_list(pattern, value, path)
        return _fail(path, _structure_message("a list", value))
    if is_scalar(pattern):
        return _check_scalar(pattern, value, path)
    return _fail(path, f"the pattern holds a value of unsupported type {type(pattern).__name__}")


def _structure_message(expected: str, value: object) -> str:
    if value is _MISSING:
        return f"field is missing, expected {expected}"
    return f"expected {expected}, found {_describe(value)}"


def _check_scalar(pattern: Scalar, value: object, path: str) -> PatternOutcome:
    """A scalar pattern against a list applies to every element, as in Kyverno."""
    if isinstance(value, list):
        found = (_scalar_mismatch(pattern, item, f"{path}[{i}]") for i, item in enumerate(value))
        return PatternOutcome(mismatches=[m for m in found if m is not None])
    mismatch = _scalar_mismatch(pattern, value, path)
    return _PASS if mismatch is None else PatternOutcome(mismatches=[mismatch])


def _scalar_mismatch(pattern: Scalar, value: object, path: str) -> Mismatch | None:
    if scalar_matches(None if value is _MISSING else value, pattern):
        return None
    if value is _MISSING:
        return Mismatch(path, f"field is missing, expected {_show(pattern)}")
    if isinstance(value, dict | list):
        return Mismatch(path, f"expected {_show(pattern)}, found {_describe(value)}")
    return Mismatch(path, f"value {_show(value)} does not match {_show(pattern)}")


def _check_list(pattern: list[Any], value: list[Any], path: str) -> PatternOutcome:
    if not pattern:
        return _fail(path, "the pattern is an empty list")
    first = pattern[0]
    if is_scalar(first):
        return _check_scalar(first, value, path)
    if isinstance(first, dict):
        pairs = [(first, item) for item in value]
    elif len(value) < len(pattern):
        return _fail(path, f"expected at least {len(pattern)} elements, found {len(value)}")
    else:
        pairs = list(zip(pattern, value, strict=False))
    outcomes = [_check(p, item, f"{path}[{i}]", _NO_TRAIL) for i, (p, item) in enumerate(pairs)]
    applied = [outcome for outcome in outcomes if not outcome.skipped]
    if outcomes and not applied:
        return outcomes[0]
    return PatternOutcome(mismatches=[m for outcome in applied for m in outcome.mismatches])


def _check_map(
    pattern: dict[Any, Any], resource: dict[Any, Any], path: str, trail: _Trail
) -> PatternOutcome:
    expand = trail in _METADATA_MAPS
    entries = [(parse_key(str(key)), sub) for key, sub in pattern.items()]
    for anchor, sub in entries:
        if anchor.is_condition:
            skipped = _check_condition(anchor, sub, resource, path, trail, expand)
            if skipped is not None:
                return skipped
    return _combine(
        _check_entry(anchor, sub, resource, path, trail, expand)
        for anchor, sub in entries
        if not anchor.is_condition
    )


def _check_condition(
    anchor: Anchor, sub: object, resource: dict[Any, Any], path: str, trail: _Trail, expand: bool
) -> PatternOutcome | None:
    """None when the condition holds; otherwise the skip it causes."""
    key = _resolve_key(anchor.key, sub, resource, expand)
    child = join_path(path, key)
    if key not in resource:
        if anchor.kind is AnchorKind.GLOBAL:
            return None
        return _skip(f"condition {anchor.raw} not met: {child} is missing")
    outcome = _check(sub, resource[key], child, (trail[1], key))
    if outcome.passed:
        return None
    return _skip(f"condition {anchor.raw} not met: {_first_reason(outcome)}")


def _check_entry(
    anchor: Anchor, sub: object, resource: dict[Any, Any], path: str, trail: _Trail, expand: bool
) -> PatternOutcome:
    key = _resolve_key(anchor.key, sub, resource, expand)
    child = join_path(path, key)
    child_trail = (trail[1], key)
    if anchor.kind is AnchorKind.NEGATION:
        present = key in resource or (expand and _matching_keys(anchor.key, resource) != [])
        return _fail(child, f"field is not allowed ({anchor.raw})") if present else _PASS
    if anchor.kind is AnchorKind.EQUALITY:
        if key not in resource:
            return _PASS
        return _check(sub, resource[key], child, child_trail)
    if anchor.kind is AnchorKind.EXISTENCE:
        return _check_existence(anchor, sub, resource.get(key, _MISSING), child)
    if anchor.kind is AnchorKind.ADD_IF_MISSING:
        return _fail(child, f"{anchor.raw} is a mutate anchor and cannot validate")
    value = resource.get(key, _MISSING)
    if isinstance(sub, str) and sub == "*":
        if value is _MISSING or value is None:
            return _fail(child, 'field is missing, expected "*" (any value)')
        return _PASS
    return _check(sub, value, child, child_trail)


def _check_existence(anchor: Anchor, sub: object, value: object, path: str) -> PatternOutcome:
    if value is _MISSING:
        return _PASS
    if not isinstance(sub, list) or not sub or not all(isinstance(p, dict) for p in sub):
        return _fail(path, f"the pattern of {anchor.raw} must be a non-empty list of maps")
    if not isinstance(value, list):
        return _fail(path, f"{anchor.raw} needs a list, found {_describe(value)}")
    mismatches = [
        Mismatch(path, f"no element matches {_show(wanted)} ({anchor.raw})")
        for wanted in sub
        if not any(
            _check(wanted, item, f"{path}[{i}]", _NO_TRAIL).passed for i, item in enumerate(value)
        )
    ]
    return PatternOutcome(mismatches=mismatches)


def _matching_keys(name: str, resource: dict[Any, Any]) -> list[str]:
    return sorted(k for k in resource if isinstance(k, str) and wildcard_match(name, k))


def _resolve_key(name: str, sub: object, resource: dict[Any, Any], expand: bool) -> str:
    """A wildcard label/annotation key names the first existing key that satisfies it."""
    if not expand or not has_wildcard(name) or name in resource:
        return name
    candidates = _matching_keys(name, resource)
    for candidate in candidates:
        if _check(sub, resource[candidate], "", _NO_TRAIL).passed:
            return candidate
    return candidates[0] if candidates else name
