"""Interfaces with `attachmentType: vlan`: the claim each needs and the NAD it configures.

The VLAN index of an attachment is named after the site's cluster (WorkloadCluster
`spec.clusterName`), and the NAD's plugin `master` becomes `<masterInterface>.<vlanID>`.
Naming, namespaces and the JSON edit come from `nephio_nad`, shared with ipam-inject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from krmfn import KubeObject

from krmfn_catalog._claim import request_name
from krmfn_catalog.nephio_nad import (
    OWNER_ANNOTATION,
    NadConfigError,
    Nads,
    Workloads,
    created_namespace,
    interface_nad,
    nad_name,
    new_nad,
    owner_value,
    read_config,
)

from .claims import ClaimEntry, new_claim
from .model import Problem

__all__ = ["Attachment", "Site", "plan_attachments", "read_site"]


@dataclass(frozen=True)
class Site:
    """The cluster a package is specialized for; `problems` matter only to attachments."""

    cluster: str | None = None
    master: str | None = None
    cnis: tuple[str, ...] | None = None  # None: the cluster does not say
    problems: tuple[Problem, ...] = field(default_factory=tuple)


@dataclass
class Attachment:
    """One vlan Interface: its claim, its NAD (found or to be created), the master base.
    `nad_adopt`: an existing NAD of the right name gets the Interface as its owner."""

    interface: KubeObject
    claim: ClaimEntry
    nad: KubeObject
    nad_new: bool
    nad_adopt: bool
    master: str


def read_site(clusters: Sequence[KubeObject]) -> Site:
    """The site of the package's WorkloadClusters (`clusters`)."""
    if not clusters:
        return Site()
    seen = sorted({(_text(o, "spec.clusterName") or "", _text(o, "spec.masterInterface") or "")
                   for o in clusters})
    if len(seen) > 1:
        listed = ", ".join(f"{name or '?'} (master {master or '?'})" for name, master in seen)
        return Site(problems=tuple(
            Problem(f"WorkloadClusters disagree: {listed}; a package is specialized for one"
                    " cluster", obj, "spec.clusterName") for obj in clusters))
    first = clusters[0]
    problems: list[Problem] = []
    cluster = _text(first, "spec.clusterName")
    if cluster is None:
        problems.append(Problem("is required: the cluster names the VLAN index of its"
                                " attachments", first, "spec.clusterName"))
    master = _text(first, "spec.masterInterface")
    if master is None:
        problems.append(Problem("is required: VLAN attachments are sub-interfaces of it",
                                first, "spec.masterInterface"))
    cnis = first.get("spec.cnis")
    if not (isinstance(cnis, list) and all(isinstance(c, str) for c in cnis)):
        cnis = None
    return Site(cluster, master, tuple(cnis) if cnis else None, tuple(problems))


def plan_attachments(
    items: Sequence[KubeObject], interfaces: Sequence[KubeObject], site: Site,
    claims: list[ClaimEntry]
) -> tuple[list[Attachment], list[Problem]]:
    """Pick or make the claim (appended to `claims`) and NAD of each of the package's
    Interfaces (`interfaces`) that is a vlan attachment."""
    interfaces = [o for o in interfaces if o.get("spec.attachmentType") == "vlan"]
    if not interfaces:
        return [], []
    if site.cluster is None or site.master is None or site.problems:
        if site.problems:
            return [], list(site.problems)
        return [], [Problem("a vlan attachment needs the package's WorkloadCluster (its"
                            " spec.clusterName names the VLAN index)", i, "spec.attachmentType")
                    for i in interfaces]
    attachments: list[Attachment] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    package = _Package(items, claims)
    for interface in interfaces:
        if (interface.namespace, interface.name) in seen:  # both would own the same claim
            problems.append(Problem(f"a second Interface named {interface.name!r} in this "
                                    "namespace", interface, "metadata.name"))
            continue
        seen.add((interface.namespace, interface.name))
        namespace = created_namespace(interface, package.workloads)
        claim = _claim_for(interface, claims, package, namespace, site.cluster, problems)
        nad = _nad_for(interface, package, namespace, site, problems)
        if claim is not None and nad is not None:
            attachments.append(Attachment(interface, claim, *nad, site.master))
    return attachments, problems


