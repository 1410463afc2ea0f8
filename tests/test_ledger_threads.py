"""Threads of one process on one ledger, as the jobs of a Dask worker run: every thread
gets unique allocations, and the process keeps as many connections to the ledger as it
runs sessions at once, not one for every thread it ran.

A Dask worker renders each job in a thread of its own, and the fleet's turns let one job
at a time allocate: a connection per thread would leave a worker holding thousands of
connections to the ledger by the end of a large fleet (a PostgreSQL server refuses them
past `max_connections`, 100 by default).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from krmfn_catalog.allocation.backends import open_ledger
from krmfn_catalog.allocation.ipam import IPClaimRequest, PoolPrefix, allocate_ips
from krmfn_catalog.allocation.vlan import VLANClaimRequest, VLANIndex, allocate_vlans

INSTANCES = {"vpc": [PoolPrefix("10.0.0.0/8", {"nephio.org/prefix-kind": "pool"})]}
INDEXES = {"idx": VLANIndex()}


def claim(location: str, i: int) -> str:
    """Claim `i` (one ledger session): an IPv4 /28 for even `i`, a VLAN ID for odd."""
    name = f"c{i:04d}"
    key = f"cluster/default/{name}"
    if i % 2 == 0:
        request = IPClaimRequest(key=key, namespace="default", name=name, instance="vpc",
                                 kind="pool", family="ipv4", prefix_length=28,
                                 cluster="cluster")
        ips = allocate_ips(INSTANCES, [request], open_ledger(location))
        assert ips.ok, ips.errors
        return ips.allocations[key].prefix
    vlans = allocate_vlans(INDEXES, [VLANClaimRequest(key, "default", name, "idx")],
                           open_ledger(location))
    assert vlans.ok, vlans.errors
    return f"vlan {vlans.allocations[key].vlan_id}"


def _in_threads(count: int, work: Callable[[int], str], *, one_at_a_time: bool) -> list[str]:
    """`work(i)` for i < count, each in a thread of its own; all threads stay alive until
    every one is done (as a worker's job threads overlap). With `one_at_a_time`, the
    threads take turns in order, as the fleet's turnstile makes them."""
    answers: list[str] = [""] * count
    turn = threading.Condition()
    state = {"next": 0}
    finished = threading.Barrier(count)
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            if one_at_a_time:
                with turn:
                    turn.wait_for(lambda: state["next"] == i)
            answers[i] = work(i)
        except BaseException as exc:
            failures.append(exc)
        finally:
            if one_at_a_time:
                with turn:
                    state["next"] = i + 1
                    turn.notify_all()
            finished.wait()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return answers


def _sqlite_connections(path: Path) -> int:
    """How many descriptors of this process have the ledger file open (one per connection)."""
    found = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                found += 1
        except OSError:
            continue
    return found


def _postgres_connections(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as db:
        row = db.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                         " 'krmfn ledger' AND datname = current_database()").fetchone()
    return int(row[0]) if row else 0


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Callable[[], int]]:
    """(location, how many connections this process holds to it)"""
    if request.param == "sqlite":
        path = (tmp_path / "ledger.sqlite").resolve()
        return str(path), lambda: _sqlite_connections(path)
    pytest.importorskip("psycopg", reason="pip install 'krmfn[postgres]'")
    url = str(request.getfixturevalue("postgres_url"))
    return url, lambda: _postgres_connections(url)


def test_threads_taking_turns_share_one_connection(
        ledger: tuple[str, Callable[[], int]]) -> None:
    location, connections = ledger
    answers = _in_threads(40, lambda i: claim(location, i), one_at_a_time=True)
    assert len(set(answers)) == 40
    assert connections() == 1
    open_ledger(location).close()  # (the process's idle connections)
    assert connections() == 0


def test_threads_at_once_get_unique_answers(ledger: tuple[str, Callable[[], int]]) -> None:
    location, connections = ledger
    answers = _in_threads(16, lambda i: "\n".join(claim(location, 16 * j + i)
                                                  for j in range(10)), one_at_a_time=False)
    flat = [a for block in answers for a in block.splitlines()]
    assert len(flat) == 160 and len(set(flat)) == 160
    assert 1 <= connections() <= 16
    # the same claims again, from other threads: the same answers
    again = _in_threads(16, lambda i: "\n".join(claim(location, 16 * j + i)
                                                for j in range(10)), one_at_a_time=False)
    assert again == answers
    open_ledger(location).close()
