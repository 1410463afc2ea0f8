"""Kyverno policies run over a package, their verdicts turned into results.

Resources are checked as a cluster would see them once applied: local-config resources
(never applied), the Kptfile and the policies themselves are left out, and kpt's
bookkeeping annotations are removed before matching, so a pattern on annotations sees
only what the author wrote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from krmfn import ConfigError, KubeObject, ResourceList, Severity

from .applied_view import AppliedView
from .kyverno_errors import KyvernoPolicyError
from .kyverno_policy import Policy, RuleResult, evaluate, load_policy, may_select

__all__ = ["PolicyTally", "is_policy_object", "run_policies"]

_POLICY_API_VERSIONS = ("kyverno.io/v1", "kyverno.io/v2beta1")
_POLICY_KINDS = ("ClusterPolicy", "Policy")
_AUTOGEN = ("autogen-cronjob-", "autogen-")
_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass
class PolicyTally:
    """What was checked, for the summary line."""

    policies: int = 0
    rules: int = 0
    resources: int = 0
    failures: int = 0


@dataclass
class _Loaded:
    policy: Policy
    obj: KubeObject | None  # the package item, None for a policy from the config
    rule_index: dict[str, int]
    broken: bool = False
    selects: dict[tuple[str, str], bool] = field(default_factory=dict)  # by (apiVersion, kind)

    def may_select(self, view: AppliedView) -> bool:
        """Whether any rule may select resources of the view's kind (cached per kind)."""
        key = (view.api_version, view.kind)
        known = self.selects.get(key)
        if known is None:
            known = self.selects[key] = may_select(self.policy, *key)
        return known


@dataclass
class _Unsupported:
    message: str
    where: KubeObject
    field_path: str | None
    resources: list[KubeObject] = field(default_factory=list)


def is_policy_object(obj: KubeObject) -> bool:
    return obj.api_version in _POLICY_API_VERSIONS and obj.kind in _POLICY_KINDS


def load_config_policies(policies: Sequence[Mapping[str, Any]]) -> list[Policy]:
    """Policies written in the functionConfig; any malformed one makes the config invalid."""
    loaded, problems = [], []
    for i, data in enumerate(policies):
        try:
            loaded.append(load_policy(data))
        except KyvernoPolicyError as exc:
            problems.append((f"policies[{i}]", str(exc)))
    if problems:
        raise ConfigError(problems)
    return loaded


def run_policies(rl: ResourceList, config_policies: Sequence[Mapping[str, Any]]) -> PolicyTally:
    """Evaluate every policy on every resource it selects, reporting failures and rules
    that cannot be evaluated (once per policy and rule)."""
    inline = load_config_policies(config_policies)
    loaded = [_Loaded(p, None, _rule_index(p)) for p in inline]
    package = _read_package(rl)
    loaded.extend(package.policies)
    resources = package.resources
    tally = PolicyTally(policies=len(loaded), resources=len(resources),
                        rules=sum(len(p.rule_index) for p in loaded))
    if not loaded:
        return tally
    labels = package.namespace_labels
    unsupported: dict[tuple[str, str], _Unsupported] = {}
    for view in resources:
        obj = view.obj
        active = [entry for entry in loaded if not entry.broken and entry.may_select(view)]
        if not active:
            continue
        data = view.data()
        for entry in active:
            try:
                results = evaluate(entry.policy, data, namespace_labels=labels)
            except KyvernoPolicyError as exc:
                entry.broken = True
                rl.error(f"policy {entry.policy.name} cannot be evaluated: {exc}",
                         entry.obj or obj, field="spec" if entry.obj else None)
                continue
            for result in results:
                if result.status == "fail":
                    tally.failures += 1
                    _report_failure(rl, obj, entry, result)
                elif result.status == "unsupported":
                    _note_unsupported(unsupported, entry, result, obj)
    for (policy, rule), note in unsupported.items():
        count = len(note.resources)
        rl.result(f"{note.message} (rule not evaluated on {count} "
                  f"resource{'s' if count != 1 else ''})", note.where,
                  severity=Severity.WARNING, field=note.field_path,
                  tags={"policy": policy, "rule": rule})
    return tally


