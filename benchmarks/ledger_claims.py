"""Ledger claims per second: SQLite and PostgreSQL, 1 and 8 writer processes.

A claim is what a function run with one claim does: open the ledger, then allocate in one
session (take out its own record, ask what is free, record the answer, commit). Claims
alternate between an IPv4 /28 from one pool and a VLAN ID from one of four indexes, so
every writer contends for the same pools, as the sites of a fleet do. Every commit is
durable on both: SQLite with `synchronous=FULL`, a PostgreSQL server with its defaults
(fsync, synchronous_commit on).

PostgreSQL is the server in `KRMFN_BENCH_POSTGRES` (a location as `ledger:` takes it; its
database must be empty), else a private PostgreSQL 15 started from the machine's binaries
for the run (as the tests do), else it is reported as not measured.

    python benchmarks/ledger_claims.py [--claims 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from krmfn_catalog.allocation.backends import open_ledger
from krmfn_catalog.allocation.ipam import IPClaimRequest, PoolPrefix, allocate_ips
from krmfn_catalog.allocation.vlan import VLANClaimRequest, VLANIndex, allocate_vlans

Report = Callable[[str, str, str, bool | None], None]
INSTANCES = {"vpc": [PoolPrefix("10.0.0.0/8", {"nephio.org/prefix-kind": "pool"})]}
INDEXES = {f"idx{i}": VLANIndex() for i in range(4)}
TESTS = Path(__file__).resolve().parents[1] / "tests"


def claim(job: tuple[str, str, int]) -> None:
    location, writer, i = job
    name, cluster = f"c{i:05d}", f"w{writer}"
    key = f"{cluster}/default/{name}"
    if i % 2 == 0:
        request = IPClaimRequest(key=key, namespace="default", name=name, instance="vpc",
                                 kind="pool", family="ipv4", prefix_length=28, cluster=cluster)
        ok = allocate_ips(INSTANCES, [request], open_ledger(location)).ok
    else:
        index = f"idx{(i // 2) % len(INDEXES)}"
        ok = allocate_vlans(INDEXES, [VLANClaimRequest(key, "default", name, index)],
                            open_ledger(location)).ok
    if not ok:
        raise RuntimeError(f"claim {key} failed")


def writer(job: tuple[str, str, int]) -> None:
    location, name, count = job
    for i in range(count):
        claim((location, name, i))


def claims_per_second(location: str, writers: int, claims: int, run: str) -> float:
    open_ledger(location).close()  # created outside the timing
    each = claims // writers
    jobs = [(location, f"{run}-{w}", each) for w in range(writers)]
    start = time.perf_counter()
    if writers == 1:
        writer(jobs[0])
    else:
        with multiprocessing.get_context("fork").Pool(writers) as pool:
            pool.map(writer, jobs, chunksize=1)
    return each * writers / (time.perf_counter() - start)


@contextmanager
def postgres_databases() -> Iterator[tuple[Callable[[], str], str]]:
    """(a function giving an empty database at each call, where it came from), or one
    giving "" and why not. KRMFN_BENCH_POSTGRES names one database: it is given once."""
    given = os.environ.get("KRMFN_BENCH_POSTGRES")
    if given:
        once = [given]
        yield (lambda: once.pop() if once else ""), "KRMFN_BENCH_POSTGRES"
        return
    sys.path.insert(0, str(TESTS))
    try:
        import psycopg  # noqa: F401
        from postgres_server import PostgresServer, binaries
    except ImportError as exc:
        yield (lambda: ""), f"not measured: {exc}"
        return
    found = binaries()
    if found is None:
        yield (lambda: ""), "not measured: no PostgreSQL binaries"
        return
    server = PostgresServer(found, durable=True)
    try:
        yield server.database, f"PostgreSQL from {found}, local socket"
    finally:
        server.stop()


@contextmanager
def postgres() -> Iterator[tuple[str, str]]:
    """(a location for each measurement, where it came from), or ("", why not)."""
    with postgres_databases() as (database, origin):
        yield database(), origin


def run(report: Report, tmp: Path, claims: int = 2000) -> None:
    with postgres() as (server, origin):
        for writers in (1, 8):
            files = claims_per_second(str(tmp / f"claims-{writers}.sqlite"), writers, claims,
                                      "s")
            report(f"ledger claims/s, SQLite, {writers} writer(s)", f"{files:.0f}/s", "", None)
            if not server:
                report(f"ledger claims/s, PostgreSQL, {writers} writer(s)", origin, "", None)
                continue
            # a fresh owner prefix per measurement: the same database serves both
            on_server = claims_per_second(server, writers, claims, f"p{writers}")
            report(f"ledger claims/s, PostgreSQL, {writers} writer(s)",
                   f"{on_server:.0f}/s ({on_server / files:.2f}x SQLite)", "", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=2000, help="claims per measurement")
    args = parser.parse_args()

    def show(name: str, value: str, target: str, ok: bool | None) -> None:
        print(f"{name:<46} {value}", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-claims-") as scratch:
        run(show, Path(scratch), args.claims)


if __name__ == "__main__":
    main()
