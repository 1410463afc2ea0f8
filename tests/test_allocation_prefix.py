"""The allocator's integer prefixes read and write addresses exactly as netaddr did.

The allocation core dropped netaddr for the standard library (import cost); answers and
messages must not change, so these compare with netaddr itself while it is installed
(policy-validate still uses it).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from krmfn_catalog.allocation._prefix import (
    PoolSet,
    Prefix,
    format_address,
    parse_address,
    parse_network,
)

netaddr = pytest.importorskip("netaddr")

WIDTH = {4: 32, 6: 128}


def _netaddr_network(text: str) -> tuple[int, int, int] | None:
    try:
        net = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, TypeError, ValueError):
        return None
    return net.version, int(net.ip), net.prefixlen


@st.composite
def addresses(draw: st.DrawFn) -> tuple[int, int]:
    version = draw(st.sampled_from([4, 6]))
    if version == 6 and draw(st.booleans()):  # the IPv4-compatible and -mapped ranges
        high = draw(st.sampled_from([0, 0xFFFF]))
        return 6, high << 32 | draw(st.integers(0, 2**32 - 1))
    return version, draw(st.integers(0, 2 ** WIDTH[version] - 1))


# Bits of address text, glued at random: most strings are invalid, in many different ways.
TOKENS = ["0", "1", "10", "01", "255", "256", "ffff", "FFFF", "0000", "12345", "abcd", ".",
          ":", "::", "/", "24", "033", "+8", " ", "%eth0", "255.255.255.0", "0.0.0.255",
          "1.2.3.4", "ffff:ffff::", "::ffff"]


@given(st.lists(st.sampled_from(TOKENS), max_size=12).map("".join))
def test_networks_read_as_netaddr_read_them(text: str) -> None:
    net = parse_network(text)
    assert (None if net is None else tuple(net)) == _netaddr_network(text)


@given(addresses(), st.data())
def test_prefixes_read_and_write_as_in_netaddr(address: tuple[int, int], data: st.DataObject,
                                               ) -> None:
    version, value = address
    length = data.draw(st.integers(0, WIDTH[version]))
    theirs = netaddr.IPNetwork((value, length), version=version)
    ours = Prefix(version, value, length)
    assert str(ours) == str(theirs) and ours.address == str(theirs.ip)
    assert (ours.first, ours.last, str(ours.cidr)) == (theirs.first, theirs.last,
                                                       str(theirs.cidr))
    assert parse_network(str(theirs)) == ours
    assert parse_address(str(theirs.ip)) == (version, value)
    assert format_address(version, value) == str(theirs.ip)


@given(st.sampled_from([4, 6]), st.lists(st.tuples(st.integers(0, 255), st.integers(0, 8)),
                                         max_size=6), st.data())
def test_pool_sets_hold_what_netaddr_sets_hold(version: int, blocks: list[tuple[int, int]],
                                               data: st.DataObject) -> None:
    """Small blocks near one base, so that they overlap, touch and merge."""
    width, base = WIDTH[version], (10 << 24 if version == 4 else 0xFD << 120)

    def block(offset: int, bits: int) -> tuple[int, int]:
        return base + (offset >> bits << bits), width - bits

    nets = [block(offset, bits) for offset, bits in blocks]
    theirs = netaddr.IPSet(netaddr.IPNetwork(net, version=version) for net in nets)
    ours = PoolSet(version, [Prefix(version, *net) for net in nets])
    assert bool(ours) == bool(theirs)
    assert [str(cidr) for cidr in ours.cidrs] == [str(cidr) for cidr in theirs.iter_cidrs()]
    for offset, bits in data.draw(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 9)))):
        value, length = block(offset, bits)
        probe = netaddr.IPNetwork((value, length), version=version)
        assert (Prefix(version, value, length) in ours) == (probe in theirs)


@pytest.mark.parametrize(("value", "text"), [
    (0, "::"), (1, "::1"), (0x0A000001, "::10.0.0.1"), (0xFFFF0A000001, "::ffff:10.0.0.1"),
    (0xFFFF00000000, "::ffff:0.0.0.0"), (0x10000, "::0.1.0.0"), (0xFFFF, "::ffff"),
    (0xFD00 << 112 | 1, "fd00::1"), (1 << 112 | 1 << 64, "1:0:0:1::"),
])
def test_ipv6_text_keeps_inet_ntop_dotted_tails(value: int, text: str) -> None:
    assert format_address(6, value) == text
