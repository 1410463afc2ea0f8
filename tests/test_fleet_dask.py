"""`krmfn fleet render FLEET --scheduler tcp://HOST:PORT`: the fleet on dask.distributed.

The same tree as a local `--jobs 1` run, byte for byte: on a LocalCluster of two worker
processes, on a scheduler and two workers started as processes of their own (as they
would be on other machines), and when a worker is killed (SIGKILL) in the middle of the
run, which only delays it: the scheduler gives the lost jobs to the other worker, and the
ledger answers a job run again with what it answered the first time. Every pipeline
starts with a random sleep (fleet_jobs_support), so the workers reach the ledger in a
different order each time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fleet_jobs_support import change_fleet, env_with, install_jitter, make_fleet, tree
from krmfn_fleet.render import render_variant_fleet
from postgres_server import PASSWORD

distributed = pytest.importorskip("distributed", reason="pip install 'krmfn[dask]'")
DASK = Path(sys.executable).parent / "dask"
pytestmark = pytest.mark.slow


@pytest.fixture
def jitter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = install_jitter(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))  # LocalCluster's workers start with our sys.path
    return site


def _reference(tmp_path: Path, change: bool = False, extra_edges: int = 8) -> dict[str, bytes]:
    fleet = make_fleet(tmp_path / "ref-fleet", extra_edges)
    out = tmp_path / "ref-out"
    render_variant_fleet(fleet, out, ledger=tmp_path / "ref.sqlite", jobs=1)
    if change:
        change_fleet(fleet)
        render_variant_fleet(fleet, out, ledger=tmp_path / "ref.sqlite", jobs=1)
    return tree(out)


# Dask clients and clusters run in processes of their own: one in this process would leave
# its threads behind, and with them every later test in a threaded process
LOCAL_CLUSTER = """
import shutil, sys
from pathlib import Path
from distributed import LocalCluster
from fleet_jobs_support import change_fleet
from krmfn_fleet.render import render_variant_fleet

if __name__ == "__main__":
    fleet, out, ledger = map(Path, sys.argv[1:4])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        first = render_variant_fleet(fleet, out, ledger=ledger,
                                     scheduler=cluster.scheduler_address)
        shutil.copytree(out, out.with_name("first"))
        change_fleet(fleet)
        again = render_variant_fleet(fleet, out, ledger=ledger,
                                     scheduler=cluster.scheduler_address)
    print(all(o.ok for o in first + again), any(o.removed for o in again),
          any(o.skipped for o in again))
"""
WAIT_FOR_WORKERS = """
import sys
from distributed import Client
with Client(sys.argv[1], set_as_default=False, timeout=60) as client:
    client.wait_for_workers(int(sys.argv[2]), timeout=60)
"""
BUSY_WORKER = """
import os, sys, time
from pathlib import Path
from distributed import Client
address, out = sys.argv[1], Path(sys.argv[2])
with Client(address, set_as_default=False, timeout=60) as client:
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # a worker busy with a package, a few packages in
        written = len(list(out.glob("*/*/Kptfile"))) if out.is_dir() else 0
        busy = [w for w, tasks in client.processing().items() if tasks]
        if written >= 3 and busy:
            print(pids[busy[0]], written)
            break
        time.sleep(0.02)
