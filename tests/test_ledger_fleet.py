"""A fleet on one ledger (an SQLite file, or a PostgreSQL database): 1,000 small sites
rendered by 8 processes at once, through the
real functions (ipam-inject then vlan-assign, each with `ledger=<db>`), never share an
address, a subnet or (within a cluster's VLAN index) a VLAN. A ledger the functions cannot
use (not SQLite, another application's database, a read-only place) stops the run with one
clear line and writes nothing.

Sites are packages of 125 clusters, 8 per cluster, dealt out so that the 8 packages of one
cluster are rendered by different processes at the same time: they must share the
cluster's subnet and VLAN index without handing out anything twice. Most sites run through
`krmfn_fleet.pipeline.render_package` (their Kptfile pipeline, in worker processes), some
through the console scripts standalone with `--in-place`.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import netaddr  # type: ignore[import-untyped,unused-ignore]
import pytest
import yaml
from kpt_support import script

SITES = 1000
CLUSTERS = 125  # not a multiple of WORKERS: a cluster's packages land in different workers
WORKERS = 8
BY_SCRIPT = 16  # sites rendered by the console scripts instead of the in-process pipeline
POOL = "10.0.0.0/12"

KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {site}
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - image: ghcr.io/krmfn/ipam-inject:v0.1.0
    configMap:
      ledger: {ledger}
  - image: ghcr.io/krmfn/vlan-assign:v0.1.0
    configMap:
      ledger: {ledger}
"""

RESOURCES = """\
apiVersion: infra.nephio.org/v1alpha1
kind: Network
metadata:
  name: vpc-ran
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  routingTables:
  - name: vpc-ran
    prefixes:
    - prefix: {pool}
---
apiVersion: req.nephio.org/v1alpha1
kind: Interface
metadata:
  name: n3
  namespace: {site}
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  networkInstance:
    name: vpc-ran
  cniType: macvlan
  attachmentType: vlan
---
apiVersion: infra.nephio.org/v1alpha1
kind: WorkloadCluster
metadata:
  name: {cluster}
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  clusterName: {cluster}
  cnis:
  - macvlan
  masterInterface: eth1
"""


def cluster_of(site: int) -> str:
    return f"edge-{site % CLUSTERS:03d}"


def write_site(root: Path, site: int, ledger: Path) -> Path:
    name = f"site-{site:04d}"
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(KPTFILE.format(site=name, ledger=ledger))
    (pkg / "site.yaml").write_text(RESOURCES.format(site=name, cluster=cluster_of(site),
                                                   pool=POOL))
    return pkg


def render_one(pkg: str) -> tuple[str, str]:
    """Worker: the site's Kptfile pipeline in process; (package, error or "")."""
    from krmfn_fleet.pipeline import render_package

    result = render_package(pkg)
    if result.ok:
        return pkg, ""
    messages = [r.summary() for s in result.steps for r in s.results if r.is_error]
    return pkg, result.error or "; ".join(messages) or "failed"


