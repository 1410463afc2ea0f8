"""Kyverno `ClusterPolicy` and `Policy` validation rules, evaluated offline on one resource.

`evaluate(policy, resource)` answers for every rule that selects the resource (rules that do
not select it give no result): pass, fail (with the mismatches), skip (a precondition or a
condition anchor says the rule does not apply) or unsupported (the rule needs something this
engine does not evaluate: mutate, generate, verifyImages, context, deny, foreach, cel,
podSecurity, JMESPath beyond plain paths...). Unsupported is never a silent pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .kyverno_autogen import expand_rules
from .kyverno_conditions import preconditions_hold
from .kyverno_errors import KyvernoPolicyError, NotEvaluable, UnsupportedFeature
from .kyverno_match import NamespaceLabels, Selection, parse_selection, selector_matches
from .kyverno_pattern import CompiledPattern, Mismatch, PatternOutcome, compile_pattern
from .kyverno_variables import has_variables, substitute_text, substitute_tree
from .kyverno_wildcard import wildcard_match

__all__ = [
    "CompiledRule",
    "Policy",
    "RuleResult",
    "RuleStatus",
    "evaluate",
    "is_policy",
    "load_policy",
    "may_select",
]

RuleStatus = Literal["pass", "fail", "skip", "unsupported"]
_Verdict = tuple[RuleStatus, str, list[Mismatch]]

_API_VERSIONS = ("kyverno.io/v1", "kyverno.io/v2beta1")
_KINDS = ("ClusterPolicy", "Policy")
_RULE_TYPES = ("validate", "mutate", "generate", "verifyImages")
_UNSUPPORTED_VALIDATIONS = ("deny", "foreach", "cel", "podSecurity", "manifests", "assert")
_UNSUPPORTED_RULE_FIELDS = ("context", "celPreconditions")
_PATTERN_KEYS = ("pattern", "anyPattern")


@dataclass(frozen=True)
class RuleResult:
    """The verdict of one rule on one resource."""

    policy: str
    rule: str
    status: RuleStatus
    message: str
    mismatches: list[Mismatch] = field(default_factory=list)
    enforce: bool = False


@dataclass(frozen=True)
class CompiledRule:
    """A rule read once: what it selects, and why it cannot be evaluated, if it cannot."""

    name: str
    data: Mapping[str, Any]
    selection: Selection
    unsupported: UnsupportedFeature | None
    templated: bool = False
    patterns: tuple[CompiledPattern, ...] = ()  # pattern or anyPattern, unless templated
    enforce: bool | None = None  # when no override makes it depend on the resource
    headline: str | None = None  # the message, when it holds no variables


@dataclass(frozen=True)
class Policy:
    """A policy read once (autogen rules included), evaluated against many resources."""

    name: str
    namespace: str | None
    rules: tuple[CompiledRule, ...]
    spec: Mapping[str, Any]


def is_policy(resource: Mapping[str, Any]) -> bool:
    return resource.get("apiVersion") in _API_VERSIONS and resource.get("kind") in _KINDS


def load_policy(data: Mapping[str, Any]) -> Policy:
    """Read and check a policy; a malformed one raises `KyvernoPolicyError`."""
    if not is_policy(data):
        raise KyvernoPolicyError(
            f"not a Kyverno policy: {data.get('apiVersion')}/{data.get('kind')}"
        )
    metadata = data.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("name"):
        raise KyvernoPolicyError("the policy has no metadata.name")
    name = str(metadata["name"])
    spec = data.get("spec")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("rules"), list):
        raise KyvernoPolicyError(f"policy {name}: spec.rules must be a list")
    rules = [_checked_rule(name, index, rule) for index, rule in enumerate(spec["rules"])]
    _failure_action(spec.get("validationFailureAction"), f"policy {name}")
    namespace = None
    if data.get("kind") == "Policy":
        namespace = str(metadata.get("namespace") or "")
    compiled = tuple(_compile(name, rule, spec) for rule in expand_rules(metadata, rules))
    return Policy(name, namespace, compiled, spec)


def evaluate(
    policy: Mapping[str, Any] | Policy,
    resource: Mapping[str, Any],
    *,
    namespace_labels: NamespaceLabels | None = None,
) -> list[RuleResult]:
    """The results of every rule of `policy` that selects `resource`, in rule order.

    A namespaced `Policy` only sees resources of its own namespace; a Policy and a resource
    that both leave the namespace unset count as sharing it, as they would once applied.
    `namespace_labels` (labels by namespace name) lets `namespaceSelector` be evaluated.
    """
    loaded = policy if isinstance(policy, Policy) else load_policy(policy)
    if loaded.namespace is not None and loaded.namespace != _namespace_of(resource):
        return []
    results = (_evaluate_rule(loaded, rule, resource, namespace_labels) for rule in loaded.rules)
    return [result for result in results if result is not None]


def may_select(policy: Policy, api_version: str, kind: str) -> bool:
    """False when no rule of `policy` selects a resource of this apiVersion and kind
    (spelled as `str(resource["apiVersion"] or "")`): `evaluate` then gives no results
    for it, whatever else it holds, so it need not be read."""
    return not all(rule.selection.rejects_kind(api_version, kind) for rule in policy.rules)


def _checked_rule(policy: str, index: int, rule: object) -> dict[str, Any]:
    if not isinstance(rule, Mapping) or not rule.get("name"):
        raise KyvernoPolicyError(f"policy {policy}: rule {index} must be a map with a name")
    if "match" not in rule:
        raise KyvernoPolicyError(f"policy {policy} rule {rule['name']}: match is required")
    if not any(key in rule for key in _RULE_TYPES):
        raise KyvernoPolicyError(
            f"policy {policy} rule {rule['name']}: one of {', '.join(_RULE_TYPES)} is required"
        )
    validate = rule.get("validate")
    if validate is not None and not isinstance(validate, Mapping):
        raise KyvernoPolicyError(f"policy {policy} rule {rule['name']}: validate must be a map")
    if isinstance(validate, Mapping):
        where = f"policy {policy} rule {rule['name']}"
        _failure_action(validate.get("failureAction"), where)
        any_pattern = validate.get("anyPattern", [None])
        if not isinstance(any_pattern, list) or not any_pattern:
            raise KyvernoPolicyError(f"{where}: validate.anyPattern must be a non-empty list")
    return dict(rule)


def _compile(policy: str, rule: Mapping[str, Any], spec: Mapping[str, Any]) -> CompiledRule:
    name = str(rule["name"])
    selection = parse_selection(rule["match"], rule.get("exclude"), f"policy {policy} rule {name}")
    enforce = _static_enforcement(rule, spec)
    try:
        _refuse_unsupported(rule)
    except UnsupportedFeature as problem:
        return CompiledRule(name, rule, selection, problem, enforce=enforce)
    validate = rule["validate"]
    templated = has_variables(validate.get("pattern")) or has_variables(validate.get("anyPattern"))
    message = validate.get("message")
    headline = None if message and "{{" in str(message) else _headline(message, {})
    patterns = () if templated else _compiled_patterns(validate)
    return CompiledRule(name, rule, selection, None, templated, patterns, enforce=enforce,
                        headline=headline)


def _static_enforcement(rule: Mapping[str, Any], spec: Mapping[str, Any]) -> bool | None:
    """`_enforced` for a rule whose answer does not depend on the resource (no overrides),
    else None."""
    validate = rule.get("validate")
    overrides = validate.get("failureActionOverrides") if isinstance(validate, Mapping) else None
    if isinstance(overrides, list) or isinstance(
            spec.get("validationFailureActionOverrides"), list):
        return None
    try:
        return _enforced_by_actions(rule, spec)
    except KyvernoPolicyError:
        return None  # raised again where the rule is evaluated, as before


def _compiled_patterns(validate: Mapping[str, Any]) -> tuple[CompiledPattern, ...]:
    if "pattern" in validate:
        return (compile_pattern(validate["pattern"]),)
    return tuple(compile_pattern(pattern) for pattern in validate["anyPattern"])


def _evaluate_rule(
    policy: Policy,
    rule: CompiledRule,
    resource: Mapping[str, Any],
    namespace_labels: NamespaceLabels | None,
) -> RuleResult | None:
    try:
        if not rule.selection.selects(resource, namespace_labels):
            return None
        status, message, mismatches = _verdict_of(rule, resource)
    except NotEvaluable as problem:
        status, message, mismatches = "unsupported", str(problem), []
    if status == "unsupported":
        message = f"policy {policy.name} rule {rule.name}: {message}"
    enforce = rule.enforce
    if enforce is None:
        enforce = _enforced(policy, rule.data, resource, namespace_labels)
    return RuleResult(policy.name, rule.name, status, message, mismatches, enforce)


def _verdict_of(rule: CompiledRule, resource: Mapping[str, Any]) -> _Verdict:
    if rule.unsupported is not None:
        return "unsupported", str(rule.unsupported), []
    preconditions = rule.data.get("preconditions")
    if preconditions is not None:
        holds, reason = preconditions_hold(preconditions, resource)
        if not holds:
            return "skip", f"preconditions not met: {reason}", []
    validate = rule.data["validate"]
    patterns = rule.patterns
    if rule.templated:
        validate = {
            key: substitute_tree(value, resource) if key in _PATTERN_KEYS else value
            for key, value in validate.items()
        }
        patterns = _compiled_patterns(validate)
    headline = rule.headline
    if headline is None:
        headline = _headline(validate.get("message"), resource)
    return _validate(validate, resource, patterns, headline)


def _refuse_unsupported(rule: Mapping[str, Any]) -> None:
    for rule_type in ("mutate", "generate", "verifyImages"):
        if rule_type in rule:
            raise UnsupportedFeature(f"{rule_type} rules")
    for key in _UNSUPPORTED_RULE_FIELDS:
        if key in rule:
            raise UnsupportedFeature(key)
    validate = rule["validate"]
    for key in _UNSUPPORTED_VALIDATIONS:
        if key in validate:
            raise UnsupportedFeature(f"validate.{key}")
    if "pattern" not in validate and "anyPattern" not in validate:
        raise UnsupportedFeature("validate without pattern or anyPattern")
    if _has_reference(validate.get("pattern")) or _has_reference(validate.get("anyPattern")):
        raise UnsupportedFeature("$(...) references in patterns")


def _has_reference(data: object) -> bool:
    if isinstance(data, str):
        return "$(" in data
    if isinstance(data, Mapping):
        return any(_has_reference(k) or _has_reference(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_has_reference(item) for item in data)
    return False


def _validate(
    validate: Mapping[str, Any], resource: Mapping[str, Any],
    patterns: tuple[CompiledPattern, ...], headline: str
) -> _Verdict:
    if "pattern" in validate:
        return _pattern_verdict(patterns[0].check(resource, ""), headline)
    outcomes = [pattern.check(resource, "") for pattern in patterns]
    for index, outcome in enumerate(outcomes):
        if outcome.passed:
            return "pass", f"anyPattern[{index}] passed", []
    failed = [(i, o) for i, o in enumerate(outcomes) if not o.skipped]
    if not failed:
        reasons = (f"anyPattern[{i}] {o.reason}" for i, o in enumerate(outcomes))
        return "skip", f"rule skipped: {'; '.join(reasons)}", []
    mismatches = [
        Mismatch(m.path, f"anyPattern[{index}]: {m.message}")
        for index, outcome in failed
        for m in outcome.mismatches
    ]
    return "fail", headline, mismatches


def _pattern_verdict(outcome: PatternOutcome, headline: str) -> _Verdict:
    if outcome.skipped:
        return "skip", f"rule skipped: {outcome.reason}", []
    if outcome.mismatches:
        return "fail", headline, outcome.mismatches
    return "pass", "validation passed", []


def _headline(message: object, resource: Mapping[str, Any]) -> str:
    """The rule's message with its variables filled in where they can be."""
    if not message:
        return "validation error: the resource does not match the pattern"
    text = str(message)
    try:
        filled = substitute_text(text, resource)
    except NotEvaluable:
        return text
    return filled if isinstance(filled, str) else str(filled)


