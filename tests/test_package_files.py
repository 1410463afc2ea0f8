"""Where standalone `--in-place` writes, and what happens when writing fails.

Every path written resolves inside the package or the run writes nothing; a file name
made from a resource's name is one safe component that no other resource shares; a
resource a function gives another path moves there; kpt's annotations never reach a file;
links are written through only inside the package; a failure at any system call leaves
every file as it was and no file of ours behind; an interrupted commit is undone by the
next run.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from krmfn import InputError, KubeObject, ResourceList, function, read_package
from krmfn._model.package_paths import check_file_path, default_file
from krmfn._run.cli_function import run_cli
from krmfn._run.commit import JOURNAL, is_ours

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name} # keep me\ndata:\n  k: v\n"
KPTFILE = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n"

# What the test function does to the list: set by each test before it runs.
PLAN: list[Callable[[ResourceList], None]] = []


@function(name="plan")
def plan(rl: ResourceList) -> None:
    """Apply the test's plan."""
    for step in PLAN:
        step(rl)


def in_place(pkg: Path, capsys: pytest.CaptureFixture[str],
             *steps: Callable[[ResourceList], None]) -> tuple[int, str]:
    PLAN[:] = steps
    code = run_cli(plan, [str(pkg), "--in-place"])
    return code, capsys.readouterr().err


def new(kind: str, name: str, path: str | None = None, index: int | None = None
        ) -> KubeObject:
    obj = KubeObject.from_dict({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}})
    if path is not None:
        obj.set_file(path, index)
    return obj


def adding(*objs: KubeObject) -> Callable[[ResourceList], None]:
    def step(rl: ResourceList) -> None:
        rl.items.extend(KubeObject.from_yaml(o.to_yaml()) if o._form != "new" else o
                        for o in objs)
    return step


