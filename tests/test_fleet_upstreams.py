"""Blueprints read from git: a PackageVariantSet's upstream names a Porch Repository of the
fleet, read at a ref from real repositories made here; the rendered Kptfile records
`upstream` and `upstreamLock` as the real `kpt pkg get` does, and `kpt pkg update` then
works on the package; the plan follows the commit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fleet_support import blueprint, cluster, pvs, tree, write_fleet
from kpt_support import HAS_KPT, KPT, diff, needs_kpt, scratch_package
from kpt_support import render as kpt_render
from krmfn_fleet import FleetError, plan, render_variant_fleet
from krmfn_fleet.upstreams import IDENTIFIER

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c",
       "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
DATA = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  version: "{version}" # the blueprint's revision
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def commit_version(repo: Path, version: str) -> str:
    (repo / "blueprints" / "upf" / "settings.yaml").write_text(DATA.format(version=version))
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", f"upf {version}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A blueprint repository: blueprints/upf at v1 (tags blueprints/upf/v1 and v1), then
    v2 (tag v2, branch main), and a branch `old` at v1."""
    root = tmp_path / "upstream"
    root.mkdir()
    git(root, "init", "--quiet")
    bp = blueprint(root / "scratch", "upf")
    (root / "blueprints").mkdir()
    bp.rename(root / "blueprints" / "upf")
    (root / "scratch").rename(tmp_path / "scratch-left")
    commit_version(root, "1")
    git(root, "tag", "blueprints/upf/v1")
    git(root, "tag", "v1")
    git(root, "branch", "old")
    commit_version(root, "2")
    git(root, "tag", "v2")
    return root


def repository(name: str, url: str, *, directory: str = "blueprints",
               branch: str | None = None) -> dict[str, Any]:
    git_spec = {"repo": url, "directory": directory} | ({"branch": branch} if branch else {})
    return {"apiVersion": "config.porch.kpt.dev/v1alpha1", "kind": "Repository",
            "metadata": {"name": name}, "spec": {"type": "git", "git": git_spec}}


def make_fleet(root: Path, url: str, revision: str | None) -> Path:
    fleet = root / "fleet"
    fleet.mkdir()
    variant = pvs("upf", "upf", [{"objectSelector": {
        "apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster"},
        "template": {"injectors": [{"nameExpr": "target.name"}]}}])
    if revision is None:
        del variant["spec"]["upstream"]["revision"]
    else:
        variant["spec"]["upstream"]["revision"] = revision
    write_fleet(fleet, [cluster("edge-1"), cluster("edge-2")],
                [repository("bp", url), variant])
    return fleet


def kptfile(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((path / "Kptfile").read_text())
    return data


def _merge_comment(path: Path) -> str:
    return next(line for line in path.read_text().splitlines() if line.startswith("metadata:"))


def settings(path: Path) -> str:
    return str(yaml.safe_load((path / "settings.yaml").read_text())["data"]["version"])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "krmfn_fleet", *args], capture_output=True,
                          text=True, check=False)


# revision as written in the PackageVariantSet -> (the ref given to kpt pkg get, version)
REVISIONS = {"v1": ("v1", "1"), "v2": ("v2", "2"), "old": ("old", "2"), "main": ("main", "2"),
             None: ("main", "2")}