def _enforced(
    policy: Policy,
    rule: Mapping[str, Any],
    resource: Mapping[str, Any],
    namespace_labels: NamespaceLabels | None,
) -> bool:
    """Rule-level failureAction wins over the policy's; overrides pick one per namespace."""
    validate = rule.get("validate")
    validate = validate if isinstance(validate, Mapping) else {}
    for overrides in (
        validate.get("failureActionOverrides"),
        policy.spec.get("validationFailureActionOverrides"),
    ):
        chosen = _override(overrides, resource, namespace_labels)
        if chosen is not None:
            return chosen
    return _enforced_by_actions(rule, policy.spec)


def _enforced_by_actions(rule: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    """The rule's failureAction, else the policy's validationFailureAction (Audit)."""
    validate = rule.get("validate")
    validate = validate if isinstance(validate, Mapping) else {}
    rule_action = _failure_action(validate.get("failureAction"), "")
    if rule_action is not None:
        return rule_action
    return bool(_failure_action(spec.get("validationFailureAction"), ""))


def _override(
    overrides: object, resource: Mapping[str, Any], namespace_labels: NamespaceLabels | None
) -> bool | None:
    if not isinstance(overrides, list):
        return None
    namespace = _namespace_of(resource)
    for entry in overrides:
        if not isinstance(entry, Mapping):
            continue
        names = entry.get("namespaces") or []
        selector = entry.get("namespaceSelector")
        by_name = any(wildcard_match(str(n), namespace) for n in names)
        labels = (namespace_labels or {}).get(namespace)
        by_labels = (
            isinstance(selector, Mapping)
            and labels is not None
            and selector_matches(selector, labels)
        )
        if by_name or by_labels:
            return _failure_action(entry.get("action"), "validationFailureActionOverrides")
    return None


def _failure_action(value: object, where: str) -> bool | None:
    """Enforce -> True, Audit -> False (any case), absent -> None."""
    if value is None:
        return None
    lowered = str(value).lower()
    if lowered in ("enforce", "audit"):
        return lowered == "enforce"
    raise KyvernoPolicyError(f"{where}: unknown failure action {value!r}")


def _namespace_of(resource: Mapping[str, Any]) -> str:
    metadata = resource.get("metadata")
    return str(metadata.get("namespace") or "") if isinstance(metadata, Mapping) else ""