class _Package:
    """The package read in one pass over its items."""

    def __init__(self) -> None:
        self.policies: list[_Loaded] = []
        self.resources: list[AppliedView] = []  # what policies check
        self.namespace_labels: dict[str, dict[str, str]] = {}


def _read_package(rl: ResourceList) -> _Package:
    """Policies (invalid ones reported, in item order), the resources to check, and the
    labels of the Namespaces (with the name label Kubernetes always sets)."""
    package = _Package()
    for obj in rl.items:
        api_version, kind = obj.api_version, obj.kind
        if kind == "Namespace" and api_version == "v1":
            package.namespace_labels[obj.name] = {**obj.labels, _NAMESPACE_NAME_LABEL: obj.name}
        if api_version in _POLICY_API_VERSIONS and kind in _POLICY_KINDS:
            try:
                policy = load_policy(obj.to_dict())
            except KyvernoPolicyError as exc:
                rl.error(f"invalid policy: {exc}", obj, field="spec")
                continue
            package.policies.append(_Loaded(policy, obj, _rule_index(policy)))
        elif not obj.is_local_config and not (kind == "Kptfile" and obj.group == "kpt.dev"):
            package.resources.append(AppliedView(obj, api_version, kind))
    return package


def _rule_index(policy: Policy) -> dict[str, int]:
    """Written rule name -> its index in spec.rules (generated rules are not counted)."""
    rules = policy.spec.get("rules") or []
    return {str(r.get("name")): i for i, r in enumerate(rules) if isinstance(r, Mapping)}


def _written_rule(entry: _Loaded, rule: str) -> str:
    if rule in entry.rule_index:
        return rule
    for prefix in _AUTOGEN:
        if rule.startswith(prefix) and rule[len(prefix):] in entry.rule_index:
            return rule[len(prefix):]
    return rule


def _report_failure(rl: ResourceList, obj: KubeObject, entry: _Loaded,
                    result: RuleResult) -> None:
    severity = Severity.ERROR if result.enforce else Severity.WARNING
    tags = {"policy": result.policy, "rule": result.rule}
    origin = f"(policy {result.policy}, rule {result.rule})"
    headline = result.message.rstrip(". ")
    mismatches = result.mismatches
    if not mismatches:
        rl.result(f"{headline} {origin}", obj, severity=severity, tags=tags)
        return
    if _uses_any_pattern(entry, result.rule):
        detail = "; ".join(_alternative(m.path, m.message) for m in mismatches)
        rl.result(f"{headline}: no pattern matches: {detail} {origin}", obj,
                  severity=severity, field=mismatches[0].path or None, tags=tags)
        return
    for mismatch in mismatches:
        rl.result(f"{headline}: {mismatch} {origin}", obj, severity=severity,
                  field=mismatch.path or None, tags=tags)


def _alternative(path: str, message: str) -> str:
    """`anyPattern[1]: spec.x: field is missing` (the engine puts the alternative first in
    the message, after the path)."""
    which, sep, rest = message.partition(": ")
    if not sep or not which.startswith("anyPattern["):
        return f"{path}: {message}" if path else message
    return f"{which}: {path}: {rest}" if path else f"{which}: {rest}"


def _uses_any_pattern(entry: _Loaded, rule: str) -> bool:
    for compiled in entry.policy.rules:
        if compiled.name == rule:
            validate = compiled.data.get("validate")
            return isinstance(validate, Mapping) and "anyPattern" in validate
    return False


def _note_unsupported(notes: dict[tuple[str, str], _Unsupported], entry: _Loaded,
                      result: RuleResult, obj: KubeObject) -> None:
    written = _written_rule(entry, result.rule)
    key = (result.policy, written)
    note = notes.get(key)
    if note is None:
        index = entry.rule_index.get(written)
        field_path = f"spec.rules[{index}]" if entry.obj and index is not None else None
        reason = result.message.removeprefix(f"policy {result.policy} rule {result.rule}: ")
        message = f"policy {result.policy} rule {written}: {reason}"
        note = _Unsupported(message, entry.obj or obj, field_path)
        notes[key] = note
    note.resources.append(obj)
