"""Built-in integrity checks for Nephio networking: what allocation and injection must
have got right before a package is applied to a site.

Each check is a named generator of findings over `NephioObjects`; the function decides
their severity (or skips the check) from the config. A check never changes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .nephio_objects import INTERFACE_OWNER, Address, NephioObjects, parse_address

if TYPE_CHECKING:
    from krmfn import KubeObject

__all__ = ["CHECKS", "Finding"]

INJECTION = "kpt.dev/config-injection"
INJECTED = ("kpt.dev/injected-resource", "kpt.dev/injected-resource-name")
DEFAULT_INSTANCE = "default"
MAX_VLAN = 4095


@dataclass(frozen=True)
class Finding:
    """One problem found by a check, on one resource and field."""

    check: str
    obj: KubeObject
    field: str
    message: str


Check = Callable[[NephioObjects], Iterator[Finding]]


def _label(obj: KubeObject) -> str:
    return f"{obj.kind} {obj.name}"


def _show(value: object) -> str:
    """A value as YAML would show it (`true`, not `True`)."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def duplicate_address(index: NephioObjects) -> Iterator[Finding]:
    """Two IPClaims of one network instance must not carry one address."""
    holders: dict[tuple[str, str], KubeObject] = {}
    for claim in index.ip_claims:
        address = index.status_address(claim)
        if address is None:
            continue
        instance = str(claim.get("spec.networkInstance.name") or "")
        key = (instance, str(address.ip))
        first = holders.setdefault(key, claim)
        if first is not claim:
            yield Finding("duplicate-address", claim, "status.prefix",
                          f"address {address.ip} is also held by {_label(first)} "
                          f"in network instance {instance or '(none)'}")


def address_outside_network(index: NephioObjects) -> Iterator[Finding]:
    """An allocated address lies inside one of its network instance's prefixes."""
    for obj, path, value in index.bad_prefixes():
        yield Finding("address-outside-network", obj, path,
                      f"prefix {value!r} is not an IP prefix")
    for claim in index.ip_claims:
        text = claim.get("status.prefix")
        if text in (None, ""):
            continue
        address = parse_address(text)
        if address is None:
            yield Finding("address-outside-network", claim, "status.prefix",
                          f"status.prefix {text!r} is not an IP address or prefix")
            continue
        instance = str(claim.get("spec.networkInstance.name") or "")
        pools = index.instance_prefixes.get(instance)
        if not pools:
            continue  # the network instance is not in this package: nothing to compare with
        if not any(_inside(address, pool) for pool, _, _ in pools):
            listed = ", ".join(sorted({str(pool.network()) for pool, _, _ in pools}))
            yield Finding("address-outside-network", claim, "status.prefix",
                          f"address {address.ip} is outside network instance {instance} "
                          f"({listed})")


def _inside(address: Address, pool: Address) -> bool:
    return address.version == pool.version and address.ip in pool.network()


def duplicate_vlan(index: NephioObjects) -> Iterator[Finding]:
    """Two VLANClaims of one VLAN index must not carry one VLAN ID."""
    holders: dict[tuple[str, int], KubeObject] = {}
    for claim in index.vlan_claims:
        value = claim.get("status.vlanID")
        if value is None:
            continue
        if type(value) is not int or not 0 <= value <= MAX_VLAN:
            yield Finding("duplicate-vlan", claim, "status.vlanID",
                          f"status.vlanID {_show(value)} is not a VLAN ID (0-{MAX_VLAN})")
            continue
        vlan_index = str(claim.get("spec.vlanIndex.name") or "")
        first = holders.setdefault((vlan_index, value), claim)
        if first is not claim:
            yield Finding("duplicate-vlan", claim, "status.vlanID",
                          f"VLAN {value} is also held by {_label(first)} "
                          f"in VLAN index {vlan_index or '(none)'}")


def invalid_nad_config(index: NephioObjects) -> Iterator[Finding]:
    """A NAD's `spec.config` is the CNI configuration: it must be a JSON object."""
    for nad in index.nads:
        problem = index.nad_configs[id(nad)].problem
        if problem:
            yield Finding("invalid-nad-config", nad, "spec.config", problem)


def nad_address_mismatch(index: NephioObjects) -> Iterator[Finding]:
    """A NAD's static address (and gateway) is the one its interface's IPClaim holds."""
    for nad in index.nads:
        config = index.nad_configs[id(nad)]
        addresses = config.static_addresses
        interface = index.interface_of_nad(nad)
        if config.problem or addresses is None or interface is None:
            continue
        for claim in index.ip_claims_of(interface):
            want = index.status_address(claim)
            if want is None:
                continue
            problem = _address_problem(addresses, want, claim)
            if problem:
                yield Finding("nad-address-mismatch", nad, "spec.config", problem)


