"""vlan-assign: VLAN IDs for VLANClaims, unique per VLAN index, and the VLAN
sub-interface of every vlan attachment written into its NetworkAttachmentDefinition.

Everything is read and checked first, then allocated in one ledger session, then written:
a run that finds any error writes nothing (neither the package nor the ledger).
"""

from __future__ import annotations

from krmfn import ConfigError, FunctionError, KubeObject, ResourceList, function

from krmfn_catalog._ledger_owner import package_name
from krmfn_catalog.allocation.backends import chosen
from krmfn_catalog.allocation.ledger import Ledger, LedgerError, VLANRecord
from krmfn_catalog.allocation.owner import PackageOwner
from krmfn_catalog.allocation.results import AllocationError, AllocationResult
from krmfn_catalog.allocation.vlan import VLANAllocation, VLANClaimRequest, allocate_vlans
from krmfn_catalog.nephio_nad import OWNER_ANNOTATION, edit_plugin, owner_value

from .attachments import Attachment, Site, plan_attachments, read_site
from .claims import INDEX_FIELD, STATIC_FIELD, STATUS_FIELD, ClaimEntry, check_claims, read_claims
from .config import VlanAssignConfig
from .indexes import IndexBook, read_indexes
from .model import (
    CLAIM_KIND,
    INDEX_KIND,
    INTERFACE_GROUP,
    INTERFACE_KIND,
    VLAN_GROUP,
    WORKLOAD_CLUSTER_GROUP,
    WORKLOAD_CLUSTER_KIND,
    Kinds,
    Problem,
)

__all__ = ["package_owner", "vlan_assign"]

@function(name="vlan-assign", config=VlanAssignConfig, config_kind="VlanAssign")
def vlan_assign(rl: ResourceList, cfg: VlanAssignConfig) -> None:
    """Allocate VLAN IDs for claims and attachments, unique per index."""
    items = list(rl.items)
    kinds = Kinds(items)
    site = read_site(kinds.of(WORKLOAD_CLUSTER_GROUP, WORKLOAD_CLUSTER_KIND))
    book, problems = read_indexes(cfg.indexes, kinds.of(VLAN_GROUP, INDEX_KIND), site.cluster)
    claims = read_claims(kinds.of(VLAN_GROUP, CLAIM_KIND))
    interfaces = kinds.of(INTERFACE_GROUP, INTERFACE_KIND)
    attachments, found = plan_attachments(items, interfaces, site, claims)
    problems += found
    problems += check_claims(claims, book)
    owner = package_owner(items, site, cfg.owner)
    location = chosen(cfg.ledger)  # the config's, else KRMFN_LEDGER's
    if location and not (owner.cluster or owner.package):
        raise ConfigError([("owner", "is required with a ledger when the package has neither"
                                     " a Kptfile nor a WorkloadCluster to name it by")])
    keys = {id(entry): owner.key(entry.namespace, entry.name) for entry in claims}
    live = [entry for entry in claims if not entry.failed]
    # No ledger (or a run that will write nothing): the package is the only record.
    ledger = _open_ledger(location) if location and not problems else None
    result = _allocate(book, live, keys, ledger, owner)
    by_key = {keys[id(entry)]: entry for entry in live}
    for error in result.errors:
        entry = by_key[error.key]
        problems.append(Problem(_message(error.message, entry), entry.obj, _field(entry, error)))
    if problems:
        for problem in problems:
            rl.error(problem.message, problem.obj, field=problem.field)
        return
    vlan_ids = {id(entry): result.allocations[keys[id(entry)]].vlan_id for entry in claims}
    for record in result.released:
        if isinstance(record, VLANRecord):
            rl.info(f"ledger: released VLAN ID {record.vlan_id} in VLAN index {record.index!r}"
                    f" of VLANClaim {record.claim or record.key} (no longer in the package)")
    _write(rl, claims, attachments, vlan_ids)


def package_owner(items: list[KubeObject], site: Site, owner: str = "") -> PackageOwner:
    """Who this package's claims are filed under in a ledger: cluster and package.

    Both parts, so neither two packages of one cluster nor copies of one package on two
    clusters share an owner; re-rendering the same package finds its own records again.
    The `owner` option names the package instead (with no cluster beside it).
    """
    if owner:
        return PackageOwner("", owner)
    return PackageOwner(site.cluster or "", package_name(items))


