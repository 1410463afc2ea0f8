"""Standalone `--in-place` runs never leave a package half-written.

A run that fails (an error result, a file that does not parse, a bad config, a write that
fails) leaves every file byte-identical and adds none. A run killed with SIGKILL while it
writes leaves every file either as it was or as the finished run writes it: never
truncated, never mixed; the only trace is a hidden temporary file that no reader picks up,
and running again finishes the job.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kpt_support import script

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "functions" / "krmfn_catalog"
sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus import package  # noqa: E402

FUNCTIONS = ("set-namespace", "ipam-inject", "vlan-assign", "site-specialize", "policy-validate")
# What each function needs to have work to do on the package below.
ARGS = {"set-namespace": ["namespace=prod"], "site-specialize": ["clusterName=edge-01"]}

OTHER = """\
# a file the function would change if the run succeeded
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the front end
  namespace: staging
spec:
  replicas: 2
"""


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root`, hidden ones included, by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def run(fn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script(fn), *args], capture_output=True, text=True, timeout=120)


def assert_failed_cleanly(fn: str, proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith(f"{fn}: error: "), proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def small_package(root: Path) -> Path:
    """A package every function has something to do in."""
    shutil.copytree(CATALOG / "vlan_assign" / "examples" / "vlan-attachments", root)
    (root / "web.yaml").write_text(OTHER)
    return root


# ------------------------------------------------------------------ failing runs

ERROR_CASES = sorted(
    (fn, case) for fn in FUNCTIONS
    for case in (CATALOG / fn.replace("-", "_") / "testdata").iterdir()
    if (case / "expected-exit-code").is_file()
    and (case / "expected-exit-code").read_text().strip() == "1"
    and "kind: ResourceList" not in (case / "input.yaml").read_text()
)


@pytest.mark.parametrize(("fn", "case"), ERROR_CASES,
                         ids=[f"{fn}:{case.name}" for fn, case in ERROR_CASES])
def test_an_error_result_writes_nothing(fn: str, case: Path, tmp_path: Path) -> None:
    """Every golden case that ends in an error, as a package on disk, run in place."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    shutil.copy(case / "input.yaml", pkg / "resources.yaml")
    (pkg / "web.yaml").write_text(OTHER)
    config = case / "config.yaml"
    args = ["--config", str(config)] if config.is_file() else []
    before = snapshot(pkg)
    proc = run(fn, str(pkg), "--in-place", *args)
    assert_failed_cleanly(fn, proc)
    assert snapshot(pkg) == before


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_a_file_that_does_not_parse_writes_nothing(fn: str, tmp_path: Path) -> None:
    pkg = small_package(tmp_path / "pkg")
    (pkg / "zz-broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n")
    before = snapshot(pkg)
    proc = run(fn, str(pkg), "--in-place", *ARGS.get(fn, []))
    assert_failed_cleanly(fn, proc)
    assert "zz-broken.yaml" in proc.stderr
    assert snapshot(pkg) == before


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_a_config_of_the_wrong_kind_writes_nothing(fn: str, tmp_path: Path) -> None:
    pkg = small_package(tmp_path / "pkg")
    config = tmp_path / "config.yaml"
    config.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nope\n")
    before = snapshot(pkg)
    proc = run(fn, str(pkg), "--in-place", "--config", str(config))
    assert_failed_cleanly(fn, proc)
    assert snapshot(pkg) == before


def test_a_config_that_does_not_parse_writes_nothing(tmp_path: Path) -> None:
    pkg = small_package(tmp_path / "pkg")
    config = tmp_path / "config.yaml"
    config.write_text("apiVersion: v1\nkind: ConfigMap\ndata: {namespace: [\n")
    before = snapshot(pkg)
    proc = run("set-namespace", str(pkg), "--in-place", "--config", str(config))
    assert_failed_cleanly("set-namespace", proc)
    assert snapshot(pkg) == before


