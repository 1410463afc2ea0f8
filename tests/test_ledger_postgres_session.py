"""The PostgreSQL session's own SQL (covering in one statement, reading runs ahead, one
question for overlaps) answers as the in-memory and SQLite ledgers do, and its pipelined
writes fail as one-line errors with nothing written, even when the failure surfaces later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from krmfn_catalog.allocation import _postgres_session
from krmfn_catalog.allocation._common import Discard
from krmfn_catalog.allocation.ledger import (
    IPRecord,
    LedgerError,
    LedgerSession,
    PackageLedger,
    VLANRecord,
    ip_extent,
)
from krmfn_catalog.allocation.postgres_ledger import PostgresLedger
from krmfn_catalog.allocation.sqlite_ledger import SqliteLedger

TOP4, TOP6 = (1 << 32) - 1, (1 << 128) - 1
# Where records are drawn: the bottom and the top of each space (a run at address 0 or
# ending at the last address), and somewhere in between.
PLACES = {
    4: [0, 10 << 24, TOP4 + 1 - 512],
    6: [0, 0xFD00 << 112, TOP6 + 1 - 512],
}
BITS = {4: 32, 6: 128}
KEYS = ["k0", "k1", "K2", "k-3", "k_4", "k.5", "k10", "k9", "a/b-c", "a/b_c"]


def _text(version: int, value: int) -> str:
    import ipaddress

    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


@st.composite
def ip_records(draw: st.DrawFn) -> IPRecord:
    version = draw(st.sampled_from([4, 6]))
    base = draw(st.sampled_from(PLACES[version]))
    length = draw(st.integers(BITS[version] - 8, BITS[version]))
    offset = draw(st.integers(0, 511)) & ~((1 << (BITS[version] - length)) - 1)
    kind = draw(st.sampled_from(["pool", "loopback", "subnet", "network"]))
    prefix = f"{_text(version, base + offset)}/{length}"
    return IPRecord(draw(st.sampled_from(KEYS)), draw(st.sampled_from("ab")), kind, prefix)


@st.composite
def vlan_records(draw: st.DrawFn) -> VLANRecord:
    vlan_id = draw(st.one_of(st.integers(0, 40), st.integers(4080, 4095)))
    return VLANRecord(draw(st.sampled_from(KEYS)), draw(st.sampled_from("xy")), vlan_id)


Step = tuple[str, list[Any]]
steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["put_ip", "pop_ip"]), st.lists(ip_records(), max_size=5)),
        st.tuples(st.sampled_from(["put_vlan", "pop_vlan"]),
                  st.lists(vlan_records(), max_size=5)),
    ),
    max_size=14,
)


def _place(record: IPRecord | VLANRecord) -> tuple[str, object]:
    if isinstance(record, IPRecord):
        return record.instance, record.prefix
    return record.index, record.vlan_id


def apply(session: LedgerSession, plan: list[Step], ip: dict[str, IPRecord],
          vlan: dict[str, VLANRecord]) -> None:
    """Puts and pops, each checked; a put leaves out records the unique places refuse."""
    for action, records in plan:
        held: dict[str, Any] = ip if action.endswith("ip") else vlan
        if action.startswith("pop"):
            keys = sorted({r.key for r in records})
            popped = session.pop_ip(keys) if action == "pop_ip" else session.pop_vlan(keys)
            assert popped == [held.pop(k) for k in keys if k in held]
            continue
        batch = {r.key: r for r in records}
        while True:  # drop a record whose place another key keeps, until none is left
            places = {_place(r): r.key for r in held.values() if r.key not in batch}
            refused = next((r.key for r in batch.values()
                            if places.setdefault(_place(r), r.key) != r.key), None)
            if refused is None:
                break
            del batch[refused]
        if action == "put_ip":
            session.put_ip(batch.values())
        else:
            session.put_vlan(batch.values())
        held.update(batch)


def expected_runs(ip: dict[str, IPRecord], vlan: dict[str, VLANRecord]
                  ) -> list[tuple[str, int, int]]:
    """The maximal runs of what the records take, per space, as `taken_runs` holds them."""
    taken: dict[str, list[tuple[int, int]]] = {}
    for record in ip.values():
        extent = ip_extent(record)
        if extent is not None:
            taken.setdefault(f"ip{extent[0]} {record.instance}", []).append(extent[1:])
    for v in vlan.values():
        taken.setdefault(f"vlan {v.index}", []).append((v.vlan_id, v.vlan_id))
    runs = []
    for space, ranges in sorted(taken.items()):
        merged: list[list[int]] = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        runs += [(space, first, last) for first, last in merged]
    return runs


def stored_runs(session: LedgerSession) -> list[tuple[str, int, int]]:
    """What `taken_runs` holds once the session has sent what it holds back."""
    if isinstance(session, _postgres_session.PostgresSession):
        session.flush()
    rows = session._db.execute(  # type: ignore[attr-defined]
        "SELECT space, first, last FROM taken_runs ORDER BY space, first").fetchall()
    return [(str(space), int.from_bytes(first, "big"), int.from_bytes(last, "big"))
            for space, first, last in rows]


class Rollback(Exception):
    """Ends a session without keeping anything, so one database serves every example."""


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps, data=st.data())
def test_postgres_answers_as_memory_and_sqlite_after_any_puts_and_pops(
    shared_file: Path, shared_database: str, plan: list[Step], data: st.DataObject
) -> None:
    ip: dict[str, IPRecord] = {}
    vlan: dict[str, VLANRecord] = {}
    with pytest.raises(Rollback), PackageLedger().session() as memory, \
            SqliteLedger(shared_file).session() as disk, \
            PostgresLedger(shared_database).session() as server:
        apply(memory, plan, dict(ip), dict(vlan))
        apply(disk, plan, dict(ip), dict(vlan))
        apply(server, plan, ip, vlan)
        assert stored_runs(server) == expected_runs(ip, vlan)
        assert stored_runs(disk) == expected_runs(ip, vlan)
        for instance in "ab":
            assert server.ip_records(instance) == memory.ip_records(instance)
            for version, bases in PLACES.items():
                for _ in range(4):
                    low = data.draw(st.sampled_from(bases)) + data.draw(st.integers(0, 511))
                    high = min(low + data.draw(st.integers(0, 600)),
                               TOP4 if version == 4 else TOP6)
                    ask = (instance, version, low, high)
                    for limit in (None, 1, 2):
                        want = memory.ip_blocks(*ask, limit)
                        assert server.ip_blocks(*ask, limit) == want
                        assert disk.ip_blocks(*ask, limit) == want
                        assert server.ip_hosts(*ask, limit) == memory.ip_hosts(*ask, limit)
                    size = 1 << data.draw(st.integers(0, 9))
                    free = memory.ip_lowest_free(*ask, size)
                    assert server.ip_lowest_free(*ask, size) == free
                    assert disk.ip_lowest_free(*ask, size) == free
        for index in "xy":
            assert server.vlan_records(index) == memory.vlan_records(index)
            for _ in range(4):
                low = data.draw(st.one_of(st.integers(0, 40), st.integers(4070, 4095)))
                high = low + data.draw(st.integers(0, 30))
                assert server.vlan_lowest_free(index, low, high) == \
                    memory.vlan_lowest_free(index, low, high)
                assert server.vlan_holder(index, low) == memory.vlan_holder(index, low)
        raise Rollback


@pytest.mark.parametrize("space_runs", [256, 1])
@settings(max_examples=120, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(plan=steps, data=st.data())
def test_questions_between_writes_answer_as_memory(
    shared_database: str, plan: list[Step], data: st.DataObject, space_runs: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runs of a space read once per session are kept true by the session's own
    covering and dropped by uncovering: questions asked between the writes of one session
    (so after the runs were read) answer as the in-memory ledger does, and so does a
    space with more runs than are read at once (`space_runs` 1)."""
    monkeypatch.setattr(_postgres_session, "SPACE_RUNS", space_runs)
    ip: dict[str, IPRecord] = {}
    vlan: dict[str, VLANRecord] = {}
    with pytest.raises(Rollback), PackageLedger().session() as memory, \
            PostgresLedger(shared_database).session() as server:
        for step in plan:
            apply(memory, [step], dict(ip), dict(vlan))
            apply(server, [step], ip, vlan)
            for instance in "ab":
                version = data.draw(st.sampled_from([4, 6]))
                low = data.draw(st.sampled_from(PLACES[version])) + data.draw(
                    st.integers(0, 511))
                high = min(low + data.draw(st.integers(0, 600)), TOP4 if version == 4 else TOP6)
                ask = (instance, version, low, high)
                size = 1 << data.draw(st.integers(0, 9))
                assert server.ip_lowest_free(*ask, size) == memory.ip_lowest_free(*ask, size)
                assert server.ip_blocks(*ask, None) == memory.ip_blocks(*ask, None)
                assert server.ip_hosts(*ask, 2) == memory.ip_hosts(*ask, 2)
            for index in "xy":
                low = data.draw(st.one_of(st.integers(0, 40), st.integers(4070, 4095)))
                assert server.vlan_holder(index, low) == memory.vlan_holder(index, low)
                assert server.vlan_lowest_free(index, low, low + 20) == \
                    memory.vlan_lowest_free(index, low, low + 20)
        assert stored_runs(server) == expected_runs(ip, vlan)
        raise Rollback


