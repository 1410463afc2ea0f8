"""The fleet of PackageVariantSets at scale: examples/fleet's blueprints over N edge sites
and 30 regional core sites (a UPF per edge site, an SMF and an AMF per core site, each SMF
given the UPFs of its region), its networks widened to hold that many clusters.

The figures: the full render on a fresh output and ledger (one job: the baseline); the
same with two jobs, and on a dask.distributed cluster of two local worker processes (a
`dask scheduler` and two `dask worker`s), each on a fresh ledger, as ratios, with a check
that all three wrote the same tree; the full render on a PostgreSQL ledger (one job; the
server as `ledger_claims.postgres` finds or starts it, durable) against the same on a
fresh SQLite ledger, in turns, the fastest of `TURNS` runs of each; the plan after one
edge site is added, and the render after that addition as a share of the full one.

Each render writes some 300,000 files and the runs before it deleted as many: the disk
is still writing and discarding them when the next run starts, and a run late in the
sequence would be measured on a slower disk than one early. So every timed render first
waits for the disk (`sync`), and each ratio compares runs made one after the other.

    python benchmarks/fleet_variants.py [SITES]      # alone (default 10,000)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from measure import Sample, best

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REGIONS = 30
TURNS = 2  # runs of each side of the PostgreSQL / SQLite ratio
# room for 10,000 clusters: one /24 per cluster and network, one /24 UE pool per UPF
NETWORKS = {"vpc-ran": "100.64.0.0/10", "vpc-internal": "10.0.0.0/8",
            "vpc-internet": "20.0.0.0/8"}
Report = Callable[[str, str, str, bool | None], None]


def _cluster(name: str, site_type: str, region: str) -> dict[str, object]:
    return {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
            "metadata": {"name": name, "labels": {"nephio.org/site-type": site_type,
                                                  "nephio.org/region": region}},
            "spec": {"clusterName": name, "cnis": ["macvlan"], "masterInterface": "eth1"}}


def make_fleet(root: Path, sites: int) -> None:
    shutil.copytree(ROOT / "examples" / "fleet", root)
    for networks in root.glob("repositories/*/*/networks.yaml"):
        docs = list(yaml.safe_load_all(networks.read_text()))
        for doc in docs:
            prefixes = doc["spec"]["routingTables"][0]["prefixes"]
            prefixes[0]["prefix"] = NETWORKS[doc["metadata"]["name"]]
            for pool in prefixes[1:]:
                pool["prefix"] = "11.0.0.0/8"
        networks.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    dnn = root / "repositories" / "free5gc" / "upf" / "dnn.yaml"
    dnn.write_text(dnn.read_text().replace("prefixLength: 16", "prefixLength: 24"))
    regions = [f"region-{r:02d}" for r in range(REGIONS)]
    clusters = [_cluster(f"core-{r}", "core", r) for r in regions]
    clusters += [_cluster(f"edge-{i:05d}", "edge", regions[i % REGIONS]) for i in range(sites)]
    (root / "clusters.yaml").write_text(yaml.safe_dump_all(clusters, sort_keys=False))


def _render(fleet: Path, out: Path, ledger: Path | str, *more: str) -> list[str]:
    return [str(BIN / "krmfn"), "fleet", "render", str(fleet), "--out", str(out), "--ledger",
            str(ledger), "--quiet", *more]


def _timed(cmd: list[str]) -> Sample:
    """One timed run, once what earlier runs wrote and deleted has reached the disk."""
    os.sync()
    return best(cmd, repeat=1)


def _same_tree(a: Path, b: Path) -> bool:
    return subprocess.run(["diff", "-rq", str(a), str(b)], capture_output=True).returncode == 0


@contextmanager
def dask_cluster(tmp: Path, workers: int = 2) -> Iterator[str]:
    """A `dask scheduler` and `workers` single-threaded `dask worker`s on this machine, as
    separate processes; yields the scheduler's address."""
    file = tmp / "dask-scheduler.json"
    dask = str(BIN / "dask")

    def start(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([dask, *args, "--no-dashboard", "--host", "127.0.0.1"],
                                cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    procs = [start("scheduler", "--port", "0", "--scheduler-file", str(file))]
    try:
        while not file.is_file():
            time.sleep(0.1)
        procs += [start("worker", "--scheduler-file", str(file), "--nthreads", "1")
                  for _ in range(workers)]
        address = json.loads(file.read_text())["address"]
        from distributed import Client

        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        yield str(address)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait()


def parallel(report: Report, tmp: Path, fleet: Path, baseline: Path, full: float,
             sites: int) -> None:
    """--jobs 2 against --jobs 1, and two Dask workers against --jobs 2: same tree."""
    out, ledger = tmp / "pvs-out-2", tmp / "pvs-ledger-2.sqlite"
    two = _timed(_render(fleet, out, ledger, "--jobs", "2"))
    same = _same_tree(baseline, out)
    report(f"  --jobs 2 / --jobs 1 ({sites} edge sites)",
           f"{two.seconds / full:.2f}x ({two.seconds:.0f}s)", "< 1x", two.seconds < full)
    report("  tree of --jobs 2 = tree of --jobs 1", "identical" if same else "DIFFERS",
           "identical", same and two.exit_code == 0)
    shutil.rmtree(out)
    try:
        import distributed  # noqa: F401
    except ImportError:
        report("  Dask, 2 local workers / --jobs 2", "dask not installed", "<= 1.5x", None)
        return
    out, ledger = tmp / "pvs-out-dask", tmp / "pvs-ledger-dask.sqlite"
    with dask_cluster(tmp) as address:
        dask = _timed(_render(fleet, out, ledger, "--scheduler", address))
    ratio = dask.seconds / two.seconds
    report("  Dask, 2 local workers / --jobs 2", f"{ratio:.2f}x ({dask.seconds:.0f}s)",
           "<= 1.5x", ratio <= 1.5 and dask.exit_code == 0)
    same = _same_tree(baseline, out)
    report("  tree on Dask = tree of --jobs 1", "identical" if same else "DIFFERS",
           "identical", same)
    shutil.rmtree(out)


def on_postgres(report: Report, tmp: Path, fleet: Path, baseline: Path, sites: int) -> None:
    """The full render, one job, on a PostgreSQL ledger against the same on a fresh SQLite
    ledger, in turns, the fastest of each: same tree."""
    from ledger_claims import postgres_databases

    name = f"  PostgreSQL ledger / SQLite ledger ({sites} edge sites, 1 job)"
    with postgres_databases() as (database, origin):
        location = database()
        if not location:
            report(name, origin, "<= 1.5x", None)
            return
        out = tmp / "pvs-out-pg"
        sqlite_runs: list[Sample] = []
        runs: list[Sample] = []
        for turn in range(TURNS):  # in turns, each on a fresh output and ledger
            if turn:
                location = database()  # "" when the one database given is used
                if not location:
                    break
                shutil.rmtree(out)
            ledger = tmp / f"pvs-ledger-pg-{turn}.sqlite"
            sqlite_runs.append(_timed(_render(fleet, out, ledger, "--jobs", "1")))
            shutil.rmtree(out)
            runs.append(_timed(_render(fleet, out, location, "--jobs", "1")))
    on_sqlite = min(sqlite_runs, key=lambda r: r.seconds)
    run = min(runs, key=lambda r: r.seconds)
    ratio = run.seconds / on_sqlite.seconds
    report(name, f"{ratio:.2f}x ({run.seconds:.0f}s / {on_sqlite.seconds:.0f}s)", "<= 1.5x",
           ratio <= 1.5 and all(r.exit_code == 0 for r in runs))
    same = _same_tree(baseline, out)
    report("  tree on PostgreSQL = tree on SQLite", "identical" if same else "DIFFERS",
           "identical", same)
    shutil.rmtree(out)


def run(report: Report, tmp: Path, sites: int) -> None:
    fleet, out, ledger = tmp / "pvs-fleet", tmp / "pvs-out", tmp / "pvs-ledger.sqlite"
    make_fleet(fleet, sites)
    krmfn = str(BIN / "krmfn")
    full = _timed(_render(fleet, out, ledger, "--jobs", "1"))
    packages = sites + 2 * REGIONS
    report(f"krmfn fleet render FLEET, {sites} edge + {REGIONS} core sites, 1 job",
           f"{full.seconds:.0f}s ({full.seconds / packages * 1000:.1f} ms/package, "
           f"{full.peak_rss_mb:.0f} MB)", "< 180s" if sites >= 10000 else "",
           full.seconds < 180 if sites >= 10000 else None)
    parallel(report, tmp, fleet, out, full.seconds, sites)
    on_postgres(report, tmp, fleet, out, sites)
    with (fleet / "clusters.yaml").open("a") as f:
        f.write("---\n" + yaml.safe_dump(_cluster("edge-added", "edge", "region-00"),
                                         sort_keys=False))
    plan = _timed([krmfn, "fleet", "plan", str(fleet), "--out", str(out)])
    report("krmfn fleet plan, one edge site added", f"{plan.seconds:.1f}s",
           "< 30s" if sites >= 10000 else "", plan.seconds < 30 if sites >= 10000 else None)
    again = _timed(_render(fleet, out, ledger, "--jobs", "1"))
    share = again.seconds / full.seconds
    report("  render after adding it / full render", f"{share:.3f} ({again.seconds:.1f}s)",
           "<= 0.05", share <= 0.05)


if __name__ == "__main__":
    def _print(name: str, value: str, target: str, ok: bool | None) -> None:
        verdict = "n/a" if ok is None else ("met" if ok else "MISSED")
        print(f"{name:<62} {value:<30} {target:<10} {verdict}", flush=True)

    with tempfile.TemporaryDirectory() as name:
        run(_print, Path(name), int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
