"""The narrow questions a ledger session answers, and both ledgers answering them alike."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from krmfn_catalog.allocation.ipam import IPClaimRequest, PoolPrefix, allocate_ips
from krmfn_catalog.allocation.ledger import (
    IPRecord,
    Ledger,
    LedgerError,
    LedgerSession,
    PackageLedger,
    VLANRecord,
    ip_extent,
)
from krmfn_catalog.allocation.owner import PackageOwner
from krmfn_catalog.allocation.postgres_ledger import PostgresLedger
from krmfn_catalog.allocation.sqlite_ledger import SCHEMA_VERSION, SqliteLedger
from krmfn_catalog.allocation.vlan import VLANClaimRequest, VLANIndex, allocate_vlans
from postgres_server import PostgresServer

V4 = 0x0A000000  # 10.0.0.0


def v4(text: str) -> int:
    a, b, c, d = (int(part) for part in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


@pytest.fixture(params=["package", "sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Ledger:
    if request.param == "package":
        return PackageLedger()
    if request.param == "postgres":
        return PostgresLedger(request.getfixturevalue("postgres_url"))
    return SqliteLedger(tmp_path / "ledger.sqlite")


# -- the questions, on either ledger ------------------------------------------------------

NESTED = [
    IPRecord("wide", "vpc", "pool", "10.0.0.0/16"),
    IPRecord("inner", "vpc", "subnet", "10.0.1.0/24"),
    IPRecord("upf", "vpc", "network", "10.0.1.5/24", "10.0.1.1"),
    IPRecord("lo", "vpc", "loopback", "10.0.2.7/32"),
    IPRecord("elsewhere", "vpc-2", "pool", "10.0.1.0/24"),
    IPRecord("v6", "vpc", "pool", "fd00::/64"),
    IPRecord("junk", "vpc", "pool", "not a prefix"),
]


def keys(records: list[IPRecord]) -> list[str]:
    return [record.key for record in records]


def test_blocks_and_hosts_overlapping_a_range_come_lowest_first(ledger: Ledger) -> None:
    with ledger.session() as session:
        session.put_ip(NESTED)
        first, last = v4("10.0.1.0"), v4("10.0.1.255")
        assert keys(session.ip_blocks("vpc", 4, first, last)) == ["wide", "inner"]
        assert keys(session.ip_blocks("vpc", 4, first, last, limit=1)) == ["wide"]
        assert keys(session.ip_hosts("vpc", 4, first, last)) == ["upf"]
        assert keys(session.ip_hosts("vpc", 4, v4("10.0.1.6"), last)) == []
        assert keys(session.ip_blocks("vpc", 4, v4("10.0.2.0"), v4("10.0.2.7"))) == ["wide", "lo"]
        assert keys(session.ip_blocks("vpc", 4, v4("10.1.0.0"), v4("10.1.0.255"))) == []
        assert keys(session.ip_blocks("vpc", 6, 0, (1 << 128) - 1)) == ["v6"]
        assert keys(session.ip_blocks("vpc-2", 4, V4, v4("10.255.255.255"))) == ["elsewhere"]


def test_lowest_free_skips_what_is_taken_and_stays_aligned(ledger: Ledger) -> None:
    with ledger.session() as session:
        session.put_ip(
            [
                IPRecord("a", "vpc", "pool", "10.0.0.0/26"),
                IPRecord("b", "vpc", "loopback", "10.0.0.64/32"),
                IPRecord("h", "vpc", "network", "10.0.0.130/24", "10.0.0.1"),
            ]
        )
        top = v4("10.0.0.255")
        assert session.ip_lowest_free("vpc", 4, V4, top, 64) == v4("10.0.0.192")
        assert session.ip_lowest_free("vpc", 4, V4, top, 32) == v4("10.0.0.96")
        assert session.ip_lowest_free("vpc", 4, V4, top, 1) == v4("10.0.0.65")
        assert session.ip_lowest_free("vpc", 4, v4("10.0.0.129"), top, 1) == v4("10.0.0.129")
        assert session.ip_lowest_free("vpc", 4, V4, top, 256) is None
        assert session.ip_lowest_free("vpc", 4, V4, v4("10.0.0.63"), 1) is None
        assert session.ip_lowest_free("other", 4, V4, top, 256) == V4


def test_vlan_questions(ledger: Ledger) -> None:
    with ledger.session() as session:
        session.put_vlan([VLANRecord(f"k{i}", "fabric", i) for i in (2, 3, 5)])
        assert session.vlan_holder("fabric", 3) == VLANRecord("k3", "fabric", 3)
        assert session.vlan_holder("fabric", 4) is None
        assert session.vlan_holder("edge", 3) is None
        assert session.vlan_lowest_free("fabric", 2, 4094) == 4
        assert session.vlan_lowest_free("fabric", 5, 4094) == 6
        assert session.vlan_lowest_free("fabric", 2, 3) is None


def test_popped_records_are_gone_and_a_failed_session_puts_them_back(ledger: Ledger) -> None:
    with ledger.session() as session:
        session.put_ip(NESTED)
        session.put_vlan([VLANRecord("a", "fabric", 2), VLANRecord("b", "fabric", 3)])
    with pytest.raises(RuntimeError), ledger.session() as session:
        assert keys(session.pop_ip(["upf", "wide", "missing"])) == ["upf", "wide"]
        assert session.pop_vlan(["a"]) == [VLANRecord("a", "fabric", 2)]
        first, last = v4("10.0.1.0"), v4("10.0.1.255")
        assert keys(session.ip_blocks("vpc", 4, first, last)) == ["inner"]
        assert session.ip_hosts("vpc", 4, first, last) == []
        assert session.ip_lowest_free("vpc", 4, V4, v4("10.0.255.255"), 256) == V4
        assert session.vlan_lowest_free("fabric", 2, 4094) == 2
        raise RuntimeError("the render failed")
    with ledger.session() as session:
        assert keys(session.ip_hosts("vpc", 4, V4, v4("10.0.255.255"))) == ["upf"]
        assert session.vlan_lowest_free("fabric", 2, 4094) == 4
        assert session.pop_ip(["upf"]) == [NESTED[2]]  # committed this time
    with ledger.session() as session:
        assert session.ip_hosts("vpc", 4, V4, v4("10.0.255.255")) == []


def test_a_block_freed_inside_a_run_leaves_what_others_still_take(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = SqliteLedger(path)
    with ledger.session() as session:
        session.put_ip(NESTED[:4])
        session.put_ip([IPRecord("next", "vpc", "pool", "10.1.0.0/24")])
        session.put_ip([IPRecord("beside", "vpc", "pool", "10.0.0.0/24")])
    with ledger.session() as session:
        session.pop_ip(["wide"])
    db = sqlite3.connect(path)
    runs = [
        (str(space), int.from_bytes(first, "big") - V4, int.from_bytes(last, "big") - V4)
        for space, first, last in db.execute("SELECT * FROM taken_runs ORDER BY space, first")
    ]
    db.close()
    # what is left: two touching /24s (a host inside one), the loopback, the next pool
    assert runs == [
        ("ip4 vpc", 0, 511),
        ("ip4 vpc", 519, 519),
        ("ip4 vpc", 65536, 65791),
    ]


# -- both ledgers agree -------------------------------------------------------------------

ADDRESSES = {4: (V4, 32, "10.0.0.{}"), 6: (0xFD00 << 112, 128, "fd00::{:x}")}


# keys that byte order and a language's collation sort differently
KEYS = ["k0", "k1", "K2", "k-3", "k_4", "k.5", "k10", "k9", "a/b-c", "a/b_c", "A/b", "b"]


@st.composite
def ip_records(draw: st.DrawFn) -> IPRecord:
    version = draw(st.sampled_from([4, 6]))
    _, bits, template = ADDRESSES[version]
    kind = draw(st.sampled_from(["pool", "loopback", "subnet", "network"]))
    length = draw(st.integers(bits - 8, bits))
    edges = st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 128, 255])
    prefix = f"{template.format(draw(st.one_of(edges, st.integers(0, 255))))}/{length}"
    if draw(st.integers(0, 20)) == 0:
        prefix = "junk"
    key = draw(st.sampled_from(KEYS))
    return IPRecord(key, draw(st.sampled_from("ab")), kind, prefix)


Step = tuple[str, list[IPRecord]]
steps = st.lists(
    st.tuples(st.sampled_from(["put", "pop"]), st.lists(ip_records(), max_size=4)), max_size=12
)


def apply(session: LedgerSession, plan: list[Step], held: dict[str, IPRecord]) -> None:
    for action, records in plan:
        if action == "pop":
            popped = session.pop_ip(r.key for r in records)
            assert popped == [held.pop(k) for k in sorted({r.key for r in records}) if k in held]
            continue
        # One record per key and per (instance, prefix). A key whose new record is refused
        # keeps its old place, which may refuse another record of the batch: drop it, again.
        batch = {r.key: r for r in records}
        while True:
            places = {(r.instance, r.prefix): r.key for r in held.values() if r.key not in batch}
            fresh, refused = [], None
            for record in batch.values():
                if places.setdefault((record.instance, record.prefix), record.key) != record.key:
                    refused = record.key
                    break
                fresh.append(record)
            if refused is None:
                break
            del batch[refused]
        session.put_ip(fresh)
        held.update((r.key, r) for r in fresh)


class Rollback(Exception):
    """Ends a session without keeping anything, so one file serves every example."""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps, data=st.data())
def test_every_ledger_answers_alike_after_any_puts_and_pops(
    shared_file: Path, shared_database: str, plan: list[Step], data: st.DataObject
) -> None:
    held: dict[str, IPRecord] = {}
    with pytest.raises(Rollback), PackageLedger().session() as memory:
        apply(memory, plan, dict(held))
        with SqliteLedger(shared_file).session() as disk, \
                PostgresLedger(shared_database).session() as server:
            apply(server, plan, dict(held))
            apply(disk, plan, held)
            for instance in "ab":
                assert disk.ip_records(instance) == memory.ip_records(instance)
                assert server.ip_records(instance) == memory.ip_records(instance)
                for version, (base, _, _) in ADDRESSES.items():
                    for _ in range(6):
                        low = base + data.draw(st.integers(0, 300))
                        high = low + data.draw(st.integers(0, 300))
                        ask = (instance, version, low, high)
                        for other in (disk, server):
                            assert other.ip_blocks(*ask) == memory.ip_blocks(*ask)
                            assert other.ip_hosts(*ask) == memory.ip_hosts(*ask)
                            assert other.ip_blocks(*ask, 1) == memory.ip_blocks(*ask, 1)
                        size = 1 << data.draw(st.integers(0, 9))
                        free = disk.ip_lowest_free(*ask, size)
                        assert free == memory.ip_lowest_free(*ask, size)
                        assert free == server.ip_lowest_free(*ask, size)
                        if free is not None:  # and it really is free
                            taken = [ip_extent(r) for r in held.values() if r.instance == instance]
                            assert not any(
                                e and e[0] == version and e[1] <= free + size - 1 and e[2] >= free
                                for e in taken
                            )
            raise Rollback


@st.composite
def site_claims(draw: st.DrawFn, site: int) -> list[IPClaimRequest]:
    claims = []
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["network", "loopback", "pool"]))
        static = None
        if draw(st.integers(0, 4)) == 0:
            static = f"10.0.{draw(st.integers(0, 3))}.{draw(st.integers(0, 255))}"
        claims.append(
            IPClaimRequest(
                key=f"s{site}/c{i}",
                namespace="default",
                name=f"c{i}",
                instance="vpc",
                kind=kind,
                family="ipv4",
                prefix_length=draw(st.sampled_from([26, 28, 30])) if kind != "loopback" else None,
                cluster=f"s{draw(st.integers(0, site))}",  # sites may share a cluster
                network_name=draw(st.sampled_from(["n2", "n3"])) if kind == "network" else None,
                current_prefix=f"{static}/28" if static and kind == "network" else None,
            )
        )
    return claims


INSTANCES = {
    "vpc": [
        PoolPrefix("10.0.0.0/22"),
        PoolPrefix("10.0.4.0/24", {"nephio.org/prefix-kind": "pool"}),
        PoolPrefix("10.0.5.0/28", {"nephio.org/prefix-kind": "loopback"}),
    ]
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=8).flatmap(
        lambda order: st.tuples(st.just(order), st.tuples(*(site_claims(s) for s in range(6))))
    )
)
def test_sites_get_the_same_answers_from_every_ledger(
    postgres_server: PostgresServer,
    case: tuple[list[int], tuple[list[IPClaimRequest], ...]],
) -> None:
    order, sites = case
    memory = PackageLedger()
    server = PostgresLedger(postgres_server.database())
    with tempfile.TemporaryDirectory() as folder:
        disk = SqliteLedger(Path(folder) / "ledger.sqlite")
        for site in order:  # sites come and come again, in any order
            expected = allocate_ips(INSTANCES, sites[site], memory)
            assert allocate_ips(INSTANCES, sites[site], disk) == expected
            assert allocate_ips(INSTANCES, sites[site], server) == expected
        disk.close()
    server.close()


def test_an_own_block_left_behind_is_free_again_in_the_same_run(ledger: Ledger) -> None:
    def pool(name: str, **extra: object) -> IPClaimRequest:
        return IPClaimRequest(
            f"edge/{name}",
            "default",
            name,
            "vpc",
            "pool",
            "ipv4",
            24,
            **extra,  # type: ignore[arg-type]
        )

    instances = {"vpc": [PoolPrefix("10.0.0.0/16")]}
    first = allocate_ips(instances, [pool("a")], ledger)
    assert first.allocations["edge/a"].prefix == "10.0.0.0/24"
    moved = allocate_ips(instances, [pool("a", static_prefix="10.0.9.0/24"), pool("b")], ledger)
    assert {k: a.prefix for k, a in moved.allocations.items()} == {
        "edge/a": "10.0.9.0/24",
        "edge/b": "10.0.0.0/24",
    }
    indexes = {"fabric": VLANIndex()}
    vlan = VLANClaimRequest("edge/v", "default", "v", "fabric")
    assert allocate_vlans(indexes, [vlan], ledger).allocations["edge/v"].vlan_id == 2
    again = [dataclasses.replace(vlan, static_id=9), VLANClaimRequest("edge/w", "d", "w", "fabric")]
    result = allocate_vlans(indexes, again, ledger)
    assert {k: a.vlan_id for k, a in result.allocations.items()} == {"edge/v": 9, "edge/w": 2}


# -- the file -------------------------------------------------------------------------------


def test_a_ledger_of_the_previous_schema_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    for statement in (
        "CREATE TABLE ip_allocations (owner TEXT PRIMARY KEY, instance TEXT, kind TEXT,"
        " prefix TEXT, gateway TEXT)",
        "CREATE TABLE vlan_allocations (owner TEXT PRIMARY KEY, vlan_index TEXT, vlan_id INT)",
        "PRAGMA application_id = 1802661222",
        "PRAGMA user_version = 1",
    ):
        db.execute(statement)
    db.commit()
    db.close()
    with pytest.raises(LedgerError) as caught:
        SqliteLedger(path)
    assert str(caught.value) == (
        f"ledger {path}: schema version 1, this krmfn reads version {SCHEMA_VERSION}"
        " (written by an older krmfn, which did not index it)"
    )


def test_a_ledger_file_replaced_on_disk_is_opened_anew(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    claim = VLANClaimRequest("edge/v", "default", "v", "fabric")
    other = VLANClaimRequest("edge/w", "default", "w", "fabric")
    assert allocate_vlans({"fabric": VLANIndex()}, [claim], SqliteLedger(path)).ok
    for suffix in ("", "-wal", "-shm"):  # someone starts the ledger over
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    result = allocate_vlans({"fabric": VLANIndex()}, [other], SqliteLedger(path))
    assert result.allocations["edge/w"].vlan_id == 2  # a fresh ledger: the lowest ID
    SqliteLedger(path).close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT owner, vlan_id FROM vlan_allocations").fetchall() == [("edge/w", 2)]
    db.close()
    assert os.path.exists(path)


# -- random runs of packages, with releases, on every ledger --------------------------------

SMALL = {"fabric": VLANIndex(ranges=((10, 29),), reserved=frozenset({12})),
         "edge": VLANIndex(ranges=((100, 104),))}


@st.composite
def package_runs(draw: st.DrawFn) -> list[tuple[str, list[tuple[str, str, int | None]]]]:
    """Runs of packages p0..p3, each naming the claims it has now (name, index, static)."""
    runs = []
    for _ in range(draw(st.integers(1, 10))):
        claims = draw(st.lists(st.tuples(
            st.sampled_from(["n3", "n4", "N6", "n-7", "n_8"]), st.sampled_from(sorted(SMALL)),
            st.one_of(st.none(), st.integers(8, 31))), max_size=4, unique_by=lambda c: c[0]))
        runs.append((f"p{draw(st.integers(0, 3))}", claims))
    return runs


def vlan_run(ledger: Ledger, package: str, claims: list[tuple[str, str, int | None]]
             ) -> tuple[object, ...]:
    owner = PackageOwner("edge-01", package)
    requests = [VLANClaimRequest(owner.key("core", name), "core", name, index, static_id=static,
                                 cluster="edge-01", package=package)
                for name, index, static in claims]
    result = allocate_vlans(SMALL, requests, ledger, owner=owner)
    return result.allocations, result.errors, sorted(result.released, key=lambda r: r.key)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(package_runs())
def test_packages_claiming_and_releasing_get_the_same_answers_from_every_ledger(
    postgres_server: PostgresServer,
    runs: list[tuple[str, list[tuple[str, str, int | None]]]],
) -> None:
    memory = PackageLedger()
    server = PostgresLedger(postgres_server.database())
    with tempfile.TemporaryDirectory() as folder:
        disk = SqliteLedger(Path(folder) / "ledger.sqlite")
        for package, claims in runs:  # a package run again with fewer claims releases
            expected = vlan_run(memory, package, claims)
            assert vlan_run(disk, package, claims) == expected
            assert vlan_run(server, package, claims) == expected
        for index in SMALL:
            with disk.session() as a, server.session() as b:
                assert a.vlan_records(index) == b.vlan_records(index)
        disk.close()
    server.close()
