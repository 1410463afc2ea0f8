"""Where allocations are remembered beyond one package.

A package only knows its own claims, so many sites drawing on one pool would hand out the
same addresses. A ledger records every allocation under a stable owner key (cluster,
package and claim, see `owner`), with the cluster, package and claim beside it:
the allocators take out their own records, ask what others hold around the candidates,
allocate, and record, all inside one session, so concurrent renders never collide and a
re-rendered site gets its own allocations back.

Sessions answer narrow questions (what overlaps this block, the lowest free gap from
here) rather than handing over a whole pool, so that a ledger holding 10,000 sites can
answer in time that does not grow with them.

`PackageLedger` keeps records in memory (the default: the package's claims are the only
record). `krmfn_catalog.allocation.sqlite_ledger.SqliteLedger` shares one SQLite file.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "HOST_KIND",
    "IPRecord",
    "Ledger",
    "LedgerError",
    "LedgerSession",
    "PackageLedger",
    "VLANRecord",
    "ip_extent",
]

# The kind of an IP record that holds one address of a shared subnet, not a block.
HOST_KIND = "network"


class LedgerError(Exception):
    """The ledger cannot be used (not a ledger, corrupt, not writable); a one-line message."""


@dataclass(frozen=True)
class IPRecord:
    """One IP allocation held by `key` in a network instance.

    `kind` is the claim kind (`pool`, `loopback`, `network`) or `subnet` for the subnet a
    (cluster, instance, network) shares; `prefix` is what the claim's status carries.
    `cluster`, `package` and `claim` (`namespace/name`) say who holds it ("" where unknown;
    a subnet has only its cluster): what `owned` and `krmfn ledger` select by.
    """

    key: str
    instance: str
    kind: str
    prefix: str
    gateway: str | None = None
    cluster: str = ""
    package: str = ""
    claim: str = ""


@dataclass(frozen=True)
class VLANRecord:
    """One VLAN ID held by `key` in a VLAN index; who holds it as in `IPRecord`."""

    key: str
    index: str
    vlan_id: int
    cluster: str = ""
    package: str = ""
    claim: str = ""


@functools.lru_cache(maxsize=4096)
def _extent(kind: str, prefix: str) -> tuple[int, int, int] | None:
    import ipaddress  # only where IP records are read

    try:
        interface = ipaddress.ip_interface(prefix)
    except (TypeError, ValueError):
        return None
    if kind == HOST_KIND:
        address = int(interface.ip)
        return interface.version, address, address
    network = interface.network
    return network.version, int(network.network_address), int(network.broadcast_address)


def ip_extent(record: IPRecord) -> tuple[int, int, int] | None:
    """`(version, first, last)` of the addresses a record takes; None when it does not parse.

    A `network` record takes only its address (its subnet has a record of its own); any
    other takes its whole block, host bits or not. Blocks and addresses are always
    aligned (a prefix), so two of them overlap only when one contains the other.
    """
    return _extent(record.kind, record.prefix)


class LedgerSession(Protocol):
    """A consistent view: what is read stays true until the session ends.

    Answers leave out records taken out with `pop_ip`/`pop_vlan` in this session and include
    those put in it. Lists are ordered: IP records by (first address, last address
    descending, key), VLAN and whole-instance listings by key.
    """

    def ip_records(self, instance: str) -> list[IPRecord]:
        """Every record of an instance (for tools and checks; allocators ask narrower)."""

    def vlan_records(self, index: str) -> list[VLANRecord]:
        """Every record of a VLAN index."""

    def ip_owned(self, cluster: str, package: str) -> list[IPRecord]:
        """Every record a package on a cluster holds, in any instance."""

    def vlan_owned(self, cluster: str, package: str) -> list[VLANRecord]:
        """Every record a package on a cluster holds, in any index."""

    def put_ip(self, records: Iterable[IPRecord]) -> None:
        """Record allocations, replacing whatever each key held before."""

    def put_vlan(self, records: Iterable[VLANRecord]) -> None:
        """Record allocations, replacing whatever each key held before."""

    def pop_ip(self, keys: Iterable[str]) -> list[IPRecord]:
        """Remove and return the records of `keys`, in any instance, ordered by key."""

    def pop_vlan(self, keys: Iterable[str]) -> list[VLANRecord]:
        """Remove and return the records of `keys`, in any index, ordered by key."""

    def ip_blocks(
        self, instance: str, version: int, first: int, last: int, limit: int | None = None
    ) -> list[IPRecord]:
        """Records other than `network` ones whose block overlaps `first..last`."""

    def ip_hosts(
        self, instance: str, version: int, first: int, last: int, limit: int | None = None
    ) -> list[IPRecord]:
        """`network` records whose address is in `first..last`."""

    def ip_lowest_free(
        self, instance: str, version: int, first: int, last: int, size: int
    ) -> int | None:
        """The lowest multiple of `size` from `first` on, whose `size` addresses end by `last`
        and overlap no record (block or address); None when there is none."""

    def vlan_holder(self, index: str, vlan_id: int) -> VLANRecord | None:
        """The record holding `vlan_id`, if any."""

    def vlan_lowest_free(self, index: str, first: int, last: int) -> int | None:
        """The lowest ID in `first..last` that no record holds; None when there is none."""


class Ledger(Protocol):
    """Hands out sessions; a session commits on normal exit and is discarded on error."""

    def session(self) -> AbstractContextManager[LedgerSession]: ...


def _align_up(value: int, size: int) -> int:
    return (value + size - 1) // size * size


class _PackageSession:
    """Works on copies of the ledger's records; they replace the originals on commit.

    Answers scan every record: an in-memory ledger holds one package, or a handful in tests.
    """

    def __init__(self, ledger: PackageLedger) -> None:
        self.ip = dict(ledger.ip)
        self.vlan = dict(ledger.vlan)
        # Derived answers, kept while only records are added (a session allocating a
        # thousand claims would otherwise rescan every record for every claim).
        self._extent_cache: dict[tuple[str, int], list[tuple[int, int, IPRecord]]] = {}
        self._vlan_taken: dict[str, set[int]] = {}
        self._vlan_floor: dict[tuple[str, int], int] = {}

    def ip_records(self, instance: str) -> list[IPRecord]:
        return sorted((r for r in self.ip.values() if r.instance == instance), key=_by_key)

    def vlan_records(self, index: str) -> list[VLANRecord]:
        return sorted((r for r in self.vlan.values() if r.index == index), key=_by_key)

    def ip_owned(self, cluster: str, package: str) -> list[IPRecord]:
        return sorted((r for r in self.ip.values()
                       if (r.cluster, r.package) == (cluster, package)), key=_by_key)

    def vlan_owned(self, cluster: str, package: str) -> list[VLANRecord]:
        return sorted((r for r in self.vlan.values()
                       if (r.cluster, r.package) == (cluster, package)), key=_by_key)

    def put_ip(self, records: Iterable[IPRecord]) -> None:
        for record in records:
            if record.key in self.ip:
                self._extent_cache.clear()
            self.ip[record.key] = record
            extent = ip_extent(record)
            cached = self._extent_cache.get((record.instance, extent[0])) if extent else None
            if extent is not None and cached is not None:
                bisect.insort(cached, (extent[1], extent[2], record), key=_extent_order)

    def put_vlan(self, records: Iterable[VLANRecord]) -> None:
        for record in records:
            old = self.vlan.get(record.key)
            if old is not None:
                self._vlan_taken.pop(old.index, None)
                self._vlan_floor.clear()
            self.vlan[record.key] = record
            taken = self._vlan_taken.get(record.index)
            if taken is not None:
                taken.add(record.vlan_id)

    def pop_ip(self, keys: Iterable[str]) -> list[IPRecord]:
        self._extent_cache.clear()
        return [self.ip.pop(key) for key in sorted(set(keys)) if key in self.ip]

    def pop_vlan(self, keys: Iterable[str]) -> list[VLANRecord]:
        self._vlan_taken.clear()
        self._vlan_floor.clear()
        return [self.vlan.pop(key) for key in sorted(set(keys)) if key in self.vlan]

    def ip_blocks(
        self, instance: str, version: int, first: int, last: int, limit: int | None = None
    ) -> list[IPRecord]:
        return self._overlapping(instance, version, first, last, False)[:limit]

    def ip_hosts(
        self, instance: str, version: int, first: int, last: int, limit: int | None = None
    ) -> list[IPRecord]:
        return self._overlapping(instance, version, first, last, True)[:limit]

    def ip_lowest_free(
        self, instance: str, version: int, first: int, last: int, size: int
    ) -> int | None:
        start = _align_up(first, size)
        for low, high, _ in self._extents(instance, version):
            if start + size - 1 < low:
                break
            if high >= start:  # extents are sorted by their start, so skip past this one
                start = _align_up(high + 1, size)
        return start if start + size - 1 <= last else None

    def vlan_holder(self, index: str, vlan_id: int) -> VLANRecord | None:
        held = [r for r in self.vlan.values() if r.index == index and r.vlan_id == vlan_id]
        return min(held, key=_by_key) if held else None

    def vlan_lowest_free(self, index: str, first: int, last: int) -> int | None:
        taken = self._vlan_taken.get(index)
        if taken is None:
            taken = {r.vlan_id for r in self.vlan.values() if r.index == index}
            self._vlan_taken[index] = taken
        # Below the last answer nothing frees up while records are only added.
        start = max(first, self._vlan_floor.get((index, first), first))
        found = next((v for v in range(start, last + 1) if v not in taken), None)
        if found is not None:
            self._vlan_floor[(index, first)] = found
        return found

    def _extents(self, instance: str, version: int) -> list[tuple[int, int, IPRecord]]:
        cached = self._extent_cache.get((instance, version))
        if cached is not None:
            return cached
        found = []
        for record in self.ip.values():
            extent = ip_extent(record) if record.instance == instance else None
            if extent is not None and extent[0] == version:
                found.append((extent[1], extent[2], record))
        found.sort(key=_extent_order)
        self._extent_cache[(instance, version)] = found
        return found

    def _overlapping(
        self, instance: str, version: int, first: int, last: int, hosts: bool
    ) -> list[IPRecord]:
        return [
            record
            for low, high, record in self._extents(instance, version)
            if low <= last and high >= first and (record.kind == HOST_KIND) == hosts
        ]


def _by_key(record: IPRecord | VLANRecord) -> str:
    return record.key


def _extent_order(item: tuple[int, int, IPRecord]) -> tuple[int, int, str]:
    return item[0], -item[1], item[2].key


class PackageLedger:
    """An in-memory ledger: only what was recorded through it in this process.

    Used alone it makes the package's own claims the only record; shared across several
    allocations in one process it keeps them from colliding.
    """

    def __init__(self, ip: Iterable[IPRecord] = (), vlan: Iterable[VLANRecord] = ()) -> None:
        self.ip: dict[str, IPRecord] = {record.key: record for record in ip}
        self.vlan: dict[str, VLANRecord] = {record.key: record for record in vlan}

    @contextmanager
    def _session(self) -> Iterator[LedgerSession]:
        session = _PackageSession(self)
        yield session
        self.ip, self.vlan = session.ip, session.vlan

    def session(self) -> AbstractContextManager[LedgerSession]:
        return self._session()