def test_a_search_past_many_runs_reads_ahead_again(postgres_url: str) -> None:
    """More separate runs than one read brings: the search reads again where it stopped."""
    runs = 3 * _postgres_session.AHEAD + 2
    records = [IPRecord(f"k{i}", "a", "pool", f"10.0.0.{4 * i}/31") for i in range(runs)]
    with PackageLedger().session() as memory, PostgresLedger(postgres_url).session() as server:
        memory.put_ip(records)
        server.put_ip(records)
        for first in range(0, 4 * runs + 4):
            for size in (1, 2, 4):
                ask = ("a", 4, (10 << 24) + first, (10 << 24) + 4 * runs + 7, size)
                assert server.ip_lowest_free(*ask) == memory.ip_lowest_free(*ask)


def _prefixes(location: str) -> tuple[list[str], list[tuple[str, int, int]]]:
    with PostgresLedger(location).session() as session:
        return [r.prefix for r in session.ip_records("a")], stored_runs(session)


def test_a_write_failing_in_the_pipeline_is_one_line_when_read_and_nothing_is_written(
        postgres_url: str) -> None:
    ledger = PostgresLedger(postgres_url)
    with ledger.session() as session:
        session.put_ip([IPRecord("k0", "a", "pool", "10.0.0.0/24")])
    before = _prefixes(postgres_url)
    with pytest.raises(LedgerError) as raised, ledger.session() as session:
        session.put_ip([IPRecord("k1", "a", "pool", "10.0.1.0/24")])
        session.put_ip([IPRecord("k2", "a", "pool", "10.0.0.0/24")])  # k0's place: refused
        session.ip_lowest_free("a", 4, 10 << 24, (11 << 24) - 1, 256)  # the next read
    assert "a duplicate allocation was refused" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert _prefixes(postgres_url) == before  # neither k1 nor its run were kept