@needs_kpt
@pytest.mark.parametrize("form", ["path", "file-url"])
@pytest.mark.parametrize("revision", ["v1", "v2", "old", "main", None, "commit"])
def test_a_git_blueprint_at_its_ref_is_recorded_as_kpt_pkg_get_records_it(
        tmp_path: Path, repo: Path, form: str, revision: str | None) -> None:
    url = str(repo) if form == "path" else f"file://{repo}"
    if revision == "commit":
        ref, version = git(repo, "rev-parse", "v1"), "1"
        revision = ref
    else:
        ref, version = REVISIONS[revision]
        if revision == "old":
            version = "1"
    fleet = make_fleet(tmp_path, url, revision)
    before = tree(repo)
    out = tmp_path / "out"
    outcomes = render_variant_fleet(fleet, out)
    assert [o.ok for o in outcomes] == [True, True], [o.messages for o in outcomes]
    got = tmp_path / "got"
    source = f"{url}.git/blueprints/upf@{ref}" if form == "file-url" else \
        f"{repo}.git/blueprints/upf@{ref}"
    subprocess.run([KPT, "pkg", "get", source, str(got)], check=True, capture_output=True)
    expected = kptfile(got)
    for site in ("edge-1", "edge-2"):
        package = out / site / "upf"
        assert settings(package) == version
        rendered = kptfile(package)
        assert rendered["upstream"] == expected["upstream"]
        assert rendered["upstreamLock"] == expected["upstreamLock"]
        # the rest is the blueprint at that ref as kpt fetched it, identities included
        for name in ("settings.yaml", "package-context.yaml", "workload-cluster.yaml"):
            ours, theirs = (yaml.safe_load((p / name).read_text()) for p in (package, got))
            assert ours["metadata"]["annotations"][IDENTIFIER] == \
                theirs["metadata"]["annotations"][IDENTIFIER]
            assert _merge_comment(package / name) == _merge_comment(got / name)
        assert (package / "settings.yaml").read_text().replace('"|', "'|").replace(
            '|settings"', "|settings'") == (got / "settings.yaml").read_text()
        assert (package / "README.md").read_bytes() == (got / "README.md").read_bytes()
    assert tree(repo) == before  # the repository is only read
    assert sorted(p.name for p in out.iterdir()) == [".krmfn-cache", ".krmfn-fleet",
                                                     ".krmfn-fleet.lock", "edge-1", "edge-2"]


def test_a_numbered_revision_is_porchs_tag_and_a_plan_leaves_nothing(
        tmp_path: Path, repo: Path) -> None:
    fleet = make_fleet(tmp_path, str(repo), "1")
    out = tmp_path / "out"
    assert [c.action for c in plan(fleet, out)] == ["created", "created"]
    assert not out.exists()  # the plan fetched into a cache of its own, then removed it
    assert all(o.ok for o in render_variant_fleet(fleet, out))
    assert settings(out / "edge-1" / "upf") == "1"
    git_lock = kptfile(out / "edge-1" / "upf")["upstreamLock"]["git"]
    assert (git_lock["ref"], git_lock["commit"]) == ("blueprints/upf/v1",
                                                     git(repo, "rev-parse", "v1"))
    assert kptfile(out / "edge-1" / "upf")["upstream"]["git"]["ref"] == "v1"
    cache = tree(out / ".krmfn-cache" / "packages")
    assert [c.action for c in plan(fleet, out)] == ["unchanged", "unchanged"]
    assert tree(out / ".krmfn-cache" / "packages") == cache  # reused, kept as it was


def test_porchs_workspace_name_is_a_revision_too(tmp_path: Path, repo: Path) -> None:
    """Newer Porch names the upstream by `workspaceName` (the test-infra e2e sets use
    `workspaceName: main`)."""
    fleet = make_fleet(tmp_path, str(repo), None)
    sets = list(yaml.safe_load_all((fleet / "sets.yaml").read_text()))
    sets[1]["spec"]["upstream"]["workspaceName"] = "old"
    (fleet / "sets.yaml").write_text(yaml.safe_dump_all(sets))
    assert all(o.ok for o in render_variant_fleet(fleet, tmp_path / "out"))
    assert settings(tmp_path / "out" / "edge-2" / "upf") == "1"
    assert kptfile(tmp_path / "out" / "edge-2" / "upf")["upstream"]["git"]["ref"] == "old"
    sets[1]["spec"]["upstream"]["workspaceName"] = "gone"
    (fleet / "sets.yaml").write_text(yaml.safe_dump_all(sets))
    with pytest.raises(FleetError, match=r"spec\.upstream\.workspaceName: no tag "
                                         r"blueprints/upf/gone or gone, branch or commit"):
        plan(fleet, tmp_path / "out")


@pytest.mark.parametrize("revision", ["main~1", "v1^", "HEAD@{1}", "a..b", "-v1"])
def test_a_revision_that_is_an_expression_is_refused(tmp_path: Path, repo: Path,
                                                      revision: str) -> None:
    fleet = make_fleet(tmp_path, str(repo), revision)
    done = cli("render", str(fleet), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"krmfn fleet: error: sets.yaml: PackageVariantSet upf: spec.upstream.revision: "
        f"{revision!r} is not a tag, branch or commit name"]
    assert not (tmp_path / "out").exists()


