"""The Kptfile's record of the specialization, as Nephio's functions keep it.

Nephio's specializer tracks a package in its root Kptfile: a readiness gate
`nephio.org.Specializer.specialize` in `info.readinessGates`, and in `status.conditions`
one condition per NFDeployment (`workload.nephio.org/v1alpha1.NFDeployment.<name>`), one
per part it owns (`req.nephio.org/v1alpha1.<Kind>.<name>`, its reason naming the
NFDeployment) and the `nephio.org.Specializer.specialize` condition itself. nfdeploy-fn
sets its NFDeployment's condition to "update done" once the spec is filled, and the
specialize condition to Ready when every NFDeployment condition is True.

nfdeploy does the same once it has filled a spec. A part's condition belongs to the
function that answers the part (interface-fn, dnn-fn...), so an existing one is left as it
is; a part without one gets one marked done, since nfdeploy only fills a spec when every
part has its answer (Nephio's condition dance marks a Capacity "child local resource ->
done" and the others "update done" by the time the spec is filled). New conditions are
appended in Nephio's order: the specialize condition, the NFDeployments', then the parts'
by kind and name. Conditions already right are not rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from krmfn import KubeObject

from krmfn_catalog.nephio_nad import owner_value

from .model import CAPACITY, WORKLOAD_GROUP, Package, Problem

__all__ = ["SPECIALIZE", "check_kptfile", "record_done"]

SPECIALIZE = "nephio.org.Specializer.specialize"
DONE = "update done"
LOCAL_DONE = "child local resource -> done"


def _condition(type_: str, status: str, *, message: str = "", reason: str = "") -> dict[str, str]:
    """A condition with its keys in the order Nephio's Kptfiles show them."""
    out = {"message": message, "reason": reason, "status": status, "type": type_}
    return {k: v for k, v in out.items() if v}


def check_kptfile(kptfile: KubeObject) -> list[Problem]:
    """What keeps the Kptfile from recording the specialization: the maps and lists
    written into must be maps and lists, each condition a map with a string type."""
    shapes = (("info", dict, "a map"), ("info.readinessGates", list, "a list"),
              ("status", dict, "a map"), ("status.conditions", list, "a list"))
    for path, kind, what in shapes:
        value = kptfile.get(path)
        if value is not None and not isinstance(value, kind):
            return [Problem(f"expected {what}", kptfile, path)]
    problems = []
    for i, condition in enumerate(kptfile.get("status.conditions") or []):
        if not isinstance(condition, dict) or not isinstance(condition.get("type"), str):
            problems.append(Problem("expected a condition: a map with a string type",
                                    kptfile, f"status.conditions[{i}]"))
    return problems


def record_done(kptfile: KubeObject, deployments: Sequence[KubeObject],
                package: Package) -> bool:
    """Record that `deployments` are filled; True when the Kptfile changed."""
    changed = _ensure_gate(kptfile)
    current = kptfile.get("status.conditions")
    conditions: list[Any] = list(current) if isinstance(current, list) else []
    by_type = {c.get("type"): i for i, c in enumerate(conditions) if isinstance(c, dict)}

    def put(condition: dict[str, str]) -> None:
        where = by_type.get(condition["type"])
        if where is None:
            by_type[condition["type"]] = len(conditions)
            conditions.append(condition)
        else:
            conditions[where] = condition

    if SPECIALIZE not in by_type:
        put(_condition(SPECIALIZE, "False", message="not ready", reason="Specialize"))
    ordered = sorted(deployments, key=lambda d: (d.namespace, d.name))
    for deployment in ordered:
        type_ = owner_value(deployment)
        old = conditions[by_type[type_]] if type_ in by_type else {}
        reason = old.get("reason", "") if isinstance(old, dict) else ""
        put(_condition(type_, "True", message=DONE, reason=str(reason or "")))
    for deployment in ordered:
        owner = owner_value(deployment)
        for part in package.all_parts(owner):
            type_ = owner_value(part)
            if type_ not in by_type:
                message = LOCAL_DONE if part.kind == CAPACITY else DONE
                put(_condition(type_, "True", message=message, reason=owner))
    prefix = f"{WORKLOAD_GROUP}/"
    mine = [c for c in conditions if isinstance(c, dict) and str(c.get("type", "")).startswith(
        prefix) and ".NFDeployment." in str(c.get("type", ""))]
    ready = bool(mine) and all(c.get("status") != "False" for c in mine)
    put(_condition(SPECIALIZE, "True", reason="Ready") if ready else
        _condition(SPECIALIZE, "False", message="not ready", reason="Specialize"))
    return _write_conditions(kptfile, current, conditions) or changed


def _ensure_gate(kptfile: KubeObject) -> bool:
    gates = kptfile.get("info.readinessGates")
    entry = {"conditionType": SPECIALIZE}
    if isinstance(gates, list):
        if any(isinstance(g, dict) and g.get("conditionType") == SPECIALIZE for g in gates):
            return False
        kptfile.append("info.readinessGates", entry)
    else:
        kptfile.set("info.readinessGates", [entry])
    return True


def _write_conditions(kptfile: KubeObject, current: object, conditions: list[Any]) -> bool:
    if current == conditions:
        return False
    if not isinstance(current, list):
        kptfile.set("status.conditions", conditions)
        return True
    for i, condition in enumerate(conditions):
        if i >= len(current):
            kptfile.append("status.conditions", condition)
        elif current[i] != condition:
            kptfile.set(["status", "conditions", i], condition)
    return True
