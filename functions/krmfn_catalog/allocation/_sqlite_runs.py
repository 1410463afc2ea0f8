"""Taken address ranges of an SQLite ledger, merged into maximal runs.

The ledger's rows say who holds what; this table says only what is taken, each run of
consecutive taken addresses (or VLAN IDs) stored once. Finding the lowest free gap then
skips a whole run per step instead of one row per step: 10,000 sites carved one after the
other out of a pool are a single run, and the next site's block is found in one lookup.

Numbers are stored as 16-byte big-endian BLOBs, which SQLite compares in numeric order,
so IPv6 addresses fit and one table serves every space ("ip4 vpc-ran", "vlan fabric").
PostgreSQL compares `bytea` the same way, so the same table serves there too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["RUNS_SCHEMA", "Database", "Runs", "pack", "unpack"]

TOP = (1 << 128) - 1
RUNS_SCHEMA = """CREATE TABLE taken_runs (
    space TEXT NOT NULL,
    first BLOB NOT NULL,
    last BLOB NOT NULL,
    PRIMARY KEY (space, first)
) WITHOUT ROWID"""


class Rows(Protocol):
    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...


class Database(Protocol):
    """What a session needs of a connection: `sqlite3.Connection` has it as it is."""

    def execute(self, sql: str, parameters: Any = (), /) -> Rows: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


def pack(value: int) -> bytes:
    return value.to_bytes(16, "big")


def unpack(value: object) -> int:
    if not isinstance(value, bytes):
        raise sqlite3.DatabaseError("a taken range is not a 16-byte number")
    return int.from_bytes(value, "big")


class Runs:
    """Keeps `taken_runs` equal to the union of the ranges the ledger's rows take.

    Runs never overlap nor touch: covering merges neighbours, uncovering splits.
    """

    def __init__(self, connection: Database) -> None:
        self._db = connection

    def cover(self, space: str, first: int, last: int) -> None:
        """Mark `first..last` taken."""
        low, high, merged = first, last, []
        left = self._last_starting_at_or_before(space, first - 1) if first > 0 else None
        if left is not None and left[1] >= first - 1:
            if left[1] >= last:
                return  # already inside a run
            low, high = left[0], max(high, left[1])
            merged.append(left[0])
        rows = self._db.execute(
            "SELECT first, last FROM taken_runs WHERE space = ? AND first BETWEEN ? AND ?",
            (space, pack(first), pack(min(last + 1, TOP))),
        )
        for start, end in rows.fetchall():
            high = max(high, unpack(end))
            merged.append(unpack(start))
        self._delete(space, merged)
        self._db.execute("INSERT INTO taken_runs VALUES (?, ?, ?)", (space, pack(low), pack(high)))

    def uncover(self, space: str, first: int, last: int, still: Iterable[tuple[int, int]]) -> None:
        """Mark `first..last` free, except the parts of `still` (what other rows take)."""
        touched = []
        left = self._last_starting_at_or_before(space, first - 1) if first > 0 else None
        if left is not None and left[1] >= first:
            touched.append(left)
        rows = self._db.execute(
            "SELECT first, last FROM taken_runs WHERE space = ? AND first BETWEEN ? AND ?",
            (space, pack(first), pack(last)),
        )
        touched += [(unpack(start), unpack(end)) for start, end in rows.fetchall()]
        self._delete(space, [start for start, _ in touched])
        for start, end in touched:
            if start < first:
                self.cover(space, start, first - 1)
            if end > last:
                self.cover(space, last + 1, end)
        for start, end in still:
            if start <= last and end >= first:
                self.cover(space, max(start, first), min(end, last))

    def lowest_free(self, space: str, first: int, last: int, size: int) -> int | None:
        """The lowest multiple of `size` from `first` on whose block is free and ends by `last`."""
        start = -(-first // size) * size
        while start + size - 1 <= last:
            run = self._last_starting_at_or_before(space, start + size - 1)
            if run is None or run[1] < start:
                return start
            start = -(-(run[1] + 1) // size) * size  # past the run, aligned again
        return None

    def _last_starting_at_or_before(self, space: str, value: int) -> tuple[int, int] | None:
        row = self._db.execute(
            "SELECT first, last FROM taken_runs WHERE space = ? AND first <= ?"
            " ORDER BY first DESC LIMIT 1",
            (space, pack(value)),
        ).fetchone()
        return None if row is None else (unpack(row[0]), unpack(row[1]))

    def _delete(self, space: str, starts: list[int]) -> None:
        self._db.executemany(
            "DELETE FROM taken_runs WHERE space = ? AND first = ?",
            [(space, pack(start)) for start in starts],
        )
