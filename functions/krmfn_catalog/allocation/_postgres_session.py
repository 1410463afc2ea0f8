"""The session of a PostgreSQL ledger: the SQLite session's questions, asked in fewer
statements.

A PostgreSQL session runs in pipeline mode (see `postgres_ledger`): a statement whose
result nobody reads costs no round trip of its own, one that is read costs one. So the
questions are asked with as few reads as give the same answers as `SqliteSession`:

- the rows a call records are inserted by one statement, whatever their number;
- covering a range in `taken_runs` of a space not read (below) is one statement that
  reads nothing back: it merges the range with the runs it touches on the server. The
  merged run keeps the key of its lowest run (an update in place, where SQLite's delete
  and insert would leave a dead row and index entry behind on every claim of a pool);
- the lowest free gap reads the run before the first candidate and a few after it in one
  statement, instead of one statement per step;
- the rows overlapping a range are read in one statement (the rows containing its first
  address, then those starting inside, in the SQLite session's order and limit);
- the runs of a space (a pool, a VLAN index) are read once per session, in one statement,
  when the space has at most `SPACE_RUNS` of them (a space carved out one block after
  the other is one run). The session holds the ledger's lock, so they stay true until it
  ends. Its own covering is applied to them alone, and what changed is written by one
  statement for all spaces when the session ends (`flush`), or before a claim given back
  (rare) is uncovered, which drops them, to be read again if asked. From them the lowest
  free gap is found without asking, and a range no run touches is known to hold no row
  (`taken_runs` is the union of what the rows take). A space with more runs is asked as
  above.

Statements are planned once per connection (see `postgres_ledger`): the inserts take
their rows as arrays, so one statement serves any number of rows and is planned once.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from pathlib import Path

from ._sqlite_runs import TOP, Database, Runs, pack, unpack
from ._sqlite_session import (
    _BITS,
    _IP_COLUMNS,
    _NO_LIMIT,
    _VLAN_COLUMNS,
    Describe,
    SqliteSession,
    _ip_space,
    _vlan_space,
    ip_rows,
)
from .ledger import IPRecord, VLANRecord

__all__ = ["PostgresRuns", "PostgresSession"]

AHEAD = 4  # runs read past the first candidate of a lowest-free search
SPACE_RUNS = 256  # runs of one space read at once; a space with more is asked per question

# Runs touching first..last: the last one starting before `first` (if it reaches
# first - 1) and those starting in first..last + 1. They become one run keyed by the
# lowest start; the others are deleted. The DELETE and the INSERT see the same snapshot
# and never touch the same key, so their order within the statement does not matter.
_COVER = """WITH near AS (
    (SELECT first, last FROM taken_runs WHERE space = ? AND first < ?
     ORDER BY first DESC LIMIT 1)
    UNION ALL
    (SELECT first, last FROM taken_runs WHERE space = ? AND first BETWEEN ? AND ?)
), touching AS MATERIALIZED (
    SELECT first, last FROM near WHERE last >= ?
), span AS MATERIALIZED (
    SELECT LEAST(?::bytea, (SELECT first FROM touching ORDER BY first LIMIT 1)) AS low,
           GREATEST(?::bytea, (SELECT last FROM touching ORDER BY last DESC LIMIT 1)) AS high
), merged AS (
    DELETE FROM taken_runs WHERE space = ? AND first IN (SELECT first FROM touching)
        AND first <> (SELECT low FROM span)
)
INSERT INTO taken_runs (space, first, last) SELECT ?, low, high FROM span
ON CONFLICT (space, first) DO UPDATE SET last = EXCLUDED.last
    WHERE taken_runs.last <> EXCLUDED.last"""

# What changed in the runs read once, for every space at once: the runs gone (by key), and
# the runs new or longer. The keys deleted are never among those written, so the two parts
# of the statement, which see the same snapshot, do not meet.
_WRITE_RUNS = """WITH gone AS (
    DELETE FROM taken_runs WHERE (space, first) IN
        (SELECT * FROM unnest(?::text[], ?::bytea[]))
)
INSERT INTO taken_runs (space, first, last) SELECT * FROM unnest(?::text[], ?::bytea[], ?::bytea[])
ON CONFLICT (space, first) DO UPDATE SET last = EXCLUDED.last"""

_INSERT_IPS = """INSERT INTO ip_allocations (owner, instance, kind, prefix, gateway, version, host,
    first, last, cluster, package, claim)
SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::integer[],
    ?::boolean[], ?::bytea[], ?::bytea[], ?::text[], ?::text[], ?::text[])"""

_INSERT_VLANS = f"""INSERT INTO vlan_allocations ({_VLAN_COLUMNS})
SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[])"""

_AROUND = """(SELECT first, last FROM taken_runs WHERE space = ? AND first <= ?
 ORDER BY first DESC LIMIT 1)
UNION ALL
(SELECT first, last FROM taken_runs WHERE space = ? AND first > ? ORDER BY first LIMIT ?)"""


class PostgresRuns(Runs):
    """`Runs` whose covering writes without reading, and that answers from the runs of a
    space read once (`known`), or else reads ahead."""

    def __init__(self, connection: Database) -> None:
        super().__init__(connection)
        self._known: dict[str, list[tuple[int, int]] | None] = {}  # None: too many to read
        self._stored: dict[str, list[tuple[int, int]]] = {}  # known runs as the table has them

    def known(self, space: str) -> list[tuple[int, int]] | None:
        """Every run of `space`, sorted (read once per session), or None when it has more
        than `SPACE_RUNS`."""
        if space not in self._known:
            rows = self._db.execute(
                "SELECT first, last FROM taken_runs WHERE space = ? ORDER BY first LIMIT ?",
                (space, SPACE_RUNS + 1)).fetchall()
            runs = [(unpack(start), unpack(end)) for start, end in rows]
            self._known[space] = None if len(runs) > SPACE_RUNS else runs
            if len(runs) <= SPACE_RUNS:
                self._stored[space] = list(runs)
        return self._known[space]

    def untouched(self, space: str, first: int, last: int) -> bool:
        """Whether no run of `space` touches `first..last` (False when it is not known)."""
        runs = self.known(space)
        if runs is None:
            return False
        i = bisect.bisect_right(runs, (last, TOP)) - 1  # the last run starting by `last`
        return i < 0 or runs[i][1] < first

    def cover(self, space: str, first: int, last: int) -> None:
        runs = self._known.get(space)
        if runs is not None:
            _merge(runs, first, last)  # written by `flush`
            return
        self._db.execute(_COVER, (
            space, pack(first), space, pack(first), pack(min(last + 1, TOP)),
            pack(max(first - 1, 0)), pack(first), pack(last), space, space,
        ))

    def uncover(self, space: str, first: int, last: int, still: Iterable[tuple[int, int]]
                ) -> None:
        self.flush()
        self._known.pop(space, None)  # read again (after these writes) if asked
        self._stored.pop(space, None)
        super().uncover(space, first, last, still)
        self._known.pop(space, None)
        self._stored.pop(space, None)

    def flush(self) -> None:
        """Write what covering changed in the runs read once, in one statement (sent, not
        waited for)."""
        gone: list[tuple[str, int]] = []
        new: list[tuple[str, int, int]] = []
        for space, stored in self._stored.items():
            runs = self._known[space]
            if runs is None or runs == stored:
                continue
            kept = {start for start, _ in runs}
            gone += [(space, start) for start, _ in stored if start not in kept]
            before = set(stored)
            new += [(space, start, end) for start, end in runs if (start, end) not in before]
            self._stored[space] = list(runs)
        if gone or new:
            self._db.execute(_WRITE_RUNS, (
                [space for space, _ in gone], [pack(start) for _, start in gone],
                [space for space, _, _ in new], [pack(start) for _, start, _ in new],
                [pack(end) for _, _, end in new],
            ))

    def lowest_free(self, space: str, first: int, last: int, size: int) -> int | None:
        known = self.known(space)
        if known is not None:
            return _lowest_free_in(known, first, last, size)
        start = -(-first // size) * size
        runs: list[tuple[int, int]] = []  # every run starting from runs[0] up to `read`
        read = -1
        while start + size - 1 <= last:
            probe = start + size - 1
            if probe > read:
                runs, read = self._around(space, probe)
            run = next((r for r in reversed(runs) if r[0] <= probe), None)
            if run is None or run[1] < start:
                return start
            start = -(-(run[1] + 1) // size) * size  # past the run, aligned again
        return None

    def _around(self, space: str, value: int) -> tuple[list[tuple[int, int]], int]:
        """The run starting at or before `value` and up to `AHEAD` after it, sorted, and
        the highest value below which no other run starts."""
        rows = self._db.execute(_AROUND, (space, pack(value), space, pack(value), AHEAD))
        runs = sorted((unpack(start), unpack(end)) for start, end in rows.fetchall())
        ahead = [run for run in runs if run[0] > value]
        known = TOP if len(ahead) < AHEAD else ahead[-1][0] - 1
        return runs, known


def _merge(runs: list[tuple[int, int]], first: int, last: int) -> None:
    """Cover `first..last` in sorted, disjoint, non-touching `runs`, as `_COVER` does."""
    low = bisect.bisect_left(runs, (first, -1))
    if low > 0 and runs[low - 1][1] >= first - 1:
        low -= 1  # the run before reaches the range, or ends right before it
    high = bisect.bisect_right(runs, (last + 1, TOP))  # runs starting by last + 1
    merged = runs[low:high]
    start = min([first, *(r[0] for r in merged)])
    end = max([last, *(r[1] for r in merged)])
    runs[low:high] = [(start, end)]


def _lowest_free_in(runs: list[tuple[int, int]], first: int, last: int, size: int
                    ) -> int | None:
    """`Runs.lowest_free` over known runs."""
    start = -(-first // size) * size
    while start + size - 1 <= last:
        i = bisect.bisect_right(runs, (start + size - 1, TOP)) - 1
        if i < 0 or runs[i][1] < start:
            return start
        start = -(-(runs[i][1] + 1) // size) * size
    return None


class PostgresSession(SqliteSession):
    """`SqliteSession` asking its questions of PostgreSQL in fewer statements."""

    def __init__(self, connection: Database, path: Path, describe: Describe) -> None:
        super().__init__(connection, path, describe)
        self._runs: PostgresRuns = PostgresRuns(connection)

    def flush(self) -> None:
        """Send what the session still holds back; before it commits."""
        with self._errors():
            self._runs.flush()

    def _insert_ips(self, records: list[IPRecord]) -> None:
        columns = [list(column) for column in zip(*ip_rows(records), strict=True)]
        self._db.execute(_INSERT_IPS, columns)
        self._cover_ips(records)

    def _insert_vlans(self, records: list[VLANRecord]) -> None:
        self._db.execute(_INSERT_VLANS, [
            [r.key for r in records], [r.index for r in records], [r.vlan_id for r in records],
            [r.cluster for r in records], [r.package for r in records],
            [r.claim for r in records]])
        self._cover_vlans(records)

    def vlan_holder(self, index: str, vlan_id: int) -> VLANRecord | None:
        if 0 <= vlan_id <= TOP:
            with self._errors():
                if self._runs.untouched(_vlan_space(index), vlan_id, vlan_id):
                    return None
        return super().vlan_holder(index, vlan_id)

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
        if not (version in _BITS and 0 <= first <= last <= TOP) or limit == 0:
            return []
        if self._runs.untouched(_ip_space(instance, version), first, last):
            return []  # no row takes anything there
        if host or first == 0:  # nothing can contain the range from before it
            return super()._overlapping(instance, version, host, first, last, limit, columns)
        starts = {first & ~((1 << bits) - 1) for bits in range(1, _BITS[version] + 1)}
        starts.discard(first)
        marks = ", ".join("?" * len(starts))
        where = "instance = ? AND version = ? AND host = ?"
        keys = "owner AS sort_owner, first AS sort_first, last AS sort_last"
        order = "ORDER BY first, last DESC, owner"
        # Rows containing `first` start before it, rows inside at or after it: one order
        # over both is the SQLite session's "those before, then those inside".
        rows = self._db.execute(
            f"SELECT {columns} FROM ("
            f"(SELECT {keys}, {columns} FROM ip_allocations WHERE {where}"
            f" AND first IN ({marks}) AND last >= ?)"
            " UNION ALL "
            f"(SELECT {keys}, {columns} FROM ip_allocations WHERE {where}"
            f" AND first BETWEEN ? AND ? {order} LIMIT ?)"
            ") AS found ORDER BY sort_first, sort_last DESC, sort_owner LIMIT ?",
            (instance, version, host, *map(pack, sorted(starts)), pack(first),
             instance, version, host, pack(first), pack(last),
             _NO_LIMIT if limit is None else limit, _NO_LIMIT if limit is None else limit),
        ).fetchall()
        return [tuple(row) for row in rows]
