"""A ledger in one SQLite file, shared by concurrent renders on one machine.

Every session is a `BEGIN IMMEDIATE` transaction: writers queue on the file lock (with a
busy timeout) instead of failing, and a reader's view cannot go stale before it writes.
A session asks only for what one site needs (indexed lookups, see `_sqlite_session`), so
it holds the lock for about the same time with 10 or 10,000 sites recorded.

The file is in WAL mode with `synchronous=FULL`: a commit is one append and one fsync of
the log, and a committed allocation survives a killed process and a power cut alike; a
writer killed mid-transaction loses only its own uncommitted work. Recent commits live in
`<file>-wal` until the last connection closes (or a checkpoint copies them over): copy or
move the ledger together with that file, never the main file alone.

The file is marked with an application id and a schema version, so a foreign database or
another layout is refused instead of being written into. A ledger of the previous version
is migrated in place, in the first session that opens it (see `_migrate`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path

from ._common import Discard
from ._sqlite_connections import borrow, drop, give_back
from ._sqlite_runs import RUNS_SCHEMA
from ._sqlite_session import SqliteSession
from .ledger import LedgerError

__all__ = ["SCHEMA_VERSION", "SqliteLedger"]

# 2: what each row takes stored as numbers and indexed, and the taken runs.
# 3: who holds each row (cluster, package, claim), indexed by package.
SCHEMA_VERSION = 3
APPLICATION_ID = 0x6B726D66  # "krmf"

_TABLES = {"ip_allocations", "vlan_allocations", "taken_runs"}
_SCHEMA = (
    # version/first/last: what the prefix takes (NULL when it does not parse); host: a
    # network claim's single address rather than a block.
    """CREATE TABLE ip_allocations (
        owner TEXT PRIMARY KEY,
        instance TEXT NOT NULL,
        kind TEXT NOT NULL,
        prefix TEXT NOT NULL,
        gateway TEXT,
        version INTEGER,
        host INTEGER NOT NULL,
        first BLOB,
        last BLOB,
        cluster TEXT NOT NULL DEFAULT '',
        package TEXT NOT NULL DEFAULT '',
        claim TEXT NOT NULL DEFAULT '',
        UNIQUE (instance, prefix)
    )""",
    "CREATE INDEX ip_allocations_by_place ON ip_allocations (instance, version, host, first)",
    """CREATE TABLE vlan_allocations (
        owner TEXT PRIMARY KEY,
        vlan_index TEXT NOT NULL,
        vlan_id INTEGER NOT NULL,
        cluster TEXT NOT NULL DEFAULT '',
        package TEXT NOT NULL DEFAULT '',
        claim TEXT NOT NULL DEFAULT '',
        UNIQUE (vlan_index, vlan_id)
    )""",
    RUNS_SCHEMA,
    *(f"CREATE INDEX {table}_by_package ON {table} (package, cluster)"
      for table in ("ip_allocations", "vlan_allocations")),
)
_OWNER_COLUMNS = ("cluster", "package", "claim")

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


def _holder(key: str, kind: str, *, vlan: bool) -> tuple[str, str, str]:
    """(cluster, package, claim) of a version-2 row, from its owner key.

    A subnet's key is `subnet|instance|cluster|network|family`; an IP claim's was
    `<cluster>/<namespace>/<claim>`; a VLAN claim's `<owner>/<namespace>/<claim>`, its owner
    `<cluster>/<package>`, or one of the two, or what the `owner` option said: a lone part
    is taken for the package, as a run naming that owner files it now.
    """
    if kind == "subnet" and key.startswith("subnet|"):
        parts = key.split("|")
        return (parts[2] if len(parts) > 2 else ""), "", ""
    parts = key.split("/")
    if len(parts) < 3:
        return "", "", ""
    owner, claim = parts[:-2], "/".join(parts[-2:])
    if not vlan:
        return "/".join(owner), "", claim
    if len(owner) == 1:
        return "", owner[0], claim
    return owner[0], "/".join(owner[1:]), claim


class SqliteLedger:
    """A ledger file; created on first use, checked on every session.

    Connections stay open between sessions (see `_sqlite_connections`); `close()`
    closes them, and the next session opens one again.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._check_location()
        with self.session():
            pass
        self._use_wal()

    def session(self) -> AbstractContextManager[SqliteSession]:
        return self._session()

    def close(self) -> None:
        """Close this process's idle connections to the file."""
        drop(self.path)

    @contextmanager
    def _session(self) -> Iterator[SqliteSession]:
        borrowed = borrow(self.path, self._connect)
        connection = borrowed.connection
        try:
            self._execute(connection, f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            self._execute(connection, "BEGIN IMMEDIATE")
            self._prepare_schema(connection)
            yield SqliteSession(connection, self.path, _describe)
            self._execute(connection, "COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                with suppress(sqlite3.Error):  # keep the original error
                    connection.rollback()
            if not isinstance(exc, Discard):  # start afresh after anything unexpected
                with suppress(sqlite3.Error):
                    connection.close()
                self.close()
                raise
            give_back(self.path, borrowed)
            raise
        give_back(self.path, borrowed)

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
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                         check_same_thread=False)  # one thread at a time
        except sqlite3.Error as exc:
            raise _describe(self.path, exc) from exc
        try:
            self._execute(connection, "PRAGMA synchronous=FULL")
        except LedgerError:
            connection.close()
            raise
        return connection

    def _use_wal(self) -> None:
        """Switch a checked ledger to WAL once (the mode stays with the file).

        Done after the first session, outside any transaction, so that a foreign file is
        refused before anything is written into it.
        """
        borrowed = borrow(self.path, self._connect)
        try:
            self._execute(borrowed.connection, "PRAGMA journal_mode=WAL")
        except LedgerError:
            borrowed.connection.close()
            raise
        give_back(self.path, borrowed)

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
        if version not in (SCHEMA_VERSION, SCHEMA_VERSION - 1):
            older = " (written by an older krmfn, which did not index it)"
            raise LedgerError(
                f"ledger {self.path}: schema version {version}, this krmfn reads"
                f" version {SCHEMA_VERSION}{older if 0 < version < SCHEMA_VERSION else ''}"
            )
        if not names >= _TABLES:
            missing = ", ".join(sorted(_TABLES - names))
            raise LedgerError(f"ledger {self.path}: damaged, missing tables: {missing}")
        if version == SCHEMA_VERSION - 1:
            self._migrate(connection)

    def _migrate(self, connection: sqlite3.Connection) -> None:
        """Version 2 to 3, inside the session's transaction (all or nothing): add who holds
        each row, read from its owner key. Keys stay as they were, so every answer stays:
        VLAN keys already were `<cluster>/<package>/<namespace>/<claim>`; IP keys were
        `<cluster>/<namespace>/<claim>`, and a run that knows its package adopts such a
        record for its claim of that name (see `ipam`)."""
        for table in ("ip_allocations", "vlan_allocations"):
            for column in _OWNER_COLUMNS:
                self._execute(connection, f"ALTER TABLE {table} ADD COLUMN {column} TEXT"
                                          " NOT NULL DEFAULT ''")
            self._execute(connection, f"CREATE INDEX {table}_by_package ON {table}"
                                      " (package, cluster)")
        try:
            ip = connection.execute("SELECT owner, kind FROM ip_allocations").fetchall()
            vlan = connection.execute("SELECT owner FROM vlan_allocations").fetchall()
            update = "UPDATE {} SET cluster = ?, package = ?, claim = ? WHERE owner = ?"
            connection.executemany(update.format("ip_allocations"),
                                   [(*_holder(str(key), str(kind), vlan=False), key)
                                    for key, kind in ip])
            connection.executemany(update.format("vlan_allocations"),
                                   [(*_holder(str(key), "", vlan=True), key) for key, in vlan])
        except sqlite3.Error as exc:
            raise _describe(self.path, exc) from exc
        self._execute(connection, f"PRAGMA user_version={SCHEMA_VERSION}")

    def _scalar(self, connection: sqlite3.Connection, sql: str) -> int:
        rows = self._execute(connection, sql)
        return int(str(rows[0][0])) if rows else 0
