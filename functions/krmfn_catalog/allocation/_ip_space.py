"""Address arithmetic behind `ipam`: strict parsing, pool selection, what is taken."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from ._common import Holder, Rejected
from ._prefix import MAX_LENGTH, PoolSet, Prefix, parse_address
from .ledger import LedgerSession, ip_extent

PREFIX_KIND_LABEL = "nephio.org/prefix-kind"
NETWORK_NAME_LABEL = "nephio.org/network-name"

DEFAULT_SUBNET = {4: 24, 6: 64}
LARGEST_SUBNET_LENGTH = {4: 30, 6: 126}  # still leaves a gateway and one host

_PREFIX_SYNTAX = re.compile(r"(?P<address>[0-9A-Fa-f:.]+)(?:/(?P<length>[0-9]{1,3}))?")

Pools = list[tuple[Prefix, dict[str, str]]]


def parse_prefix(text: str, what: str) -> Prefix:
    """Parse `address[/length]` strictly: no blanks, no netmask notation."""
    match = _PREFIX_SYNTAX.fullmatch(text) if isinstance(text, str) else None
    address = parse_address(match["address"]) if match else None
    length = match["length"] if match else None
    if address is None or (length is not None and int(length) > MAX_LENGTH[address[0]]):
        raise Rejected(f"{what} {text!r} is not an IP prefix", hard=True)
    version, value = address
    return Prefix(version, value, MAX_LENGTH[version] if length is None else int(length))


def parse_pools(name: str, prefixes: Sequence[tuple[str, dict[str, str]]]) -> Pools:
    """A network instance's prefixes; one bad prefix spoils the instance for every claim."""
    pools: Pools = []
    for text, labels in prefixes:
        try:
            net = parse_prefix(text, "prefix")
        except Rejected:
            net = None
        if net is None or net.has_host_bits or "/" not in text:
            raise Rejected(f"network instance {name!r} has a bad prefix {text!r}", hard=True)
        pools.append((net, dict(labels)))
    return pools


def select_pools(pools: Pools, kind: str, version: int, network: str | None) -> PoolSet:
    """The prefixes a claim may draw from, following Nephio's labels.

    Pools and loopbacks use prefixes labelled with their kind, or any prefix of the family
    when none is. Networks use prefixes labelled `network` or unlabelled, narrowed to those
    labelled with the network's name when there are any.
    """
    family = [(net, labels) for net, labels in pools if net.version == version]
    if kind != "network":
        chosen = [net for net, labels in family if labels.get(PREFIX_KIND_LABEL) == kind]
        return PoolSet(version, chosen or [net for net, _ in family])
    usable = [
        (net, labels)
        for net, labels in family
        if labels.get(PREFIX_KIND_LABEL, "network") == "network"
    ]
    named = [net for net, labels in usable if labels.get(NETWORK_NAME_LABEL) == network]
    if network is not None and named:
        return PoolSet(version, named)
    return PoolSet(version, [net for net, _ in usable])


def gateway_of(subnet: Prefix) -> str:
    return Prefix(subnet.version, subnet.first + 1, subnet.length).address


def is_usable_host(net: Prefix, subnet: Prefix) -> bool:
    """The address of `net` is in `subnet` and not its network address, its gateway, nor
    (IPv4) its broadcast address."""
    last = subnet.last - (1 if subnet.version == 4 else 0)
    return net.version == subnet.version and subnet.first + 2 <= net.value <= last


HostKey = tuple[int, int]  # (IP version, address as an integer)


def host_key(net: Prefix) -> HostKey:
    """The address of `address/len`, as the key of `Space.hosts`."""
    return (net.version, net.value)


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
        self.subnets: dict[str, Prefix] = {}
        self.hosts: dict[HostKey, Holder] = {}  # addresses this run handed out
        # Nothing is freed during a run, so a lowest-free search for the same range and size
        # (or the same subnet's hosts) resumes where the previous one stopped instead of
        # stepping over every answer.
        self._cursor: dict[tuple[int, int, int], int] = {}
        self._host_cursor: dict[tuple[int, int, int], int] = {}

    def holder_of(self, net: Prefix, *, blocks_only: bool = False) -> Holder | None:
        """Who takes part of `net`: this run first, then the ledger's blocks, then addresses.

        `blocks_only` leaves out the ledger's addresses, for a shared subnet whose other
        members' addresses are inside it by right.
        """
        first, last = net.first, net.last
        found = self._clash(net.version, first, last)
        if found is not None:
            return self._blocks[found][2]
        ask = (self._instance, net.version, first, last)
        records = self._session.ip_blocks(*ask, limit=1)
        if not records and not blocks_only:
            records = self._session.ip_hosts(*ask, limit=1)
        return Holder(f"owner {records[0].key}", in_package=False) if records else None

    def host_holder(self, net: Prefix) -> Holder | None:
        """Who holds the address of `address/len` in a subnet."""
        holder = self.hosts.get(host_key(net))
        if holder is not None:
            return holder
        address = net.value
        records = self._session.ip_hosts(self._instance, net.version, address, address, 1)
        return Holder(f"owner {records[0].key}", in_package=False) if records else None

    def reserve(self, net: Prefix, holder: Holder) -> None:
        """Take a block the caller found free."""
        first = net.first
        at = bisect.bisect_left(self._starts, (net.version, first))
        self._starts.insert(at, (net.version, first))
        self._blocks.insert(at, (first, net.last, holder))

    def lowest_free(self, candidates: PoolSet, length: int) -> Prefix | None:
        for cidr in candidates.cidrs:
            if cidr.length > length:
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
                    return Prefix(cidr.version, start, length)
                start = self._blocks[found][1] + 1  # past this run's block; realigned above
        return None

    def lowest_free_host(self, subnet: Prefix) -> Prefix | None:
        """The lowest address of `subnet` a claim may take, as `address/length`."""
        version, last = subnet.version, subnet.last - (1 if subnet.version == 4 else 0)
        cursor = (version, subnet.first, subnet.length)
        value = max(subnet.first + 2, self._host_cursor.get(cursor, 0))
        taken = set()
        for record in self._session.ip_hosts(self._instance, version, value, last):
            extent = ip_extent(record)
            if extent is not None:
                taken.add(extent[1])
        while value <= last and (value in taken or (version, value) in self.hosts):
            value += 1
        if value > last:
            return None
        self._host_cursor[cursor] = value
        return Prefix(version, value, subnet.length)

    def _clash(self, version: int, first: int, last: int) -> int | None:
        # Blocks are disjoint, so only the last one starting at or before `last` can reach us.
        at = bisect.bisect_right(self._starts, (version, last)) - 1
        if at >= 0 and self._starts[at][0] == version and self._blocks[at][1] >= first:
            return at
        return None
