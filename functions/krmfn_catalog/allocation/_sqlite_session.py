"""One transaction on a ledger database (SQLite, or PostgreSQL): the narrow questions the
allocators ask, indexed.

Every IP row also stores what it takes as numbers (version, first and last address, and
whether it is a `network` claim's single address), indexed by (instance, version, host,
first). Since what a row takes is always an aligned prefix, a row overlaps a block only
by starting inside it or by containing its first address, and a row containing an
address starts at that address with some low bits cleared: both are index lookups.
The lowest free gap comes from `taken_runs` (see `_sqlite_runs`).

The SQL is the common ground of SQLite and PostgreSQL (`?` placeholders, which
`postgres_ledger` rewrites), so one class answers for both, and both give the same answers
to the same questions; on PostgreSQL, where every read is a round trip, a subclass asks
some of them in fewer statements (`_postgres_session`). Errors of the database module are
turned into a `LedgerError` by `describe`; a PostgreSQL connection does that itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ._sqlite_runs import TOP, Database, Runs, pack, unpack
from .ledger import HOST_KIND, IPRecord, LedgerError, VLANRecord, ip_extent

__all__ = ["Database", "SqliteSession", "ip_rows"]

Describe = Callable[[Path, sqlite3.Error], LedgerError]
_NO_LIMIT = (1 << 63) - 1  # what both SQLite and PostgreSQL take for "no limit"
_BATCH = 500  # keys per question, well inside SQLite's limit on parameters

_BITS = {4: 32, 6: 128}
_IP_COLUMNS = "owner, instance, kind, prefix, gateway, cluster, package, claim"
_VLAN_COLUMNS = "owner, vlan_index, vlan_id, cluster, package, claim"
_ORDER = "ORDER BY first, last DESC, owner"


def _ip_space(instance: str, version: int) -> str:
    return f"ip{version} {instance}"


def _vlan_space(index: str) -> str:
    return f"vlan {index}"


def _ip_record(row: tuple[object, ...]) -> IPRecord:
    gateway = None if row[4] is None else str(row[4])
    return IPRecord(str(row[0]), str(row[1]), str(row[2]), str(row[3]), gateway,
                    str(row[5]), str(row[6]), str(row[7]))


def _vlan_record(row: tuple[object, ...]) -> VLANRecord:
    return VLANRecord(str(row[0]), str(row[1]), int(str(row[2])), str(row[3]), str(row[4]),
                      str(row[5]))


def ip_rows(records: Iterable[IPRecord]) -> list[tuple[object, ...]]:
    """The `ip_allocations` rows of `records`, in the table's column order."""
    rows: list[tuple[object, ...]] = []
    for record in records:
        extent = ip_extent(record)
        version, first, last = (None, None, None) if extent is None else extent
        rows.append((record.key, record.instance, record.kind, record.prefix, record.gateway,
                     version, record.kind == HOST_KIND, None if first is None else pack(first),
                     None if last is None else pack(last), record.cluster, record.package,
                     record.claim))
    return rows


def _filters(cluster: str | None, package: str | None) -> tuple[str, tuple[str, ...]]:
    found = [(column, value) for column, value in (("cluster", cluster), ("package", package))
             if value is not None]
    if not found:
        return "", ()
    return " WHERE " + " AND ".join(f"{c} = ?" for c, _ in found), tuple(v for _, v in found)


