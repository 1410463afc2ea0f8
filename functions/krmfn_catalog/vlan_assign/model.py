"""The Nephio kinds vlan-assign reads and writes, and the shape of a finding."""

from __future__ import annotations

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
    "Problem",
    "is_kind",
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


def is_kind(obj: KubeObject, group: str, kind: str) -> bool:
    return obj.kind == kind and obj.group == group