def _open_ledger(location: str) -> Ledger:
    from krmfn_catalog.allocation.backends import open_ledger

    try:
        return open_ledger(location)
    except LedgerError as exc:
        raise FunctionError(str(exc)) from None


def _allocate(book: IndexBook, live: list[ClaimEntry], keys: dict[int, str],
              ledger: Ledger | None, owner: PackageOwner) -> AllocationResult[VLANAllocation]:
    requests = []
    indexes = {}
    for entry in live:
        assert isinstance(entry.index, str)  # checked by check_claims
        index = book.lookup(entry.index)
        assert index is not None
        indexes[entry.index] = index
        requests.append(VLANClaimRequest(
            key=keys[id(entry)], namespace=entry.namespace, name=entry.name,
            index=entry.index, static_id=entry.static_id, current_id=entry.current_id,
            cluster=owner.cluster, package=owner.package))
    try:
        return allocate_vlans(indexes, requests, ledger, owner=owner)
    except LedgerError as exc:
        raise FunctionError(str(exc)) from None


def _message(message: str, entry: ClaimEntry) -> str:
    """The allocator names the claim first; the result's resourceRef already does."""
    label = f"{entry.namespace}/{entry.name}: "
    message = message.removeprefix(label)
    return message.replace("claim /", "claim ")  # a claim without a namespace


def _field(entry: ClaimEntry, error: AllocationError) -> str:
    if entry.static_id is not None:
        return STATIC_FIELD
    if "no free VLAN ID" in error.message:
        return INDEX_FIELD
    return STATUS_FIELD


def _write(rl: ResourceList, claims: list[ClaimEntry], attachments: list[Attachment],
           vlan_ids: dict[int, int]) -> None:
    changes = 0
    for entry in claims:
        if not entry.new:  # new ones are appended with their attachment, below
            changes += _write_claim(rl, entry, vlan_ids[id(entry)])
    for attachment in attachments:
        changes += _write_attachment(rl, attachment, vlan_ids[id(attachment.claim)])
    if not changes:
        rl.info("every VLAN claim and attachment is up to date: nothing to change")


def _write_claim(rl: ResourceList, entry: ClaimEntry, vlan_id: int) -> int:
    changes = 0
    if entry.set_index:
        entry.obj.set(INDEX_FIELD, entry.index)
        was = f"moved from {entry.old_index!r}" if isinstance(entry.old_index, str) else "set"
        interface = entry.interface.name if entry.interface is not None else ""
        rl.info(f"VLAN index {was} to {entry.index!r}, the cluster of Interface"
                f" {interface!r}", entry.obj, field=INDEX_FIELD)
        changes += 1
    if entry.owner:
        entry.obj.set_annotation(OWNER_ANNOTATION, entry.owner)
        changes += 1
    if entry.new or entry.current != vlan_id:
        entry.obj.set(STATUS_FIELD, vlan_id)
        how = "assigned as asked" if entry.static_id is not None else "allocated"
        if entry.current_id is None:
            message = f"VLAN ID {vlan_id} {how} in VLAN index {entry.index!r}"
        else:
            message = (f"VLAN ID changed from {entry.current_id} to {vlan_id} in VLAN index"
                       f" {entry.index!r}")
        rl.info(message, entry.obj, field=STATUS_FIELD)
        changes += 1
    return changes


def _write_attachment(rl: ResourceList, attachment: Attachment, vlan_id: int) -> int:
    claim, nad, interface = attachment.claim, attachment.nad, attachment.interface
    changes = 0
    if claim.new:
        changes += _write_claim(rl, claim, vlan_id)
        rl.items.append(claim.obj)
    master = f"{attachment.master}.{vlan_id}"
    changed = _set_master(nad, master)
    if attachment.nad_adopt:
        nad.set_annotation(OWNER_ANNOTATION, owner_value(interface))
    if attachment.nad_new:
        rl.items.append(nad)
        rl.info(f"created for Interface {interface.name!r} with master {master!r}", nad)
    elif changed or attachment.nad_adopt:
        rl.info(f"master {master!r} for Interface {interface.name!r}", nad, field="spec.config")
    return changes + int(changed or attachment.nad_adopt or attachment.nad_new)


def _set_master(nad: KubeObject, master: str) -> bool:
    def edit(plugin: dict[str, object]) -> None:
        plugin["master"] = master

    return edit_plugin(nad, edit)
