"""Drift: files of a rendered fleet changed by hand since the last render. The plan names
exactly those files (with a diff, exit 3 under --detailed-exitcode); render never
overwrites them silently: it keeps them (a skipped package is left alone, one rendered
again merges them in), and --discard-drift restores what was rendered."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fleet_support import tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from krmfn_fleet import render_variant_fleet
from krmfn_fleet.drift import BASE, blob_id, drift_of
from krmfn_fleet.plan import LOCK, read_lock

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example fleet rendered once (fleet/, fleet/out, ledger.db); copy it to use it."""
    root = tmp_path_factory.mktemp("drift") / "site"
    shutil.copytree(EXAMPLE, root / "fleet")
    outcomes = render_variant_fleet(root / "fleet", root / "fleet" / "out",
                                    ledger=root / "ledger.db")
    assert all(o.ok for o in outcomes)
    return root


def _copy(rendered: Path, to: Path) -> Path:
    shutil.rmtree(to, ignore_errors=True)
    shutil.copytree(rendered, to)
    return to / "fleet"


def _packages(out: Path) -> dict[str, dict[str, bytes]]:
    return {f"{c.name}/{p.name}": tree(p) for c in sorted(out.iterdir())
            if c.is_dir() and not c.name.startswith(".") for p in sorted(c.iterdir())}


def _plan(fleet: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "krmfn_fleet", "plan", str(fleet), "--out",
                           str(fleet / "out"), "--detailed-exitcode", *extra],
                          capture_output=True, text=True, check=False)


def test_the_lock_records_every_file_rendered_and_the_base_holds_its_text(
        rendered: Path) -> None:
    out = rendered / "fleet" / "out"
    lock = read_lock(out)
    packages = _packages(out)
    assert set(lock) == set(packages)
    for key, files in packages.items():
        assert lock[key]["files"] == {n: blob_id(d) for n, d in files.items()}, key
        assert tree(out / BASE / key) == files, key
    assert not drift_of(out, lock)


def test_the_ids_are_git_blob_ids(tmp_path: Path) -> None:
    path = tmp_path / "f"
    for data in (b"", b"a: 1\n", "é\r\n".encode()):
        path.write_bytes(data)
        git = subprocess.run(["git", "hash-object", str(path)], capture_output=True,
                             text=True, check=True).stdout.strip()
        assert blob_id(data) == git


# an edit: (package index, file index, what): what is "change", "delete" or "add"
EDITS = st.lists(st.tuples(st.integers(0, 13), st.integers(0, 20),
                           st.sampled_from(["change", "delete", "add"])),
                 min_size=1, max_size=6)


def _edit(out: Path, edits: list[tuple[int, int, str]]) -> set[tuple[str, str, str]]:
    """Apply the edits by hand; the (package, file, state) the plan must report."""
    packages = _packages(out)
    keys = sorted(packages)
    expected: dict[tuple[str, str], str] = {}
    for n, (p, f, what) in enumerate(edits):
        key = keys[p % len(keys)]
        names = sorted(n for n in packages[key] if (out / key / n).exists())
        if what == "add" or not names:
            name = f"hand-{n}.yaml"
            (out / key / name).write_text(f"# added by hand {n}\n")
            expected[(key, name)] = "added"
            continue
        name = names[f % len(names)]
        if what == "delete":
            (out / key / name).unlink()
            state = "deleted"
        else:
            with (out / key / name).open("a") as fh:
                fh.write(f"# edited by hand {n}\n")
            state = "changed"
        expected[(key, name)] = ("added" if expected.get((key, name)) == "added"
                                 else state)
    return {(k, n, s) for (k, n), s in expected.items()
            if not (s == "added" and not (out / k / n).exists())}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_plan_reports_exactly_the_files_edited_by_hand(
        rendered: Path, tmp_path: Path, edits: list[tuple[int, int, str]]) -> None:
    fleet = _copy(rendered, tmp_path / "copy")
    out = fleet / "out"
    expected = _edit(out, edits)
    found = drift_of(out, read_lock(out))
    assert {(d.key, d.file, d.state) for d in found} == expected
    for d in found:
        marker = [line for line in d.diff.splitlines() if "by hand" in line]
        assert marker or d.state == "deleted", d
        assert d.diff.startswith(f"--- rendered/{d.key}/{d.file}\n"), d.diff


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_a_forced_render_keeps_every_hand_edit_and_discard_drift_restores(
        rendered: Path, tmp_path: Path, edits: list[tuple[int, int, str]]) -> None:
    fleet = _copy(rendered, tmp_path / "copy")
    out, ledger = fleet / "out", tmp_path / "copy" / "ledger.db"
    before = _packages(out)
    _edit(out, [e for e in edits if e[2] != "delete"])  # kept deletions: see below
    edited = _packages(out)
    outcomes = render_variant_fleet(fleet, out, ledger=ledger, force=True)
    assert all(o.ok for o in outcomes)
    assert _packages(out) == edited  # the render is what it was: ours, byte for byte
    assert {o.key for o in outcomes if o.kept} == {k for k in edited if edited[k] != before[k]}
    render_variant_fleet(fleet, out, ledger=ledger, discard_drift=True)
    assert _packages(out) == before
    assert not drift_of(out, read_lock(out))


