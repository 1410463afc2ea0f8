"""Nephio's requests without a controller: each Interface asks for an IPClaim (and a NAD,
see `attachments`), each DataNetwork pool for a pool IPClaim.

Claims made for a request carry `specializer.nephio.org/owner` pointing at it, so a later
run finds them (even renamed or moved to another namespace) and keeps them in step with
the request instead of creating another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from krmfn import FieldError, KubeObject, ResourceList

from krmfn_catalog.nephio_nad import (
    OWNER_ANNOTATION,
    Workloads,
    created_namespace,
    inherited_metadata,
    owner_value,
)

from .claims import (
    ADDRESS_FAMILY_LABEL,
    CLAIM_API_VERSION,
    CLAIM_KIND,
    CLUSTER_LABEL,
    MATCH_LABELS,
    NETWORK_NAME_LABEL,
    Claim,
)
from .plan import Plan
from .site import IPAM_GROUP, Package, Site

__all__ = ["REQ_GROUP", "Requested", "plan_requests"]

REQ_GROUP = "req.nephio.org"
DEFAULT_INSTANCE = "default"  # the pod network: nothing to allocate
LOCAL_CONFIG = "config.kubernetes.io/local-config"


@dataclass(frozen=True)
class Requested:
    """A claim made for an Interface; `cni_type` "" means a loopback (no attachment)."""

    interface: KubeObject
    claim: Claim
    cni_type: str


class Existing:
    """The package's IPClaims by owner annotation and by name, in package order (looked up
    for every request: an index, not a scan of every claim per request)."""

    def __init__(self, claims: Sequence[KubeObject], workloads: Workloads) -> None:
        self.all = claims
        self.workloads = workloads
        self._owned: dict[str | None, list[KubeObject]] = {}
        self._named: dict[str, list[KubeObject]] = {}
        for obj in claims:
            self._owned.setdefault(obj.get_annotation(OWNER_ANNOTATION), []).append(obj)
            self._named.setdefault(obj.name, []).append(obj)

    def owned_by(self, owner: str) -> list[KubeObject]:
        return self._owned.get(owner, [])

    def named(self, name: str) -> list[KubeObject]:
        return self._named.get(name, [])


def plan_requests(rl: ResourceList, site: Site, package: Package,
                  claims: dict[int, Claim | None], plan: Plan,
                  workloads: Workloads) -> list[Requested]:
    """Add the claims Interfaces and DataNetworks ask for to `claims` (by object id).

    Existing claims are brought in step through `plan`; new ones are planned, not added.
    """
    requests = package.of(REQ_GROUP)
    if not requests:
        return []
    existing = Existing(package.of(IPAM_GROUP, CLAIM_KIND), workloads)
    attachments: list[Requested] = []
    seen: set[tuple[str, str, str]] = set()
    for obj in requests:
        if (obj.kind, obj.namespace, obj.name) in seen:  # both would own the same claim
            rl.error(f"a second {obj.kind} named {obj.name!r} in this namespace", obj,
                     field="metadata.name")
            continue
        seen.add((obj.kind, obj.namespace, obj.name))
        try:
            if obj.kind == "Interface":
                found = _interface(rl, obj, site, existing, claims, plan)
                if found is not None:
                    attachments.append(found)
            elif obj.kind == "DataNetwork":
                _data_network(rl, obj, site, existing, claims, plan)
        except FieldError as exc:
            rl.error(str(exc), obj, field=exc.path)
    return attachments


def _interface(rl: ResourceList, interface: KubeObject, site: Site, existing: Existing,
               claims: dict[int, Claim | None], plan: Plan) -> Requested | None:
    instance = interface.get_str("spec.networkInstance.name", "")
    if instance == DEFAULT_INSTANCE:
        return None
    if not instance:
        rl.error("spec.networkInstance.name is required", interface,
                 field="spec.networkInstance.name")
        return None
    cni_type = interface.get_str("spec.cniType", "")
    if cni_type and site.cnis is not None and cni_type not in site.cnis:
        rl.error(f"cniType {cni_type!r} is not supported by cluster {site.cluster!r} "
                 f"(its CNIs: {', '.join(site.cnis)})", interface, field="spec.cniType")
        return None
    if not site.cluster:
        rl.error("no cluster to claim an address in: add a WorkloadCluster with "
                 "spec.clusterName, or set clusterName in the function config", interface)
        return None
    network = (interface.get_annotation(NETWORK_NAME_LABEL)
               or interface.get_label(NETWORK_NAME_LABEL))
    labels = {CLUSTER_LABEL: site.cluster}
    if network:
        labels[NETWORK_NAME_LABEL] = network
    spec: dict[str, Any] = {"kind": "network" if cni_type else "loopback",
                            "networkInstance": {"name": instance},
                            "selector": {"matchLabels": labels}}
    name = f"{interface.name}-ipv4"
    claim = _ensure_claim(rl, interface, name, spec, existing, claims, plan)
    if claim is None:
        return None
    claim = replace(claim, kind=spec["kind"], instance=instance, cluster=site.cluster,
                    network_name=network or claim.network_name, source=interface)
    claims[id(claim.obj)] = claim
    return Requested(interface, claim, cni_type)


def _data_network(rl: ResourceList, dnn: KubeObject, site: Site, existing: Existing,
                  claims: dict[int, Claim | None], plan: Plan) -> None:
    instance = dnn.get_str("spec.networkInstance.name", "")
    if not instance:
        rl.error("spec.networkInstance.name is required", dnn, field="spec.networkInstance.name")
        return
    for i, pool in enumerate(dnn.get_list("spec.pools", [])):
        where = f"spec.pools[{i}]"
        name = pool.get("name") if isinstance(pool, dict) else None
        length = pool.get("prefixLength") if isinstance(pool, dict) else None
        if not isinstance(name, str) or not name:
            rl.error(f"{where}.name must be a non-empty string", dnn, field=f"{where}.name")
            continue
        if type(length) is not int:
            rl.error(f"{where}.prefixLength must be an integer", dnn,
                     field=f"{where}.prefixLength")
            continue
        spec: dict[str, Any] = {"kind": "pool", "networkInstance": {"name": instance},
                                "prefixLength": length}
        if site.cluster:
            spec["selector"] = {"matchLabels": {CLUSTER_LABEL: site.cluster}}
        claim = _ensure_claim(rl, dnn, f"{dnn.name}-{name}", spec, existing, claims, plan)
        if claim is not None:
            claims[id(claim.obj)] = replace(claim, kind="pool", instance=instance,
                                            prefix_length=length,
                                            cluster=site.cluster or claim.cluster, source=dnn)


def _ensure_claim(rl: ResourceList, source: KubeObject, name: str, spec: dict[str, Any],
                  existing: Existing, claims: dict[int, Claim | None],
                  plan: Plan) -> Claim | None:
    """The claim `source` owns, brought in step with `spec`; planned new when missing."""
    owner = owner_value(source)
    obj = _find_claim(rl, source, owner, name, existing)
    if obj is False:
        return None
    if obj is None:
        return _new_claim(source, owner, name, spec, plan, existing.workloads)
    view = claims.get(id(obj))
    if view is None:
        return None  # unreadable: already reported
    changed = plan.set(obj, ["metadata", "annotations", OWNER_ANNOTATION], owner)
    for path, value in _leaves(spec, ("spec",)):
        changed = plan.set(obj, list(path), value) or changed
    if changed:
        plan.note(f"updated IPClaim {view.label} to follow {source.kind} {source.name}", obj)
    return view


def _find_claim(rl: ResourceList, source: KubeObject, owner: str, name: str,
                existing: Existing) -> KubeObject | Literal[False] | None:
    """The owned claim (by owner annotation, then by name); False after a name clash."""
    owned = existing.owned_by(owner)
    for obj in owned:
        if obj.name == name:
            return obj
    if source.kind == "Interface":
        for obj in owned:
            if _family(obj) == "ipv4":
                return obj
    for obj in existing.named(name):
        other = obj.get_annotation(OWNER_ANNOTATION)
        if other and other != owner:
            rl.error(f"IPClaim {name} already exists and belongs to {other}", source)
            return False
        return obj  # an unowned claim of that name: adopt it
    return None


def _new_claim(source: KubeObject, owner: str, name: str, spec: dict[str, Any], plan: Plan,
               workloads: Workloads) -> Claim:
    metadata = inherited_metadata(source, name, created_namespace(source, workloads))
    metadata["annotations"] = {LOCAL_CONFIG: "true", OWNER_ANNOTATION: owner}
    obj = KubeObject.from_dict({"apiVersion": CLAIM_API_VERSION, "kind": "IPClaim",
                                "metadata": metadata, "spec": spec})
    labels = spec.get("selector", {}).get("matchLabels", {})
    plan.create(obj, f"created IPClaim {name} for {source.kind} {source.name}")
    return Claim(obj, kind=spec["kind"], instance=spec["networkInstance"]["name"],
                 family="ipv4", cluster=labels.get(CLUSTER_LABEL, ""), new=True, source=source,
                 prefix_length=spec.get("prefixLength"),
                 network_name=labels.get(NETWORK_NAME_LABEL))


def _family(obj: KubeObject) -> str:
    family = obj.get("spec.addressFamily") or obj.get([*MATCH_LABELS, ADDRESS_FAMILY_LABEL])
    return family if isinstance(family, str) else "ipv4"


def _leaves(value: dict[str, Any], path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    """Scalar fields of a nested map with their paths (maps are merged, not replaced)."""
    out: list[tuple[tuple[str, ...], Any]] = []
    for key, item in value.items():
        if isinstance(item, dict):
            out.extend(_leaves(item, (*path, key)))
        else:
            out.append(((*path, key), item))
    return out
