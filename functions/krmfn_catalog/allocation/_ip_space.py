"""Address arithmetic behind `ipam`: strict parsing, pool selection, what is taken."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

import netaddr  # type: ignore[import-untyped,unused-ignore]

from ._common import Holder, Rejected
from .ledger import LedgerSession, ip_extent

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


HostKey = tuple[int, int]  # (IP version, address as an integer)


def host_key(net: netaddr.IPNetwork) -> HostKey:
    """The address of `address/len`, as the key of `Space.hosts`."""
    return (net.version, int(net.ip))


class Space:
    """What is taken in one network instance: the ledger's records, and this run's own.

    The ledger is asked only about the blocks and addresses a claim considers, so a run
    costs the same however many sites the ledger holds. What this run reserves stays here
    (few blocks, kept sorted for bisection) until the run is recorded as a whole.
    """

    def __init__(self, session: LedgerSession, instance: str) -> None:
        self._session = session
        self._instance = instance
        self._starts: list[tuple[int, int]] = []  # (version, first), ascending
        self._blocks: list[tuple[int, int, Holder]] = []  # (first, last, holder), same order
        self.subnets: dict[str, netaddr.IPNetwork] = {}
        self.hosts: dict[HostKey, Holder] = {}  # addresses this run handed out
        # Nothing is freed during a run, so a lowest-free search for the same range and size
        # resumes where the previous one stopped instead of stepping over every answer.
        self._cursor: dict[tuple[int, int, int], int] = {}

    def holder_of(self, net: netaddr.IPNetwork, *, blocks_only: bool = False) -> Holder | None:
        """Who takes part of `net`: this run first, then the ledger's blocks, then addresses.

        `blocks_only` leaves out the ledger's addresses, for a shared subnet whose other
        members' addresses are inside it by right.
        """
        found = self._clash(net.version, net.first, net.last)
        if found is not None:
            return self._blocks[found][2]
        ask = (self._instance, net.version, net.first, net.last)
        records = self._session.ip_blocks(*ask, limit=1)
        if not records and not blocks_only:
            records = self._session.ip_hosts(*ask, limit=1)
        return Holder(f"owner {records[0].key}", in_package=False) if records else None

    def host_holder(self, net: netaddr.IPNetwork) -> Holder | None:
        """Who holds the address of `address/len` in a subnet."""
        holder = self.hosts.get(host_key(net))
        if holder is not None:
            return holder
        address = int(net.ip)
        records = self._session.ip_hosts(self._instance, net.version, address, address, 1)
        return Holder(f"owner {records[0].key}", in_package=False) if records else None

    def reserve(self, net: netaddr.IPNetwork, holder: Holder) -> None:
        """Take a block the caller found free."""
        at = bisect.bisect_left(self._starts, (net.version, net.first))
        self._starts.insert(at, (net.version, net.first))
        self._blocks.insert(at, (net.first, net.last, holder))

    def lowest_free(self, candidates: netaddr.IPSet, length: int) -> netaddr.IPNetwork | None:
        for cidr in candidates.iter_cidrs():
            if cidr.prefixlen > length:
                continue
            size = 1 << (MAX_LENGTH[cidr.version] - length)
            cursor = (cidr.version, cidr.first, length)
            start: int | None = max(cidr.first, self._cursor.get(cursor, cidr.first))
            while start is not None:
                ask = (self._instance, cidr.version, start, cidr.last, size)
                start = self._session.ip_lowest_free(*ask)
                if start is None:
                    break
                found = self._clash(cidr.version, start, start + size - 1)
                if found is None:
                    self._cursor[cursor] = start
                    return netaddr.IPNetwork((start, length), version=cidr.version)
                start = self._blocks[found][1] + 1  # past this run's block; realigned above
        return None

    def lowest_free_host(self, subnet: netaddr.IPNetwork) -> netaddr.IPAddress | None:
        first, last = subnet.first + 2, subnet.last - (1 if subnet.version == 4 else 0)
        taken = {value for version, value in self.hosts if version == subnet.version}
        for record in self._session.ip_hosts(self._instance, subnet.version, first, last):
            extent = ip_extent(record)
            if extent is not None:
                taken.add(extent[1])
        value = first
        while value <= last and value in taken:
            value += 1
        return netaddr.IPAddress(value, subnet.version) if value <= last else None

    def _clash(self, version: int, first: int, last: int) -> int | None:
        # Blocks are disjoint, so only the last one starting at or before `last` can reach us.
        at = bisect.bisect_right(self._starts, (version, last)) - 1
        if at >= 0 and self._starts[at][0] == version and self._blocks[at][1] >= first:
            return at
        return None