def test_a_write_that_fails_halfway_writes_nothing(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up while the third file is written: the two temporary files already
    written are removed, no file is replaced, and the error names the file."""
    from krmfn_catalog.set_namespace import main

    pkg = tmp_path / "pkg"
    package(30, pkg)
    before = snapshot(pkg)
    real = os.write
    calls = 0

    def disk_full(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(SystemExit) as exit_:
        main(["--in-place", str(pkg), "namespace=prod"])
    monkeypatch.undo()
    assert exit_.value.code == 1
    assert calls == 3
    assert snapshot(pkg) == before


# ------------------------------------------------------------------ killed while writing

RESOURCES = 1200  # 400 files, each fsynced: a write long enough for a kill to land inside
# When to kill, once the run has begun writing: after a delay in seconds, or as soon as
# temporary files start turning into the real ones ("replacing").
KILL_AT: tuple[float | str, ...] = (0.0, 0.01, 0.05, "replacing", "replacing")


def _temporaries(pkg: Path) -> int:
    """How many temporary (hidden) files the run has made so far."""
    with os.scandir(pkg) as entries:
        return sum(e.name.startswith(".") for e in entries)


def _kill_during_write(pkg: Path, when: float | str) -> bool:
    """Run set-namespace in place on `pkg` and SIGKILL it while it writes; True if the
    kill landed before the run finished."""
    child = subprocess.Popen([script("set-namespace"), str(pkg), "namespace=prod",
                              "--in-place"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    most = 0
    while child.poll() is None:
        count = _temporaries(pkg)
        if count and (when != "replacing" or count < most):
            break
        most = max(most, count)
        time.sleep(0.0002)
    if child.poll() is None:
        if isinstance(when, float):
            time.sleep(when)
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=120)
    return child.returncode == -signal.SIGKILL


def test_kill_9_while_writing_leaves_every_file_old_or_new(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    package(RESOURCES, pristine)
    old = snapshot(pristine)
    finished = tmp_path / "finished"
    shutil.copytree(pristine, finished)
    proc = run("set-namespace", str(finished), "namespace=prod", "--in-place")
    assert proc.returncode == 0, proc.stderr
    new = snapshot(finished)
    assert old.keys() == new.keys()
    assert sum(old[name] != new[name] for name in old) == RESOURCES // 3  # all but Kptfile

    killed = 0
    for trial, when in enumerate(KILL_AT):
        pkg = tmp_path / f"trial-{trial}"
        shutil.copytree(pristine, pkg)
        killed += _kill_during_write(pkg, when)
        after = snapshot(pkg)
        visible = {name: data for name, data in after.items() if not name.startswith(".")}
        assert visible.keys() == old.keys()
        torn = [name for name, data in visible.items() if data not in (old[name], new[name])]
        assert not torn, f"kill at {when}: {len(torn)} file(s) neither old nor new: {torn[:3]}"
        leftovers = [name for name in after if name.startswith(".")]
        assert all(not name.endswith((".yaml", ".yml")) for name in leftovers), leftovers

        # the next run reads past the leftovers and finishes the job
        again = run("set-namespace", str(pkg), "namespace=prod", "--in-place")
        assert again.returncode == 0, again.stderr
        done = snapshot(pkg)
        assert {n: d for n, d in done.items() if not n.startswith(".")} == new
        shutil.rmtree(pkg)
    assert killed >= 1, "no kill landed while the run was writing"


def test_a_file_with_crlf_line_breaks_keeps_them(tmp_path: Path) -> None:
    """An edited file is written with the line breaks it had: only the edited line changes."""
    crlf = tmp_path / "cm.yaml"
    crlf.write_bytes(b"apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: a # keep\r\n"
                     b"  namespace: old\r\ndata:\r\n  k: v\r\n")
    lf = tmp_path / "lf.yaml"
    lf.write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: old\n")
    done = run("set-namespace", str(tmp_path), "namespace=new", "--in-place")
    assert done.returncode == 0, done.stderr
    assert crlf.read_bytes() == (b"apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n"
                                 b"  name: a # keep\r\n  namespace: new\r\ndata:\r\n  k: v\r\n")
    assert lf.read_bytes().endswith(b"  namespace: new\n") and b"\r" not in lf.read_bytes()
