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

A policy checks the same patterns against every resource it selects, so a pattern is read
once (`compile_pattern`: anchors parsed, scalar conditions split), as deep as resources
lead; a check that passes builds no outcome of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from krmfn._text.nodes import int_text

from .kyverno_anchor import AnchorKind, parse_key
from .kyverno_scalar import Scalar, is_scalar, scalar_matcher
from .kyverno_wildcard import has_wildcard, wildcard_match

__all__ = ["CompiledPattern", "Mismatch", "PatternOutcome", "check_pattern", "compile_pattern",
           "join_path"]


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
    return compile_pattern(pattern).check(resource, path)


def compile_pattern(pattern: object) -> CompiledPattern:
    """A pattern read once (anchors parsed, scalar patterns split), to be checked against
    many resources. Parts are read when first used, as deep as resources go."""
    return _compile(pattern, _NO_TRAIL)


def join_path(path: str, key: str) -> str:
    """`spec` + `containers` -> `spec.containers`; keys with dots are quoted: `labels["a.b"]`.

    The same syntax as the SDK's field paths, so results can point at the field.
    """
    if _quoted(key):
        return f"{path}[{json.dumps(key, ensure_ascii=False)}]"
    return f"{path}.{key}" if path else key


def _quoted(key: str) -> bool:
    return not key or "." in key or "[" in key or "]" in key


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
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)  # json.dumps converts no more than 4,300 digits
    return json.dumps(value, ensure_ascii=False, default=str)


def _fail(path: str, message: str) -> PatternOutcome:
    return PatternOutcome(mismatches=[Mismatch(path, message)])


def _skip(reason: str) -> PatternOutcome:
    return PatternOutcome(skipped=True, reason=reason)


def _first_reason(outcome: PatternOutcome) -> str:
    return outcome.reason if outcome.skipped else str(outcome.mismatches[0])


class CompiledPattern:
    """A read pattern; `check` gives what `check_pattern` gives for it."""

    __slots__ = ()

    def check(self, value: object, path: str) -> PatternOutcome:
        raise NotImplementedError


def _compile(pattern: object, trail: _Trail) -> CompiledPattern:
    """`trail` (the last two keys above a map) decides where wildcard keys name labels."""
    if isinstance(pattern, dict):
        return _MapPattern(pattern, trail)
    if isinstance(pattern, list):
        return _ListPattern(pattern)
    if is_scalar(pattern):
        return _ScalarPattern(pattern)
    return _UnsupportedPattern(pattern)


def _structure_message(expected: str, value: object) -> str:
    if value is _MISSING:
        return f"field is missing, expected {expected}"
    return f"expected {expected}, found {_describe(value)}"


class _UnsupportedPattern(CompiledPattern):
    __slots__ = ("message",)

    def __init__(self, pattern: object) -> None:
        self.message = (
            f"the pattern holds a value of unsupported type {type(pattern).__name__}"
        )

    def check(self, value: object, path: str) -> PatternOutcome:
        return _fail(path, self.message)


class _ScalarPattern(CompiledPattern):
    """A scalar pattern against a list applies to every element, as in Kyverno."""

    __slots__ = ("matches", "pattern")

    def __init__(self, pattern: Scalar) -> None:
        self.pattern = pattern
        self.matches = scalar_matcher(pattern)

    def check(self, value: object, path: str) -> PatternOutcome:
        if isinstance(value, list):
            found = (self.mismatch(item, f"{path}[{i}]") for i, item in enumerate(value))
            return PatternOutcome(mismatches=[m for m in found if m is not None])
        mismatch = self.mismatch(value, path)
        return _PASS if mismatch is None else PatternOutcome(mismatches=[mismatch])

    def mismatch(self, value: object, path: str) -> Mismatch | None:
        if self.matches(None if value is _MISSING else value):
            return None
        pattern = self.pattern
        if value is _MISSING:
            return Mismatch(path, f"field is missing, expected {_show(pattern)}")
        if isinstance(value, dict | list):
            return Mismatch(path, f"expected {_show(pattern)}, found {_describe(value)}")
        return Mismatch(path, f"value {_show(value)} does not match {_show(pattern)}")


