"""Generic injection: copy a claim's answer into any field of any resource, for packages
that are not built from Nephio's Interfaces (a Helm-rendered Deployment's env var, a
ConfigMap key, a Service's loadBalancerIP...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from krmfn import KubeObject, Match, ResourceList, parse_path

from .claims import Claim
from .config import Injection
from .plan import Plan

__all__ = ["Planned", "inject", "plan_injections"]


@dataclass(frozen=True)
class Planned:
    injection: Injection
    claim: Claim
    targets: tuple[KubeObject, ...]


def plan_injections(rl: ResourceList, injections: Sequence[Injection], claims: Sequence[Claim],
                    objects: Sequence[KubeObject]) -> list[Planned]:
    """Resolve every injection's claim and targets, and check the field can be written."""
    out: list[Planned] = []
    for i, injection in enumerate(injections):
        where = f"functionConfig.injections[{i}]"
        found = [c for c in claims if injection.claim in (c.name, f"{c.namespace}/{c.name}")]
        if len(found) != 1:
            what = "more than one IPClaim" if found else "no IPClaim"
            hint = " (use namespace/name)" if found else ""
            rl.error(f"{where}: {what} named {injection.claim!r} in the package{hint}",
                     field=f"{where}.claim")
            continue
        claim = found[0]
        if injection.value == "gateway" and claim.kind != "network":
            rl.error(f"{where}: IPClaim {claim.label} is a {claim.kind} claim, which has no "
                     "gateway", field=f"{where}.value")
            continue
        selector = injection.target.selector()
        targets = tuple(o for o in objects if selector.matches(o))
        if not targets:
            rl.error(f"{where}: no resource matches the target", field=f"{where}.target")
            continue
        bad = False
        for target in targets:
            problem = _unsettable(target, injection.field)
            if problem:
                rl.error(f"cannot inject IPClaim {claim.label} into {injection.field}: "
                         f"{problem}", target, field=injection.field)
                bad = True
        if not bad:
            out.append(Planned(injection, claim, targets))
    return out


def inject(planned: Sequence[Planned], answers: dict[str, tuple[str, str | None]],
           plan: Plan) -> None:
    for item in planned:
        prefix, gateway = answers[item.claim.key]
        value = _value(item.injection.value, prefix, gateway)
        for target in item.targets:
            typed = value
            if isinstance(value, int) and _wants_string(target, item.injection.field):
                typed = str(value)
            if plan.set(target, item.injection.field, typed):
                plan.note(f"set {item.injection.field} to {value} ({item.injection.value} of "
                          f"IPClaim {item.claim.label})", target)


def _value(what: str, prefix: str, gateway: str | None) -> Any:
    address, _, length = prefix.partition("/")
    return {"prefix": prefix, "address": address, "gateway": gateway,
            "prefixLength": int(length) if length else None}[what]


def _wants_string(obj: KubeObject, path: str) -> bool:
    """Where Kubernetes only takes strings (labels, annotations, ConfigMap data, env values),
    or the field already holds one, a prefix length is written as a string."""
    segs = parse_path(path)
    if isinstance(obj.get(segs), str) or segs[:2] in (("metadata", "labels"),
                                                     ("metadata", "annotations")):
        return True
    if obj.kind in ("ConfigMap", "Secret") and segs[:1] in (("data",), ("stringData",)):
        return True
    return len(segs) >= 3 and segs[-1] == "value" and segs[-3] == "env"


def _unsettable(obj: KubeObject, path: str) -> str:
    """Why `obj.set(path, ...)` would fail ("" when it would not): only map keys are created."""
    segs = parse_path(path)
    for i, seg in enumerate(segs):
        if obj.has(segs[: i + 1]):
            continue
        parent = obj.get(segs[:i]) if i else obj.to_dict()
        if isinstance(seg, (int, Match)) or not isinstance(parent, dict):
            return "no such field (only map keys are created)"
        if not all(isinstance(s, str) for s in segs[i + 1 :]):
            return "cannot create list elements"
        return ""
    return ""
