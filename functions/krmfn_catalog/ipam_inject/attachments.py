"""NetworkAttachmentDefinitions carrying an Interface's allocation.

ipam-inject owns the plugin's `ipam` (static addresses and gateways, one per claim of the
Interface and so per address family, and routes to the rest of each network instance);
every other key of an existing NAD's JSON is kept as it is, so a
`master` of `eth1.100` written by vlan-assign survives. Naming, placement and the JSON
layout are shared with vlan-assign (`krmfn_catalog.nephio_nad`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from krmfn import KubeObject, ResourceList

from krmfn_catalog._claim import family_of_prefix
from krmfn_catalog.nephio_nad import (
    DEFAULT_MODES,
    OWNER_ANNOTATION,
    NadConfigError,
    Nads,
    Workloads,
    created_namespace,
    edit_plugin,
    find_nad,
    nad_name,
    new_nad,
    owner_value,
    read_config,
)

from .plan import Plan
from .requests import Requested
from .site import Pools, Site

__all__ = ["Attachment", "fill_attachments", "plan_attachments"]


@dataclass(frozen=True)
class Attachment:
    requested: Requested
    nad: KubeObject
    new: bool


def plan_attachments(rl: ResourceList, requested: Sequence[Requested],
                     workloads: Workloads) -> list[Attachment]:
    """Find or sketch the NAD of every Interface with a CNI; check existing ones can be
    edited (before anything is allocated)."""
    out: list[Attachment] = []
    if not any(request.cni_type for request in requested):
        return out
    nads = Nads(rl.items)
    for request in requested:
        if not request.cni_type:
            continue  # a loopback: no attachment
        interface = request.interface
        owner = owner_value(interface)
        nad = next(iter(nads.owned_by(owner)), None)
        namespace = created_namespace(interface, workloads)
        if nad is None:
            nad = find_nad(nads, nad_name(interface), namespace)
            other = nad.get_annotation(OWNER_ANNOTATION) if nad is not None else None
            if nad is not None and other and other != owner:
                rl.error(f"NetworkAttachmentDefinition {nad.name} already exists and belongs "
                         f"to {other}", interface)
                continue
        if nad is None:
            sketch = new_nad(interface, name=nad_name(interface), namespace=namespace,
                             cni_type=request.cni_type, items=workloads)
            out.append(Attachment(request, sketch, True))
            continue
        try:
            read_config(nad)
        except NadConfigError as exc:
            rl.error(f"{exc}: cannot add the address of Interface {interface.name}", nad,
                     field=exc.field)
            continue
        out.append(Attachment(request, nad, False))
    return out


def fill_attachments(rl: ResourceList, attachments: Sequence[Attachment],
                     answers: dict[str, tuple[str, str | None]], pools: Pools, site: Site,
                     plan: Plan) -> None:
    """Write each Interface's allocations into its NAD (now for new ones, later for others)."""
    destinations: dict[tuple[str, str], list[str]] = {}  # Interfaces of a subnet share them
    for attachment in attachments:
        request, nad = attachment.requested, attachment.nad
        addresses: list[dict[str, str]] = []
        routes: list[dict[str, str]] = []
        for claim in request.claims:
            prefix, gateway = answers[claim.key]
            addresses.append({"address": prefix, **({"gateway": gateway} if gateway else {})})
            routes += _routes(pools, claim.instance, prefix, gateway, destinations)
        edit = _ipam_edit(request.cni_type, site.master_interface, addresses, routes)
        where = ", ".join(f"{a['address']} via {a['gateway']}" if "gateway" in a
                          else a["address"] for a in addresses)
        if not site.master_interface and _lacks_master(nad):
            rl.warning("no master interface for the attachment: the package has no "
                       "WorkloadCluster with spec.masterInterface", request.interface)
        if attachment.new:
            edit_plugin(nad, edit)
            plan.create(nad, f"created NetworkAttachmentDefinition {nad.name} for Interface "
                             f"{request.interface.name} ({where})")
            continue
        changed = plan.set(nad, ["metadata", "annotations", OWNER_ANNOTATION],
                           owner_value(request.interface))
        if edit_plugin(nad.copy(), edit):
            plan.later(partial(edit_plugin, nad, edit))
            changed = True
        if changed:
            plan.note(f"updated NetworkAttachmentDefinition {nad.name} for Interface "
                      f"{request.interface.name} ({where})", nad)


def _ipam_edit(cni_type: str, master: str, addresses: list[dict[str, str]],
               routes: list[dict[str, str]]) -> Callable[[dict[str, Any]], None]:
    """The plugin's static IPAM: the Interface's addresses and routes replace those of the
    same families; entries of a family it has no claim for stay (a hand-written IPv6
    address survives an IPv4-only Interface). Sorted as nad-fn sorts them (by their
    text), so the JSON is the same whichever function wrote it."""
    families = {family_of_prefix(a["address"]) for a in addresses}

    def edit(plugin: dict[str, Any]) -> None:
        plugin.setdefault("type", cni_type)
        if master:
            plugin.setdefault("master", master)
        kind = plugin["type"]
        if isinstance(kind, str) and kind in DEFAULT_MODES:
            plugin.setdefault("mode", DEFAULT_MODES[kind])
        old = plugin.get("ipam")
        ipam: dict[str, Any] = {"type": "static"}
        ipam.update(old if isinstance(old, dict) else {})
        ipam["addresses"] = _merged(ipam.get("addresses"), addresses, "address", families)
        merged = _merged(ipam.get("routes"), routes, "dst", families)
        if merged:
            ipam["routes"] = merged
        else:
            ipam.pop("routes", None)
        plugin["ipam"] = ipam

    return edit


def _merged(old: object, ours: list[dict[str, str]], key: str,
            families: set[str | None]) -> list[Any]:
    """`ours`, plus the entries of `old` of other families, one per `key`, sorted by it."""
    kept = [entry for entry in (old if isinstance(old, list) else [])
            if isinstance(entry, dict) and isinstance(entry.get(key), str)
            and family_of_prefix(entry[key]) not in families]
    out: dict[str, Any] = {}
    for entry in [*ours, *kept]:
        out.setdefault(entry[key], entry)
    return [out[k] for k in sorted(out)]


def _routes(pools: Pools, instance: str, prefix: str, gateway: str | None,
            destinations: dict[tuple[str, str], list[str]]) -> list[dict[str, str]]:
    """The instance's other prefixes of the same family, reached through the gateway."""
    if not gateway:
        return []
    from krmfn_catalog.allocation.ipam import parse_network  # loaded by allocate()

    answer = parse_network(prefix)
    assert answer is not None, prefix  # the allocator wrote it
    local = answer.cidr
    found = destinations.get((instance, str(local)))
    if found is None:
        nets = set()
        for text, _ in pools.get(instance, []):
            net = parse_network(text)
            if net is not None and net.version == local.version and not (
                net.first >= local.first and net.last <= local.last
            ):
                nets.add(net.cidr)
        found = [str(net) for net in sorted(nets, key=lambda n: (n.value, n.length))]
        destinations[(instance, str(local))] = found
    return [{"dst": dst, "gw": gateway} for dst in found]


def _lacks_master(nad: KubeObject) -> bool:
    try:
        config = read_config(nad)
    except NadConfigError:
        return True
    plugins = config.get("plugins")
    plugin = plugins[0] if isinstance(plugins, list) and plugins else config
    return not (isinstance(plugin, dict) and plugin.get("master"))
