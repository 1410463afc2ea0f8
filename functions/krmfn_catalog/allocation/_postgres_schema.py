"""The tables of a PostgreSQL ledger, their version, and the steps between versions.

The layout is the SQLite ledger's (version 3): the same tables, columns and indexes, so
the session code and `krmfn ledger migrate` serve both. Two choices keep the answers the
same as SQLite's:

- every text column is `COLLATE "C"`: listings are ordered by owner key, and SQLite
  compares text byte by byte; a database's default collation (en_US.UTF-8, say) would
  order `a-b` and `a_b` otherwise;
- numbers are `bytea` of 16 big-endian bytes, which PostgreSQL compares byte by byte as
  SQLite compares BLOBs.

The tables live in the connection's current schema (`search_path`; give
`options=-csearch_path=NAME` to keep a ledger in a schema of its own). Table
`schema_version` holds one row per application; ours is `krmfn-ledger`. A database whose
schema holds other tables but not ours is refused rather than written into. A ledger of
an older version is brought up to date by the steps of `MIGRATIONS`, in the first
session that opens it, inside that session's transaction: all steps and the new version
number commit together, or none do.
"""

from __future__ import annotations

from typing import Any

from .ledger import LedgerError

__all__ = ["APPLICATION", "MIGRATIONS", "SCHEMA_VERSION", "prepare"]

SCHEMA_VERSION = 3  # the layout of the SQLite ledger's version 3, where PostgreSQL began
APPLICATION = "krmfn-ledger"
# version -> the statements that take a ledger from it to the next version
MIGRATIONS: dict[int, tuple[str, ...]] = {}

_TEXT = 'TEXT COLLATE "C"'
_TABLES = ("ip_allocations", "vlan_allocations", "taken_runs")
_SCHEMA = (
    f"""CREATE TABLE schema_version (
        application {_TEXT} PRIMARY KEY,
        version INTEGER NOT NULL
    )""",
    f"""CREATE TABLE ip_allocations (
        owner {_TEXT} PRIMARY KEY,
        instance {_TEXT} NOT NULL,
        kind {_TEXT} NOT NULL,
        prefix {_TEXT} NOT NULL,
        gateway {_TEXT},
        version INTEGER,
        host BOOLEAN NOT NULL,
        first BYTEA,
        last BYTEA,
        cluster {_TEXT} NOT NULL DEFAULT '',
        package {_TEXT} NOT NULL DEFAULT '',
        claim {_TEXT} NOT NULL DEFAULT '',
        UNIQUE (instance, prefix)
    )""",
    "CREATE INDEX ip_allocations_by_place ON ip_allocations (instance, version, host, first)",
    f"""CREATE TABLE vlan_allocations (
        owner {_TEXT} PRIMARY KEY,
        vlan_index {_TEXT} NOT NULL,
        vlan_id BIGINT NOT NULL,
        cluster {_TEXT} NOT NULL DEFAULT '',
        package {_TEXT} NOT NULL DEFAULT '',
        claim {_TEXT} NOT NULL DEFAULT '',
        UNIQUE (vlan_index, vlan_id)
    )""",
    f"""CREATE TABLE taken_runs (
        space {_TEXT} NOT NULL,
        first BYTEA NOT NULL,
        last BYTEA NOT NULL,
        PRIMARY KEY (space, first)
    )""",
    *(f"CREATE INDEX {table}_by_package ON {table} (package, cluster)"
      for table in ("ip_allocations", "vlan_allocations")),
)


def prepare(db: Any, shown: str, *, checked: bool = False) -> None:
    """Create the tables in an empty schema, migrate an older ledger, refuse anything else.

    `db` is a psycopg connection inside the session's transaction (holding its lock).
    On a connection that was `checked` before, the version alone is read again (a table
    dropped since then fails the session with its own one-line error)."""
    if checked:
        row = db.execute("SELECT version FROM schema_version WHERE application = %s",
                         (APPLICATION,)).fetchone()
        if row is not None and row[0] == SCHEMA_VERSION:
            return
    tables = {str(row[0]) for row in db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()}
    if "schema_version" not in tables:
        if tables:
            listed = ", ".join(sorted(tables))
            raise LedgerError(f"ledger {shown}: the schema holds other tables, not a krmfn"
                              f" ledger (tables: {listed})")
        if db.execute("SELECT current_schema()").fetchone()[0] is None:
            raise LedgerError(f"ledger {shown}: no schema to create the ledger in"
                              " (search_path names none that exists)")
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute("INSERT INTO schema_version VALUES (%s, %s)", (APPLICATION, SCHEMA_VERSION))
        return
    row = db.execute("SELECT version FROM schema_version WHERE application = %s",
                     (APPLICATION,)).fetchone()
    if row is None:
        raise LedgerError(f"ledger {shown}: schema_version names another application,"
                          " not a krmfn ledger")
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise LedgerError(f"ledger {shown}: schema version {version}, this krmfn reads"
                          f" version {SCHEMA_VERSION} (written by a newer krmfn)")
    missing = [name for name in _TABLES if name not in tables]
    if missing:
        raise LedgerError(f"ledger {shown}: damaged, missing tables: {', '.join(missing)}")
    while version < SCHEMA_VERSION:
        steps = MIGRATIONS.get(version)
        if steps is None:
            raise LedgerError(f"ledger {shown}: schema version {version}, this krmfn reads"
                              f" version {SCHEMA_VERSION} and knows no way from it")
        for statement in steps:
            db.execute(statement)
        version += 1
        db.execute("UPDATE schema_version SET version = %s WHERE application = %s",
                   (version, APPLICATION))
