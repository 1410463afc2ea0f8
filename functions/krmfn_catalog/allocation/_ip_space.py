"""Address arithmetic behind `ipam`: strict parsing, pool selection, what is taken."""

from __future__ import annotations

import re
from collections.abc import Sequence

import netaddr  # type: ignore[import-untyped,unused-ignore]

from ._common import Holder, Rejected

PREFIX_KIND_LABEL = "nephio.org/prefix-kind"
NETWORK_NAME_LABEL = "nephio.org/network-name"

MAX_LENGTH = {4: 32, 6: 128}
DEFAULT_SUBNET = {4: 24, 6: 64}
LARGEST_SUBNET_LENGTH = {4: 30, 6: 126}  # still leaves a gateway and one host

_PREFIX_SYNTAX = re.compile(r"(?P<address>[0-9A-Fa-f:.]+)(?:/(?P<length>[0-9]{1,3}))?")

Pools = list[tuple[netaddr.IPNetwork, dict[str, str]]]


def parse_prefix(text: str, what: str) -> netaddr.IPNetwork:
    """Parse `address[/length]` strictly: netaddr alone takes blanks and netmask notation."""
    match = _PREFIX_SYNTAX.fullmatch(text) if isinstance(text, str) else None
    try:
        address = netaddr.IPAddress(match["address"]) if match else None
    except (netaddr.AddrFormatError, ValueError):
        address = None
    length = match["length"] if match else None
    if address is None or (length is not None and int(length) > MAX_LENGTH[address.version]):
        raise Rejected(f"{what} {text!r} is not an IP prefix", hard=True)
    return netaddr.IPNetwork(f"{address}/{length or MAX_LENGTH[address.version]}")


def parse_pools(name: str, prefixes: Sequence[tuple[str, dict[str, str]]]) -> Pools:
    """A network instance's prefixes; one bad prefix spoils the instance for every claim."""
    pools: Pools = []
    for text, labels in prefixes:
        try:
            net = parse_prefix(text, "prefix")
        except Rejected:
            net = None
        if net is None or net.ip != net.network or "/" not in text:
            raise Rejected(f"network instance {name!r} has a bad prefix {text!r}", hard=True)
        pools.append((net, dict(labels)))
    return pools


def select_pools(pools: Pools, kind: str, version: int, network: str | None) -> netaddr.IPSet:
    """The prefixes a claim may draw from, following Nephio's labels.

    Pools and loopbacks use prefixes labelled with their kind, or any prefix of the family
    when none is. Networks use prefixes labelled `network` or unlabelled, narrowed to those
    labelled with the network's name when there are any.
    """
    family = [(net, labels) for net, labels in pools if net.version == version]
    if kind != "network":
        chosen = [net for net, labels in family if labels.get(PREFIX_KIND_LABEL) == kind]
        return netaddr.IPSet(chosen or [net for net, _ in family])
    usable = [
        (net, labels)
        for net, labels in family
        if labels.get(PREFIX_KIND_LABEL, "network") == "network"
    ]
    named = [net for net, labels in usable if labels.get(NETWORK_NAME_LABEL) == network]
    if network is not None and named:
        return netaddr.IPSet(named)
    return netaddr.IPSet([net for net, _ in usable])


def host_prefix(address: netaddr.IPAddress) -> netaddr.IPNetwork:
    return netaddr.IPNetwork(f"{address}/{MAX_LENGTH[address.version]}")


def gateway_of(subnet: netaddr.IPNetwork) -> netaddr.IPAddress:
    return netaddr.IPAddress(subnet.first + 1, subnet.version)


def is_usable_host(address: netaddr.IPAddress, subnet: netaddr.IPNetwork) -> bool:
    """Not the network address, the gateway, nor (IPv4) the broadcast address."""
    last = subnet.last - (1 if subnet.version == 4 else 0)
    return bool(address in subnet and subnet.first + 2 <= int(address) <= last)


def _overlaps(a: netaddr.IPNetwork, b: netaddr.IPNetwork) -> bool:
    return bool(a.version == b.version and a.first <= b.last and b.first <= a.last)


class Space:
    """What is taken in one network instance: disjoint blocks, and hosts inside subnets."""

    def __init__(self) -> None:
        self.blocks: dict[netaddr.IPNetwork, Holder] = {}
        self.taken = netaddr.IPSet()
        self.subnets: dict[str, netaddr.IPNetwork] = {}
        self.hosts: dict[netaddr.IPAddress, Holder] = {}

    def holder_of(self, net: netaddr.IPNetwork) -> Holder | None:
        if self.taken.isdisjoint(netaddr.IPSet([net])):
            return None
        return next(holder for block, holder in self.blocks.items() if _overlaps(block, net))

    def reserve(self, net: netaddr.IPNetwork, holder: Holder) -> None:
        self.blocks[net] = holder
        self.taken.add(net)

    def lowest_free(self, candidates: netaddr.IPSet, length: int) -> netaddr.IPNetwork | None:
        # The free set's CIDRs are maximal aligned blocks in ascending order, so the
        # first one at least as large as asked starts the lowest free block.
        for cidr in (candidates - self.taken).iter_cidrs():
            if cidr.prefixlen <= length:
                return netaddr.IPNetwork(f"{cidr.network}/{length}")
        return None

    def lowest_free_host(self, subnet: netaddr.IPNetwork) -> netaddr.IPAddress | None:
        last = subnet.last - (1 if subnet.version == 4 else 0)
        value = subnet.first + 2
        while value <= last and netaddr.IPAddress(value, subnet.version) in self.hosts:
            value += 1
        return netaddr.IPAddress(value, subnet.version) if value <= last else None
