"""What nfdeploy reads: the kinds, the annotations that tie a part to its NFDeployment, and
the package's claims indexed by the part that owns them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from krmfn import KubeObject

from krmfn_catalog.nephio_nad import OWNER_ANNOTATION

__all__ = [
    "CAPACITY",
    "DATA_NETWORK",
    "DEPENDENCY",
    "DEPLOYMENT",
    "INTERFACE",
    "IP_CLAIM",
    "REQ_GROUP",
    "VLAN_CLAIM",
    "WORKLOAD_GROUP",
    "Package",
    "Problem",
]

REQ_GROUP = "req.nephio.org"
WORKLOAD_GROUP = "workload.nephio.org"
DEPLOYMENT = "NFDeployment"
INTERFACE = "Interface"
DATA_NETWORK = "DataNetwork"
CAPACITY = "Capacity"
DEPENDENCY = "Dependency"
IP_CLAIM = ("ipam.resource.nephio.org", "IPClaim")
VLAN_CLAIM = ("vlan.resource.nephio.org", "VLANClaim")
PARTS = (INTERFACE, DATA_NETWORK, CAPACITY, DEPENDENCY)


@dataclass(frozen=True)
class Problem:
    """Something that keeps an NFDeployment from being filled, on `obj` at `field`."""

    message: str
    obj: KubeObject | None
    field: str | None = None


class Package:
    """The resources nfdeploy reads, grouped once: NFDeployments, their parts (by the owner
    annotation, as Nephio's functions tie a part to its NFDeployment), the claims (by the
    owner annotation too: an Interface or DataNetwork owns its claims) and the root
    Kptfile."""

    def __init__(self, items: Iterable[KubeObject]) -> None:
        self.deployments: list[KubeObject] = []
        self.kptfile: KubeObject | None = None
        self._parts: dict[str, list[KubeObject]] = {}
        self._ip: dict[str, list[KubeObject]] = {}
        self._vlan: dict[str, list[KubeObject]] = {}
        for obj in items:
            group, kind = obj.group, obj.kind
            owner = obj.get_annotation(OWNER_ANNOTATION) or ""
            if kind == DEPLOYMENT and group == WORKLOAD_GROUP:
                self.deployments.append(obj)
            elif group == REQ_GROUP and kind in PARTS:
                self._parts.setdefault(owner, []).append(obj)
            elif (group, kind) == IP_CLAIM:
                self._ip.setdefault(owner, []).append(obj)
            elif (group, kind) == VLAN_CLAIM:
                self._vlan.setdefault(owner, []).append(obj)
            elif kind == "Kptfile" and group == "kpt.dev" and obj.path in ("", "Kptfile") \
                    and self.kptfile is None:
                self.kptfile = obj

    def parts(self, owner: str, kind: str) -> list[KubeObject]:
        """The parts of `kind` owned by `owner`, by namespace and name (Nephio's order)."""
        found = [o for o in self._parts.get(owner, []) if o.kind == kind]
        return sorted(found, key=lambda o: (o.namespace, o.name))

    def all_parts(self, owner: str) -> list[KubeObject]:
        """Every part owned by `owner`, by kind, namespace and name."""
        return sorted(self._parts.get(owner, []), key=lambda o: (o.kind, o.namespace, o.name))

    def ip_claims(self, owner: str) -> list[KubeObject]:
        return self._ip.get(owner, [])

    def vlan_claims(self, owner: str) -> list[KubeObject]:
        return self._vlan.get(owner, [])