class _ListPattern(CompiledPattern):
    """A list pattern: its first map applies to every element, its first scalar to every
    element, other elements pair up with the resource's in order."""

    __slots__ = ("_each", "_pairs", "pattern")

    def __init__(self, pattern: list[Any]) -> None:
        self.pattern = pattern
        self._each: CompiledPattern | None = None
        self._pairs: list[CompiledPattern] | None = None

    def check(self, value: object, path: str) -> PatternOutcome:
        if not isinstance(value, list):
            return _fail(path, _structure_message("a list", value))
        pattern = self.pattern
        if not pattern:
            return _fail(path, "the pattern is an empty list")
        first = pattern[0]
        if is_scalar(first) or isinstance(first, dict):
            if self._each is None:
                self._each = _compile(first, _NO_TRAIL)
            if is_scalar(first):
                return self._each.check(value, path)
            each = self._each
            outcomes = [each.check(item, f"{path}[{i}]") for i, item in enumerate(value)]
        elif len(value) < len(pattern):
            return _fail(path, f"expected at least {len(pattern)} elements, found {len(value)}")
        else:
            if self._pairs is None:
                self._pairs = [_compile(p, _NO_TRAIL) for p in pattern]
            outcomes = [p.check(item, f"{path}[{i}]")
                        for i, (p, item) in enumerate(zip(self._pairs, value, strict=False))]
        applied = [outcome for outcome in outcomes if not outcome.skipped]
        if outcomes and not applied:
            return outcomes[0]
        if all(outcome is _PASS for outcome in applied):
            return _PASS
        return PatternOutcome(mismatches=[m for outcome in applied for m in outcome.mismatches])


class _Entry:
    """One key of a map pattern: its anchor and sub-pattern, read once."""

    __slots__ = ("_children", "_direct", "_plain", "_segment", "_wanted", "anchor", "expand",
                 "star", "sub", "trail", "wild")

    def __init__(self, key: object, sub: object, trail: _Trail, expand: bool) -> None:
        self.anchor = parse_key(str(key))
        self.sub = sub
        self.trail = trail
        self.expand = expand
        self.star = isinstance(sub, str) and sub == "*"
        # Under metadata.labels/annotations a wildcard key names an existing key.
        self.wild = expand and has_wildcard(self.anchor.key)
        self._children: dict[str, CompiledPattern] = {}  # by resolved key: trails differ
        self._direct: CompiledPattern | None = None  # the child of a plain key
        self._plain: CompiledPattern | None = None  # the sub-pattern without a trail
        self._wanted: list[CompiledPattern] | None = None  # ^(key): each map of the list
        name = self.anchor.key
        self._segment = join_path("", name) if _quoted(name) else f".{name}"

    def check(self, resource: dict[Any, Any], path: str) -> PatternOutcome:
        """This entry's outcome on a map (conditions: see `condition`)."""
        if self.anchor.kind is AnchorKind.NONE and not self.wild and not self.star:
            name = self.anchor.key
            child = path + self._segment if path or self._segment[0] == "[" else name
            direct = self._direct
            if direct is None:
                direct = self._direct = self.child(name)
            return direct.check(resource.get(name, _MISSING), child)
        return self._check_anchored(resource, path)

    def _check_anchored(self, resource: dict[Any, Any], path: str) -> PatternOutcome:
        anchor = self.anchor
        kind = anchor.kind
        key = self.key_in(resource)
        child = join_path(path, key)
        if kind is AnchorKind.NONE:
            value = resource.get(key, _MISSING)
            if self.star:
                if value is _MISSING or value is None:
                    return _fail(child, 'field is missing, expected "*" (any value)')
                return _PASS
            return self.child(key).check(value, child)
        if kind is AnchorKind.NEGATION:
            present = key in resource or (
                self.expand and _matching_keys(anchor.key, resource) != []
            )
            return _fail(child, f"field is not allowed ({anchor.raw})") if present else _PASS
        if kind is AnchorKind.EQUALITY:
            if key not in resource:
                return _PASS
            return self.child(key).check(resource[key], child)
        if kind is AnchorKind.EXISTENCE:
            return _check_existence(self, resource.get(key, _MISSING), child)
        return _fail(child, f"{anchor.raw} is a mutate anchor and cannot validate")

    def condition(self, resource: dict[Any, Any], path: str) -> PatternOutcome | None:
        """None when this condition holds; otherwise the skip it causes."""
        anchor = self.anchor
        key = self.key_in(resource)
        child = join_path(path, key)
        if key not in resource:
            if anchor.kind is AnchorKind.GLOBAL:
                return None
            return _skip(f"condition {anchor.raw} not met: {child} is missing")
        outcome = self.child(key).check(resource[key], child)
        if outcome.passed:
            return None
        return _skip(f"condition {anchor.raw} not met: {_first_reason(outcome)}")

    def child(self, key: str) -> CompiledPattern:
        compiled = self._children.get(key)
        if compiled is None:
            compiled = self._children[key] = _compile(self.sub, (self.trail[1], key))
        return compiled

    def plain(self) -> CompiledPattern:
        if self._plain is None:
            self._plain = _compile(self.sub, _NO_TRAIL)
        return self._plain

    def wanted(self) -> list[CompiledPattern]:
        if self._wanted is None:
            assert isinstance(self.sub, list)
            self._wanted = [_compile(wanted, _NO_TRAIL) for wanted in self.sub]
        return self._wanted

    def key_in(self, resource: dict[Any, Any]) -> str:
        """The resource key this entry is about."""
        name = self.anchor.key
        if not self.wild or name in resource:
            return name
        candidates = _matching_keys(name, resource)
        for candidate in candidates:
            if self.plain().check(resource[candidate], "").passed:
                return candidate
        return candidates[0] if candidates else name


