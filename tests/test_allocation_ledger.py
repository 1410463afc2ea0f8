"""Ledgers: the shared contract, the SQLite file under concurrency and crashes, bad files."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import netaddr
import pytest
from krmfn_catalog.allocation.backends import open_ledger
from krmfn_catalog.allocation.ipam import (
    NETWORK_NAME_LABEL,
    PREFIX_KIND_LABEL,
    IPAllocation,
    IPClaimRequest,
    PoolPrefix,
    allocate_ips,
)
from krmfn_catalog.allocation.ledger import (
    IPRecord,
    Ledger,
    LedgerError,
    PackageLedger,
    VLANRecord,
)
from krmfn_catalog.allocation.postgres_ledger import PostgresLedger
from krmfn_catalog.allocation.results import AllocationResult
from krmfn_catalog.allocation.sqlite_ledger import SCHEMA_VERSION, SqliteLedger
from krmfn_catalog.allocation.vlan import (
    VLANAllocation,
    VLANClaimRequest,
    VLANIndex,
    allocate_vlans,
)

FORK = multiprocessing.get_context("fork")
# A bound on waiting for child processes, so a broken test fails instead of hanging.
HANG_GUARD = 120.0

INSTANCES = {
    "vpc-ran": [
        PoolPrefix("10.8.0.0/16", {NETWORK_NAME_LABEL: "n3"}),
        PoolPrefix("fd00:3::/48", {NETWORK_NAME_LABEL: "n3"}),
        PoolPrefix("10.9.0.0/22", {PREFIX_KIND_LABEL: "loopback"}),
        PoolPrefix("10.128.0.0/12", {PREFIX_KIND_LABEL: "pool"}),
    ]
}
INDEXES = {"fabric": VLANIndex()}


def site_ip_claims(site: int) -> list[IPClaimRequest]:
    cluster = f"edge-{site:03d}"

    def claim(name: str, kind: str, family: str = "ipv4", **extra: object) -> IPClaimRequest:
        return IPClaimRequest(
            key=f"{cluster}/default/{name}",
            namespace="default",
            name=name,
            instance="vpc-ran",
            kind=kind,
            family=family,
            cluster=cluster,
            network_name="n3" if kind == "network" else None,
            **extra,  # type: ignore[arg-type]
        )

    return [
        claim("upf-n3", "network", prefix_length=28),
        claim("smf-n3", "network", prefix_length=28),
        claim("upf-n3-v6", "network", "ipv6"),
        claim("upf-lo", "loopback"),
        claim("ue-pool", "pool", prefix_length=26),
    ]


def site_vlan_claims(site: int) -> list[VLANClaimRequest]:
    return [
        VLANClaimRequest(f"edge-{site:03d}/default/{name}", "default", name, "fabric")
        for name in ("n3", "n6")
    ]


@pytest.fixture(params=["package", "sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Ledger:
    if request.param == "package":
        return PackageLedger()
    if request.param == "postgres":
        return PostgresLedger(request.getfixturevalue("postgres_url"))
    return SqliteLedger(tmp_path / "ledger.sqlite")


# -- the contract both ledgers keep ----------------------------------------------------


HOST_B = IPRecord("b", "vpc-2", "network", "10.0.0.2/24", "10.0.0.1")


def test_records_are_kept_per_instance_and_index(ledger: Ledger) -> None:
    with ledger.session() as session:
        session.put_ip(
            [
                IPRecord("a", "vpc-1", "pool", "10.0.0.0/24"),
                IPRecord("b", "vpc-2", "network", "10.0.0.2/24", "10.0.0.1"),
            ]
        )
        session.put_vlan([VLANRecord("a", "edge-01", 10), VLANRecord("b", "edge-02", 10)])
        assert [r.key for r in session.ip_records("vpc-1")] == ["a"]
    with ledger.session() as session:
        assert session.ip_records("vpc-2") == [
            IPRecord("b", "vpc-2", "network", "10.0.0.2/24", "10.0.0.1")
        ]
        assert session.vlan_records("edge-01") == [VLANRecord("a", "edge-01", 10)]
        assert session.ip_records("vpc-3") == []


def test_putting_a_key_again_replaces_its_record_even_across_instances(ledger: Ledger) -> None:
    with ledger.session() as session:
        session.put_ip([IPRecord("a", "vpc-1", "pool", "10.0.0.0/24")])
        session.put_vlan([VLANRecord("a", "edge-01", 10), VLANRecord("b", "edge-01", 11)])
    with ledger.session() as session:
        session.put_ip([IPRecord("a", "vpc-2", "pool", "10.0.1.0/24")])
        # two keys swap their IDs within one session
        session.put_vlan([VLANRecord("a", "edge-01", 11), VLANRecord("b", "edge-01", 10)])
    with ledger.session() as session:
        assert session.ip_records("vpc-1") == []
        assert session.ip_records("vpc-2") == [IPRecord("a", "vpc-2", "pool", "10.0.1.0/24")]
        assert sorted(session.vlan_records("edge-01"), key=lambda r: r.key) == [
            VLANRecord("a", "edge-01", 11),
            VLANRecord("b", "edge-01", 10),
        ]


def test_a_session_that_raises_records_nothing(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.session() as session:
        session.put_vlan([VLANRecord("a", "edge-01", 10)])
        raise RuntimeError("render failed")
    with ledger.session() as session:
        assert session.vlan_records("edge-01") == []


def test_a_site_rendered_again_without_status_gets_its_answers_back(ledger: Ledger) -> None:
    first = [allocate_ips(INSTANCES, site_ip_claims(s), ledger) for s in range(3)]
    vlans = [allocate_vlans(INDEXES, site_vlan_claims(s), ledger) for s in range(3)]
    assert all(result.ok for result in first) and all(result.ok for result in vlans)
    assert [allocate_ips(INSTANCES, site_ip_claims(s), ledger) for s in (2, 0, 1)] == [
        first[2],
        first[0],
        first[1],
    ]
    assert allocate_vlans(INDEXES, site_vlan_claims(1), ledger) == vlans[1]
    assert [a.vlan_id for v in vlans for a in v.allocations.values()] == [2, 3, 4, 5, 6, 7]


# -- the SQLite file -----------------------------------------------------------------------


def test_sqlite_ledger_persists_and_marks_its_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    first = allocate_vlans(INDEXES, site_vlan_claims(0), SqliteLedger(path))
    assert allocate_vlans(INDEXES, site_vlan_claims(0), SqliteLedger(path)) == first
    assert allocate_vlans(INDEXES, site_vlan_claims(1), SqliteLedger(path)).allocations != {}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("SELECT count(*) FROM vlan_allocations").fetchone() == (4,)
    db.close()


def test_modules_load_sqlite3_and_netaddr_only_where_needed() -> None:
    probe = (
        "import sys, krmfn_catalog.allocation.vlan, krmfn_catalog.allocation.ledger;"
        "a = {'sqlite3' in sys.modules, 'netaddr' in sys.modules};"
        "import krmfn_catalog.allocation.ipam;"
        "b = 'sqlite3' in sys.modules;"
        "import krmfn_catalog.allocation.sqlite_ledger;"
        "print(a, b, 'sqlite3' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["{False}", "False", "True"]


Render = tuple[int, AllocationResult[IPAllocation], AllocationResult[VLANAllocation]]


def _render_sites(
    path: str, sites: list[int], results: multiprocessing.Queue[Render | str]
) -> None:
    try:
        ledger = open_ledger(path)
        for site in sites:
            ips = allocate_ips(INSTANCES, site_ip_claims(site), ledger)
            vlans = allocate_vlans(INDEXES, site_vlan_claims(site), ledger)
            results.put((site, ips, vlans))
    except Exception as error:  # report to the test instead of dying silently
        results.put(f"site render failed: {type(error).__name__}: {error}")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_eight_processes_rendering_many_sites_never_collide(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    path = str(tmp_path / "ledger.sqlite")
    if backend == "postgres":
        path = request.getfixturevalue("postgres_url")
    workers, per_worker = 8, 6
    sites = list(range(workers * per_worker))
    # every site is rendered by two workers at once; both must get the same answers
    plans = [sites[w::workers] + sites[(w + 1) % workers :: workers] for w in range(workers)]
    results: multiprocessing.Queue[Render | str] = FORK.Queue()
    processes = [FORK.Process(target=_render_sites, args=(path, plan, results)) for plan in plans]
    for process in processes:
        process.start()
    renders: list[Render] = []
    while len(renders) < sum(map(len, plans)):
        item = results.get(timeout=HANG_GUARD)
        if isinstance(item, str):
            pytest.fail(item)
        renders.append(item)
    for process in processes:
        process.join(HANG_GUARD)
        assert process.exitcode == 0

    ip_answers: dict[int, AllocationResult[IPAllocation]] = {}
    vlan_answers: dict[int, AllocationResult[VLANAllocation]] = {}
    for site, ips, vlans in renders:
        assert ips.ok and vlans.ok
        assert ip_answers.setdefault(site, ips) == ips
        assert vlan_answers.setdefault(site, vlans) == vlans
    assert sorted(ip_answers) == sites

    blocks: set[netaddr.IPNetwork] = set()
    hosts: list[netaddr.IPAddress] = []
    for ips in ip_answers.values():
        for answer in ips.allocations.values():
            net = netaddr.IPNetwork(answer.prefix)
            if answer.gateway is None:
                blocks.add(net)  # pools and loopbacks
            else:
                hosts.append(net.ip)
                blocks.add(net.cidr)  # the site's subnet
    assert len(set(hosts)) == len(hosts) == 3 * len(sites)
    assert len(blocks) == 4 * len(sites)  # pool, loopback, IPv4 and IPv6 subnet per site
    ordered = sorted(blocks, key=lambda n: (n.version, n.first))
    for a, b in itertools.pairwise(ordered):
        assert a.version != b.version or a.last < b.first, f"{a} overlaps {b}"
    vlan_ids = [a.vlan_id for v in vlan_answers.values() for a in v.allocations.values()]
    assert len(set(vlan_ids)) == len(vlan_ids) == 2 * len(sites)

    # the ledger holds exactly what was handed out, and a re-render changes nothing
    ledger = open_ledger(path)
    with ledger.session() as session:
        recorded = {r.key: r.prefix for r in session.ip_records("vpc-ran") if r.kind != "subnet"}
    handed_out = {k: a.prefix for v in ip_answers.values() for k, a in v.allocations.items()}
    assert recorded == handed_out
    assert allocate_ips(INSTANCES, site_ip_claims(5), ledger) == ip_answers[5]


def _hold_a_transaction(path: str, pipe: Connection) -> None:
    """Commit one site, then stop in the middle of a large uncommitted write."""
    ledger = SqliteLedger(path)
    pipe.send(allocate_vlans(INDEXES, site_vlan_claims(0), ledger))
    with ledger.session() as session:
        ghosts = [
            IPRecord(f"ghost-{i}", "ghost", "pool", f"10.{i >> 8}.{i & 255}.0/24")
            for i in range(40_000)
        ]
        session.put_ip(ghosts)
        pipe.send("writing")
        time.sleep(HANG_GUARD)  # killed here


def test_a_writer_killed_mid_transaction_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    ours, theirs = FORK.Pipe()
    writer = FORK.Process(target=_hold_a_transaction, args=(str(path), theirs))
    writer.start()
    try:
        assert ours.poll(HANG_GUARD)
        committed = ours.recv()
        assert ours.poll(HANG_GUARD)
        assert ours.recv() == "writing"
        # the writer holds the file: a writer that does not wait is told so
        with pytest.raises(LedgerError, match="timed out waiting for another writer"):
            SqliteLedger(path, timeout=0)
        assert Path(f"{path}-wal").stat().st_size > 0  # uncommitted pages spilled to the log
    finally:
        os.kill(writer.pid or 0, signal.SIGKILL)
        writer.join(HANG_GUARD)
    assert writer.exitcode == -signal.SIGKILL

    ledger = SqliteLedger(path)
    with ledger.session() as session:
        assert session.ip_records("ghost") == []
    assert allocate_vlans(INDEXES, site_vlan_claims(0), ledger) == committed
    assert allocate_vlans(INDEXES, site_vlan_claims(1), ledger).ok
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()


def _hold_a_server_transaction(location: str, pipe: Connection) -> None:
    """As `_hold_a_transaction`, on PostgreSQL."""
    ledger = PostgresLedger(location)
    pipe.send(allocate_vlans(INDEXES, site_vlan_claims(0), ledger))
    with ledger.session() as session:
        session.put_ip([
            IPRecord(f"ghost-{i}", "ghost", "pool", f"10.{i >> 8}.{i & 255}.0/24")
            for i in range(2_000)
        ])
        pipe.send("writing")
        time.sleep(HANG_GUARD)  # killed here


def test_a_server_writer_killed_mid_transaction_loses_nothing_committed(
        postgres_url: str) -> None:
    ours, theirs = FORK.Pipe()
    writer = FORK.Process(target=_hold_a_server_transaction, args=(postgres_url, theirs))
    writer.start()
    try:
        assert ours.poll(HANG_GUARD)
        committed = ours.recv()
        assert ours.poll(HANG_GUARD)
        assert ours.recv() == "writing"
        with pytest.raises(LedgerError, match="timed out waiting for another writer"):
            PostgresLedger(postgres_url, timeout=0)
    finally:
        os.kill(writer.pid or 0, signal.SIGKILL)
        writer.join(HANG_GUARD)
    assert writer.exitcode == -signal.SIGKILL

    ledger = PostgresLedger(postgres_url)  # the server let go of the lock with the process
    with ledger.session() as session:
        assert session.ip_records("ghost") == []
    assert allocate_vlans(INDEXES, site_vlan_claims(0), ledger) == committed
    assert allocate_vlans(INDEXES, site_vlan_claims(1), ledger).ok
    ledger.close()


# -- files that are not a usable ledger -----------------------------------------------------


def _sqlite_file(path: Path, *statements: str) -> Path:
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()
    return path


def _expect_ledger_error(path: Path, pattern: str) -> None:
    with pytest.raises(LedgerError, match=pattern) as caught:
        ledger = SqliteLedger(path)
        with ledger.session() as session:
            session.ip_records("vpc-ran")
            session.vlan_records("fabric")
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = _sqlite_file(tmp_path / "app.db", "CREATE TABLE users (name TEXT)")
    _expect_ledger_error(path, r"foreign SQLite database.*tables: users")
    with sqlite3.connect(path) as db:  # and it was not written into
        assert [row[0] for row in db.execute("SELECT name FROM sqlite_master")] == ["users"]
    db.close()


def test_a_database_of_another_application_is_refused(tmp_path: Path) -> None:
    path = _sqlite_file(tmp_path / "app.db", "PRAGMA application_id = 42")
    _expect_ledger_error(path, "foreign SQLite database")


def test_a_ledger_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    SqliteLedger(path)
    _sqlite_file(path, "PRAGMA user_version = 99")
    _expect_ledger_error(path, f"schema version 99, this krmfn reads version {SCHEMA_VERSION}$")


def test_a_ledger_missing_a_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    SqliteLedger(path)
    _sqlite_file(path, "DROP TABLE vlan_allocations")
    _expect_ledger_error(path, "missing tables: vlan_allocations")


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_text("apiVersion: v1\nkind: ConfigMap\n" * 200)
    _expect_ledger_error(path, "not an SQLite database")
    assert path.read_text().startswith("apiVersion: v1")


def test_an_empty_file_becomes_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.touch()
    assert allocate_vlans(INDEXES, site_vlan_claims(0), SqliteLedger(path)).ok


@pytest.mark.parametrize("keep", [100, 4096], ids=["header-kept", "first-page-kept"])
def test_a_corrupt_ledger_is_refused(tmp_path: Path, keep: int) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = SqliteLedger(path)
    for site in range(20):
        assert allocate_ips(INSTANCES, site_ip_claims(site), ledger).ok
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    data[keep:] = bytes((i * 7 + 13) % 256 for i in range(len(data) - keep))
    path.write_bytes(bytes(data))
    _expect_ledger_error(path, "corrupt|not an SQLite database")


def test_a_directory_or_missing_directory_is_refused(tmp_path: Path) -> None:
    _expect_ledger_error(tmp_path, "is a directory")
    _expect_ledger_error(tmp_path / "missing" / "ledger.sqlite", "does not exist")


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory other users can enter, for checks made without root's privileges."""
    folder = Path(tempfile.mkdtemp(prefix="krmfn-ledger-"))
    folder.chmod(0o755)
    yield folder
    for child in [folder, *folder.rglob("*")]:
        child.chmod(0o755)
    shutil.rmtree(folder)


