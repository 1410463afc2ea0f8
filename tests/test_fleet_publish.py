"""`krmfn fleet publish` and `render --publish`, against real git repositories (bare, a
working clone, a push): one commit per publish summing up the packages, nothing when
nothing changed, nothing after a failed render, a directory per cluster that kustomize
(what Flux, Argo CD and Config Sync build) turns into the resources to apply."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from krmfn_fleet.publish import KUSTOMIZATION, _kustomization

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"
WHO = ["-c", "user.name=Someone", "-c", "user.email=someone@example.com"]


def _krmfn(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "krmfn_fleet", *args],
                          capture_output=True, text=True, check=False)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *WHO, *args], capture_output=True,
                          text=True, check=True).stdout


def _commits(repo: Path, branch: str = "main") -> list[str]:
    proc = subprocess.run(["git", "-C", str(repo), "log", "--format=%H", branch],
                          capture_output=True, text=True, check=False)
    return proc.stdout.split() if proc.returncode == 0 else []


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, root)
    proc = _krmfn("render", str(root), "--out", str(tmp_path / "out"), "--ledger",
                  str(tmp_path / "out" / ".ledger.sqlite"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return root


def _bare(tmp_path: Path, name: str = "fleet.git") -> Path:
    repo = tmp_path / name
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    return repo


def test_publish_to_a_bare_repository_one_commit_then_none(
        fleet: Path, tmp_path: Path) -> None:
    out, repo = tmp_path / "out", _bare(tmp_path)
    proc = _krmfn("publish", str(out), "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert len(_commits(repo)) == 1
    message = _git(repo, "log", "-1", "--format=%B", "main")
    packages = sorted(f"{c.name}/{p.name}" for c in out.iterdir()
                      if c.is_dir() and not c.name.startswith(".") for p in c.iterdir())
    assert message.strip().splitlines() == [
        f"fleet: {len(packages)} created, 0 changed, 0 removed", ""] + [
        f"created {k}" for k in packages]
    files = _git(repo, "ls-tree", "-r", "--name-only", "main").split()
    published = {f.rsplit("/", 1)[0] for f in files if f.count("/") == 2}
    assert published == set(packages)
    assert not [f for f in files if ".krmfn-fleet" in f or "ledger" in f]
    clusters = {k.split("/")[0] for k in packages}
    assert {f for f in files if f.count("/") == 1} == {f"{c}/{KUSTOMIZATION}"
                                                        for c in clusters}
    for key in packages:  # every file as rendered, byte for byte
        for path in (out / key).iterdir():
            shown = subprocess.run(["git", "-C", str(repo), "show", f"main:{key}/{path.name}"],
                                   capture_output=True, check=True).stdout
            assert shown == path.read_bytes()
    again = _krmfn("publish", str(out), "--repo", str(repo))
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert len(_commits(repo)) == 1


def _local(doc: dict[str, Any]) -> bool:
    notes = doc["metadata"].get("annotations") or {}
    return bool(notes.get("config.kubernetes.io/local-config") == "true")


def test_kustomize_builds_each_cluster_without_local_config(
        fleet: Path, tmp_path: Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (kustomize) is not installed")
    out, repo = tmp_path / "out", _bare(tmp_path)
    assert _krmfn("publish", str(out), "--repo", str(repo)).returncode == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    for cluster in sorted(p for p in clone.iterdir() if p.is_dir() and p.name != ".git"):
        built = subprocess.run(["kubectl", "kustomize", str(cluster)], capture_output=True,
                               text=True, check=True).stdout
        docs = [d for d in yaml.safe_load_all(built) if d]
        kinds = sorted({d["kind"] for d in docs})
        assert "NFDeployment" in kinds and "Namespace" in kinds, (cluster.name, kinds)
        assert not [d for d in docs if _local(d)]
        expected = []  # every resource of the cluster's packages that is not local-config
        for path in sorted(cluster.glob("*/*")):
            if path.name == "Kptfile" or path.suffix == ".yaml":
                expected += [(d["kind"], d["metadata"]["name"])
                             for d in yaml.safe_load_all(path.read_text())
                             if d and not _local(d)]
        assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == sorted(expected)


def test_a_working_clone_is_committed_and_pushed_and_its_files_follow(
        fleet: Path, tmp_path: Path) -> None:
    out, origin = tmp_path / "out", _bare(tmp_path, "origin.git")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True,
                   capture_output=True)
    _git(clone, "checkout", "-q", "-b", "main")
    (clone / "README.md").write_text("# our fleet\n")
    (clone / "docs").mkdir()
    (clone / "docs" / "notes.md").write_text("notes\n")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "start")
    proc = _krmfn("publish", str(out), "--repo", str(clone), "--push", "origin")
    assert proc.returncode == 0, proc.stderr
    assert _git(clone, "status", "--porcelain") == ""
    assert (clone / "edge-par-01" / "free5gc-upf" / "Kptfile").is_file()
    assert (clone / "README.md").read_text() == "# our fleet\n"  # left alone
    assert (clone / "docs" / "notes.md").is_file()
    assert _commits(clone) == _commits(origin) and len(_commits(origin)) == 2
    # a site removed: its package goes, and with it the cluster's directory
    clusters = [d for d in (fleet / "clusters.yaml").read_text().split("---\n")
                if "name: edge-bos-01\n" not in d]
    (fleet / "clusters.yaml").write_text("---\n".join(clusters))
    proc = _krmfn("render", str(fleet), "--out", str(out), "--ledger",
                  str(out / ".ledger.sqlite"), "--publish", str(clone), "--push", "origin")
    assert proc.returncode == 0, proc.stderr
    message = _git(origin, "log", "-1", "--format=%B", "main").strip().splitlines()
    assert message == ["fleet: 0 created, 2 changed, 1 removed", "",
                       "changed core-us-east/free5gc-amf",  # given the SMF's
                       "changed core-us-east/free5gc-smf",  # given one UPF less
                       "removed edge-bos-01/free5gc-upf"]
    assert not (clone / "edge-bos-01").exists()
    assert (clone / "docs" / "notes.md").is_file()
    assert _git(clone, "status", "--porcelain") == ""


def test_local_changes_in_the_clone_are_not_overwritten(fleet: Path, tmp_path: Path) -> None:
    out, clone = tmp_path / "out", tmp_path / "clone"
    subprocess.run(["git", "init", "-q", "-b", "main", str(clone)], check=True)
    assert _krmfn("publish", str(out), "--repo", str(clone)).returncode == 0
    nf = clone / "edge-par-01" / "free5gc-upf" / "upfdeployment.yaml"
    nf.write_text(nf.read_text() + "# mine, not committed\n")
    clusters = (fleet / "clusters.yaml").read_text().replace("name: edge-par-01",
                                                             "name: edge-par-02")
    (fleet / "clusters.yaml").write_text(clusters)
    head = _commits(clone)
    proc = _krmfn("render", str(fleet), "--out", str(out), "--ledger",
                  str(out / ".ledger.sqlite"), "--publish", str(clone))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "local changes" in proc.stderr
    assert _commits(clone) == head
    assert nf.read_text().endswith("# mine, not committed\n")


def test_a_failed_render_publishes_nothing(fleet: Path, tmp_path: Path) -> None:
    out, repo = tmp_path / "out", _bare(tmp_path)
    assert _krmfn("publish", str(out), "--repo", str(repo)).returncode == 0
    amf = fleet / "repositories" / "free5gc" / "amf" / "Kptfile"
    amf.write_text(amf.read_text().replace("ghcr.io/krmfn/set-namespace:v0.1.0",
                                           "ghcr.io/krmfn/no-such-function:v0.1.0"))
    proc = _krmfn("render", str(fleet), "--out", str(out), "--ledger",
                  str(out / ".ledger.sqlite"), "--publish", str(repo))
    assert proc.returncode == 1
    assert len(_commits(repo)) == 1


def test_plan_reports_drift_in_the_published_repository(fleet: Path, tmp_path: Path) -> None:
    out, repo = tmp_path / "out", _bare(tmp_path)
    assert _krmfn("publish", str(out), "--repo", str(repo)).returncode == 0
    plan = ["plan", str(fleet), "--out", str(out), "--repo", str(repo),
            "--detailed-exitcode"]
    assert _krmfn(*plan).returncode == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    nf = clone / "core-us-east" / "free5gc-amf" / "amfdeployment.yaml"
    nf.write_text(nf.read_text().replace("provider: amf.free5gc.io",
                                         "provider: amf.example.com"))
    (clone / "core-us-east" / "free5gc-amf" / "hand.yaml").write_text("a: 1\n")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "by hand")
    _git(clone, "push", "-q", "origin", "main")
    proc = _krmfn(*plan)
    assert proc.returncode == 3, proc.stderr
    assert "drift     core-us-east/free5gc-amf: amfdeployment.yaml changed" in proc.stdout
    assert "drift     core-us-east/free5gc-amf: hand.yaml added" in proc.stdout
    assert "+  provider: amf.example.com\n" in proc.stdout
    assert _krmfn("plan", str(fleet), "--out", str(out), "--detailed-exitcode").returncode == 0


def test_an_edit_committed_in_the_repository_is_not_published_over(
        fleet: Path, tmp_path: Path) -> None:
    out, repo = tmp_path / "out", _bare(tmp_path)
    assert _krmfn("publish", str(out), "--repo", str(repo)).returncode == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    key = "core-us-east/free5gc-amf/amfdeployment.yaml"
    (clone / key).write_text((clone / key).read_text() + "# tuned in the repository\n")
    _git(clone, "commit", "-q", "-am", "by hand")
    _git(clone, "push", "-q", "origin", "main")
    head = _commits(repo)
    proc = _krmfn("publish", str(out), "--repo", str(repo))  # OUT did not change, yet
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "core-us-east/free5gc-amf" in proc.stderr and "nothing published" in proc.stderr
    assert _commits(repo) == head
    # the same edit brought into OUT: nothing is lost, the publish goes on
    (out / key).write_bytes((clone / key).read_bytes())
    other = out / "edge-par-01" / "free5gc-upf" / "README.md"
    other.write_text("notes\n")
    proc = _krmfn("publish", str(out), "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    message = _git(repo, "log", "-1", "--format=%B", "main").strip().splitlines()
    assert message[2:] == ["changed edge-par-01/free5gc-upf"]
    # --overwrite publishes OUT over an edit made in the repository
    subprocess.run(["git", "-C", str(clone), "pull", "-q"], check=True)
    (clone / key).write_text("# replaced in the repository\n")
    _git(clone, "commit", "-q", "-am", "by hand again")
    _git(clone, "push", "-q", "origin", "main")
    assert _krmfn("publish", str(out), "--repo", str(repo)).returncode == 1
    assert _krmfn("publish", str(out), "--repo", str(repo), "--overwrite").returncode == 0
    shown = subprocess.run(["git", "-C", str(repo), "show", f"main:{key}"],
                           capture_output=True, check=True).stdout
    assert shown == (out / key).read_bytes()


@given(names=st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                              max_size=12), max_size=5))
def test_a_kustomization_lists_any_file_name_as_it_is(names: list[str]) -> None:
    files = [f"pkg/{n}" for n in names]
    assert yaml.safe_load(_kustomization(files))["resources"] == files