def test_a_write_failing_in_the_pipeline_is_one_line_at_commit_and_nothing_is_written(
        postgres_url: str) -> None:
    ledger = PostgresLedger(postgres_url)
    with ledger.session() as session:
        session.put_vlan([VLANRecord("v0", "x", 7)])
        session.put_ip([IPRecord("k0", "a", "pool", "10.0.0.0/24")])
    before = _prefixes(postgres_url)
    with pytest.raises(LedgerError) as raised, ledger.session() as session:
        session.put_ip([IPRecord("k1", "a", "pool", "10.0.1.0/24")])
        session.put_vlan([VLANRecord("v1", "x", 7)])  # v0's ID: refused, nothing reads after
    assert "a duplicate allocation was refused" in str(raised.value)
    assert _prefixes(postgres_url) == before
    with ledger.session() as session:  # and the ledger goes on working
        assert [v.key for v in session.vlan_records("x")] == ["v0"]


def test_a_discarded_session_whose_queued_write_failed_says_so(postgres_url: str) -> None:
    ledger = PostgresLedger(postgres_url)
    with ledger.session() as session:
        session.put_ip([IPRecord("k0", "a", "pool", "10.0.0.0/24")])
    before = _prefixes(postgres_url)
    with pytest.raises(LedgerError, match="a duplicate allocation was refused"), \
            ledger.session() as session:
        session.put_ip([IPRecord("k2", "a", "pool", "10.0.0.0/24")])
        raise Discard
    with pytest.raises(Discard), ledger.session() as session:  # a plain discard stays one
        session.put_ip([IPRecord("k3", "a", "pool", "10.0.3.0/24")])
        raise Discard
    assert _prefixes(postgres_url) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans=st.lists(steps, min_size=1, max_size=4))