def _open_unprivileged(path: Path) -> str:
    """Open the ledger as an ordinary user; root ignores file permissions."""

    def attempt(pipe: Connection) -> None:
        if os.geteuid() == 0:
            os.setgid(65534)
            os.setuid(65534)
        try:
            SqliteLedger(path)
            pipe.send("opened")
        except LedgerError as error:
            pipe.send(f"LedgerError: {error}")
        except Exception as error:  # report, do not hide, anything else
            pipe.send(f"{type(error).__name__}: {error}")

    ours, theirs = FORK.Pipe()
    child = FORK.Process(target=attempt, args=(theirs,))
    child.start()
    assert ours.poll(HANG_GUARD)
    outcome: str = ours.recv()
    child.join(HANG_GUARD)
    return outcome


ReadOnlyCase = Callable[[Path], Path]


def _new_file_in_read_only_dir(folder: Path) -> Path:
    (folder / "ro").mkdir(mode=0o555)
    return folder / "ro" / "ledger.sqlite"


def _existing_ledger_in_read_only_dir(folder: Path) -> Path:
    (folder / "ro").mkdir()
    path = folder / "ro" / "ledger.sqlite"
    SqliteLedger(path)
    path.chmod(0o666)
    (folder / "ro").chmod(0o555)
    return path


