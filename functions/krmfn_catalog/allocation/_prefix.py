"""IP prefixes as plain integers, read and written with the standard library.

The allocator only needs integer arithmetic on `(version, address, length)`; netaddr cost
more to import (~20 ms: it loads importlib.resources, tempfile, socket...) than the whole
allocation of a thousand-resource package. Text goes through `ipaddress`, which reads
addresses exactly as netaddr's default (inet_pton) did; text is written as glibc's
`inet_ntop` writes it, as netaddr did (IPv4-compatible and -mapped IPv6 addresses keep
their dotted tail, e.g. `::ffff:10.0.0.1`), so answers and messages are unchanged.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["MAX_LENGTH", "PoolSet", "Prefix", "format_address", "parse_address", "parse_network"]

MAX_LENGTH = {4: 32, 6: 128}


class Prefix(NamedTuple):
    """`address/length`; the address may have host bits set (`10.0.0.5/24`), and counts
    when two prefixes are compared (they are tuples): compare `.cidr`s for networks."""

    version: int
    value: int
    length: int

    @property
    def first(self) -> int:
        shift = MAX_LENGTH[self.version] - self.length
        return self.value >> shift << shift

    @property
    def last(self) -> int:
        return self.first | ((1 << (MAX_LENGTH[self.version] - self.length)) - 1)

    @property
    def cidr(self) -> Prefix:
        """The network the address is in (host bits cleared)."""
        return Prefix(self.version, self.first, self.length)

    @property
    def has_host_bits(self) -> bool:
        return self.value != self.first

    @property
    def address(self) -> str:
        return format_address(self.version, self.value)

    def __str__(self) -> str:
        return f"{format_address(self.version, self.value)}/{self.length}"


def parse_address(text: str) -> tuple[int, int] | None:
    """`(version, value)` of a bare address in inet_pton's syntax, or None.

    `ipaddress` reads the same strings as inet_pton (four decimal octets without leading
    zeros; IPv6 with an optional dotted tail), except for IPv6 zone ids, refused here.
    """
    if "%" in text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


def format_address(version: int, value: int) -> str:
    """The address as netaddr wrote it (glibc's inet_ntop)."""
    if version == 4:
        return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"
    high = value >> 32
    if (high == 0 and value >> 16) or high == 0xFFFF:  # ::a.b.c.d and ::ffff:a.b.c.d
        return ("::ffff:" if high else "::") + format_address(4, value & 0xFFFFFFFF)
    return str(ipaddress.IPv6Address(value))


def parse_network(text: object) -> Prefix | None:
    """Read `text` as netaddr's lenient `IPNetwork(text)` did, or None.

    For what we wrote ourselves (ledger records) or checked before (pools): a missing
    length is the whole address, a length may be a netmask or hostmask, and it is read by
    `int()` (so ` 24` or `+24` pass, as they did).
    """
    if not isinstance(text, str):
        return None
    head, slash, tail = text.partition("/")
    found = parse_address(head)
    if found is None:
        return None
    version, value = found
    width = MAX_LENGTH[version]
    if not slash:
        return Prefix(version, value, width)
    length: int | None
    try:
        length = int(tail)
    except ValueError:
        mask = parse_address(tail)
        length = _mask_length(mask[1], width) if mask and mask[0] == version else None
    if length is None or not 0 <= length <= width:
        return None
    return Prefix(version, value, length)


def _mask_length(mask: int, width: int) -> int | None:
    """The length a netmask (`255.255.255.0`) or else a hostmask (`0.0.0.255`) stands for."""
    inverse = mask ^ ((1 << width) - 1)
    if (inverse + 1) & inverse == 0:
        return width - inverse.bit_length()
    if (mask + 1) & mask == 0:
        return width - mask.bit_length()
    return None


class PoolSet:
    """The addresses of some networks of one family, as the fewest largest prefixes.

    Overlapping or adjacent networks merge, so a claim may take a block that spans two
    listed prefixes (`10.0.0.0/25` and `10.0.0.128/25` hold a /24), as with netaddr's IPSet.
    """

    def __init__(self, version: int, networks: Iterable[Prefix]) -> None:
        self.version = version
        spans: list[list[int]] = []
        for first, last in sorted((net.first, net.last) for net in networks):
            if spans and first <= spans[-1][1] + 1:
                spans[-1][1] = max(spans[-1][1], last)
            else:
                spans.append([first, last])
        self._starts = [first for first, _ in spans]
        self._ends = [last for _, last in spans]
        self.cidrs = [cidr for first, last in spans for cidr in _split(version, first, last)]

    def __bool__(self) -> bool:
        return bool(self.cidrs)

    def __contains__(self, net: Prefix) -> bool:
        """Whether every address of `net` is in the set."""
        if net.version != self.version:
            return False
        first = net.first
        at = bisect.bisect_right(self._starts, first) - 1
        return at >= 0 and net.last <= self._ends[at]


def _split(version: int, first: int, last: int) -> list[Prefix]:
    """`first..last` as the largest aligned prefixes, in order."""
    width, out = MAX_LENGTH[version], []
    while first <= last:
        size = (first & -first) if first else 1 << width
        while first + size - 1 > last:
            size >>= 1
        out.append(Prefix(version, first, width - size.bit_length() + 1))
        first += size
    return out
