"""Eight processes making 1,000 claims each against one ledger, SQLite and PostgreSQL alike,
while processes are killed with SIGKILL at random moments and started again where they
were: no address block or VLAN ID is handed out twice, every answer a process was given
is what the ledger holds, and the ledger is consistent afterwards (its taken ranges are
exactly the union of its records, and a new claim is served at once).

A process killed mid-session leaves a transaction that was never committed: SQLite
rolls it back from the log when the file is next opened, PostgreSQL when the connection
drops. A killed process may have committed a claim it could not report; started again, it
asks for that claim again and must get the same answer back.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import random
import signal
import sqlite3
import time
from collections import defaultdict
from multiprocessing.connection import Connection, wait
from pathlib import Path

import netaddr  # type: ignore[import-untyped,unused-ignore]
import pytest
from krmfn_catalog.allocation.backends import open_ledger
from krmfn_catalog.allocation.ipam import IPClaimRequest, PoolPrefix, allocate_ips
from krmfn_catalog.allocation.ledger import IPRecord, LedgerError, VLANRecord, ip_extent
from krmfn_catalog.allocation.vlan import VLANClaimRequest, VLANIndex, allocate_vlans
from test_ledger_cli import dump

FORK = multiprocessing.get_context("fork")
WORKERS = 8
CLAIMS = 1000  # per worker: half IP blocks, half VLAN IDs
KILLS = 12
INDEXES = 4  # 4 x 1,000 VLAN IDs fit in 4 x 4094
POOL = "10.0.0.0/8"
HANG_GUARD = 600.0
INSTANCES = {"vpc": [PoolPrefix(POOL, {"nephio.org/prefix-kind": "pool"})]}
VLAN_INDEXES = {f"idx{i}": VLANIndex() for i in range(INDEXES)}


def claim(location: str, worker: int, i: int) -> str:
    """Claim number `i` of `worker` (one ledger session); its answer."""
    name, cluster = f"c{i:04d}", f"w{worker}"
    key = f"{cluster}/default/{name}"
    if i % 2 == 0:
        request = IPClaimRequest(key=key, namespace="default", name=name, instance="vpc",
                                 kind="pool", family="ipv4", prefix_length=28, cluster=cluster)
        ips = allocate_ips(INSTANCES, [request], open_ledger(location))
        assert ips.ok, ips.errors
        return ips.allocations[key].prefix
    index = f"idx{(i // 2) % INDEXES}"
    vlans = allocate_vlans(VLAN_INDEXES, [VLANClaimRequest(key, "default", name, index)],
                           open_ledger(location))
    assert vlans.ok, vlans.errors
    return f"{index} {vlans.allocations[key].vlan_id}"


def claimer(location: str, worker: int, start: int, pipe: Connection) -> None:
    try:
        for i in range(start, CLAIMS):
            pipe.send((i, claim(location, worker, i)))
    except (LedgerError, AssertionError) as exc:
        pipe.send((-1, f"{type(exc).__name__}: {exc}"))
    pipe.close()


def merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "ledger.sqlite")


def test_eight_killed_and_restarted_processes_never_hand_out_anything_twice(
        location: str) -> None:
    open_ledger(location).close()  # created before the race
    rng = random.Random(22)
    answers: dict[tuple[int, int], str] = {}
    following: dict[int, int] = dict.fromkeys(range(WORKERS), 0)
    running: dict[Connection, tuple[int, multiprocessing.process.BaseProcess]] = {}

    def start(worker: int) -> None:
        ours, theirs = FORK.Pipe(duplex=False)
        process = FORK.Process(target=claimer, args=(location, worker, following[worker],
                                                     theirs))
        process.start()
        theirs.close()
        running[ours] = (worker, process)

    for worker in range(WORKERS):
        start(worker)
    total = WORKERS * CLAIMS
    kill_at = sorted(rng.sample(range(total // 20, total * 9 // 10), KILLS))
    killed = 0
    deadline = time.monotonic() + HANG_GUARD
    while running:
        assert time.monotonic() < deadline, "the claims did not finish"
        for pipe in wait(list(running), timeout=10):
            worker, process = running[pipe]
            try:
                i, answer = pipe.recv()
            except (EOFError, OSError):  # finished, or killed
                del running[pipe]
                process.join(HANG_GUARD)
                if following[worker] < CLAIMS:
                    assert process.exitcode == -signal.SIGKILL, process.exitcode
                    start(worker)  # again, from its first unanswered claim
                continue
            assert i >= 0, answer
            # a claim asked again after a kill gets the answer it was given before
            assert answers.setdefault((worker, i), answer) == answer
            following[worker] = i + 1
        while killed < KILLS and len(answers) >= kill_at[killed] and running:
            victim = rng.choice([p for _, p in running.values()])
            time.sleep(rng.uniform(0, 0.02))  # anywhere in a session
            os.kill(victim.pid or 0, signal.SIGKILL)
            killed += 1
    assert killed == KILLS and len(answers) == total

    # nothing handed out twice
    blocks = sorted((netaddr.IPNetwork(a) for (_, i), a in answers.items() if i % 2 == 0),
                    key=lambda n: n.first)
    assert len(blocks) == total // 2
    for a, b in itertools.pairwise(blocks):
        assert a.last < b.first, f"{a} overlaps {b}"
    ids: dict[str, list[str]] = defaultdict(list)
    for (_, i), answer in answers.items():
        if i % 2:
            index, vlan_id = answer.split()
            ids[index].append(vlan_id)
    assert all(len(set(v)) == len(v) == total // 2 // INDEXES for v in ids.values())

    # the ledger holds exactly what was handed out, and its taken ranges agree
    ledger = open_ledger(location)
    with ledger.session() as session:
        ip: list[IPRecord] = session.ip_where()
        vlan: list[VLANRecord] = session.vlan_where()
    ledger.close()
    expected = {f"w{w}/default/c{i:04d}": a for (w, i), a in answers.items()}
    assert {r.key: r.prefix for r in ip} == {k: a for k, a in expected.items()
                                               if int(k[-4:]) % 2 == 0}
    assert {r.key: f"{r.index} {r.vlan_id}" for r in vlan} == {
        k: a for k, a in expected.items() if int(k[-4:]) % 2}
    extents = [ip_extent(r) for r in ip]
    want = {"ip4 vpc": merged([(e[1], e[2]) for e in extents if e])}
    for index in VLAN_INDEXES:
        want[f"vlan {index}"] = merged([(r.vlan_id, r.vlan_id) for r in vlan
                                        if r.index == index])
    got: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for space, first, last in sorted((row for row in dump(location) if len(row) == 3),
                                     key=lambda row: (str(row[0]), bytes(row[1]))):  # type: ignore[call-overload]
        got[str(space)].append((int.from_bytes(bytes(first), "big"),  # type: ignore[call-overload]
                                int.from_bytes(bytes(last), "big")))  # type: ignore[call-overload]
    assert dict(got) == want
    if not location.startswith("postgresql:"):
        with sqlite3.connect(location) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.close()
    # and it serves the next claim at once: no lock was left behind
    assert claim(location, WORKERS, 0) not in answers.values()
