"""The Nephio networking objects of a package, read once and linked to their Interface.

The network checks ask the same questions many times (which claims does interface n3 own?
what does this NAD's JSON say?), so the package is indexed here and parsed lazily: the
JSON reader (`nephio_nad`, shared with the mutators) is imported only when there is a NAD,
`netaddr` only when there is an address to read.

Links follow Nephio's conventions: a claim or NAD belongs to Interface `n3` when it carries
`specializer.nephio.org/owner: req.nephio.org/v1alpha1.Interface.n3`; failing that, by name
(IPClaim `n3-ipv4`/`n3-ipv6`, VLANClaim `n3`, NAD `n3` or `<workload>-n3`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import netaddr  # type: ignore[import-untyped,unused-ignore]
    from krmfn import KubeObject

__all__ = [
    "Address",
    "NadConfig",
    "NephioObjects",
    "parse_address",
]

OWNER = "specializer.nephio.org/owner"
INTERFACE_OWNER = "req.nephio.org/v1alpha1.Interface."
IPAM, VLAN, REQ = "ipam.resource.nephio.org", "vlan.resource.nephio.org", "req.nephio.org"
INFRA, CNI = "infra.nephio.org", "k8s.cni.cncf.io"
_MAX_LENGTH = {4: 32, 6: 128}
_ADDRESS_SYNTAX = re.compile(r"(?P<ip>[0-9A-Fa-f:.]+)(?:/(?P<length>[0-9]{1,3}))?")
_CLAIM_SUFFIX = re.compile(r"-ipv[46]\Z")


@dataclass(frozen=True)
class Address:
    """`172.2.0.2/24`: an address and the length of its prefix (kept apart, since netaddr
    counts `172.2.0.2/24` and `172.2.0.3/24` as one network)."""

    ip: netaddr.IPAddress
    length: int

    @property
    def version(self) -> int:
        return int(self.ip.version)

    def network(self) -> netaddr.IPNetwork:
        import netaddr

        return netaddr.IPNetwork(f"{self.ip}/{self.length}")

    def __str__(self) -> str:
        return f"{self.ip}/{self.length}"


def parse_address(text: object) -> Address | None:
    """`address[/length]` read strictly (netaddr alone accepts blanks and netmasks)."""
    match = _ADDRESS_SYNTAX.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    import netaddr

    try:
        ip = netaddr.IPAddress(match["ip"])
    except (netaddr.AddrFormatError, ValueError):
        return None
    longest = _MAX_LENGTH[ip.version]
    length = int(match["length"]) if match["length"] is not None else longest
    return Address(ip, length) if length <= longest else None


@dataclass(frozen=True)
class NadConfig:
    """What the checks read from a NAD's `spec.config`; `problem` when it cannot be read."""

    problem: str = ""
    plugin: dict[str, Any] = field(default_factory=dict)

    @property
    def master(self) -> str | None:
        master = self.plugin.get("master")
        return master if isinstance(master, str) else None

    @property
    def vlan(self) -> object:
        """The plugin's own `vlan` field (SR-IOV), None when it has none."""
        return self.plugin.get("vlan")

    @property
    def static_addresses(self) -> list[dict[str, Any]] | None:
        """`ipam.addresses` of a static IPAM block; None for other IPAM types."""
        ipam = self.plugin.get("ipam")
        if not isinstance(ipam, dict) or ipam.get("type") != "static":
            return None
        addresses = ipam.get("addresses")
        if not isinstance(addresses, list):
            return []
        return [a for a in addresses if isinstance(a, dict)]


def read_nad_config(nad: KubeObject) -> NadConfig:
    """The plugin ipam-inject and vlan-assign edit (`nephio_nad` decides which it is), so
    the validator and the mutators agree on what a readable config is."""
    from krmfn_catalog.nephio_nad import NadConfigError, plugin_of, read_config

    try:
        return NadConfig(plugin=plugin_of(read_config(nad)))
    except NadConfigError as exc:
        return NadConfig(str(exc))