def render_by_scripts(pkg: Path, ledger: Path) -> subprocess.CompletedProcess[str]:
    """The same two steps, standalone: each console script over the site, in place."""
    for fn in ("ipam-inject", "vlan-assign"):
        proc = subprocess.run([script(fn), str(pkg), f"ledger={ledger}", "--in-place"],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode:
            return proc
    return proc


def resources(pkg: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(pkg.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield doc


def answers(pkg: Path) -> tuple[str, str, int, str]:
    """(address/length, gateway, VLAN ID, NAD master) of a rendered site."""
    docs = list(resources(pkg))
    (ip,) = [d for d in docs if d["kind"] == "IPClaim"]
    (vlan,) = [d for d in docs if d["kind"] == "VLANClaim"]
    (nad,) = [d for d in docs if d["kind"] == "NetworkAttachmentDefinition"]
    plugin = yaml.safe_load(nad["spec"]["config"])["plugins"][0]
    assert plugin["ipam"]["addresses"][0]["address"] == ip["status"]["prefix"]
    return (ip["status"]["prefix"], ip["status"]["gateway"], int(vlan["status"]["vlanID"]),
            plugin["master"])


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_eight_processes_render_a_thousand_sites_without_a_duplicate(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    ledger: Any = tmp_path / "ledger.sqlite"
    if backend == "postgres":
        ledger = request.getfixturevalue("postgres_url")  # the Kptfiles hold the URL
    sites = [write_site(tmp_path / "sites", i, ledger) for i in range(SITES)]
    scripted, pipelined = sites[:BY_SCRIPT], sites[BY_SCRIPT:]

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        pending = pool.imap_unordered(render_one, [str(p) for p in pipelined], chunksize=4)
        # meanwhile, the console scripts render their sites against the same ledger
        for pkg in scripted:
            proc = render_by_scripts(pkg, ledger)
            assert proc.returncode == 0, f"{pkg.name}: {proc.stderr}"
        failures = [(p, e) for p, e in pending if e]
    assert not failures, failures[:5]

    found = {pkg: answers(pkg) for pkg in sites}
    addresses = [netaddr.IPNetwork(prefix).ip for prefix, _, _, _ in found.values()]
    assert len(set(addresses)) == SITES, "an address was handed out twice"

    subnets: dict[str, set[Any]] = defaultdict(set)
    gateways: dict[str, set[str]] = defaultdict(set)
    vlans: dict[str, list[int]] = defaultdict(list)
    for pkg, (prefix, gateway, vlan, master) in found.items():
        cluster = cluster_of(int(pkg.name.removeprefix("site-")))
        subnets[cluster].add(netaddr.IPNetwork(prefix).cidr)
        gateways[cluster].add(gateway)
        vlans[cluster].append(vlan)
        assert master == f"eth1.{vlan}"
        assert netaddr.IPNetwork(prefix).ip in netaddr.IPNetwork(POOL)
    assert len(subnets) == CLUSTERS
    assert all(len(s) == 1 for s in subnets.values()), "a cluster's sites got two subnets"
    assert all(len(g) == 1 for g in gateways.values())
    ordered = sorted((next(iter(s)) for s in subnets.values()), key=lambda n: n.first)
    for a, b in itertools.pairwise(ordered):
        assert a.last < b.first, f"clusters share addresses: {a} and {b}"
    for cluster, ids in vlans.items():
        assert len(set(ids)) == len(ids) == SITES // CLUSTERS, f"{cluster}: VLAN twice: {ids}"

    # a second render, by either route, changes nothing: the ledger gives the same answers
    again = [sites[3], sites[BY_SCRIPT + 5], sites[-1]]
    before = {pkg: snapshot(pkg) for pkg in again}
    assert render_one(str(again[1]))[1] == ""
    assert render_one(str(again[2]))[1] == ""
    assert render_by_scripts(again[0], ledger).returncode == 0
    assert {pkg: snapshot(pkg) for pkg in again} == before


# ------------------------------------------------------------------ ledgers that cannot be used


def _sqlite_of_another_application(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        db.execute("INSERT INTO invoices (total) VALUES (12.5)")
    db.close()


BAD_LEDGERS = {
    "not-sqlite": lambda path: path.write_bytes(b"these are not the pages of a database\n" * 50),
    "random-bytes": lambda path: path.write_bytes(bytes(range(256)) * 64),
    "truncated-sqlite-header": lambda path: path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 40),
    "another-application": _sqlite_of_another_application,
}


@pytest.mark.parametrize("fn", ["ipam-inject", "vlan-assign"])
@pytest.mark.parametrize("case", sorted(BAD_LEDGERS))
def test_a_ledger_file_that_is_not_ours_is_refused(fn: str, case: str, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    BAD_LEDGERS[case](ledger)
    pkg = write_site(tmp_path, 7, ledger)
    before, ledger_bytes = snapshot(pkg), ledger.read_bytes()
    proc = subprocess.run([script(fn), str(pkg), f"ledger={ledger}", "--in-place"],
                          capture_output=True, text=True, timeout=60)
    assert_refused(fn, proc, str(ledger))
    assert snapshot(pkg) == before
    assert ledger.read_bytes() == ledger_bytes


def test_a_ledger_where_no_file_can_be_made_is_refused(tmp_path: Path) -> None:
    """/proc takes no new files, whoever asks."""
    ledger = Path("/proc") / "krmfn-ledger.sqlite"
    pkg = write_site(tmp_path, 7, ledger)
    before = snapshot(pkg)
    for fn in ("ipam-inject", "vlan-assign"):
        proc = subprocess.run([script(fn), str(pkg), f"ledger={ledger}", "--in-place"],
                              capture_output=True, text=True, timeout=60)
        assert_refused(fn, proc, str(ledger))
    assert snapshot(pkg) == before


def _as_nobody(pkg: Path, ledger: Path, fn: str) -> tuple[int, str]:
    """Run a function's console entry point in a child that dropped root (which ignores
    file permissions) and report (exit code, stderr)."""

    def child(pipe: Any) -> None:
        import io

        from krmfn._cli_function import run_cli
        from krmfn_fleet.pipeline import resolve_function

        if os.geteuid() == 0:
            os.setgid(65534)
            os.setuid(65534)
        err = io.StringIO()
        sys.stderr = err
        function = resolve_function(fn)
        assert function is not None
        code = run_cli(function, [str(pkg), f"ledger={ledger}", "--in-place"])
        pipe.send((code, err.getvalue()))

    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe()
    process = ctx.Process(target=child, args=(theirs,))
    process.start()
    assert ours.poll(120), "the child did not answer"
    outcome: tuple[int, str] = ours.recv()
    process.join(120)
    return outcome


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder everyone can enter: the checks run without root's privileges."""
    folder = Path(tempfile.mkdtemp(prefix="krmfn-fleet-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755)
    shutil.rmtree(folder)


@pytest.mark.parametrize("fn", ["ipam-inject", "vlan-assign"])
@pytest.mark.parametrize("where", ["read-only-folder", "read-only-file"])
def test_a_read_only_ledger_is_refused(fn: str, where: str, open_folder: Path) -> None:
    ro = open_folder / "ro"
    ro.mkdir()
    ledger = ro / "ledger.sqlite"
    pkg = write_site(open_folder / "sites", 7, ledger)
    for path in [pkg.parent, pkg, *pkg.iterdir()]:
        path.chmod(0o777 if path.is_dir() else 0o666)  # the site itself is writable
    if where == "read-only-file":
        ok = render_by_scripts(write_site(open_folder / "first", 8, ledger), ledger)
        assert ok.returncode == 0, ok.stderr  # a real ledger, made by root
        ledger.chmod(0o444)
    ro.chmod(0o555)
    before = snapshot(pkg)
    code, stderr = _as_nobody(pkg, ledger, fn)
    assert code == 1, stderr
    assert stderr.startswith(f"{fn}: error: ") and len(stderr.splitlines()) == 1, stderr
    assert str(ledger) in stderr
    assert snapshot(pkg) == before


def assert_refused(fn: str, proc: subprocess.CompletedProcess[str], ledger: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith(f"{fn}: error: "), proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert ledger in proc.stderr
