"""A ledger in a PostgreSQL database, shared by renders on many machines.

Concurrency. Every session is one transaction that first takes a transaction-scoped
advisory lock (`pg_advisory_xact_lock`) that every krmfn session of the database takes:
sessions run one after the other, as they do on SQLite's `BEGIN IMMEDIATE`. An allocator
reads what is free and then takes it; two sessions interleaving would both see the same
gap. The lock makes that impossible instead of detecting it afterwards:

- SERIALIZABLE would catch the conflict only at commit, after the allocator has
  answered, and a session cannot replay the caller's work; with many writers drawing the
  lowest free block of one pool, nearly every concurrent pair conflicts, so optimistic
  retries would mostly be wasted work anyway.
- The isolation level is READ COMMITTED, set on every transaction whatever the server's
  default: each statement sees everything committed before it, so every read after the
  lock sees the last writer's commit. REPEATABLE READ would take its snapshot at the
  lock statement, before the previous holder committed, and read stale data.
- The unique constraints on (instance, prefix) and (vlan_index, vlan_id) stay as a last
  guard: a duplicate that got past everything is refused and the session rolled back.

Round trips. A session runs in libpq's pipeline mode: a statement whose result nobody
reads (the inserts and deletes, covering a range in `taken_runs`) is sent at once and not
waited for; the server runs statements in the order sent, and the next read (or the
COMMIT) waits for all of them. The lock travels with the version check, which the
server answers only once the lock is held. So a session costs a round trip per question
whose answer the allocator needs, one to begin and one to commit; and the questions are
asked in as few statements as give the SQLite session's answers (`_postgres_session`).
A queued statement that fails makes the next read, or the commit, fail: the session is
then rolled back and reported as one line like any other failure, even when the caller
was leaving without recording anything.

Plans. Every question a session asks is answered from an index, by design, and a
connection asks the same few statements thousands of times. So each statement is planned
once per connection, for any parameters (`plan_cache_mode=force_generic_plan`), and
whole-table scans are priced out (`enable_seqscan=off`) wherever an index answers:

- planning for each call's parameters cost the server about twice what running the
  statements did (3.1 s against 1.6 s for a fleet of 2,000 sites), and a package's cost
  grew with the ledger; planned once, the 10,000-site fleet took 1.2x its time on SQLite
  instead of 1.9x;
- a plan made once must not depend on when it was made: on a nearly empty table a scan
  of the whole table looks cheapest, and such a plan, kept as the table grows, scans
  tens of millions of rows. Only statements no index can answer scan (none of a
  session's do).

A session holds the lock for about the time SQLite holds its file lock (the same indexed
questions, see `_sqlite_session`); waiting for it is bounded by `timeout` (`lock_timeout`).
A killed process's transaction is rolled back by the server when its connection drops, and
its lock goes with it: nothing half-written is ever visible.

Retries. Opening a session (connecting, taking the lock, checking the schema) is retried
a bounded number of times on serialization failures, deadlocks (possible only against
other clients of the database, since every session takes the one lock first), a server
that is starting up, and a kept-open connection that the server has dropped. Once the
caller has read through the session its work cannot be replayed here: a failure then
rolls the session back and is reported.

Errors are one line naming the location without its password (see `backends.shown`);
the password is also taken out of whatever the server or libpq said.
"""

from __future__ import annotations

import atexit
import functools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors

from ._common import Discard
from ._postgres_schema import prepare
from ._postgres_session import PostgresSession
from .backends import password_of, shown
from .ledger import LedgerError

__all__ = ["LOCK_KEY", "PostgresLedger"]

LOCK_KEY = 0x6B726D66  # "krmf", as the SQLite ledger's application id
ATTEMPTS = 5
_TRANSIENT = ("40001", "40P01", "57P03", "53300")  # serialization, deadlock, starting, full

_Key = tuple[int, str]  # process, location
_IDLE: dict[_Key, list[psycopg.Connection[Any]]] = {}  # open, in no session
_LOCK = threading.Lock()
_CHECKED: set[int] = set()  # ids of the open connections whose schema was checked


@functools.lru_cache(maxsize=256)
def _dialect(sql: str) -> str:
    return sql.replace("?", "%s")