class NephioObjects:
    """The package's claims, NADs, interfaces and networks, with the links between them."""

    def __init__(self, items: Iterable[KubeObject]) -> None:
        self.ip_claims: list[KubeObject] = []
        self.vlan_claims: list[KubeObject] = []
        self.nads: list[KubeObject] = []
        self.interfaces: list[KubeObject] = []
        self.networks: list[KubeObject] = []
        self.network_instances: list[KubeObject] = []
        self.workload_clusters: list[KubeObject] = []
        buckets = {
            (IPAM, "IPClaim"): self.ip_claims,
            (VLAN, "VLANClaim"): self.vlan_claims,
            (CNI, "NetworkAttachmentDefinition"): self.nads,
            (REQ, "Interface"): self.interfaces,
            (INFRA, "Network"): self.networks,
            (IPAM, "NetworkInstance"): self.network_instances,
            (INFRA, "WorkloadCluster"): self.workload_clusters,
        }
        kinds = {kind for _, kind in buckets}
        for obj in items:
            kind = obj.kind
            if kind in kinds:  # the group only for the few kinds that can be Nephio's
                bucket = buckets.get((obj.group, kind))
                if bucket is not None:
                    bucket.append(obj)

    def __bool__(self) -> bool:
        return any((self.ip_claims, self.vlan_claims, self.nads, self.interfaces,
                    self.workload_clusters))

    # ------------------------------------------------------------ parsed fields
    @cached_property
    def nad_configs(self) -> dict[int, NadConfig]:
        return {id(nad): read_nad_config(nad) for nad in self.nads}

    def status_address(self, claim: KubeObject) -> Address | None:
        return parse_address(claim.get("status.prefix"))

    @cached_property
    def instance_prefixes(self) -> dict[str, list[tuple[Address, KubeObject, str]]]:
        """Prefixes by network instance name, with where each was written.

        A Network's routing table counts under its own name and under the Network's."""
        out: dict[str, list[tuple[Address, KubeObject, str]]] = {}
        for obj, name, path, text in self._prefix_entries():
            address = parse_address(text)
            if address is not None:
                out.setdefault(name, []).append((address, obj, path))
        return out

    def bad_prefixes(self) -> list[tuple[KubeObject, str, object]]:
        """Pool prefixes that are not IP prefixes: (object, field path, value)."""
        seen: set[tuple[int, str]] = set()
        out = []
        for obj, _, path, text in self._prefix_entries():
            if (id(obj), path) not in seen and parse_address(text) is None:
                seen.add((id(obj), path))
                out.append((obj, path, text))
        return out

    def _prefix_entries(self) -> list[tuple[KubeObject, str, str, object]]:
        entries: list[tuple[KubeObject, str, str, object]] = []
        for net in self.networks:
            for t, table in enumerate(_maps(net.get("spec.routingTables"))):
                names = {net.name, str(table.get("name") or net.name)}
                for p, prefix in enumerate(_maps(table.get("prefixes"))):
                    path = f"spec.routingTables[{t}].prefixes[{p}].prefix"
                    value = prefix.get("prefix")
                    entries.extend((net, name, path, value) for name in sorted(names))
        for inst in self.network_instances:
            for p, prefix in enumerate(_maps(inst.get("spec.prefixes"))):
                path = f"spec.prefixes[{p}].prefix"
                entries.append((inst, inst.name, path, prefix.get("prefix")))
        return entries

    # ------------------------------------------------------------ links
    @cached_property
    def interface_names(self) -> set[str]:
        """Interfaces known from Interface objects, from owner annotations and claim names."""
        names = {i.name for i in self.interfaces}
        for claim in (*self.ip_claims, *self.vlan_claims):
            owner = interface_owner(claim)
            if owner:
                names.add(owner)
        names.update(_CLAIM_SUFFIX.sub("", c.name) for c in self.ip_claims
                     if _CLAIM_SUFFIX.search(c.name) and not claim_owner(c))
        return names

    def ip_claims_of(self, interface: str) -> list[KubeObject]:
        return [c for c in self.ip_claims if _belongs(c, interface, (f"{interface}-ipv4",
                                                                     f"{interface}-ipv6"))]

    def vlan_claims_of(self, interface: str) -> list[KubeObject]:
        return [c for c in self.vlan_claims if _belongs(c, interface, (interface,))]

    def interface_of_nad(self, nad: KubeObject) -> str | None:
        """The owner annotation's interface, else one named like the NAD or its suffix."""
        owner = claim_owner(nad)
        if owner is not None:
            return interface_owner(nad)
        if nad.name in self.interface_names:
            return nad.name
        suffixes = [i for i in self.interface_names if nad.name.endswith(f"-{i}")]
        return max(suffixes, key=len) if suffixes else None

    def nads_of(self, interface: str) -> list[KubeObject]:
        return [n for n in self.nads if self.interface_of_nad(n) == interface]


def claim_owner(obj: KubeObject) -> str | None:
    return obj.get_annotation(OWNER)


def interface_owner(obj: KubeObject) -> str | None:
    """`n3` for an object owned by `req.nephio.org/v1alpha1.Interface.n3`."""
    owner = claim_owner(obj)
    if owner and owner.startswith(INTERFACE_OWNER):
        return owner[len(INTERFACE_OWNER):] or None
    return None


def _belongs(obj: KubeObject, interface: str, names: tuple[str, ...]) -> bool:
    owner = claim_owner(obj)
    if owner is not None:
        return interface_owner(obj) == interface
    return obj.name in names


def _maps(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
