"""What a package says about its site: the WorkloadCluster, and the address pools of its
network instances (Nephio `Network` routing tables and `NetworkInstance` prefixes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from krmfn import KubeObject, ResourceList

__all__ = ["INFRA_GROUP", "IPAM_GROUP", "Package", "Pools", "Site", "read_pools", "read_site"]

INFRA_GROUP = "infra.nephio.org"
IPAM_GROUP = "ipam.resource.nephio.org"

# instance name -> [(prefix, labels)], in the order the package lists them
Pools = dict[str, list[tuple[str, dict[str, str]]]]


class Package:
    """The package's resources with their group and kind, read once for every step that
    picks its resources by them; in package order."""

    def __init__(self, items: Iterable[KubeObject]) -> None:
        self.kinds = [(obj.group, obj.kind, obj) for obj in items]

    def of(self, group: str, *kinds: str) -> list[KubeObject]:
        """The resources of `group` (of one of `kinds`, when given)."""
        return [obj for g, k, obj in self.kinds if g == group and (not kinds or k in kinds)]


@dataclass(frozen=True)
class Site:
    """The cluster a package is specialized for ("" when unknown)."""

    cluster: str = ""
    master_interface: str = ""
    cnis: tuple[str, ...] | None = None  # None: the cluster does not say
    source: KubeObject | None = field(default=None, compare=False)


def read_site(rl: ResourceList, package: Package, fallback_cluster: str) -> Site:
    """The package's WorkloadCluster; more than one naming different clusters is an error."""
    clusters = package.of(INFRA_GROUP, "WorkloadCluster")
    site = Site(fallback_cluster)
    first: Site | None = None
    for obj in clusters:
        spec = _map(rl, obj, "spec")
        name, master = _text(rl, obj, spec, "clusterName"), _text(rl, obj, spec, "masterInterface")
        cnis = spec.get("cnis")
        if cnis is not None and not (isinstance(cnis, list)
                                     and all(isinstance(c, str) for c in cnis)):
            rl.error("spec.cnis must be a list of strings", obj, field="spec.cnis")
            cnis = None
        this = Site(name or fallback_cluster, master, tuple(cnis) if cnis else None, obj)
        if first is None:
            first = site = this
        elif this.cluster != first.cluster:
            rl.error(f"a second WorkloadCluster ({this.cluster!r}, the first says "
                     f"{first.cluster!r}): a package is specialized for one cluster", obj,
                     field="spec.clusterName")
    return site


def read_pools(rl: ResourceList, package: Package) -> Pools:
    """Every network instance's prefixes; an instance defined twice is an error."""
    pools: Pools = {}
    origin: dict[str, KubeObject] = {}

    def add(name: str, prefixes: list[tuple[str, dict[str, str]]], obj: KubeObject,
            path: str) -> None:
        if name in origin and origin[name] is not obj:
            other = origin[name]
            rl.error(f"network instance {name!r} is also defined by {other.kind} "
                     f"{other.name}", obj, field=path)
            return
        origin[name] = obj
        pools.setdefault(name, []).extend(prefixes)

    for group, kind, obj in package.kinds:
        if group == INFRA_GROUP and kind == "Network":
            tables = obj.get("spec.routingTables")
            if not isinstance(tables, list):
                if tables is not None:
                    rl.error("spec.routingTables must be a list", obj, field="spec.routingTables")
                continue
            for i, table in enumerate(tables):
                path = f"spec.routingTables[{i}]"
                table = table if isinstance(table, dict) else {}
                prefixes = _prefixes(rl, obj, table.get("prefixes"), f"{path}.prefixes")
                name = table.get("name") or obj.name
                add(str(name), prefixes, obj, f"{path}.name")
                # the Network's own name stands for its table when it has just one
                if len(tables) == 1 and name != obj.name:
                    add(obj.name, prefixes, obj, "metadata.name")
        elif group == IPAM_GROUP and kind == "NetworkInstance":
            prefixes = _prefixes(rl, obj, obj.get("spec.prefixes"), "spec.prefixes")
            add(obj.name, prefixes, obj, "metadata.name")
    return pools


def _prefixes(rl: ResourceList, obj: KubeObject, value: Any,
              path: str) -> list[tuple[str, dict[str, str]]]:
    if value is None:
        return []
    if not isinstance(value, list):
        rl.error(f"{path} must be a list", obj, field=path)
        return []
    out = []
    for i, entry in enumerate(value):
        where = f"{path}[{i}]"
        prefix = entry.get("prefix") if isinstance(entry, dict) else None
        labels = (entry.get("labels") if isinstance(entry, dict) else None) or {}
        if not isinstance(prefix, str):
            rl.error(f"{where}.prefix must be a string", obj, field=f"{where}.prefix")
        elif not isinstance(labels, dict):
            rl.error(f"{where}.labels must be a map", obj, field=f"{where}.labels")
        else:
            out.append((prefix, {str(k): str(v) for k, v in labels.items()}))
    return out


def _map(rl: ResourceList, obj: KubeObject, path: str) -> dict[str, Any]:
    value = obj.get(path)
    if value is None:
        return {}
    if not isinstance(value, dict):
        rl.error(f"{path} must be a map", obj, field=path)
        return {}
    return value


def _text(rl: ResourceList, obj: KubeObject, spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        rl.error(f"spec.{key} must be a string", obj, field=f"spec.{key}")
        return ""
    return value
