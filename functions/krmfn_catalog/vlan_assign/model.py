"""The Nephio kinds vlan-assign reads and writes, and the shape of a finding."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from krmfn import KubeObject

__all__ = [
    "CLAIM_API_VERSION",
    "CLAIM_KIND",
    "INDEX_KIND",
    "INTERFACE_GROUP",
    "INTERFACE_KIND",
    "VLAN_GROUP",
    "WORKLOAD_CLUSTER_GROUP",
    "WORKLOAD_CLUSTER_KIND",
    "Kinds",
    "Problem",
]

VLAN_GROUP = "vlan.resource.nephio.org"
CLAIM_API_VERSION = f"{VLAN_GROUP}/v1alpha1"
CLAIM_KIND = "VLANClaim"
INDEX_KIND = "VLANIndex"
INTERFACE_GROUP = "req.nephio.org"
INTERFACE_KIND = "Interface"
WORKLOAD_CLUSTER_GROUP = "infra.nephio.org"
WORKLOAD_CLUSTER_KIND = "WorkloadCluster"


@dataclass(frozen=True)
class Problem:
    """An error about one resource (`obj` may be one that would have been created)."""

    message: str
    obj: KubeObject
    field: str


class Kinds:
    """The package's resources by kind, in package order: each step gets its own without
    every step reading the kind of every resource again."""

    def __init__(self, items: Iterable[KubeObject]) -> None:
        self._by_kind: dict[str, list[KubeObject]] = {}
        for obj in items:
            self._by_kind.setdefault(obj.kind, []).append(obj)

    def of(self, group: str, kind: str) -> list[KubeObject]:
        return [obj for obj in self._by_kind.get(kind, []) if obj.group == group]