def test_runs_covered_in_a_session_are_in_the_table_once_it_commits(
    shared_database: str, plans: list[list[Step]]
) -> None:
    """Covering a space read once is written when the session ends: every committed
    session leaves `taken_runs` the union of what the rows take, for the next to read."""
    ledger = PostgresLedger(shared_database)
    ip: dict[str, IPRecord] = {}
    vlan: dict[str, VLANRecord] = {}
    with ledger.session() as session:  # a clean start for every example
        session.pop_ip([r.key for r in session.ip_where()])
        session.pop_vlan([r.key for r in session.vlan_where()])
    for plan in plans:
        with ledger.session() as session:
            for instance in "ab":  # the spaces are read, so their covering waits
                session.ip_lowest_free(instance, 4, 0, TOP4, 256)
                session.ip_lowest_free(instance, 6, 0, TOP6, 1 << 64)
            for index in "xy":
                session.vlan_lowest_free(index, 0, 4095)
            apply(session, plan, ip, vlan)
        with ledger.session() as session:  # a new session has nothing held back
            assert stored_runs(session) == expected_runs(ip, vlan)


def _whole_table_scans(session: LedgerSession) -> list[tuple[str, int]]:
    """The scans of the ledger's tables this connection made and has not yet reported
    to the server's statistics (which it does only between transactions)."""
    rows = session._db.execute(  # type: ignore[attr-defined]
        "SELECT relname, seq_scan FROM pg_stat_xact_user_tables"
        " WHERE relname IN ('ip_allocations', 'vlan_allocations', 'taken_runs')"
        " ORDER BY relname").fetchall()
    return [(str(name), int(count)) for name, count in rows]


@pytest.mark.parametrize("space_runs", [256, 1])
def test_no_question_scans_a_whole_table_even_on_a_nearly_empty_ledger(
    postgres_url: str, space_runs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plans are made once per connection and kept as the tables grow, so they must not
    be the whole-table scans that look cheapest while the ledger is nearly empty: every
    question of a session (with its space's runs read at once, or asked one by one)
    is answered from an index."""
    monkeypatch.setattr(_postgres_session, "SPACE_RUNS", space_runs)
    ledger = PostgresLedger(postgres_url)
    ip = [IPRecord(f"k{i}", "a", "pool", f"10.0.{i}.0/24", None, "c", "p", "x")
          for i in range(4)]
    ip.append(IPRecord("h0", "a", "network", "10.0.9.1/24", None, "c", "p", "x"))
    for _ in range(2):  # the second time on a connection whose plans are made
        with ledger.session() as session:
            before = _whole_table_scans(session)  # creating the tables scanned them
            session.put_ip(ip)
            session.put_vlan([VLANRecord(f"v{i}", "x", 10 + i, "c", "p", "y") for i in range(3)])
            session.ip_lowest_free("a", 4, 10 << 24, (11 << 24) - 1, 256)
            session.ip_blocks("a", 4, (10 << 24) + 256, (10 << 24) + 1023, None)
            session.ip_hosts("a", 4, (10 << 24) + 2304, (10 << 24) + 2559, 2)
            session.vlan_holder("x", 11)
            session.vlan_lowest_free("x", 0, 4095)
            session.ip_owned("c", "p")
            session.vlan_owned("c", "p")
            session.ip_records("a")
            session.vlan_records("x")
            session.pop_ip(["k1"])
            session.pop_vlan(["v1"])
            session.flush()
            assert _whole_table_scans(session) == before
