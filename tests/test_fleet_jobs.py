"""`krmfn fleet render FLEET --jobs N`: the same tree at any parallelism.

Packages render side by side on worker processes, but the ledger hands out the lowest
free block to whoever asks first, so allocations must be made in the fleet's order, not
the workers'. Every package's pipeline starts with a random sleep (the `jitter` function,
see fleet_jobs_support), so the workers reach the ledger in a different order on every
run; the tree written (packages, addresses, VLANs, the lock file) must still be byte for
byte the tree `--jobs 1` writes, on a fresh ledger, after an incremental re-render (a site
added, one removed, one moved) and with removals releasing their allocations.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fleet_jobs_support import change_fleet, env_with, install_jitter, make_fleet, tree
from krmfn_fleet.render import render_variant_fleet
from krmfn_fleet.schedule import default_jobs


@pytest.fixture
def jitter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = install_jitter(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))  # forked workers inherit it
    return site


def _render_twice(fleet: Path, out: Path, jobs: int) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """A fresh render, then the fleet changed and rendered again: both trees."""
    ledger = out.with_suffix(".sqlite")
    outcomes = render_variant_fleet(fleet, out, ledger=ledger, jobs=jobs)
    assert all(o.ok for o in outcomes), [(o.key, o.messages) for o in outcomes if not o.ok]
    first = tree(out)
    change_fleet(fleet)
    outcomes = render_variant_fleet(fleet, out, ledger=ledger, jobs=jobs)
    assert all(o.ok for o in outcomes), [(o.key, o.messages) for o in outcomes if not o.ok]
    assert any(o.removed for o in outcomes) and any(o.skipped for o in outcomes)
    return first, tree(out)


def test_any_number_of_jobs_writes_the_tree_one_job_writes(tmp_path: Path, jitter: Path) -> None:
    fleets = {jobs: make_fleet(tmp_path / f"fleet-{jobs}") for jobs in (1, 2, 3, 8)}
    want_first, want_after = _render_twice(fleets[1], tmp_path / "out-1", 1)
    packages = [k for k in want_first if k.endswith("/Kptfile") and not k.startswith(".")]
    assert len(packages) == 22  # 16 UPFs, 3 SMF+AMF
    assert want_after != want_first
    for jobs in (2, 3, 8, 2):  # 2 again: a second draw of the delays
        out = tmp_path / f"out-{jobs}"
        if out.exists():
            import shutil

            shutil.rmtree(out)
            out.with_suffix(".sqlite").unlink()
            shutil.rmtree(fleets[jobs])
            make_fleet(fleets[jobs])
        first, after = _render_twice(fleets[jobs], out, jobs)
        assert _differences(first, want_first) == [], f"--jobs {jobs}, fresh ledger"
        assert _differences(after, want_after) == [], f"--jobs {jobs}, after the change"


def _differences(got: dict[str, bytes], want: dict[str, bytes]) -> list[str]:
    return sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))


def test_the_command_line_takes_jobs_and_writes_the_same_tree(tmp_path: Path,
                                                              jitter: Path) -> None:
    fleet = make_fleet(tmp_path / "fleet", extra_edges=2)
    trees = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        run = subprocess.run([sys.executable, "-m", "krmfn_fleet", "render", str(fleet),
                              "--out", str(out), "--ledger", str(tmp_path / f"{jobs}.sqlite"),
                              "--jobs", jobs], capture_output=True, text=True,
                             env=env_with(jitter))
        assert run.returncode == 0, run.stderr
        assert "16 of 16 packages rendered" in run.stdout
        trees.append(tree(out))
    assert trees[0] == trees[1]
    bad = subprocess.run([sys.executable, "-m", "krmfn_fleet", "render", str(fleet),
                          "--out", str(tmp_path / "x"), "--jobs", "0"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--jobs: 0 is less than 1" in bad.stderr
    assert not (tmp_path / "x").exists()


def test_a_failing_package_fails_alone_at_any_parallelism(tmp_path: Path, jitter: Path) -> None:
    """The UE pool fits four UPFs: the first four in the fleet's order get one, the
    others fail (and the SMFs depending on them are not rendered), the same ones with
    one job or three."""
    results = []
    for jobs in (1, 3):
        fleet = make_fleet(tmp_path / f"fleet-{jobs}")
        dnn = fleet / "repositories" / "free5gc" / "upf" / "dnn.yaml"
        dnn.write_text(dnn.read_text().replace("prefixLength: 16", "prefixLength: 10"))
        out = tmp_path / f"out-{jobs}"
        outcomes = render_variant_fleet(fleet, out, ledger=tmp_path / f"{jobs}.sqlite",
                                        jobs=jobs)
        results.append(([(o.key, o.ok, o.messages) for o in outcomes], tree(out)))
    assert results[0] == results[1]
    failed = [key for key, ok, _ in results[0][0] if not ok]
    upfs = [key for key, _, _ in results[0][0] if key.endswith("/free5gc-upf")]
    assert [k for k in upfs if k not in failed] == upfs[:4]
    assert any(k.endswith("/free5gc-smf") for k in failed)


def test_the_default_is_the_cpus_this_process_may_use() -> None:
    import os

    assert default_jobs() == len(os.sched_getaffinity(0))


def test_a_postgresql_ledger_gives_the_tree_an_sqlite_ledger_gives(
        tmp_path: Path, jitter: Path, postgres_url: str) -> None:
    """Same answers to the same questions: the fleet on a PostgreSQL ledger, with three
    jobs, writes byte for byte what one job writes on SQLite, fresh and after a change
    (whose removed site gives its allocations back in PostgreSQL)."""
    want = _render_twice(make_fleet(tmp_path / "fleet-sqlite"), tmp_path / "out-sqlite", 1)
    fleet, out = make_fleet(tmp_path / "fleet-pg"), tmp_path / "out-pg"
    outcomes = render_variant_fleet(fleet, out, ledger=postgres_url, jobs=3)
    assert all(o.ok for o in outcomes)
    assert _differences(tree(out), want[0]) == []
    change_fleet(fleet)
    outcomes = render_variant_fleet(fleet, out, ledger=postgres_url, jobs=3)
    removed = [o for o in outcomes if o.removed]
    assert removed and all(m.startswith("released") for o in removed for m in o.messages), \
        [o.messages for o in removed]
    assert _differences(tree(out), want[1]) == []
    assert not out.with_suffix(".sqlite").exists()


def test_a_local_worker_killed_stops_the_run_with_one_line(tmp_path: Path, jitter: Path) -> None:
    """Out of memory or a signal: the run stops naming what happened, no traceback, and
    the lock is left as it was (the next render renders those packages again)."""
    import os
    import signal
    import time

    fleet, out = make_fleet(tmp_path / "fleet", extra_edges=30), tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "krmfn_fleet", "render", str(fleet),
                            "--out", str(out), "--ledger", str(tmp_path / "l.sqlite"),
                            "--jobs", "2", "--quiet"], env=env_with(jitter), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children")
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(out.glob("*/*/Kptfile"))):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.01)
    workers = children.read_text().split()
    assert workers
    os.kill(int(workers[0]), signal.SIGKILL)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 1
    assert stderr.startswith("krmfn fleet: error: a worker process died") and \
        stderr.count("\n") == 1, stderr
    assert not (out / ".krmfn-fleet.lock").exists()
