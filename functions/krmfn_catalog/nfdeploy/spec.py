"""An NFDeployment's spec, as its parts say it should be, and the edit that makes it so.

nfdeploy owns `spec.interfaces`, `spec.networkInstances` (their `interfaces` and
`dataNetworks`), `spec.capacity` (when the package has a Capacity) and adds to
`spec.parametersRefs`; everything else in the spec (`provider`, a network instance's
`peers` or `bgp`, references already there) stays as it was. Lists are ordered as Nephio's
nfdeploy-fn orders them (interfaces, network instances and references by name), so the
same parts always give the same text, and a spec that is already right is not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from krmfn import KubeObject

from krmfn_catalog.nephio_nad import owner_value

from .interfaces import Found, interface_entry
from .model import CAPACITY, DATA_NETWORK, DEPENDENCY, INTERFACE, Package, Problem
from .parts import capacity_spec, data_network_entry, injected_refs

__all__ = ["Desired", "desired_spec", "sync", "write_spec"]

OWNED = ("name", "interfaces", "dataNetworks")  # what nfdeploy writes in a network instance


@dataclass
class Desired:
    """The spec fields an NFDeployment should hold (None: leave the field as it is)."""

    deployment: KubeObject
    interfaces: list[dict[str, Any]] = field(default_factory=list)
    network_instances: list[dict[str, Any]] = field(default_factory=list)
    capacity: dict[str, Any] | None = None
    parameters_refs: list[Any] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def desired_spec(deployment: KubeObject, package: Package) -> Desired:
    """Read every part of `deployment` and work out its spec; nothing is written."""
    out = Desired(deployment)
    owner = owner_value(deployment)
    spec = deployment.get("spec")
    if spec is not None and not isinstance(spec, dict):
        out.problems.append(Problem("expected a map", deployment, "spec"))
        return out
    instances: dict[str, dict[str, list[Any]]] = {}

    def take(found: Found) -> None:
        out.warnings += found.warnings
        out.problems += found.problems

    for interface in package.parts(owner, INTERFACE):
        found = interface_entry(interface, package)
        take(found)
        if found.entry is not None:
            out.interfaces.append(found.entry)
            name = interface.get("spec.networkInstance.name")
            instances.setdefault(str(name), {"interfaces": [], "dataNetworks": []})[
                "interfaces"].append(interface.name)
    for dnn in package.parts(owner, DATA_NETWORK):
        instance, found = data_network_entry(dnn, package)
        take(found)
        if instance is not None and found.entry is not None:
            instances.setdefault(instance, {"interfaces": [], "dataNetworks": []})[
                "dataNetworks"].append(found.entry)
    capacities = package.parts(owner, CAPACITY)
    for extra in capacities[1:]:
        out.problems.append(Problem(
            f"a second Capacity for NFDeployment {deployment.name} (the first is "
            f"{capacities[0].name}): which one counts would be a guess", extra,
            "metadata.name"))
    if capacities:
        found = Found()
        out.capacity = capacity_spec(capacities[0], found)
        take(found)
    refs: list[dict[str, str]] = []
    for dependency in package.parts(owner, DEPENDENCY):
        found = Found()
        refs += injected_refs(dependency, found)
        take(found)
    out.interfaces.sort(key=lambda e: str(e["name"]))
    out.network_instances = _network_instances(deployment, instances, out)
    out.parameters_refs = _parameters_refs(deployment, refs, out)
    return out


def _network_instances(deployment: KubeObject, derived: dict[str, dict[str, list[Any]]],
                       out: Desired) -> list[dict[str, Any]]:
    """Derived network instances, each keeping what else it held (peers, bgp); an existing
    one nothing derives stays only for what else it holds."""
    existing = deployment.get("spec.networkInstances")
    if existing is not None and not isinstance(existing, list):
        out.problems.append(Problem("expected a list", deployment, "spec.networkInstances"))
        return []
    kept: dict[str, dict[str, Any]] = {}
    for item in existing or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            kept.setdefault(item["name"], item)
    result: list[dict[str, Any]] = []
    for name in sorted(set(derived) | set(kept)):
        parts = derived.get(name, {"interfaces": [], "dataNetworks": []})
        old = kept.get(name, {})
        others = {k: v for k, v in old.items() if k not in OWNED}
        if name not in derived and not others:
            continue
        entry: dict[str, Any] = {"name": name}
        if parts["interfaces"]:
            entry["interfaces"] = sorted(parts["interfaces"])
        if "peers" in others:
            entry["peers"] = others.pop("peers")
        if parts["dataNetworks"]:
            entry["dataNetworks"] = parts["dataNetworks"]
        entry.update(others)
        result.append(entry)
    return result


def _parameters_refs(deployment: KubeObject, injected: list[dict[str, str]],
                     out: Desired) -> list[Any]:
    """The references already there, then each injected one not among them, by name."""
    existing = deployment.get("spec.parametersRefs")
    if existing is not None and not isinstance(existing, list):
        out.problems.append(Problem("expected a list", deployment, "spec.parametersRefs"))
        return []
    refs: list[Any] = list(existing or [])

    def same(a: Any, b: dict[str, str]) -> bool:
        return isinstance(a, dict) and all(a.get(k) == b[k] for k in ("name", "kind",
                                                                        "apiVersion"))

    for ref in injected:
        if not any(same(r, ref) for r in refs):
            refs.append(ref)
    return sorted(refs, key=lambda r: str(r.get("name") or "") if isinstance(r, dict) else "")


def write_spec(desired: Desired) -> list[str]:
    """Bring the NFDeployment's spec in line with `desired`; the fields that changed."""
    obj = desired.deployment
    changed: list[str] = []
    wanted: dict[str, Any] = {
        "capacity": desired.capacity,
        "interfaces": desired.interfaces or None,
        "networkInstances": desired.network_instances or None,
        "parametersRefs": desired.parameters_refs or None,
    }
    if obj.get("spec") is None:  # absent or `spec:` with nothing: written whole
        spec = {k: v for k, v in wanted.items() if v is not None}
        if spec:
            obj.set("spec", spec)
        return [f"spec.{k}" for k in spec]
    for key, value in wanted.items():
        path = ("spec", key)
        if value is None:
            if key != "capacity" and obj.has(path):
                obj.delete(path)
                changed.append(f"spec.{key}")
            continue
        if obj.get(path) != value:
            sync(obj, path, obj.get(path), value)
            changed.append(f"spec.{key}")
    return changed


def sync(obj: KubeObject, path: tuple[str | int, ...], old: Any, new: Any) -> None:
    """Set `path` to `new`, editing only what differs, so that comments stay with what
    they were written beside: a map with the same keys is edited key by key; a list whose
    items keep their identities (a map item's `name`, else the item) and order is edited
    item by item, with new items appended. A list reordered is written afresh: the
    comments inside it are dropped rather than left beside another item."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict) and list(old) == list(new):
        for key in new:
            sync(obj, (*path, key), old[key], new[key])
    elif isinstance(old, list) and isinstance(new, list) and old and \
            [_identity(i) for i in old] == [_identity(i) for i in new[: len(old)]]:
        for i, item in enumerate(new[: len(old)]):
            sync(obj, (*path, i), old[i], item)
        for item in new[len(old):]:
            obj.append(list(path), item)
    else:
        if isinstance(old, list) and old:
            obj.set(list(path), [])  # drops the items' comments, keeps the key's
        obj.set(list(path), new)


def _identity(item: Any) -> Any:
    return ("name", item.get("name")) if isinstance(item, dict) else ("value", repr(item))
