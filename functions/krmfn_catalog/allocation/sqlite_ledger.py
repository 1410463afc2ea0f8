"""A ledger in one SQLite file, shared by concurrent renders on one machine.

Every session is a `BEGIN IMMEDIATE` transaction: writers queue on the file lock (with a
busy timeout) instead of failing, and a reader's view cannot go stale before it writes.
The rollback journal with `synchronous=FULL` means a writer killed mid-transaction loses
only its own uncommitted work; the next opener rolls the hot journal back.

The file is marked with an application id and a schema version, so a foreign database or
a newer layout is refused instead of being written into.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path

from .ledger import IPRecord, LedgerError, LedgerSession, VLANRecord

__all__ = ["SCHEMA_VERSION", "SqliteLedger"]

SCHEMA_VERSION = 1
APPLICATION_ID = 0x6B726D66  # "krmf"

_TABLES = {"ip_allocations", "vlan_allocations"}
_SCHEMA = (
    """CREATE TABLE ip_allocations (
        owner TEXT PRIMARY KEY,
        instance TEXT NOT NULL,
        kind TEXT NOT NULL,
        prefix TEXT NOT NULL,
        gateway TEXT,
        UNIQUE (instance, prefix)
    )""",
    """CREATE TABLE vlan_allocations (
        owner TEXT PRIMARY KEY,
        vlan_index TEXT NOT NULL,
        vlan_id INTEGER NOT NULL,
        UNIQUE (vlan_index, vlan_id)
    )""",
)

_REASONS = {
    "SQLITE_NOTADB": "not an SQLite database",
    "SQLITE_CORRUPT": "the database file is corrupt",
    "SQLITE_READONLY": "the database is read-only",
    "SQLITE_CANTOPEN": "cannot open the database file",
    "SQLITE_BUSY": "timed out waiting for another writer",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_CONSTRAINT": "a duplicate allocation was refused",
}


def _describe(path: Path, exc: sqlite3.Error) -> LedgerError:
    """One line naming the file and the primary error (extended codes add a suffix)."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    primary = "_".join(name.split("_")[:2])
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return LedgerError(f"ledger {path}: {_REASONS.get(primary, detail)}")


class _SqliteSession:
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self._path = path

    def ip_records(self, instance: str) -> list[IPRecord]:
        rows = self._query(
            "SELECT owner, instance, kind, prefix, gateway FROM ip_allocations"
            " WHERE instance = ? ORDER BY owner",
            (instance,),
        )
        return [IPRecord(str(r[0]), str(r[1]), str(r[2]), str(r[3]), _text(r[4])) for r in rows]

    def vlan_records(self, index: str) -> list[VLANRecord]:
        rows = self._query(
            "SELECT owner, vlan_index, vlan_id FROM vlan_allocations"
            " WHERE vlan_index = ? ORDER BY owner",
            (index,),
        )
        return [VLANRecord(str(r[0]), str(r[1]), int(str(r[2]))) for r in rows]

    def put_ip(self, records: Iterable[IPRecord]) -> None:
        rows = [(r.key, r.instance, r.kind, r.prefix, r.gateway) for r in records]
        self._replace("ip_allocations", "(?, ?, ?, ?, ?)", rows)

    def put_vlan(self, records: Iterable[VLANRecord]) -> None:
        rows = [(r.key, r.index, r.vlan_id) for r in records]
        self._replace("vlan_allocations", "(?, ?, ?)", rows)

    def _query(self, sql: str, parameters: tuple[str, ...]) -> list[tuple[object, ...]]:
        try:
            return list(self._connection.execute(sql, parameters))
        except sqlite3.Error as exc:
            raise _describe(self._path, exc) from exc

    def _replace(self, table: str, placeholders: str, rows: Sequence[tuple[object, ...]]) -> None:
        # Delete first, then insert: keys may swap values within one session, and an
        # upsert would trip the uniqueness constraint halfway through the swap.
        try:
            self._connection.executemany(
                f"DELETE FROM {table} WHERE owner = ?", [(row[0],) for row in rows]
            )
            self._connection.executemany(f"INSERT INTO {table} VALUES {placeholders}", rows)
        except sqlite3.Error as exc:
            raise _describe(self._path, exc) from exc


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class SqliteLedger:
    """A ledger file; created on first use, checked on every session."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._check_location()
        with self.session():
            pass

    def session(self) -> AbstractContextManager[LedgerSession]:
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[LedgerSession]:
        connection = self._connect()
        try:
            self._execute(connection, "BEGIN IMMEDIATE")
            self._prepare_schema(connection)
            yield _SqliteSession(connection, self.path)
            self._execute(connection, "COMMIT")
        except BaseException:
            if connection.in_transaction:
                with suppress(sqlite3.Error):  # keep the original error
                    connection.rollback()
            raise
        finally:
            connection.close()

    def _check_location(self) -> None:
        path, folder = self.path, self.path.parent
        if path.is_dir():
            raise LedgerError(f"ledger {path}: is a directory")
        if not folder.is_dir():
            raise LedgerError(f"ledger {path}: directory {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise LedgerError(f"ledger {path}: directory {folder} is not writable")
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise LedgerError(f"ledger {path}: file is not readable and writable")

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise _describe(self.path, exc) from exc
        try:
            self._execute(connection, "PRAGMA journal_mode=DELETE")
            self._execute(connection, "PRAGMA synchronous=FULL")
        except LedgerError:
            connection.close()
            raise
        return connection

    def _execute(self, connection: sqlite3.Connection, sql: str) -> list[tuple[object, ...]]:
        try:
            return list(connection.execute(sql))
        except sqlite3.Error as exc:
            raise _describe(self.path, exc) from exc

    def _prepare_schema(self, connection: sqlite3.Connection) -> None:
        """Create the tables in a fresh file; refuse anything that is not our layout."""
        application_id = self._scalar(connection, "PRAGMA application_id")
        version = self._scalar(connection, "PRAGMA user_version")
        rows = self._execute(
            connection, "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        )
        names = {str(row[0]) for row in rows}
        if application_id == 0 and version == 0 and not names:
            for statement in _SCHEMA:
                self._execute(connection, statement)
            self._execute(connection, f"PRAGMA application_id={APPLICATION_ID}")
            self._execute(connection, f"PRAGMA user_version={SCHEMA_VERSION}")
            return
        if application_id != APPLICATION_ID:
            listed = ", ".join(sorted(names)) or "none"
            raise LedgerError(
                f"ledger {self.path}: a foreign SQLite database, not a krmfn ledger"
                f" (tables: {listed})"
            )
        if version != SCHEMA_VERSION:
            raise LedgerError(
                f"ledger {self.path}: schema version {version}, this krmfn reads"
                f" version {SCHEMA_VERSION}"
            )
        if not names >= _TABLES:
            missing = ", ".join(sorted(_TABLES - names))
            raise LedgerError(f"ledger {self.path}: damaged, missing tables: {missing}")

    def _scalar(self, connection: sqlite3.Connection, sql: str) -> int:
        rows = self._execute(connection, sql)
        return int(str(rows[0][0])) if rows else 0