@needs_kpt
def test_kpt_pkg_update_works_on_a_rendered_package(tmp_path: Path, repo: Path) -> None:
    fleet = make_fleet(tmp_path, f"file://{repo}", "v1")
    out = tmp_path / "out"
    assert all(o.ok for o in render_variant_fleet(fleet, out))
    package = out / "edge-1" / "upf"
    git(out, "init", "--quiet")  # kpt pkg update wants the package committed
    git(out, "add", "-A")
    git(out, "commit", "--quiet", "-m", "rendered")
    done = subprocess.run([KPT, "pkg", "update", f"{package}@v2"], capture_output=True,
                          text=True, check=False, cwd=out)
    assert done.returncode == 0, done.stderr
    assert settings(package) == "2"
    lock = kptfile(package)["upstreamLock"]["git"]
    assert lock["commit"] == git(repo, "rev-parse", "v2")


def test_a_new_commit_on_the_ref_is_a_changed_blueprint(tmp_path: Path, repo: Path) -> None:
    fleet = make_fleet(tmp_path, str(repo), "main")
    out = tmp_path / "out"
    assert all(o.ok for o in render_variant_fleet(fleet, out))
    first = git(repo, "rev-parse", "main")
    assert [c.action for c in plan(fleet, out)] == ["unchanged", "unchanged"]
    lock = out / ".krmfn-fleet.lock"
    assert first in lock.read_text()
    kept = tree(out / "edge-1" / "upf")
    new = commit_version(repo, "3")
    changes = plan(fleet, out)
    assert {c.key: (c.action, c.reasons) for c in changes} == {
        k: ("changed", [f"blueprint changed (commit {first[:12]} -> {new[:12]})"])
        for k in ("edge-1/upf", "edge-2/upf")}
    assert tree(out / "edge-1" / "upf") == kept  # the plan wrote nothing
    assert all(o.ok and not o.skipped for o in render_variant_fleet(fleet, out))
    assert settings(out / "edge-1" / "upf") == "3"
    assert kptfile(out / "edge-1" / "upf")["upstreamLock"]["git"]["commit"] == new
    assert new in lock.read_text() and first not in lock.read_text()
    assert [c.action for c in plan(fleet, out)] == ["unchanged", "unchanged"]
    # a commit that moves another ref leaves a package pinned to a tag alone
    pinned = tmp_path / "pinned"
    pinned.mkdir()
    fleet = make_fleet(pinned, str(repo), "v1")
    assert all(o.ok for o in render_variant_fleet(fleet, pinned / "out"))
    commit_version(repo, "4")
    assert [c.action for c in plan(fleet, pinned / "out")] == ["unchanged", "unchanged"]


@pytest.mark.parametrize(("change", "field"), [
    ("repo", "spec.upstream.repo"), ("revision", "spec.upstream.revision"),
    ("package", "spec.upstream.package"), ("branch", "spec.git.branch")])
@pytest.mark.parametrize("command", ["render", "plan"])
def test_a_missing_repository_ref_or_package_is_one_line_naming_the_field(
        tmp_path: Path, repo: Path, change: str, field: str, command: str) -> None:
    fleet = make_fleet(tmp_path, str(repo), "v1")
    sets = list(yaml.safe_load_all((fleet / "sets.yaml").read_text()))
    if change == "repo":
        sets[0]["spec"]["git"]["repo"] = str(tmp_path / "no-such-repo")
    elif change == "revision":
        sets[1]["spec"]["upstream"]["revision"] = "v9"
    elif change == "package":
        sets[1]["spec"]["upstream"]["package"] = "smf"
    else:
        sets[0]["spec"]["git"]["branch"] = "gone"
        del sets[1]["spec"]["upstream"]["revision"]
    (fleet / "sets.yaml").write_text(yaml.safe_dump_all(sets))
    out = tmp_path / "out"
    done = cli(command, str(fleet), "--out", str(out))
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    who = "Repository bp" if change == "branch" else "PackageVariantSet upf"
    assert f"sets.yaml: {who}: {field}: " in lines[0]
    assert not out.exists()  # nothing written, not even the cache