class _Package:
    """What Interfaces look up in the package, indexed once rather than scanned for each."""

    def __init__(self, items: Sequence[KubeObject], claims: Sequence[ClaimEntry]) -> None:
        self.workloads = Workloads(items)
        self.nads = Nads(items)
        self.claims: dict[str, list[ClaimEntry]] = {}  # the package's own claims, by name
        self.owned: dict[str, list[ClaimEntry]] = {}  # and by owner annotation
        for entry in claims:
            if not entry.new:
                self.claims.setdefault(entry.name, []).append(entry)
                owner = entry.obj.get_annotation(OWNER_ANNOTATION)
                if owner:
                    self.owned.setdefault(owner, []).append(entry)


def _claim_for(interface: KubeObject, claims: list[ClaimEntry], package: _Package,
               namespace: str, index: str, problems: list[Problem]) -> ClaimEntry | None:
    """The Interface's claim: one it owns (of its name first, whatever its name: Nephio's
    interface-fn may have made it), else an unowned one of its name, else a new one."""
    owner = owner_value(interface)
    name = request_name(interface)
    mine = [c for c in package.owned.get(owner, []) if c.interface is None]
    mine.sort(key=lambda c: (c.name != name, c.namespace != namespace))
    if mine:
        return _adopt(mine[0], interface, index, None)
    named = [c for c in package.claims.get(name, []) if c.interface is None]
    free = sorted((c for c in named if c.obj.get_annotation(OWNER_ANNOTATION) is None),
                  key=lambda c: c.namespace != namespace)
    if free:
        return _adopt(free[0], interface, index, owner)
    if named:
        other = named[0].obj.get_annotation(OWNER_ANNOTATION)
        problems.append(Problem(
            f"VLANClaim {name!r} already exists and is owned by {other}",
            interface, "metadata.name"))
        return None
    entry = new_claim(interface, namespace, index)
    claims.append(entry)
    return entry


def _adopt(entry: ClaimEntry, interface: KubeObject, index: str,
           owner: str | None) -> ClaimEntry:
    """`entry` becomes the Interface's claim, on `index`; `owner` is set when not None."""
    entry.interface = interface
    entry.set_index = entry.index != index
    entry.old_index = entry.index
    entry.index = index
    entry.owner = owner
    return entry


def _nad_for(interface: KubeObject, package: _Package, namespace: str, site: Site,
             problems: list[Problem]) -> tuple[KubeObject, bool, bool] | None:
    """(NAD, new, adopt), or None after a problem."""
    cni_type = _text(interface, "spec.cniType")
    if cni_type is not None and site.cnis is not None and cni_type not in site.cnis:
        problems.append(Problem(f"cniType {cni_type!r} is not supported by cluster"
                                f" {site.cluster!r} (its CNIs: {', '.join(site.cnis)})",
                                interface, "spec.cniType"))
        return None
    nad, other = interface_nad(package.nads, interface, namespace)
    name = nad_name(interface)
    if other is not None:
        problems.append(Problem(f"NetworkAttachmentDefinition {name!r} already exists and"
                                f" belongs to {other}", interface, "metadata.name"))
        return None
    if nad is not None:
        try:
            read_config(nad)
        except NadConfigError as exc:
            problems.append(Problem(str(exc), nad, exc.field))
            return None
        return nad, False, nad.get_annotation(OWNER_ANNOTATION) is None
    if cni_type is None:
        problems.append(Problem(f"is required to create NetworkAttachmentDefinition {name!r}",
                                interface, "spec.cniType"))
        return None
    return (new_nad(interface, name=name, namespace=namespace, cni_type=cni_type,
                    items=package.workloads), True, False)


def _text(obj: KubeObject, path: str) -> str | None:
    value = obj.get(path)
    return value if isinstance(value, str) and value else None
