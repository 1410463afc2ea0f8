"""IPClaims as the allocator sees them: read from the package, checked field by field.

A `Claim` is a view of one IPClaim: either an existing resource, or one this run plans to
create for an Interface or a DataNetwork (not yet in the package). Reading never edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from krmfn import FieldError, KubeObject, ResourceList

from krmfn_catalog._claim import ADDRESS_FAMILY_LABEL, ObjectClaim, family_of_prefix

from .site import IPAM_GROUP, Site

__all__ = [
    "CLAIM_API_VERSION",
    "CLAIM_KIND",
    "CLUSTER_LABEL",
    "NETWORK_NAME_LABEL",
    "Claim",
    "read_claim",
]

CLAIM_API_VERSION = f"{IPAM_GROUP}/v1alpha1"
CLAIM_KIND = "IPClaim"
CLUSTER_LABEL = "nephio.org/cluster-name"
NETWORK_NAME_LABEL = "nephio.org/network-name"
MATCH_LABELS = ("spec", "selector", "matchLabels")


@dataclass
class Claim(ObjectClaim):
    """One IPClaim's request; `source` is the Interface or DataNetwork it was made for."""

    obj: KubeObject
    kind: str
    instance: str
    family: str
    cluster: str
    new: bool = False
    source: KubeObject | None = None
    prefix_length: int | None = None
    network_name: str | None = None
    static_prefix: str | None = None
    current_prefix: str | None = None
    current_gateway: str | None = None

    @cached_property
    def key(self) -> str:
        """The claim within this run (answers are found by it); the ledger's owner key
        adds the package (`allocate`)."""
        return f"{self.cluster}/{self.namespace}/{self.name}"

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def read_claim(rl: ResourceList, obj: KubeObject, site: Site) -> Claim | None:
    """The claim's request, or None after reporting what is wrong with it."""
    try:
        labels = _labels(obj)
        kind = obj.get_str("spec.kind", None)
        instance = obj.get_str("spec.networkInstance.name", None)
        family = obj.get_str("spec.addressFamily", None) or labels.get(ADDRESS_FAMILY_LABEL)
        current = obj.get_str("status.prefix", None)
        held = family_of_prefix(current)
        claim = Claim(
            obj,
            kind=kind or "",
            instance=instance or "",
            family=family or held or "ipv4",
            cluster=labels.get(CLUSTER_LABEL) or site.cluster,
            prefix_length=_length(obj),
            network_name=labels.get(NETWORK_NAME_LABEL),
            static_prefix=obj.get_str("spec.prefix", None),
            current_prefix=current,
            current_gateway=obj.get_str("status.gateway", None),
        )
    except FieldError as exc:
        rl.error(str(exc), obj, field=exc.path)
        return None
    if not kind:
        rl.error("spec.kind is required (network, loopback or pool)", obj, field="spec.kind")
        return None
    if not instance:
        rl.error("spec.networkInstance.name is required", obj, field="spec.networkInstance.name")
        return None
    if family and held and family != held:
        # An address handed out (perhaps by Nephio's IPAM) is never silently swapped for one
        # of the other family: the claim or its status is wrong, and only a person can say.
        where = "spec.addressFamily" if obj.has("spec.addressFamily") else \
            f'spec.selector.matchLabels["{ADDRESS_FAMILY_LABEL}"]'
        rl.error(f"asks for {family} but status.prefix {current} is {held}: remove the status "
                 "to allocate again, or correct the family", obj, field=where)
        return None
    return claim


def _labels(obj: KubeObject) -> dict[str, str]:
    value = obj.get(MATCH_LABELS)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError("spec.selector.matchLabels", "expected a map")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise FieldError(f'spec.selector.matchLabels["{key}"]', "expected a string")
        out[str(key)] = item
    return out


def _length(obj: KubeObject) -> int | None:
    value: Any = obj.get_int("spec.prefixLength", None)
    return None if value is None else int(value)
