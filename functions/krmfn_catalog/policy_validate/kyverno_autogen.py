"""Kyverno's rule auto-generation for Pod controllers.

A rule written for `Pod` also applies, through generated rules, to the controllers that
hold a Pod template: `autogen-<rule>` for DaemonSet, Deployment, Job, StatefulSet,
ReplicaSet and ReplicationController (pattern moved under `spec.template`) and
`autogen-cronjob-<rule>` for CronJob (under `spec.jobTemplate.spec.template`). Without
this, a Pod policy would never see the Deployments a configuration package holds.

As in Kyverno, the annotation `pod-policies.kyverno.io/autogen-controllers` narrows the
controllers (`none` turns generation off), and generation is off for the whole policy when
a rule selects by name, selector or annotations, mixes Pod with other kinds, or generates.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from .kyverno_match import parse_kind

__all__ = ["AUTOGEN_ANNOTATION", "POD_CONTROLLERS", "expand_rules"]

AUTOGEN_ANNOTATION = "pod-policies.kyverno.io/autogen-controllers"
POD_CONTROLLERS = (
    "CronJob",
    "DaemonSet",
    "Deployment",
    "Job",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
)
_CRONJOB = "CronJob"
_NAME_LIMIT = 63
_TEMPLATE_SHIFT = (
    ("request.object.spec", "request.object.spec.template.spec"),
    ("request.object.metadata", "request.object.spec.template.metadata"),
)
_CRONJOB_SHIFT = (
    ("request.object.spec", "request.object.spec.jobTemplate.spec.template.spec"),
    ("request.object.metadata", "request.object.spec.jobTemplate.spec.template.metadata"),
)
_GENERATABLE_VALIDATIONS = ("pattern", "anyPattern", "deny", "podSecurity", "foreach", "cel")


def expand_rules(metadata: Mapping[str, Any], rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules Kyverno evaluates: the written ones plus those generated for controllers."""
    controllers = _controllers(metadata, rules)
    generated = [new for rule in rules for new in _generate(rule, controllers)]
    if not generated:
        return rules
    written = [rule for rule in rules if not str(rule.get("name", "")).startswith("autogen-")]
    return written + generated


def _controllers(metadata: Mapping[str, Any], rules: list[dict[str, Any]]) -> list[str]:
    if not _policy_allows_autogen(rules):
        return []
    annotations = metadata.get("annotations")
    requested = annotations.get(AUTOGEN_ANNOTATION) if isinstance(annotations, Mapping) else None
    if not requested:
        return list(POD_CONTROLLERS)
    if requested == "none":
        return []
    return sorted(part.strip() for part in str(requested).split(","))


def _policy_allows_autogen(rules: list[dict[str, Any]]) -> bool:
    needed = False
    for rule in rules:
        if "generate" in rule or _patches_json(rule.get("mutate")):
            return False
        for description in _descriptions(rule.get("match"), rule.get("exclude")):
            kinds = [parse_kind(str(k)).kind for k in _list(description.get("kinds"))]
            selects_by_identity = any(
                description.get(key) for key in ("name", "names", "selector", "annotations")
            )
            if selects_by_identity or (len(kinds) > 1 and "Pod" in kinds):
                return False
            needed = needed or any(k == "Pod" or k in POD_CONTROLLERS for k in kinds)
    return needed


def _patches_json(mutate: object) -> bool:
    if not isinstance(mutate, Mapping):
        return False
    foreach = _list(mutate.get("foreach"))
    return bool(mutate.get("patchesJson6902")) or any(
        isinstance(entry, Mapping) and entry.get("patchesJson6902") for entry in foreach
    )


def _descriptions(*blocks: object) -> Iterator[Mapping[str, Any]]:
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        filters = [block, *_list(block.get("any")), *_list(block.get("all"))]
        for one in filters:
            resources = one.get("resources") if isinstance(one, Mapping) else None
            if isinstance(resources, Mapping):
                yield resources


def _kinds(block: object) -> list[str]:
    return [parse_kind(str(k)).kind for d in _descriptions(block) for k in _list(d.get("kinds"))]


def _generate(rule: dict[str, Any], controllers: list[str]) -> list[dict[str, Any]]:
    name = str(rule.get("name", ""))
    if not controllers or name.startswith("autogen-") or not _generatable(rule):
        return []
    exclude_kinds = _kinds(rule.get("exclude"))
    if "Pod" not in _kinds(rule.get("match")) or (exclude_kinds and "Pod" not in exclude_kinds):
        return []
    plain = [c for c in controllers if c in POD_CONTROLLERS and c != _CRONJOB]
    template_rule = _derive(rule, f"autogen-{name}", plain or [_CRONJOB], "template", True)
    generated = [_shift(template_rule, _TEMPLATE_SHIFT)] if plain else []
    if _CRONJOB in controllers:
        cronjob_rule = _derive(
            template_rule, f"autogen-cronjob-{name}", [_CRONJOB], "jobTemplate", False
        )
        generated.append(_shift(cronjob_rule, _CRONJOB_SHIFT))
    return generated


def _generatable(rule: Mapping[str, Any]) -> bool:
    validate = rule.get("validate")
    if isinstance(validate, Mapping) and any(k in validate for k in _GENERATABLE_VALIDATIONS):
        return True
    return bool(rule.get("mutate") or rule.get("verifyImages"))


def _derive(
    rule: Mapping[str, Any], name: str, kinds: list[str], template: str, only_pod_filters: bool
) -> dict[str, Any]:
    derived = copy.deepcopy(dict(rule))
    derived["name"] = name[:_NAME_LIMIT]
    _retarget(derived.get("match"), kinds, only_pod_filters, legacy_always=True)
    _retarget(derived.get("exclude"), kinds, only_pod_filters, legacy_always=False)
    validate = derived.get("validate")
    if isinstance(validate, dict):
        if "pattern" in validate:
            validate["pattern"] = {"spec": {template: validate["pattern"]}}
        elif isinstance(validate.get("anyPattern"), list):
            validate["anyPattern"] = [{"spec": {template: p}} for p in validate["anyPattern"]]
    return derived


def _retarget(block: object, kinds: list[str], only_pod_filters: bool, legacy_always: bool) -> None:
    if not isinstance(block, dict):
        return
    for mode in ("any", "all"):
        for one in _list(block.get(mode)):
            resources = one.get("resources") if isinstance(one, dict) else None
            if not isinstance(resources, dict):
                continue
            has_pod = "Pod" in [parse_kind(str(k)).kind for k in _list(resources.get("kinds"))]
            if has_pod or not only_pod_filters:
                resources["kinds"] = list(kinds)
    legacy = block.get("resources")
    if isinstance(legacy, dict) and (legacy_always or legacy.get("kinds")):
        legacy["kinds"] = list(kinds)


def _shift(rule: dict[str, Any], replacements: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Point variables at the Pod template, by text replacement as Kyverno does."""
    text = json.dumps(rule, default=str)
    for old, new in replacements:
        text = text.replace(old, new)
    shifted: dict[str, Any] = json.loads(text)
    return shifted


def _list(value: object) -> list[Any]:
    """A field that should hold a list, as one: a policy that holds something else there
    generates nothing from it (its checks report the shape)."""
    return value if isinstance(value, list) else []