class _Translated:
    """A connection that takes the session's `?` SQL and reports errors as `LedgerError`.

    In pipeline mode a statement's failure may surface only when a later result is read,
    so reading rows is translated too."""

    def __init__(self, db: psycopg.Connection[Any], ledger: PostgresLedger) -> None:
        self._db = db
        self._ledger = ledger

    def execute(self, sql: str, parameters: Any = (), /) -> _Rows:
        try:
            return _Rows(self._db.execute(_dialect(sql), parameters), self._ledger)
        except psycopg.Error as exc:
            raise self._ledger.describe(exc) from None

    def executemany(self, sql: str, parameters: Any, /) -> None:
        try:
            with self._db.cursor() as cursor:
                cursor.executemany(_dialect(sql), list(parameters))
        except psycopg.Error as exc:
            raise self._ledger.describe(exc) from None


class _Rows:
    """A statement's rows, read when asked for (in pipeline mode: then sent and waited for)."""

    def __init__(self, cursor: psycopg.Cursor[Any], ledger: PostgresLedger) -> None:
        self._cursor = cursor
        self._ledger = ledger

    def fetchall(self) -> list[Any]:
        try:
            return self._cursor.fetchall()
        except psycopg.Error as exc:
            raise self._ledger.describe(exc) from None

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except psycopg.Error as exc:
            raise self._ledger.describe(exc) from None


class PostgresLedger:
    """A ledger in the database `location` names; the tables are created on first use and
    checked in every session.

    Connections stay open between sessions of one process (opening one costs more than
    a session): a session borrows an idle one, or opens one, and gives it back when it
    ends, so a process keeps as many as it runs sessions at once, whatever its threads;
    `close()` closes the idle ones.
    """

    def __init__(self, location: str, *, timeout: float = 30.0) -> None:
        self.location = location
        self.shown = shown(location)
        self.timeout = timeout
        self._password = password_of(location)
        if not self._idle():  # a kept connection was checked when it was opened
            with self.session():
                pass

    def session(self) -> AbstractContextManager[PostgresSession]:
        return self._session()

    def close(self) -> None:
        """Close this process's idle connections to the database."""
        with _LOCK:
            idle = _IDLE.pop(self._key(), [])
        for db in idle:
            _drop(db)

    @contextmanager
    def _session(self) -> Iterator[PostgresSession]:
        db, pipeline = self._begin()
        try:
            session = PostgresSession(_Translated(db, self), Path(self.shown), _unused)
            yield session
            session.flush()
            db.execute("COMMIT")
            pipeline.close()  # sends a sync and waits for every statement sent
        except BaseException as exc:
            late = self._abandon(db, pipeline, keep=isinstance(exc, Discard))
            if isinstance(exc, Discard) and late is not None:
                raise self.describe(late) from None  # a queued statement failed
            if isinstance(exc, psycopg.Error):
                raise self.describe(exc) from None
            raise
        self._give_back(db)

    def _begin(self) -> tuple[psycopg.Connection[Any], ExitStack]:
        """A connection inside a new transaction that holds the lock, on a checked schema,
        in pipeline mode (left by closing the returned stack)."""
        for attempt in range(ATTEMPTS):
            try:
                db, reused = self._connection()
            except psycopg.Error as exc:
                if attempt + 1 < ATTEMPTS and exc.sqlstate in _TRANSIENT:
                    time.sleep(0.05 * 2**attempt)
                    continue
                raise self.describe(exc) from None
            pipeline = ExitStack()
            try:
                pipeline.enter_context(db.pipeline())
                # Sent together with the version check, which the server answers only
                # once the lock is held: one round trip.
                db.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                prepare(db, self.shown, checked=id(db) in _CHECKED)
                _CHECKED.add(id(db))
                return db, pipeline
            except BaseException as exc:
                broken = db.broken
                _leave(db, pipeline)
                if not isinstance(exc, psycopg.Error):
                    raise
                self.close()
                if attempt + 1 < ATTEMPTS and (exc.sqlstate in _TRANSIENT
                                               or (reused and broken)):
                    time.sleep(0.05 * 2**attempt)
                    continue
                raise self.describe(exc) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _abandon(self, db: psycopg.Connection[Any], pipeline: ExitStack, *, keep: bool
                 ) -> psycopg.Error | None:
        """Roll the session back; a failure of a queued statement that surfaces on the way
        is returned. The connection is given back only when `keep` and nothing failed."""
        if keep:
            try:
                db.execute("ROLLBACK")
                pipeline.close()  # waits for every statement sent
            except psycopg.Error as exc:
                late: psycopg.Error | None = exc
            else:
                self._give_back(db)
                return None
        else:
            late = None
        _leave(db, pipeline)  # the server rolls back what the connection began
        self.close()
        return late

    def _key(self) -> _Key:
        return os.getpid(), self.location

    def _idle(self) -> bool:
        with _LOCK:
            return bool(_IDLE.get(self._key()))

    def _give_back(self, db: psycopg.Connection[Any]) -> None:
        if db.closed or db.broken:
            _drop(db)
            return
        with _LOCK:
            _IDLE.setdefault(self._key(), []).append(db)

    def _connection(self) -> tuple[psycopg.Connection[Any], bool]:
        """An idle connection of this process (and True), or a new one (and False)."""
        with _LOCK:
            idle = _IDLE.get(self._key(), [])
            held = idle.pop() if idle else None
        if held is not None:
            return held, True
        # Sessions begin and end their transactions themselves (see `_begin`): psycopg's
        # own BEGIN would wait for a round trip of its own in pipeline mode.
        db = psycopg.connect(self.location, connect_timeout=max(1, round(self.timeout)),
                             application_name="krmfn ledger", autocommit=True)
        try:
            db.execute("SELECT set_config('lock_timeout', %s, false),"
                       " set_config('plan_cache_mode', 'force_generic_plan', false),"
                       " set_config('enable_seqscan', 'off', false)",
                       (f"{max(1, round(self.timeout * 1000))}ms",))
        except BaseException:
            db.close()
            raise
        return db, False

    def describe(self, exc: psycopg.Error) -> LedgerError:
        """One line naming the ledger (no password) and what went wrong."""
        reason = _reason(exc)
        if self._password:
            reason = reason.replace(self._password, "***")
        return LedgerError(f"ledger {self.shown}: {reason}")


