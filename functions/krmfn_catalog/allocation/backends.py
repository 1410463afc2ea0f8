"""Which ledger a location names, and opening it: an SQLite file or a PostgreSQL database.

A location is what `ledger:` in a function config, `--ledger` and `KRMFN_LEDGER` hold:

- `postgresql://user@host:port/db` or `postgres://...` (every URI form libpq reads, unix
  sockets included: `postgresql:///db?host=/run/postgresql`), or libpq's `key=value`
  form (`host=db.internal dbname=ipam user=krmfn`): a PostgreSQL database
  (`postgres_ledger`, with the optional extra `krmfn[postgres]`);
- anything else: the path of an SQLite file (`sqlite_ledger`). A file whose name starts
  with a libpq keyword and `=` is written `./host=...`.

What is not in the location comes from libpq's own environment (`PGPASSWORD`, `PGHOST`,
`PGSERVICE`, `~/.pgpass`, ...), so a location in a package's config can leave the password
out and let each place that renders supply it.

Precedence: a location configured where it is used (the function config's `ledger`, the
`--ledger` option) wins; `KRMFN_LEDGER` supplies one wherever none is configured. A package
that names its ledger says which allocations it shares, and a deployment-wide setting
must not silently move it to another; the environment variable lets a CI job or a
function pod point every package that names none at the same server.

Locations appear in messages only through `shown`, which leaves the password out.
"""

from __future__ import annotations

import os
import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from .ledger import IPRecord, LedgerError, LedgerSession, VLANRecord

__all__ = [
    "LEDGER_ENV",
    "StoredLedger",
    "StoredSession",
    "chosen",
    "is_postgres",
    "missing_file",
    "open_ledger",
    "password_of",
    "shown",
]

LEDGER_ENV = "KRMFN_LEDGER"

_SCHEMES = ("postgresql://", "postgres://")
# libpq's connection keywords that can start a key/value location
_KEYWORDS = re.compile(
    r"^\s*(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|options"
    r"|application_name|connect_timeout|target_session_attrs|sslrootcert|sslcert|sslkey)"
    r"\s*=")
_KV_PASSWORD = re.compile(r"(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


class StoredSession(LedgerSession, Protocol):
    """A session of a ledger kept outside the process: it also lists by holder."""

    def ip_where(self, cluster: str | None = None, package: str | None = None
                 ) -> list[IPRecord]: ...

    def vlan_where(self, cluster: str | None = None, package: str | None = None
                   ) -> list[VLANRecord]: ...


class StoredLedger(Protocol):
    """What both backends offer: sessions (committed on normal exit), and closing this
    process's connection."""

    def session(self) -> AbstractContextManager[StoredSession]: ...

    def close(self) -> None: ...


def is_postgres(location: str) -> bool:
    """Whether `location` names a PostgreSQL database rather than an SQLite file."""
    return location.startswith(_SCHEMES) or bool(_KEYWORDS.match(location))


def chosen(configured: str | os.PathLike[str] | None) -> str:
    """The location in use: the configured one, else `KRMFN_LEDGER`, else "" (no ledger)."""
    if configured:
        return os.fspath(configured)
    return os.environ.get(LEDGER_ENV, "").strip()


def open_ledger(location: str, *, timeout: float = 30.0) -> StoredLedger:
    """The ledger at `location` (see the module docstring), checked and ready.

    Raises `LedgerError` (one line, no password) when it cannot be used."""
    if is_postgres(location):
        try:
            from .postgres_ledger import PostgresLedger
        except ImportError as exc:
            if exc.name is None or not exc.name.startswith("psycopg"):
                raise
            raise LedgerError(f"ledger {shown(location)}: PostgreSQL support is not installed"
                              " (pip install 'krmfn[postgres]')") from None
        return PostgresLedger(location, timeout=timeout)
    from .sqlite_ledger import SqliteLedger

    return SqliteLedger(Path(location).expanduser(), timeout=timeout)


def missing_file(location: str) -> str:
    """Why an SQLite location is no ledger to read ("" when it is a file or a database):
    a look never creates a file."""
    if is_postgres(location):
        return ""
    path = Path(location).expanduser()
    if path.is_file():
        return ""
    return f"ledger {path}: {'is not a file' if path.exists() else 'no such file'}"


def shown(location: str) -> str:
    """`location` as messages may show it: without its password, wherever it was given."""
    if location.startswith(_SCHEMES):
        parts = urlsplit(location)
        netloc = re.sub(r"^([^@/]*?):[^@/]*@", r"\1@", parts.netloc)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if k != "password"]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="/")))
    if _KEYWORDS.match(location):
        return " ".join(_KV_PASSWORD.sub(" ", location).split())
    return location


def password_of(location: str) -> str:
    """The password written in `location` ("" if none), to be kept out of every message."""
    if location.startswith(_SCHEMES):
        parts = urlsplit(location)
        found = [v for k, v in parse_qsl(parts.query) if k == "password"]
        userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        if ":" in userinfo:
            found.append(unquote(userinfo.partition(":")[2]))
        return next((p for p in found if p), "")
    match = _KV_PASSWORD.search(location) if _KEYWORDS.match(location) else None
    if match is None:
        return ""
    value = match.group(2)
    if value.startswith("'") and value.endswith("'") and len(value) >= 2:
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