class SqliteSession:
    """The `LedgerSession` of `SqliteLedger` and `PostgresLedger`, inside its open
    transaction."""

    def __init__(self, connection: Database, path: Path, describe: Describe) -> None:
        self._db = connection
        self._path = path
        self._describe = describe
        self._runs = Runs(connection)

    # -- listings ----------------------------------------------------------------------

    def ip_records(self, instance: str) -> list[IPRecord]:
        with self._errors():
            rows = self._db.execute(
                f"SELECT {_IP_COLUMNS} FROM ip_allocations WHERE instance = ? ORDER BY owner",
                (instance,),
            ).fetchall()
        return [_ip_record(row) for row in rows]

    def vlan_records(self, index: str) -> list[VLANRecord]:
        with self._errors():
            rows = self._db.execute(
                f"SELECT {_VLAN_COLUMNS} FROM vlan_allocations WHERE vlan_index = ? ORDER BY owner",
                (index,),
            ).fetchall()
        return [_vlan_record(row) for row in rows]

    def ip_owned(self, cluster: str, package: str) -> list[IPRecord]:
        with self._errors():
            rows = self._db.execute(
                f"SELECT {_IP_COLUMNS} FROM ip_allocations WHERE package = ? AND cluster = ?"
                " ORDER BY owner",
                (package, cluster),
            ).fetchall()
        return [_ip_record(row) for row in rows]

    def vlan_owned(self, cluster: str, package: str) -> list[VLANRecord]:
        with self._errors():
            rows = self._db.execute(
                f"SELECT {_VLAN_COLUMNS} FROM vlan_allocations WHERE package = ? AND cluster = ?"
                " ORDER BY owner",
                (package, cluster),
            ).fetchall()
        return [_vlan_record(row) for row in rows]

    def ip_where(self, cluster: str | None = None, package: str | None = None
                 ) -> list[IPRecord]:
        """Every record, or those of a cluster and/or a package (for `krmfn ledger`)."""
        where, values = _filters(cluster, package)
        with self._errors():
            rows = self._db.execute(
                f"SELECT {_IP_COLUMNS} FROM ip_allocations{where} ORDER BY owner", values
            ).fetchall()
        return [_ip_record(row) for row in rows]

    def vlan_where(self, cluster: str | None = None, package: str | None = None
                   ) -> list[VLANRecord]:
        """Every record, or those of a cluster and/or a package (for `krmfn ledger`)."""
        where, values = _filters(cluster, package)
        with self._errors():
            rows = self._db.execute(
                f"SELECT {_VLAN_COLUMNS} FROM vlan_allocations{where} ORDER BY owner", values
            ).fetchall()
        return [_vlan_record(row) for row in rows]

    # -- writing -----------------------------------------------------------------------

    def put_ip(self, records: Iterable[IPRecord]) -> None:
        records = list(records)
        with self._errors():
            # Delete first, then insert: keys may swap values within one session, and an
            # upsert would trip the uniqueness constraint halfway through the swap.
            held = self._held("ip_allocations", [record.key for record in records])
            for record in records:
                if record.key in held:
                    self._delete_ip(record.key)
            if records:
                self._insert_ips(records)

    def put_vlan(self, records: Iterable[VLANRecord]) -> None:
        records = list(records)
        with self._errors():
            held = self._held("vlan_allocations", [record.key for record in records])
            for record in records:
                if record.key in held:
                    self._delete_vlan(record.key)
            if records:
                self._insert_vlans(records)

    def pop_ip(self, keys: Iterable[str]) -> list[IPRecord]:
        with self._errors():
            keys = sorted(set(keys))
            held = self._held("ip_allocations", keys)
            popped = [self._delete_ip(key) for key in keys if key in held]
        return [record for record in popped if record is not None]

    def pop_vlan(self, keys: Iterable[str]) -> list[VLANRecord]:
        with self._errors():
            keys = sorted(set(keys))
            held = self._held("vlan_allocations", keys)
            popped = [self._delete_vlan(key) for key in keys if key in held]
        return [record for record in popped if record is not None]

    # -- questions ---------------------------------------------------------------------

    def ip_blocks(
        self, instance: str, version: int, first: int, last: int, limit: int | None = None
    ) -> list[IPRecord]:
        with self._errors():
            rows = self._overlapping(instance, version, False, first, last, limit)
        return [_ip_record(row) for row in rows]

    def ip_hosts(
        self, instance: str, version: int, first: int, last: int, limit: int | None = None
    ) -> list[IPRecord]:
        with self._errors():
            rows = self._overlapping(instance, version, True, first, last, limit)
        return [_ip_record(row) for row in rows]

    def ip_lowest_free(
        self, instance: str, version: int, first: int, last: int, size: int
    ) -> int | None:
        with self._errors():
            return self._runs.lowest_free(_ip_space(instance, version), first, last, size)

    def vlan_holder(self, index: str, vlan_id: int) -> VLANRecord | None:
        with self._errors():
            row = self._db.execute(
                f"SELECT {_VLAN_COLUMNS} FROM vlan_allocations"
                " WHERE vlan_index = ? AND vlan_id = ? ORDER BY owner LIMIT 1",
                (index, vlan_id),
            ).fetchone()
        return None if row is None else _vlan_record(row)

    def vlan_lowest_free(self, index: str, first: int, last: int) -> int | None:
        with self._errors():
            return self._runs.lowest_free(_vlan_space(index), max(first, 0), last, 1)

    # -- inside --------------------------------------------------------------------------

    def _overlapping(
        self,
        instance: str,
        version: int,
        host: bool,
        first: int,
        last: int,
        limit: int | None,
        columns: str = _IP_COLUMNS,
    ) -> list[tuple[object, ...]]:
        """Rows containing `first` from before it (blocks only), then rows starting inside."""
        if not (version in _BITS and 0 <= first <= last <= TOP) or limit == 0:
            return []
        rows: list[tuple[object, ...]] = []
        where = "instance = ? AND version = ? AND host = ?"
        if not host and first > 0:
            starts = {first & ~((1 << bits) - 1) for bits in range(1, _BITS[version] + 1)}
            starts.discard(first)
            marks = ", ".join("?" * len(starts))
            rows += self._db.execute(
                f"SELECT {columns} FROM ip_allocations WHERE {where}"
                f" AND first IN ({marks}) AND last >= ? {_ORDER}",
                (instance, version, host, *map(pack, sorted(starts)), pack(first)),
            ).fetchall()
        if limit is not None and len(rows) >= limit:
            return rows[:limit]
        rest = _NO_LIMIT if limit is None else limit - len(rows)
        rows += self._db.execute(
            f"SELECT {columns} FROM ip_allocations WHERE {where}"
            f" AND first BETWEEN ? AND ? {_ORDER} LIMIT ?",
            (instance, version, host, pack(first), pack(last), rest),
        ).fetchall()
        return rows

    def _held(self, table: str, keys: list[str]) -> set[str]:
        """Which of `keys` have a row: one question for a batch, instead of one per key
        (a site's keys are mostly new, and a server answers each question over the wire)."""
        found: set[str] = set()
        for start in range(0, len(keys), _BATCH):
            batch = keys[start:start + _BATCH]
            rows = self._db.execute(
                f"SELECT owner FROM {table} WHERE owner IN ({', '.join('?' * len(batch))})",
                batch,
            ).fetchall()
            found.update(str(row[0]) for row in rows)
        return found

    def _insert_ips(self, records: list[IPRecord]) -> None:
        """Insert rows for `records` (whose keys hold none) and cover what they take."""
        for row in ip_rows(records):
            self._db.execute(
                "INSERT INTO ip_allocations (owner, instance, kind, prefix, gateway, version,"
                " host, first, last, cluster, package, claim)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        self._cover_ips(records)

    def _insert_vlans(self, records: list[VLANRecord]) -> None:
        """Insert rows for `records` (whose keys hold none) and cover what they take."""
        for record in records:
            self._db.execute(
                f"INSERT INTO vlan_allocations ({_VLAN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (record.key, record.index, record.vlan_id, record.cluster, record.package,
                 record.claim),
            )
        self._cover_vlans(records)

    def _cover_ips(self, records: list[IPRecord]) -> None:
        for record in records:
            extent = ip_extent(record)
            if extent is not None:
                self._runs.cover(_ip_space(record.instance, extent[0]), extent[1], extent[2])

    def _cover_vlans(self, records: list[VLANRecord]) -> None:
        for record in records:
            if 0 <= record.vlan_id <= TOP:
                self._runs.cover(_vlan_space(record.index), record.vlan_id, record.vlan_id)

    def _delete_ip(self, key: str) -> IPRecord | None:
        row = self._db.execute(
            f"SELECT {_IP_COLUMNS}, version, first, last FROM ip_allocations WHERE owner = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        self._db.execute("DELETE FROM ip_allocations WHERE owner = ?", (key,))
        record, version = _ip_record(row), row[8]
        if isinstance(version, int):
            first, last = unpack(row[9]), unpack(row[10])
            still = [
                (unpack(other[0]), unpack(other[1]))
                for host in (False, True)
                for other in self._overlapping(
                    record.instance, version, host, first, last, None, "first, last"
                )
            ]
            self._runs.uncover(_ip_space(record.instance, version), first, last, still)
        return record

    def _delete_vlan(self, key: str) -> VLANRecord | None:
        row = self._db.execute(
            f"SELECT {_VLAN_COLUMNS} FROM vlan_allocations WHERE owner = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        self._db.execute("DELETE FROM vlan_allocations WHERE owner = ?", (key,))
        record = _vlan_record(row)
        if 0 <= record.vlan_id <= TOP:  # an ID is held by one row only: nothing else covers it
            self._runs.uncover(_vlan_space(record.index), record.vlan_id, record.vlan_id, ())
        return record

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._describe(self._path, exc) from exc