def _read_only_ledger_file(folder: Path) -> Path:
    (folder / "rw").mkdir()
    (folder / "rw").chmod(0o777)
    path = folder / "rw" / "ledger.sqlite"
    SqliteLedger(path)
    path.chmod(0o444)
    return path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (_new_file_in_read_only_dir, "is not writable"),
        (_existing_ledger_in_read_only_dir, "is not writable"),
        (_read_only_ledger_file, "file is not readable and writable"),
    ],
)
def test_a_ledger_that_cannot_be_written_is_refused(
    scratch: Path, case: ReadOnlyCase, message: str
) -> None:
    path = case(scratch)
    outcome = _open_unprivileged(path)
    assert outcome.startswith("LedgerError: ")
    assert message in outcome
    assert "\n" not in outcome


def test_the_switch_to_wal_waits_for_a_writer_instead_of_failing(tmp_path: Path) -> None:
    """Switching to WAL needs the file to itself, and SQLite refuses it at once (no busy
    timeout) while another connection writes: renders opening a new ledger together
    failed with 'timed out waiting for another writer'. The switch (the step of opening
    a ledger that follows its first session) waits for the writer instead."""
    import threading

    path = tmp_path / "ledger.sqlite"
    ledger = SqliteLedger(path, timeout=10)
    ledger.close()
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    assert writer.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM vlan_allocations")
    done = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    done.start()
    try:
        ledger._use_wal()
    finally:
        done.join()
        writer.close()
    ledger.close()
    fresh = sqlite3.connect(path)
    assert fresh.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # (kept in the file)
    fresh.close()