def tree(root: Path) -> dict[str, bytes]:
    """Every file and link under `root`, by relative path (a link as its target)."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            out[rel] = (b"-> " + os.readlink(path).encode() if os.path.islink(path)
                        else Path(path).read_bytes())
    return out


def make_package(root: Path, **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Kptfile").write_text(KPTFILE)
    for name, text in {"cm.yaml": CM.format(name="cm"), **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


# ------------------------------------------------------------------ names and paths

HOSTILE = ["../../../outside/pwn", "..", ".", "/etc/passwd", "a/b", "a\\b", "x" * 300,
           "...", ".hidden", "-", "ünïcødé/ß", "名前", "a b", "CON", "a_b"]
names = st.one_of(st.sampled_from(HOSTILE),
                  st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                          max_size=260))
kinds = st.sampled_from(["ConfigMap", "ConfigMap_a", "VLANClaim", "NetworkAttachmentDefinition",
                         "A/B", "..", "Ünï"])


@given(st.text(min_size=1, max_size=400), st.text(min_size=1, max_size=400))
def test_a_default_file_name_is_one_safe_component(kind: str, name: str) -> None:
    file = default_file(kind, name, lambda n: False)
    assert "/" not in file and "\\" not in file and ".." not in file
    assert not file.startswith(".") and file.endswith(".yaml")
    assert all(c in string.ascii_letters + string.digits + "._-" for c in file)
    assert len(file.encode()) <= 120
    assert check_file_path(file) == file


@given(st.lists(st.tuples(kinds, names), min_size=1, max_size=5))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_new_resources_each_get_a_file_of_their_own_inside_the_package(
        tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str],
        created: list[tuple[str, str]]) -> None:
    base = tmp_path_factory.mktemp("names")
    pkg = make_package(base / "pkg", **{"configmap_a_b.yaml": CM.format(name="taken")})
    (base / "outside").mkdir()
    before = tree(pkg)
    code, err = in_place(pkg, capsys, adding(*(new(k, n) for k, n in created)))
    assert code == 0, err
    assert sorted(os.listdir(base)) == ["outside", "pkg"]
    assert os.listdir(base / "outside") == []
    after = tree(pkg)
    assert {n: after[n] for n in before} == before  # no file the package had changed
    added = sorted(set(after) - set(before))
    assert all("/" not in n for n in added)
    assert len(added) == len(created)  # one file each: nothing overwritten, nothing shared
    found = sorted((d["kind"], d["metadata"]["name"])
                   for n in added for d in documents(pkg / n))
    assert found == sorted(created)
    assert all("annotations" not in d["metadata"] for n in added for d in documents(pkg / n))


@pytest.mark.parametrize("path", ["../outside.yaml", "sub/../../x.yaml", "/tmp/abs.yaml",
                                  "a.txt", "dir/", ".", "x\x00.yaml"])
def test_a_path_outside_the_package_fails_naming_the_resource(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str) -> None:
    pkg = make_package(tmp_path / "pkg")
    before = tree(tmp_path)

    def bad_path(rl: ResourceList) -> None:
        obj = new("ConfigMap", "evil")
        for key in ("config.kubernetes.io/path", "internal.config.kubernetes.io/path"):
            obj.set_annotation(key, path)
        rl.items.append(obj)
        rl.items[1].set_label("changed", "yes")  # a change that must not be written either

    code, err = in_place(pkg, capsys, bad_path)
    assert code == 1
    assert err.startswith("plan: error: ConfigMap evil: config.kubernetes.io/path "), err
    assert len(err.splitlines()) == 1
    assert tree(tmp_path) == before


def test_set_file_refuses_a_path_outside_the_package() -> None:
    with pytest.raises(InputError.__mro__[1], match="outside the package"):
        new("ConfigMap", "x").set_file("../x.yaml")


def test_set_file_sets_the_four_annotations_together() -> None:
    obj = new("ConfigMap", "x", "./sub/x.yaml", 2)
    assert obj.get("metadata.annotations") == {
        "internal.config.kubernetes.io/path": "sub/x.yaml",
        "config.kubernetes.io/path": "sub/x.yaml",
        "internal.config.kubernetes.io/index": "2", "config.kubernetes.io/index": "2"}
    assert (obj.path, obj.index) == ("sub/x.yaml", 2)
    obj.set_file("y.yaml")
    assert obj.get("metadata.annotations") == {
        "internal.config.kubernetes.io/path": "y.yaml", "config.kubernetes.io/path": "y.yaml"}


def test_resources_put_in_one_file_share_it_in_index_order(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = make_package(tmp_path / "pkg")
    code, err = in_place(pkg, capsys, adding(new("VLANClaim", "b", "claims/all.yaml", 1),
                                             new("VLANClaim", "a", "claims/all.yaml", 0),
                                             new("VLANClaim", "c", "cm.yaml")))
    assert code == 0, err
    assert [d["metadata"]["name"] for d in documents(pkg / "claims" / "all.yaml")] == ["a", "b"]
    assert (pkg / "cm.yaml").read_text() == CM.format(name="cm") + (
        "---\napiVersion: v1\nkind: VLANClaim\nmetadata:\n  name: c\n")


def test_a_resource_given_another_file_moves_there_without_annotations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two = CM.format(name="a") + "---\n" + CM.format(name="b")
    pkg = make_package(tmp_path / "pkg", **{"two.yaml": two})

    def move(rl: ResourceList) -> None:
        rl.items.find("ConfigMap", "a").set_file("moved/a.yaml")  # type: ignore[union-attr]

    code, err = in_place(pkg, capsys, move)
    assert code == 0, err
    assert (pkg / "two.yaml").read_text() == CM.format(name="b")
    assert (pkg / "moved" / "a.yaml").read_text() == CM.format(name="a")
    # moving it back gives the file it had, comments included
    code, err = in_place(pkg, capsys, lambda rl: rl.items.find(  # type: ignore[union-attr]
        "ConfigMap", "a").set_file("two.yaml"))
    assert code == 0, err
    assert not (pkg / "moved" / "a.yaml").exists()
    assert (pkg / "two.yaml").read_text() == CM.format(name="b") + "---\n" + CM.format(name="a")


def test_annotations_a_function_sets_for_kpt_never_reach_a_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    held = CM.format(name="held").replace(
        "\ndata:", "\n  annotations:\n    config.kubernetes.io/index: '7' # odd, but theirs\ndata:")
    pkg = make_package(tmp_path / "pkg", **{"held.yaml": held})

    def annotate(rl: ResourceList) -> None:
        for i, obj in enumerate(rl.items):
            obj.set_annotation("config.k8s.io/id", str(i))
            obj.set_annotation("internal.config.kubernetes.io/seqindent", "compact")
            obj.set_annotation("internal.config.kubernetes.io/index", str(i))
            obj.set_annotation("config.kubernetes.io/index", str(i))

    before = tree(pkg)
    code, err = in_place(pkg, capsys, annotate)
    assert code == 0, err
    assert tree(pkg) == before


# ------------------------------------------------------------------ what is in the way

def test_a_directory_where_a_new_file_goes_fails_cleanly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = make_package(tmp_path / "pkg")
    (pkg / "x.yaml").mkdir()
    before = tree(tmp_path)
    code, err = in_place(pkg, capsys, adding(new("ConfigMap", "x", "x.yaml")),
                         lambda rl: rl.items[1].set_label("a", "b"))
    assert code == 1
    assert err == "plan: error: x.yaml: the file of a new resource is a directory: " \
                  "not written\n"
    assert tree(tmp_path) == before


def test_a_default_name_never_replaces_a_file_the_package_did_not_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = make_package(tmp_path / "pkg", **{".krmignore": "configmap_x.yaml\n",
                                            "configmap_x.yaml": "replicaCount: 1\n"})
    code, err = in_place(pkg, capsys, adding(new("ConfigMap", "x")))
    assert code == 0, err
    assert (pkg / "configmap_x.yaml").read_text() == "replicaCount: 1\n"
    assert documents(pkg / "configmap_x-2.yaml")[0]["metadata"]["name"] == "x"
    (pkg / ".krmignore").write_text("configmap_x.yaml\nconfigmap_Up.yaml\n")
    (pkg / "configmap_Up.yaml").write_text("theirs: true\n")
    code, err = in_place(pkg, capsys, adding(new("ConfigMap", "Up")))
    assert code == 0, err
    assert (pkg / "configmap_Up.yaml").read_text() == "theirs: true\n"
    assert documents(pkg / "configmap_Up-2.yaml")[0]["metadata"]["name"] == "Up"
    code, err = in_place(pkg, capsys, adding(new("ConfigMap", "y", "configmap_x.yaml")))
    assert (code, err) == (1, "plan: error: configmap_x.yaml: a file the package did not "
                              "read (.krmignore, or not YAML): not replaced\n")


# ------------------------------------------------------------------ symbolic links

def test_a_link_inside_the_package_is_written_through(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = make_package(tmp_path / "pkg", **{"real/target.yaml": CM.format(name="t")})
    (pkg / "link.yaml").symlink_to("real/target.yaml")
    (pkg / ".krmignore").write_text("real/\n")  # read once, through the link
    code, err = in_place(pkg, capsys, lambda rl: rl.items.find(  # type: ignore[union-attr]
        "ConfigMap", "t").set_label("a", "b"))
    assert code == 0, err
    assert os.readlink(pkg / "link.yaml") == "real/target.yaml"
    assert "  labels:\n    a: b\n" in (pkg / "real" / "target.yaml").read_text()


def test_a_link_out_of_the_package_is_read_but_never_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "ns.yaml").write_text(CM.format(name="shared"))
    pkg = make_package(tmp_path / "pkg")
    (pkg / "ns.yaml").symlink_to("../shared/ns.yaml")
    (pkg / "dir").symlink_to("../shared", target_is_directory=True)
    before = tree(tmp_path)
    code, err = in_place(pkg, capsys, lambda rl: rl.items[1].set_label("a", "b"))
    assert code == 0, err  # the linked resource did not change: nothing to refuse
    assert err.endswith("1 file(s) changed\n")
    before = tree(tmp_path)
    code, err = in_place(pkg, capsys, lambda rl: rl.items.find(  # type: ignore[union-attr]
        "ConfigMap", "shared").set_label("a", "b"), lambda rl: rl.items[1].set_label("c", "d"))
    assert (code, err) == (1, "plan: error: ns.yaml: a symbolic link to ../shared/ns.yaml, "
                              "outside the package: not written through\n")
    code, err = in_place(pkg, capsys, adding(new("ConfigMap", "n", "dir/n.yaml")))
    assert (code, err) == (1, "plan: error: dir/n.yaml: its directory is a symbolic link out "
                              "of the package: not written\n")
    assert tree(tmp_path) == before


# ------------------------------------------------------------------ failing system calls

CALLS = ("write", "fsync", "link", "replace", "unlink", "mkdir", "open")


def _change_everything(rl: ResourceList) -> None:
    rl.items[1].set_label("a", "b")
    rl.items[:] = [o for o in rl.items if o.name != "gone"]
    rl.items.append(new("ConfigMap", "fresh", "new/dir/fresh.yaml"))
    rl.items.append(new("ConfigMap", "other"))


@pytest.mark.parametrize("call", CALLS)
def test_a_failure_at_any_system_call_changes_nothing_and_leaves_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        call: str) -> None:
    """Fail the n-th call of one kind, for every n the commit makes: each time the package
    is as it was, with no temporary or backup file, and the error is one line naming a
    file (or, for a failure that cannot harm, as a complete run leaves it)."""
    pristine = tmp_path / "pristine"
    make_package(pristine, **{"gone.yaml": CM.format(name="gone"), "b.yaml": CM.format(
        name="b")})
    before = tree(pristine)
    finished = tmp_path / "finished"
    os.system(f"cp -a {pristine} {finished}")
    PLAN[:] = [_change_everything]
    assert run_cli(plan, [str(finished), "--in-place"]) == 0
    capsys.readouterr()
    done = tree(finished)
    real = getattr(os, call)
    failures = 0
    for n in range(1, 40):
        pkg = tmp_path / f"pkg{n}"
        os.system(f"cp -a {pristine} {pkg}")
        count = 0

        def failing(*args: Any, _n: int = n, **kwargs: Any) -> Any:
            nonlocal count
            if "krmfn" in str(args[0]) or isinstance(args[0], int) or call != "open":
                count += 1
                if count == _n:
                    raise OSError(28, "No space left on device")
            return real(*args, **kwargs)

        PLAN[:] = [_change_everything]
        monkeypatch.setattr(os, call, failing)
        try:
            code = run_cli(plan, [str(pkg), "--in-place"])
        finally:
            monkeypatch.undo()
        err = capsys.readouterr().err
        if count < n:  # every call succeeded: the run is complete
            assert code == 0, err
            break
        if code == 0:  # past the commit point (a directory's fsync, removing a backup)
            assert {k: v for k, v in tree(pkg).items() if not is_ours(Path(k).name)} == done
            PLAN[:] = []
            assert run_cli(plan, [str(pkg), "--in-place"]) == 0  # which cleans up
            assert tree(pkg) == done
            capsys.readouterr()
            continue
        failures += 1
        assert code == 1, err
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert err.startswith("plan: error: ") and ": No space left on device" in err
        assert tree(pkg) == before, f"failure at {call} #{n}"
    assert failures >= 1


class Killed(BaseException):
    """Stands for SIGKILL: nothing of ours handles it."""


def test_a_commit_killed_between_renames_is_undone_by_the_next_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    pristine = tmp_path / "pristine"
    make_package(pristine, **{"gone.yaml": CM.format(name="gone"), "b.yaml": CM.format(
        name="b")})
    before = tree(pristine)
    real: dict[str, Callable[..., None]] = {"replace": os.replace, "unlink": os.unlink}
    for n in range(1, 5):  # three files replaced and one deleted
        pkg = tmp_path / f"pkg{n}"
        os.system(f"cp -a {pristine} {pkg}")
        count = 0

        def dying(call: str, n: int = n) -> Callable[..., None]:
            def dies(*args: Any) -> None:
                nonlocal count
                if JOURNAL in str(args[-1]) or is_ours(Path(str(args[-1])).name):
                    real[call](*args)  # (cleaning up before the renames)
                    return
                count += 1
                if count == n:
                    raise Killed
                real[call](*args)
            return dies

        PLAN[:] = [_change_everything]
        for call in real:
            monkeypatch.setattr(os, call, dying(call))
        with pytest.raises(Killed):
            run_cli(plan, [str(pkg), "--in-place"])
        monkeypatch.undo()
        assert (pkg / JOURNAL).exists()
        with pytest.raises(InputError, match="interrupted"):
            read_package([str(pkg)])
        read_package([str(pkg)], repair=True)
        assert tree(pkg) == before
        code, err = in_place(pkg, capsys, _change_everything)
        assert code == 0, err
        assert not [n for n in tree(pkg) if is_ours(Path(n).name) or n == JOURNAL]


def test_stale_temporary_files_of_ours_are_removed_by_the_next_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = make_package(tmp_path / "pkg", **{"sub/x.yaml": CM.format(name="x")})
    stale = [pkg / ".krmfn.cm.yaml.0123456789ab.tmp",
             pkg / "sub" / ".krmfn.x.yaml.a1b2c3d4e5f6.bak"]
    theirs = [pkg / ".cm.yaml.0123456789ab.tmp", pkg / ".krmfn.notes", pkg / "keep.tmp"]
    for f in stale + theirs:
        f.write_text("partial")
    code, err = in_place(pkg, capsys)
    assert code == 0, err
    assert [f.exists() for f in stale + theirs] == [False, False, True, True, True]


@pytest.mark.parametrize("entry", [
    ["../outside.txt", None, ".krmfn.outside.txt.0123456789ab.tmp", 1],
    ["/etc/hostname", None, ".krmfn.hostname.0123456789ab.tmp", 1],
    ["cm.yaml", "../outside.txt", None, None],
    ["cm.yaml", "other.yaml", None, None],
    "not a list",
])
def test_a_journal_this_tool_did_not_write_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: object) -> None:
    """A package may come with a crafted journal: it must not make the next run move or
    delete a file outside the package."""
    (tmp_path / "outside.txt").write_text("precious")
    pkg = make_package(tmp_path / "pkg", **{"other.yaml": CM.format(name="other")})
    (pkg / JOURNAL).write_text(json.dumps([entry]))
    before = tree(tmp_path)
    code, err = in_place(pkg, capsys)
    assert code == 1 and "not a journal of an --in-place run; remove it" in err
    assert tree(tmp_path) == before


def test_a_journal_deletes_only_the_files_its_commit_created(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = make_package(tmp_path / "pkg")
    inode = os.lstat(pkg / "Kptfile").st_ino + 1
    (pkg / JOURNAL).write_text(f'[["Kptfile", null, ".krmfn.Kptfile.0123456789ab.tmp", '
                               f'{inode}]]')
    before = tree(pkg)
    code, err = in_place(pkg, capsys)
    assert code == 0, err
    assert tree(pkg) == {k: v for k, v in before.items() if k != JOURNAL}


# Links a package may hold: (name in the package, what it points to, a directory?)
LINKS = [("in.yaml", "real/a.yaml", False), ("out.yaml", "../shared/s.yaml", False),
         ("abs.yaml", "{shared}/s.yaml", False), ("loop.yaml", "loop.yaml", False),
         ("dangling.yaml", "nowhere.yaml", False), ("indir", "real", True),
         ("outdir", "../shared", True), ("up", "..", True)]


@given(st.sets(st.sampled_from(range(len(LINKS)))), st.sets(st.sampled_from(
    ["a", "s", "cm", "new:indir/n.yaml", "new:outdir/n.yaml", "new:up/n.yaml",
     "new:real/n.yaml", "drop:a"])))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_links_never_lead_a_write_out_of_the_package(
        tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str],
        links: set[int], edits: set[str]) -> None:
    """Whatever links a package holds and whatever a run changes: nothing outside the
    package changes, every link stays the link it was, and a run that fails changes
    nothing at all."""
    base = tmp_path_factory.mktemp("links")
    (base / "shared").mkdir()
    (base / "shared" / "s.yaml").write_text(CM.format(name="s"))
    pkg = make_package(base / "pkg", **{"real/a.yaml": CM.format(name="a")})
    for i in sorted(links):
        name, target, is_dir = LINKS[i]
        (pkg / name).symlink_to(target.format(shared=base / "shared"),
                                target_is_directory=is_dir)

    def change(rl: ResourceList) -> None:
        for edit in sorted(edits):
            if edit.startswith("new:"):
                rl.items.append(new("ConfigMap", "n", edit[4:]))
            elif edit.startswith("drop:"):
                rl.items[:] = [o for o in rl.items if o.name != edit[5:]]
            else:
                for obj in rl.items:
                    if obj.name == edit:
                        obj.set_label("changed", "yes")

    outside = tree(base / "shared")
    before = tree(pkg)
    PLAN[:] = [change]
    code = run_cli(plan, [str(pkg), "--in-place"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) >= 1
    assert tree(base / "shared") == outside
    assert sorted(os.listdir(base)) == ["pkg", "shared"]
    after = tree(pkg)
    for i in links:
        name = LINKS[i][0]
        assert os.path.islink(pkg / name) or (edits >= {"drop:a"} and name == "in.yaml")
        if os.path.islink(pkg / name):
            assert after[name] == before[name]
    if code != 0:
        assert err.startswith("plan: error: ") and len(err.splitlines()) == 1, err
        assert after == before
