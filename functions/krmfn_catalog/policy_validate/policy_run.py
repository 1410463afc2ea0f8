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

from .kyverno_errors import KyvernoPolicyError
from .kyverno_match import NamespaceLabels
from .kyverno_policy import Policy, RuleResult, evaluate, is_policy, load_policy

__all__ = ["PolicyTally", "is_policy_object", "run_policies"]

_BOOKKEEPING = ("config.kubernetes.io/index", "config.kubernetes.io/path", "config.k8s.io/id")
_INTERNAL = "internal.config.kubernetes.io/"
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


@dataclass
class _Unsupported:
    message: str
    where: KubeObject
    field_path: str | None
    resources: list[KubeObject] = field(default_factory=list)


def is_policy_object(obj: KubeObject) -> bool:
    return is_policy({"apiVersion": obj.api_version, "kind": obj.kind})


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
    loaded.extend(_package_policies(rl))
    resources = [o for o in rl.items if _is_checked(o)]
    tally = PolicyTally(policies=len(loaded), resources=len(resources),
                        rules=sum(len(p.rule_index) for p in loaded))
    if not loaded:
        return tally
    labels = _namespace_labels(rl.items)
    unsupported: dict[tuple[str, str], _Unsupported] = {}
    for obj in resources:
        data = _as_applied(obj)
        for entry in loaded:
            if entry.broken:
                continue
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


def _package_policies(rl: ResourceList) -> list[_Loaded]:
    out = []
    for obj in rl.items:
        if not is_policy_object(obj):
            continue
        try:
            policy = load_policy(obj.to_dict())
        except KyvernoPolicyError as exc:
            rl.error(f"invalid policy: {exc}", obj, field="spec")
            continue
        out.append(_Loaded(policy, obj, _rule_index(policy)))
    return out


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


def _is_checked(obj: KubeObject) -> bool:
    if obj.is_local_config or is_policy_object(obj):
        return False
    return not (obj.kind == "Kptfile" and obj.group == "kpt.dev")


def _as_applied(obj: KubeObject) -> dict[str, Any]:
    """The resource without the annotations kpt adds while it works on a package."""
    data = obj.to_dict()
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(metadata, dict) and isinstance(annotations, dict):
        kept = {k: v for k, v in annotations.items()
                if k not in _BOOKKEEPING and not str(k).startswith(_INTERNAL)}
        if kept:
            metadata["annotations"] = kept
        else:
            del metadata["annotations"]
    return data


def _namespace_labels(items: Sequence[KubeObject]) -> NamespaceLabels:
    """Labels of the package's Namespaces, with the name label Kubernetes always sets."""
    out: dict[str, dict[str, str]] = {}
    for obj in items:
        if obj.kind == "Namespace" and obj.api_version == "v1":
            out[obj.name] = {**obj.labels, _NAMESPACE_NAME_LABEL: obj.name}
    return out


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