def _unused(path: Path, exc: Exception) -> LedgerError:
    raise AssertionError("a PostgreSQL session reports its own errors")  # pragma: no cover


_REASONS = {
    "28P01": "authentication failed",
    "28000": "the server refused the connection (pg_hba.conf)",
    "3D000": "the database does not exist",
    "42501": "permission denied (the ledger's tables cannot be created or written)",
    "55P03": "timed out waiting for another writer",
    "57014": "timed out waiting for another writer",
    "23505": "a duplicate allocation was refused",
    "53300": "the server has too many connections",
    "57P01": "the server is shutting down",
    "57P03": "the server is starting up",
    "25006": "the database is read-only",
    "53100": "the server's disk is full",
}
_PHRASES = (  # what libpq says when it fails before the server answers with an SQLSTATE
    ("password authentication failed", "authentication failed"),
    ("no password supplied", "authentication failed: no password supplied"),
    ("no pg_hba.conf entry", "the server refused the connection (pg_hba.conf)"),
    ("does not exist", ""),
    ("Connection refused", "cannot connect: connection refused"),
    ("No such file or directory", "cannot connect: no server at that socket"),
    ("timeout expired", "cannot connect: timed out"),
    ("could not translate host name", "cannot connect: unknown host"),
    ("the database system is starting up", "the server is starting up"),
    ("invalid connection option", ""),
    ("invalid URI", ""),
    ("invalid integer value", ""),
)


def _reason(exc: psycopg.Error) -> str:
    if exc.sqlstate in _REASONS:
        reason = _REASONS[exc.sqlstate]
        if isinstance(exc, errors.UniqueViolation | errors.InsufficientPrivilege):
            detail = str(exc).splitlines()[0] if str(exc) else ""
            return f"{reason}: {detail}" if detail else reason
        return reason
    text = str(exc) or type(exc).__name__
    said = text.rpartition("FATAL:")[2] if "FATAL:" in text else text
    said = said.removeprefix("connection failed: ").removeprefix("connection is bad: ")
    first = " ".join(said.split("\n")[0].split())
    for phrase, reason in _PHRASES:
        if phrase in text:
            return reason or first
    return first


def _drop(db: psycopg.Connection[Any]) -> None:
    _CHECKED.discard(id(db))
    with suppress(psycopg.Error):
        db.close()


def _leave(db: psycopg.Connection[Any], pipeline: ExitStack) -> None:
    """Close a connection, then leave its pipeline mode (nothing is sent any more)."""
    _drop(db)
    with suppress(psycopg.Error):
        pipeline.close()


@atexit.register
def _close_ours() -> None:
    with _LOCK:
        ours = [key for key in _IDLE if key[0] == os.getpid()]
        idle = [db for key in ours for db in _IDLE.pop(key)]
    for db in idle:
        _drop(db)
