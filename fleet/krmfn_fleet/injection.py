"""What Porch does to a new package before its pipeline runs: config injection and the
package context.

Config injection follows Porch's package-variant controller: every resource annotated
`kpt.dev/config-injection` (`required` or `optional`) is an injection point; the first of
the template's injectors whose group, version and kind (those given: an empty group is
the core group) match the point's, and whose name an object of the point's apiVersion and
kind in the fleet carries, gives that object's `spec` (a core ConfigMap's `data`) to the
point, which gains `kpt.dev/injected-resource: <name>`. The Kptfile gets the condition
`config.injection.<Kind>.<name>` (True, ConfigInjected; or False, NoResourceSelected,
saying why: no injectors, no object of that type, none selected, or the selected one has
no spec) and, for a required point, the readiness gate of that condition. Two points of
the same condition are an error, as Porch makes them one.

The package context is the `kptfile.kpt.dev` ConfigMap: the template's `packageContext`
data is added to it and its `removeKeys` removed. The template's pipeline functions go
before the Kptfile's own. Offline there is no PackageRevision to carry the template's
labels and annotations: they go to the Kptfile's metadata. The Kptfile records where the
package came from as `kpt pkg get` does (`krmfn_fleet.upstreams.record_upstream`).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

from krmfn import KubeObject, ResourceList

from krmfn_fleet.errors import FleetError
from krmfn_fleet.inputs import FleetObject
from krmfn_fleet.placement import Placement
from krmfn_fleet.upstreams import record_upstream

__all__ = ["INJECTED", "INJECTION", "apply_variant", "check_blueprint", "kptfile_of"]

INJECTION = "kpt.dev/config-injection"
INJECTED = "kpt.dev/injected-resource"


def kptfile_of(rl: ResourceList) -> KubeObject:
    for obj in rl.items:
        if obj.kind == "Kptfile" and obj.path == "Kptfile":
            return obj
    raise FleetError("no Kptfile at the package root")


def check_blueprint(items: list[KubeObject], placement: Placement) -> None:
    """What makes every variant of a blueprint fail, found before anything is written:
    an injection point of an unknown mode, package context data with no context."""
    seen: dict[str, str] = {}
    for point in [o for o in items if o.get_annotation(INJECTION) is not None]:
        mode = point.get_annotation(INJECTION)
        if mode not in ("required", "optional"):
            raise FleetError(f"{placement.blueprint / point.path}: {point.kind} {point.name}: "
                             f"metadata.annotations[{INJECTION}]: {mode!r} is not required "
                             "or optional")
        condition = f"config.injection.{point.kind}.{point.name}"
        if condition in seen:  # one condition for two points: Porch refuses the package
            raise FleetError(f"{placement.blueprint / point.path}: {point.kind} {point.name}: "
                             f"metadata.annotations[{INJECTION}]: a second injection point "
                             f"of condition {condition} (the first is in {seen[condition]})")
        seen[condition] = point.path
    if (placement.context or placement.remove_keys) and not any(
            o.kind == "ConfigMap" and o.group == "" and o.name == "kptfile.kpt.dev"
            for o in items):
        raise FleetError(f"{placement.variant_set.where('spec.targets')}: packageContext "
                         f"for {placement.key}, but blueprint {placement.blueprint} has no "
                         "kptfile.kpt.dev ConfigMap (package-context.yaml)")


def apply_variant(rl: ResourceList, placement: Placement,
                  objects: Mapping[str, list[FleetObject]],
                  types: Collection[tuple[str, str]] | None = None) -> None:
    """Inject, set the package context, label the Kptfile; errors name the blueprint file."""
    kptfile = kptfile_of(rl)
    record_upstream(rl.items, kptfile, placement.upstream)  # identities as upstream has them
    conditions: list[dict[str, str]] = []
    gates: list[str] = []
    for point in [o for o in rl.items if o.get_annotation(INJECTION) is not None]:
        mode = point.get_annotation(INJECTION)
        if mode not in ("required", "optional"):
            raise FleetError(f"{placement.blueprint / point.path}: {point.kind} {point.name}: "
                             f"metadata.annotations[{INJECTION}]: {mode!r} is not required "
                             "or optional")
        condition = f"config.injection.{point.kind}.{point.name}"
        if mode == "required":
            gates.append(condition)
        found = _match(point, placement.injectors, objects)
        part = "data" if point.group == "" and point.kind == "ConfigMap" else "spec"
        if found is None or part not in found.data:
            why = (f'field "{part}" not found in resource "{found.name}"' if found else
                   "no injectors defined" if not placement.injectors else
                   f"no resources of type {point.api_version}.{point.kind} in the fleet"
                   if (point.api_version, point.kind) not in (
                       _types(objects) if types is None else types) else
                   "no resource matched any injection selector for this injection point")
            conditions.append({"type": condition, "status": "False",
                               "reason": "NoResourceSelected", "message": why})
            continue
        point.set(part, copy.deepcopy(found.data[part]))
        point.set_annotation(INJECTED, found.name)
        conditions.append({"type": condition, "status": "True", "reason": "ConfigInjected",
                           "message": f"injected resource {found.name!r} from the fleet"})
    if conditions:
        _set_conditions(kptfile, conditions, gates)
    _package_context(rl, placement)
    _prepend_pipeline(kptfile, placement)
    for key, value in sorted(placement.labels.items()):
        kptfile.set_label(key, value)
    for key, value in sorted(placement.annotations.items()):
        kptfile.set_annotation(key, value)


_TYPES: list[tuple[Mapping[str, list[FleetObject]], set[tuple[str, str]]]] = []


def _types(objects: Mapping[str, list[FleetObject]]) -> set[tuple[str, str]]:
    """The (apiVersion, kind) pairs of the fleet's objects, worked out once per run (the
    run's map of objects is the key) and only when a point finds nothing. (Read once:
    jobs of a Dask worker run in threads, each with a map of its own.)"""
    held = _TYPES[0] if _TYPES else None
    if held is None or held[0] is not objects:
        held = (objects, {(o.api_version, o.kind) for objs in objects.values() for o in objs})
        _TYPES[:] = [held]
    return held[1]


def _match(point: KubeObject, injectors: list[dict[str, str]],
           objects: Mapping[str, list[FleetObject]]) -> FleetObject | None:
    for inj in injectors:
        if (inj.get("group", point.group) != point.group
                or inj.get("version", point.version) != point.version
                or inj.get("kind", point.kind) != point.kind):
            continue
        for obj in objects.get(inj["name"], ()):
            if (obj.api_version == point.api_version and obj.kind == point.kind
                    and obj.name == inj["name"]):
                return obj
    return None


def _set_conditions(kptfile: KubeObject, new: list[dict[str, str]], gates: list[str]) -> None:
    old = kptfile.get("status.conditions") or []
    by_type: dict[str, Any] = {str(c.get("type")): c for c in old if isinstance(c, dict)}
    by_type.update({c["type"]: c for c in new})
    kptfile.set("status.conditions", [by_type[t] for t in sorted(by_type)])
    if gates:
        have = [g.get("conditionType") for g in kptfile.get("info.readinessGates") or []
                if isinstance(g, dict)]
        wanted = sorted({str(g) for g in have if g} | set(gates))
        kptfile.set("info.readinessGates", [{"conditionType": g} for g in wanted])


def _prepend_pipeline(kptfile: KubeObject, placement: Placement) -> None:
    """The template's functions go before the blueprint's own, as Porch adds them."""
    for part, steps in zip(("mutators", "validators"), placement.pipeline, strict=True):
        if steps:
            own = kptfile.get(f"pipeline.{part}") or []
            kptfile.set(f"pipeline.{part}", [copy.deepcopy(s) for s in steps] + list(own))


def _package_context(rl: ResourceList, placement: Placement) -> None:
    if not placement.context and not placement.remove_keys:
        return
    ctx = next((o for o in rl.items if o.kind == "ConfigMap" and o.group == ""
                and o.name == "kptfile.kpt.dev"), None)
    if ctx is None:
        raise FleetError(f"{placement.variant_set.where('spec.targets')}: packageContext "
                         f"for {placement.key}, but blueprint {placement.blueprint} has no "
                         "kptfile.kpt.dev ConfigMap (package-context.yaml)")
    for key, value in sorted(placement.context.items()):
        ctx.set(("data", key), value)
    for key in placement.remove_keys:
        data = ctx.get("data") or {}
        if key in data and key != "name":
            ctx.set("data", {k: v for k, v in data.items() if k != key})