"""
TESTS = Path(__file__).parent


def _python(script: str, *args: str, env: dict[str, str]) -> str:
    env = {**env, "PYTHONPATH": os.pathsep.join([env.get("PYTHONPATH", ""), str(TESTS)])}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_local_cluster_writes_the_tree_one_job_writes(tmp_path: Path, jitter: Path) -> None:
    want_first = _reference(tmp_path)
    fleet, out, ledger = make_fleet(tmp_path / "fleet"), tmp_path / "out", tmp_path / "l.sqlite"
    said = _python(LOCAL_CLUSTER, str(fleet), str(out), str(ledger), env=env_with(jitter))
    assert said.split() == ["True", "True", "True"]  # all rendered; removed and skipped ones
    assert tree(tmp_path / "first") == want_first
    assert tree(out) == _reference(tmp_path / "again", change=True)


class _Cluster:
    """`dask scheduler` and `dask worker`s as processes of their own."""

    def __init__(self, root: Path, env: dict[str, str], workers: int = 2) -> None:
        self.file = root / "scheduler.json"
        common = ["--no-dashboard"]
        self.procs = [subprocess.Popen([str(DASK), "scheduler", "--port", "0", "--host",
                                        "127.0.0.1", "--scheduler-file", str(self.file),
                                        *common], env=env, cwd=root,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        deadline = time.monotonic() + 60
        while not self.file.is_file():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        self.procs += [subprocess.Popen([str(DASK), "worker", "--scheduler-file",
                                         str(self.file), "--nthreads", "1", "--host",
                                         "127.0.0.1", *common], env=env, cwd=root,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(workers)]
        self.address = json.loads(self.file.read_text())["address"]
        _python(WAIT_FOR_WORKERS, self.address, str(workers), env=env)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster(tmp_path: Path, jitter: Path) -> Iterator[_Cluster]:
    root = tmp_path / "cluster"
    root.mkdir()
    running = _Cluster(root, env_with(jitter))
    try:
        yield running
    finally:
        running.close()


def _render(fleet: Path, out: Path, ledger: Path | str, address: str, env: dict[str, str]
            ) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "krmfn_fleet", "render", str(fleet),
                             "--out", str(out), "--ledger", str(ledger), "--scheduler",
                             address, "--quiet"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_scheduler_and_workers_of_their_own_write_the_same_tree(
        tmp_path: Path, jitter: Path, cluster: _Cluster) -> None:
    want = _reference(tmp_path)
    fleet, out = make_fleet(tmp_path / "fleet"), tmp_path / "out"
    run = _render(fleet, out, tmp_path / "l.sqlite", cluster.address, env_with(jitter))
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    assert "22 of 22 packages rendered" in stdout
    assert tree(out) == want


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_run_only_delays_it(tmp_path: Path, jitter: Path,
                                                cluster: _Cluster, kind: str,
                                                request: pytest.FixtureRequest) -> None:
    """On an SQLite ledger (workers of one machine) and on PostgreSQL over TCP with a
    password (workers anywhere): the run completes with the tree of a local run."""
    edges = 40
    want = _reference(tmp_path, extra_edges=edges)
    packages = sum(1 for k in want if k.endswith("/Kptfile") and not k.startswith("."))
    fleet, out = make_fleet(tmp_path / "fleet", edges), tmp_path / "out"
    env = env_with(jitter)
    ledger: str = str(tmp_path / "l.sqlite")
    if kind == "postgresql":
        server = request.getfixturevalue("postgres_server")
        ledger = server.tcp_url(urlsplit(server.database()).path.lstrip("/"))
    run = _render(fleet, out, ledger, cluster.address, env)
    victim, written = map(int, _python(BUSY_WORKER, cluster.address, str(out),
                                       env=env).split())
    os.kill(victim, signal.SIGKILL)
    assert written < packages  # killed while the run still had work to do
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    assert f"{packages} of {packages} packages rendered" in stdout
    assert tree(out) == want
    assert PASSWORD not in stdout + stderr


def test_workers_with_other_functions_are_refused_and_nothing_is_written(
        tmp_path: Path, jitter: Path) -> None:
    """The workers lack the function the client has (jitter): their packages would not
    be this machine's; one line naming the worker, exit 1, no OUT."""
    root = tmp_path / "plain"
    root.mkdir()
    plain = _Cluster(root, dict(os.environ), workers=1)
    try:
        fleet, out = make_fleet(tmp_path / "fleet", 1), tmp_path / "out"
        run = _render(fleet, out, tmp_path / "l.sqlite", plain.address, env_with(jitter))
        _, stderr = run.communicate(timeout=120)
    finally:
        plain.close()
    assert run.returncode == 1
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert "worker tcp://127.0.0.1:" in stderr and "other functions" in stderr
    assert not out.exists()


def test_a_scheduler_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    fleet, out = make_fleet(tmp_path / "fleet", 0), tmp_path / "out"
    run = _render(fleet, out, tmp_path / "l.sqlite", "tcp://127.0.0.1:9", dict(os.environ))
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 1
    assert stderr.startswith("krmfn fleet: error: --scheduler tcp://127.0.0.1:9: cannot connect")
    assert stderr.count("\n") == 1
    assert not out.exists()


def test_a_scheduler_address_without_a_port_is_one_line(tmp_path: Path) -> None:
    fleet, out = make_fleet(tmp_path / "fleet", 0), tmp_path / "out"
    run = _render(fleet, out, tmp_path / "l.sqlite", "scheduler", dict(os.environ))
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 1
    assert stderr == ("krmfn fleet: error: --scheduler scheduler: expected tcp://HOST:PORT "
                      "(missing port number in address 'scheduler')\n")
    assert not out.exists()