class _MapPattern(CompiledPattern):
    __slots__ = ("conditions", "entries")

    def __init__(self, pattern: dict[Any, Any], trail: _Trail) -> None:
        expand = trail in _METADATA_MAPS
        entries = [_Entry(key, sub, trail, expand) for key, sub in pattern.items()]
        self.conditions = [entry for entry in entries if entry.anchor.is_condition]
        self.entries = [entry for entry in entries if not entry.anchor.is_condition]

    def check(self, value: object, path: str) -> PatternOutcome:
        if not isinstance(value, dict):
            return _fail(path, _structure_message("a map", value))
        for entry in self.conditions:
            skipped = entry.condition(value, path)
            if skipped is not None:
                return skipped
        outcomes = [entry.check(value, path) for entry in self.entries]
        passed = True
        for outcome in outcomes:
            if outcome is not _PASS:
                if outcome.skipped:
                    return outcome
                passed = False
        if passed:
            return _PASS
        return PatternOutcome(mismatches=[m for outcome in outcomes for m in outcome.mismatches])


def _check_existence(entry: _Entry, value: object, path: str) -> PatternOutcome:
    anchor, sub = entry.anchor, entry.sub
    if value is _MISSING:
        return _PASS
    if not isinstance(sub, list) or not sub or not all(isinstance(p, dict) for p in sub):
        return _fail(path, f"the pattern of {anchor.raw} must be a non-empty list of maps")
    if not isinstance(value, list):
        return _fail(path, f"{anchor.raw} needs a list, found {_describe(value)}")
    mismatches = [
        Mismatch(path, f"no element matches {_show(wanted)} ({anchor.raw})")
        for wanted, compiled in zip(sub, entry.wanted(), strict=True)
        if not any(compiled.check(item, f"{path}[{i}]").passed for i, item in enumerate(value))
    ]
    return PatternOutcome(mismatches=mismatches)


def _matching_keys(name: str, resource: dict[Any, Any]) -> list[str]:
    return sorted(k for k in resource if isinstance(k, str) and wildcard_match(name, k))
