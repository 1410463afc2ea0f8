"""Where allocations are remembered beyond one package.

A package only knows its own claims, so many sites drawing on one pool would hand out the
same addresses. A ledger records every allocation under a stable owner key (site + claim):
the allocators read what others hold, allocate, and record, all inside one session, so
concurrent renders never collide and a re-rendered site gets its own allocations back.

`PackageLedger` keeps records in memory (the default: the package's claims are the only
record). `krmfn_catalog.allocation.sqlite_ledger.SqliteLedger` shares one SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "IPRecord",
    "Ledger",
    "LedgerError",
    "LedgerSession",
    "PackageLedger",
    "VLANRecord",
]


class LedgerError(Exception):
    """The ledger cannot be used (not a ledger, corrupt, not writable); a one-line message."""


@dataclass(frozen=True)
class IPRecord:
    """One IP allocation held by `key` in a network instance.

    `kind` is the claim kind (`pool`, `loopback`, `network`) or `subnet` for the subnet a
    (cluster, instance, network) shares; `prefix` is what the claim's status carries.
    """

    key: str
    instance: str
    kind: str
    prefix: str
    gateway: str | None = None


@dataclass(frozen=True)
class VLANRecord:
    """One VLAN ID held by `key` in a VLAN index."""

    key: str
    index: str
    vlan_id: int


class LedgerSession(Protocol):
    """A consistent view: what is read stays true until the session ends."""

    def ip_records(self, instance: str) -> list[IPRecord]: ...

    def vlan_records(self, index: str) -> list[VLANRecord]: ...

    def put_ip(self, records: Iterable[IPRecord]) -> None:
        """Record allocations, replacing whatever each key held before."""

    def put_vlan(self, records: Iterable[VLANRecord]) -> None:
        """Record allocations, replacing whatever each key held before."""


class Ledger(Protocol):
    """Hands out sessions; a session commits on normal exit and is discarded on error."""

    def session(self) -> AbstractContextManager[LedgerSession]: ...


class _PackageSession:
    def __init__(self, ledger: PackageLedger) -> None:
        self._ledger = ledger
        self.ip_pending: dict[str, IPRecord] = {}
        self.vlan_pending: dict[str, VLANRecord] = {}

    def ip_records(self, instance: str) -> list[IPRecord]:
        merged = {**self._ledger.ip, **self.ip_pending}
        return [record for record in merged.values() if record.instance == instance]

    def vlan_records(self, index: str) -> list[VLANRecord]:
        merged = {**self._ledger.vlan, **self.vlan_pending}
        return [record for record in merged.values() if record.index == index]

    def put_ip(self, records: Iterable[IPRecord]) -> None:
        self.ip_pending.update((record.key, record) for record in records)

    def put_vlan(self, records: Iterable[VLANRecord]) -> None:
        self.vlan_pending.update((record.key, record) for record in records)


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
        self.ip.update(session.ip_pending)
        self.vlan.update(session.vlan_pending)

    def session(self) -> AbstractContextManager[LedgerSession]:
        return self._session()