def _address_problem(addresses: list[dict[str, object]], want: Address,
                     claim: KubeObject) -> str | None:
    same_family = [(i, a) for i, a in enumerate(addresses)
                   if (parsed := parse_address(a.get("address"))) is not None
                   and parsed.version == want.version]
    if not same_family:
        return (f"plugins[0].ipam.addresses has no IPv{want.version} address, "
                f"{_label(claim)} holds {want}")
    i, entry = same_family[0]
    where = f"plugins[0].ipam.addresses[{i}]"
    got = parse_address(entry.get("address"))
    if got != want:
        return f"{where}.address is {entry.get('address')}, {_label(claim)} holds {want}"
    gateway = claim.get("status.gateway")
    if gateway and entry.get("gateway") and parse_address(entry["gateway"]) != parse_address(
            gateway):
        return f"{where}.gateway is {entry['gateway']}, {_label(claim)} has gateway {gateway}"
    return None


def nad_vlan_mismatch(index: NephioObjects) -> Iterator[Finding]:
    """A NAD's VLAN (the master's `.<id>` suffix, or SR-IOV's `vlan`) is its VLANClaim's."""
    for nad in index.nads:
        config = index.nad_configs[id(nad)]
        interface = index.interface_of_nad(nad)
        if config.problem or interface is None:
            continue
        for claim in index.vlan_claims_of(interface):
            want = claim.get("status.vlanID")
            if type(want) is not int:
                continue
            if config.vlan is not None:
                if config.vlan != want:
                    yield Finding("nad-vlan-mismatch", nad, "spec.config",
                                  f"plugins[0].vlan is {_show(config.vlan)}, "
                                  f"{_label(claim)} holds VLAN {want}")
                continue
            master = config.master
            if master is None:
                continue
            base, dot, suffix = master.rpartition(".")
            if not dot or not suffix.isdigit():
                yield Finding("nad-vlan-mismatch", nad, "spec.config",
                              f"plugins[0].master {master!r} carries no VLAN, "
                              f"{_label(claim)} holds VLAN {want}")
            elif int(suffix) != want:
                yield Finding("nad-vlan-mismatch", nad, "spec.config",
                              f"plugins[0].master {master!r} is on VLAN {suffix}, "
                              f"{_label(claim)} holds VLAN {want} (expected {base}.{want})")


def missing_nad(index: NephioObjects) -> Iterator[Finding]:
    """Once an interface's addresses are allocated, its attachment must exist.

    Interfaces on the `default` network instance use the pod network, and interfaces
    without a `cniType` are loopbacks: neither has a NAD."""
    for interface in index.interfaces:
        instance = interface.get("spec.networkInstance.name")
        if instance in (None, "", DEFAULT_INSTANCE) or not interface.get("spec.cniType"):
            continue
        allocated = [c for c in index.ip_claims_of(interface.name)
                     if index.status_address(c) is not None]
        if not allocated or index.nads_of(interface.name):
            continue
        claim = allocated[0]
        yield Finding("missing-nad", interface, "metadata.name",
                      f"{_label(claim)} is allocated ({claim.get('status.prefix')}) but there "
                      f"is no NetworkAttachmentDefinition for interface {interface.name} "
                      f"(named {interface.name} or <workload>-{interface.name}, or owned by "
                      f"{INTERFACE_OWNER}{interface.name})")


def missing_injection(index: NephioObjects) -> Iterator[Finding]:
    """A WorkloadCluster marked for injection must have been injected: until then the
    package is a blueprint, not a package for a site."""
    for cluster in index.workload_clusters:
        if (cluster.get_annotation(INJECTION) or "").lower() != "required":
            continue
        if any(cluster.get_annotation(key) for key in INJECTED):
            continue
        yield Finding("missing-injection", cluster, f'metadata.annotations["{INJECTION}"]',
                      f"{_label(cluster)} requires config injection ({INJECTION}: required) "
                      f"but has not been injected (no {INJECTED[0]} annotation)")


CHECKS: dict[str, tuple[Check, str]] = {
    "duplicate-address": (duplicate_address,
                          "two IPClaims of one network instance hold the same address"),
    "address-outside-network": (address_outside_network,
                                "an IPClaim's address is outside its network instance's "
                                "prefixes (or is not an address)"),
    "duplicate-vlan": (duplicate_vlan, "two VLANClaims of one VLAN index hold the same ID"),
    "invalid-nad-config": (invalid_nad_config,
                           "a NAD's spec.config is missing or not a JSON object"),
    "nad-address-mismatch": (nad_address_mismatch,
                             "a NAD's static address or gateway differs from its IPClaim"),
    "nad-vlan-mismatch": (nad_vlan_mismatch,
                          "a NAD's master VLAN suffix differs from its VLANClaim"),
    "missing-nad": (missing_nad, "an Interface's claims are allocated but it has no NAD"),
    "missing-injection": (missing_injection,
                          "a WorkloadCluster requires config injection and has none"),
}
"""Check name -> (check, what it finds), in the order checks run and are documented."""