def test_a_directory_blueprint_records_no_upstream(tmp_path: Path) -> None:
    """A blueprint directory's own upstream is its origin, not the package's: kept, it
    would make `kpt pkg update` merge from the wrong place."""
    fleet = tmp_path / "fleet"
    bp = blueprint(fleet, "upf")
    text = (bp / "Kptfile").read_text()
    (bp / "Kptfile").write_text(text + "upstream:\n  type: git\n  git:\n    repo: x\n"
                                "    directory: /upf\n    ref: v0\nupstreamLock:\n"
                                "  type: git\n  git:\n    repo: x\n    directory: /upf\n"
                                "    ref: v0\n    commit: abc\n")
    write_fleet(fleet, [cluster("edge-1")], [pvs("upf", "upf", [{"objectSelector": {
        "apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster"}}])])
    assert all(o.ok for o in render_variant_fleet(fleet, tmp_path / "out"))
    rendered = kptfile(tmp_path / "out" / "edge-1" / "upf")
    assert "upstream" not in rendered and "upstreamLock" not in rendered
    assert rendered["metadata"]["name"] == "upf"


def _without_upstream(text: str) -> Any:
    """A rendered file's data, less what kpt pkg get adds for a git upstream (an injected
    Config holds its provider's resource, identifier and all)."""

    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [strip(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: strip(v) for k, v in value.items() if k not in ("upstream", "upstreamLock")}
        meta = out.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
            meta["annotations"].pop(IDENTIFIER, None)
            if not meta["annotations"]:
                del meta["annotations"]
        return out

    return [strip(doc) for doc in yaml.safe_load_all(text)]


def test_the_example_from_git_renders_as_from_its_directories(tmp_path: Path) -> None:
    """The example's blueprints committed to a repository and named through a Repository
    give the same packages, addresses and peers included, plus what kpt pkg get adds."""
    example = Path(__file__).resolve().parents[1] / "examples" / "fleet"
    repo = tmp_path / "blueprints"
    shutil.copytree(example / "repositories" / "free5gc", repo / "nf" / "free5gc")
    git(repo, "init", "--quiet")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "free5gc blueprints")
    git(repo, "tag", "nf/free5gc/upf/v1")
    git(repo, "tag", "nf/free5gc/smf/v1")
    git(repo, "tag", "nf/free5gc/amf/v1")
    fleet = tmp_path / "fleet"
    shutil.copytree(example, fleet, ignore=shutil.ignore_patterns("repositories"))
    (fleet / "repository.yaml").write_text(yaml.safe_dump(
        repository("free5gc", f"file://{repo}", directory="nf/free5gc")))
    assert all(o.ok for o in render_variant_fleet(example, tmp_path / "dirs",
                                                  ledger=tmp_path / "dirs.db"))
    assert all(o.ok for o in render_variant_fleet(fleet, tmp_path / "git",
                                                  ledger=tmp_path / "git.db"))
    dirs = {k: v for k, v in tree(tmp_path / "dirs").items() if not k.startswith(".")}
    gits = {k: v for k, v in tree(tmp_path / "git").items() if not k.startswith(".")}
    assert sorted(gits) == sorted(dirs) and len(dirs) > 100
    for name, data in dirs.items():
        if name.endswith((".yaml", "Kptfile")):
            assert _without_upstream(gits[name].decode()) == _without_upstream(data.decode()), \
                name
        else:
            assert gits[name] == data, name
    lock = kptfile(tmp_path / "git" / "core-eu-west" / "free5gc-smf")["upstreamLock"]["git"]
    assert (lock["directory"], lock["ref"]) == ("/nf/free5gc/smf", "nf/free5gc/smf/v1")
    # and kpt renders a package from git again without a change, identities and all
    if HAS_KPT:
        pkg = scratch_package(tmp_path / "git" / "core-eu-west" / "free5gc-smf",
                              tmp_path / "again")
        kpt_render(pkg)
        assert diff(pkg) == ""