def test_a_file_deleted_by_hand_stays_deleted_when_rendered_again(
        rendered: Path, tmp_path: Path) -> None:
    fleet = _copy(rendered, tmp_path / "copy")
    out = fleet / "out"
    (out / "edge-par-01" / "free5gc-upf" / "dnn.yaml").unlink()
    outcomes = render_variant_fleet(fleet, out, ledger=tmp_path / "copy" / "ledger.db",
                                    force=True)
    assert all(o.ok for o in outcomes)
    assert not (out / "edge-par-01" / "free5gc-upf" / "dnn.yaml").exists()
    assert [(d.key, d.file, d.state) for d in drift_of(out, read_lock(out))] == [
        ("edge-par-01/free5gc-upf", "dnn.yaml", "deleted")]


def test_an_unchanged_package_edited_by_hand_is_left_alone_and_reported(
        rendered: Path, tmp_path: Path) -> None:
    fleet = _copy(rendered, tmp_path / "copy")
    out = fleet / "out"
    nf = out / "core-eu-west" / "free5gc-smf" / "smfdeployment.yaml"
    nf.write_text(nf.read_text().replace("provider: smf.free5gc.io",
                                         "provider: smf.example.com"))
    edited = _packages(out)
    outcomes = render_variant_fleet(fleet, out, ledger=tmp_path / "copy" / "ledger.db")
    assert all(o.skipped for o in outcomes)
    assert _packages(out) == edited
    proc = _plan(fleet)
    assert proc.returncode == 3, proc.stderr
    assert "drift     core-eu-west/free5gc-smf: smfdeployment.yaml changed" in proc.stdout
    assert "-  provider: smf.free5gc.io\n+  provider: smf.example.com\n" in proc.stdout


def test_exit_3_wins_over_2_and_a_plan_without_drift_says_2(
        rendered: Path, tmp_path: Path) -> None:
    fleet = _copy(rendered, tmp_path / "copy")
    out = fleet / "out"
    with (fleet / "clusters.yaml").open("a") as f:  # something to do: one more site
        f.write((EXAMPLE / "clusters.yaml").read_text().split("---\n")[1]
                .replace("edge-par-01", "edge-nce-01"))
    assert _plan(fleet).returncode == 2
    (out / "edge-lyo-01" / "free5gc-upf" / "README.md").write_text("mine\n")
    proc = _plan(fleet)
    assert proc.returncode == 3
    assert "created   edge-nce-01/free5gc-upf" in proc.stdout
    assert "drift     edge-lyo-01/free5gc-upf: README.md added" in proc.stdout


def test_a_lock_written_before_files_were_recorded_still_renders(
        rendered: Path, tmp_path: Path) -> None:
    fleet = _copy(rendered, tmp_path / "copy")
    out = fleet / "out"
    data = json.loads((out / LOCK).read_text())
    for entry in data["packages"].values():
        del entry["files"]
    (out / LOCK).write_text(json.dumps(data))
    assert not drift_of(out, read_lock(out))
    outcomes = render_variant_fleet(fleet, out, ledger=tmp_path / "copy" / "ledger.db",
                                    force=True)
    assert all(o.ok and o.files for o in outcomes)
    assert all("files" in e for e in read_lock(out).values())


def test_a_hand_edit_that_cannot_be_merged_leaves_the_package_and_says_why(
        rendered: Path, tmp_path: Path) -> None:
    fleet = _copy(rendered, tmp_path / "copy")
    pkg = fleet / "out" / "edge-par-01" / "free5gc-upf"
    shutil.copy(pkg / "upfdeployment.yaml", pkg / "copy.yaml")  # the NFDeployment twice
    edited = tree(pkg)
    capacity = fleet / "repositories" / "free5gc" / "upf" / "capacity.yaml"
    capacity.write_text(capacity.read_text().replace(": 5G", ": 6G"))
    proc = subprocess.run([sys.executable, "-m", "krmfn_fleet", "render", str(fleet),
                           "--out", str(fleet / "out"), "--ledger",
                           str(tmp_path / "copy" / "ledger.db"), "--quiet"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0].startswith(
        "edge-par-01/free5gc-upf: cannot merge the hand edits: ")
    assert "defined twice" in proc.stderr and "Traceback" not in proc.stderr
    assert tree(pkg) == edited
