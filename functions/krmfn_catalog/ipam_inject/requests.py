"""Nephio's requests without a controller: each Interface asks for an IPClaim per address
family (and a NAD, see `attachments`), each DataNetwork pool for a pool IPClaim.

Claims made for a request carry `specializer.nephio.org/owner` pointing at it, so a later
run finds them (even renamed or moved to another namespace) and keeps them in step with
the request instead of creating another; a claim Nephio's interface-fn or dnn-fn made
(same owner annotation) is adopted the same way. Names and annotations: `_claim`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from krmfn import FieldError, KubeObject, ResourceList

from krmfn_catalog._claim import (
    ADDRESS_FAMILY_LABEL,
    FAMILIES,
    claim_annotations,
    families_of,
    family_of_prefix,
    request_name,
)
from krmfn_catalog.nephio_nad import (
    OWNER_ANNOTATION,
    Workloads,
    created_namespace,
    deployment_of,
    inherited_metadata,
    owner_value,
)

from .claims import (
    CLAIM_API_VERSION,
    CLAIM_KIND,
    CLUSTER_LABEL,
    NETWORK_NAME_LABEL,
    Claim,
)
from .plan import Plan
from .site import IPAM_GROUP, Package, Site

__all__ = ["REQ_GROUP", "Requested", "plan_requests"]

REQ_GROUP = "req.nephio.org"
DEFAULT_INSTANCE = "default"  # the pod network: nothing to allocate


@dataclass(frozen=True)
class Requested:
    """The claims of an Interface, one per family it asks for, then any other claim it
    owns (its addresses go into the NAD too); `cni_type` "" means a loopback (no NAD)."""

    interface: KubeObject
    claims: tuple[Claim, ...]
    cni_type: str


class Existing:
    """The package's IPClaims by owner annotation and by name, in package order (looked up
    for every request: an index, not a scan of every claim per request)."""

    def __init__(self, claims: Sequence[KubeObject], workloads: Workloads) -> None:
        self.all = claims
        self.workloads = workloads
        self.taken: set[int] = set()  # claims already adopted for a request (by object id)
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
    families = families_of(interface)
    network = (interface.get_annotation(NETWORK_NAME_LABEL)
               or interface.get_label(NETWORK_NAME_LABEL))
    nephio = deployment_of(interface) is not None
    found: list[Claim] = []
    for family in families:
        labels = {CLUSTER_LABEL: site.cluster}
        if nephio or family != "ipv4":  # as interface-fn; an IPv4-only claim kept its shape
            labels[ADDRESS_FAMILY_LABEL] = family
        if network:
            labels[NETWORK_NAME_LABEL] = network
        spec: dict[str, Any] = {"kind": "network" if cni_type else "loopback",
                                "networkInstance": {"name": instance},
                                "selector": {"matchLabels": labels}}
        names = (f"{request_name(interface)}-{family}", f"{interface.name}-{family}")
        claim = _ensure_claim(rl, interface, names, spec, existing, claims, plan, family)
        if claim is None:
            return None
        held = family_of_prefix(claim.current_prefix)
        if held and held != family:
            rl.error(f"status.prefix {claim.current_prefix} is {held}, but Interface "
                     f"{interface.name} asks this claim for {family}: remove the status to "
                     "allocate again", claim.obj, field="status.prefix")
            return None
        claim = replace(claim, kind=spec["kind"], instance=instance, cluster=site.cluster,
                        family=family, network_name=network or claim.network_name,
                        source=interface)
        claims[id(claim.obj)] = claim
        found.append(claim)
    taken = {id(c.obj) for c in found}
    for obj in existing.owned_by(owner_value(interface)):  # another family it still owns
        other = claims.get(id(obj))
        if id(obj) not in taken and other is not None:
            found.append(other)
    return Requested(interface, tuple(found), cni_type)


def _data_network(rl: ResourceList, dnn: KubeObject, site: Site, existing: Existing,
                  claims: dict[int, Claim | None], plan: Plan) -> None:
    pools = dnn.get_list("spec.pools", [])
    if not pools:  # nothing asked (Nephio's AMF and SMF blueprints hold such a DataNetwork)
        return
    instance = dnn.get_str("spec.networkInstance.name", "")
    if not instance:
        rl.error("spec.networkInstance.name is required", dnn, field="spec.networkInstance.name")
        return
    nephio = deployment_of(dnn) is not None
    for i, pool in enumerate(pools):
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
        family = pool.get("ipFamily") or "ipv4"
        if family not in FAMILIES:
            rl.error(f"{where}.ipFamily {family!r} is not one of {', '.join(FAMILIES)}", dnn,
                     field=f"{where}.ipFamily")
            continue
        spec: dict[str, Any] = {"kind": "pool", "networkInstance": {"name": instance},
                                "prefixLength": length}
        labels = {CLUSTER_LABEL: site.cluster} if site.cluster else {}
        if nephio or family != "ipv4":  # as dnn-fn; an IPv4 pool's claim kept its shape
            labels[ADDRESS_FAMILY_LABEL] = family
        if nephio:
            spec["createPrefix"] = True  # what dnn-fn asks Nephio's IPAM for
        if labels:
            spec["selector"] = {"matchLabels": labels}
        # the name before the DataNetwork belonged to an NFDeployment finds its claim too
        names = (f"{request_name(dnn)}-{name}", f"{dnn.name}-{name}")
        claim = _ensure_claim(rl, dnn, names, spec, existing, claims, plan, family)
        if claim is not None:
            claims[id(claim.obj)] = replace(claim, kind="pool", instance=instance,
                                            prefix_length=length, family=family,
                                            cluster=site.cluster or claim.cluster, source=dnn)


def _ensure_claim(rl: ResourceList, source: KubeObject, names: tuple[str, str],
                  spec: dict[str, Any], existing: Existing, claims: dict[int, Claim | None],
                  plan: Plan, family: str) -> Claim | None:
    """The claim `source` owns for `family`, brought in step with `spec`; planned new (as
    `names[0]`) when missing. `names[1]` is the name it had before its source belonged to
    an NFDeployment."""
    owner = owner_value(source)
    obj = _find_claim(rl, source, owner, names, existing, claims, family)
    if obj is False:
        return None
    if obj is None:
        return _new_claim(source, names[0], spec, plan, existing.workloads, family)
    view = claims.get(id(obj))
    if view is None:
        return None  # unreadable: already reported
    existing.taken.add(id(obj))
    changed = False
    for key, value in claim_annotations(source).items():
        if key != "config.kubernetes.io/local-config":  # a user's choice on an adopted claim
            changed = plan.set(obj, ["metadata", "annotations", key], value) or changed
    for path, value in _leaves(spec, ("spec",)):
        changed = plan.set(obj, list(path), value) or changed
    if changed:
        plan.note(f"updated IPClaim {view.label} to follow {source.kind} {source.name}", obj)
    return view


def _find_claim(rl: ResourceList, source: KubeObject, owner: str, names: tuple[str, str],
                existing: Existing, claims: dict[int, Claim | None],
                family: str) -> KubeObject | Literal[False] | None:
    """The owned claim (by owner annotation: of one of `names`, else of that family, for
    an Interface), else an unowned one of the first name; False after a name clash."""
    owned = [o for o in existing.owned_by(owner) if id(o) not in existing.taken]
    for wanted in names:
        for obj in owned:
            if obj.name == wanted:
                return obj
    name = names[0]
    if source.kind == "Interface":
        for obj in owned:
            view = claims.get(id(obj))
            if view is not None and view.family == family:
                return obj
    for obj in existing.named(name):
        other = obj.get_annotation(OWNER_ANNOTATION)
        if other and other != owner:
            rl.error(f"IPClaim {name} already exists and belongs to {other}", source)
            return False
        return obj  # an unowned claim of that name: adopt it
    return None


def _new_claim(source: KubeObject, name: str, spec: dict[str, Any], plan: Plan,
               workloads: Workloads, family: str) -> Claim:
    metadata = inherited_metadata(source, name, created_namespace(source, workloads))
    metadata["annotations"] = claim_annotations(source)
    obj = KubeObject.from_dict({"apiVersion": CLAIM_API_VERSION, "kind": "IPClaim",
                                "metadata": metadata, "spec": spec})
    labels = spec.get("selector", {}).get("matchLabels", {})
    plan.create(obj, f"created IPClaim {name} for {source.kind} {source.name}")
    return Claim(obj, kind=spec["kind"], instance=spec["networkInstance"]["name"],
                 family=family, cluster=labels.get(CLUSTER_LABEL, ""), new=True, source=source,
                 prefix_length=spec.get("prefixLength"),
                 network_name=labels.get(NETWORK_NAME_LABEL))


def _leaves(value: dict[str, Any], path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    """Scalar fields of a nested map with their paths (maps are merged, not replaced)."""
    out: list[tuple[tuple[str, ...], Any]] = []
    for key, item in value.items():
        if isinstance(item, dict):
            out.extend(_leaves(item, (*path, key)))
        else:
            out.append(((*path, key), item))
    return out
