"""Standalone mode reads and writes a package as kpt does, checked against the real kpt.

- the files read: `.krmignore` patterns (generated), hidden files, subpackages, links;
- the files refused: a document that is not a resource (a Helm values file, a List);
- the tree `--in-place` leaves equals the one `kpt fn eval --exec` leaves, for catalog
  functions and for a function that creates resources and moves one to another file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpt_support import KPT, needs_kpt, script
from krmfn import InputError, read_package

pytestmark = needs_kpt
ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "functions" / "krmfn_catalog"


def kpt_paths(pkg: Path) -> list[str]:
    """The files of the resources `kpt fn source` reads, in its order."""
    out = subprocess.run([KPT, "fn", "source", str(pkg)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    items = yaml.safe_load(out)["items"]
    return [i["metadata"]["annotations"]["config.kubernetes.io/path"] for i in items]


def our_paths(pkg: Path) -> list[str]:
    rl, _ = read_package([str(pkg)])
    return [o.path for o in rl.items]


def resource(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


# ------------------------------------------------------------------ which files are read

# Directory names none of which begins another (kpt compares directories as strings).
DIRS = ["a", "b", ".h", "sub"]
FILES = ["x.yaml", "y.yml", ".z.yaml", "a.yaml", "n.txt"]
segment = st.sampled_from(["a", "b", ".h", "sub", "x.yaml", "y.yml", ".z.yaml", "a.yaml",
                           "*", "*.yaml", "?.yml", "[ab]", "[^a]*", ".*", "x*", "s?b"])
pattern = st.builds(
    lambda neg, anchor, parts, slash: ("!" if neg else "") + ("/" if anchor else "")
    + "/".join(parts) + ("/" if slash else ""),
    st.booleans(), st.booleans(), st.lists(segment, min_size=1, max_size=3), st.booleans())
layout = st.lists(st.tuples(st.lists(st.sampled_from(DIRS), max_size=3),
                            st.sampled_from(FILES)), min_size=1, max_size=14,
                  unique_by=lambda f: (tuple(f[0]), f[1]))


@given(layout, st.lists(pattern, max_size=5), st.lists(pattern, max_size=3),
       st.sets(st.sampled_from(DIRS)))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_files_read_are_those_kpt_reads(tmp_path_factory: pytest.TempPathFactory,
                                            files: list[tuple[list[str], str]],
                                            patterns: list[str], sub_patterns: list[str],
                                            subpackages: set[str]) -> None:
    pkg = tmp_path_factory.mktemp("krmignore") / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                 "  name: pkg\n")
    (pkg / ".krmignore").write_text("# generated\n" + "\n".join(patterns) + "\n")
    for n, (dirs, name) in enumerate(files):
        path = pkg.joinpath(*dirs, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(resource(f"r{n}"))
    for sub in subpackages:  # a directory with its own Kptfile and .krmignore
        (pkg / sub).mkdir(exist_ok=True)
        (pkg / sub / "Kptfile").write_text(f"apiVersion: kpt.dev/v1\nkind: Kptfile\n"
                                           f"metadata:\n  name: {sub.strip('.')}\n")
        (pkg / sub / ".krmignore").write_text("\n".join(sub_patterns) + "\n")
    assert our_paths(pkg) == kpt_paths(pkg)


def test_links_are_read_as_kpt_reads_them(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "s.yaml").write_text(resource("s"))
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.yaml").write_text(resource("a"))
    (pkg / "s.yaml").symlink_to("../shared/s.yaml")  # a file: read through the link
    (pkg / "dir").symlink_to("../shared", target_is_directory=True)  # a directory: not
    assert our_paths(pkg) == kpt_paths(pkg) == ["a.yaml", "s.yaml"]


# ------------------------------------------------------------------ which files are refused

NOT_RESOURCES = {
    "values.yaml": ("replicaCount: 1\nimage:\n  tag: v1\n",
                    "values.yaml: not a resource (apiVersion is missing or not a string)"),
    "list.yaml": ("apiVersion: v1\nkind: ConfigMapList\nitems:\n- " + resource("in-list")
                  .replace("\n", "\n  ").rstrip() + "\n",
                  "list.yaml: a List (ConfigMapList) is not a resource"),
    "two.yaml": (resource("first") + "---\napiVersion: v1\nkind: List\nitems: []\n",
                 "two.yaml (resource 2): a List (List) is not a resource"),
}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, cwd=cwd)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("name", sorted(NOT_RESOURCES))
def test_a_file_that_is_not_a_resource_is_refused_by_name_in_every_mode(
        tmp_path: Path, name: str) -> None:
    text, message = NOT_RESOURCES[name]
    pkg = tmp_path / "pkg"
    shutil.copytree(CATALOG / "set_namespace" / "examples" / "simple", pkg)
    (pkg / name).write_text(text)
    before = tree(pkg)
    kpt = run(KPT, "fn", "eval", str(pkg), "--exec", script("set-namespace"), "--",
              "namespace=x")
    assert kpt.returncode != 0 and name in kpt.stderr  # kpt refuses it too
    for mode in ([], ["--in-place"]):
        ours = run(script("set-namespace"), str(pkg), "namespace=x", *mode)
        assert ours.returncode == 1, ours.stderr
        assert ours.stderr.startswith(f"set-namespace: error: {message}"), ours.stderr
        assert len(ours.stderr.splitlines()) == 1 and ours.stdout == ""
        assert tree(pkg) == before
    # listed in .krmignore, the file is left alone by both
    (pkg / ".krmignore").write_text(f"{name}\n")
    ours = run(script("set-namespace"), str(pkg), "namespace=x", "--in-place")
    assert ours.returncode == 0, ours.stderr
    assert (pkg / name).read_text() == text
    assert our_paths(pkg) == kpt_paths(pkg)


# ------------------------------------------------------------------ the tree written

CASES = [
    ("set-namespace", "set_namespace/examples/simple", ["namespace=prod"]),
    ("set-namespace", "vlan_assign/examples/vlan-attachments", ["namespace=prod"]),
    ("vlan-assign", "vlan_assign/examples/vlan-attachments", []),
    ("ipam-inject", "ipam_inject/examples/nephio-upf-like", []),
    ("site-specialize", "site_specialize/examples/edge-site", ["clusterName=edge-01"]),
]


def loaded(root: Path) -> dict[str, list[Any]]:
    """Every YAML file's documents, by file: what the tree means, whatever its spacing."""
    return {str(p.relative_to(root)): [d for d in yaml.safe_load_all(p.read_text())
                                       if d is not None]
            for p in sorted(root.rglob("*"))
            if p.is_file() and (p.suffix in (".yaml", ".yml") or p.name == "Kptfile")}


@pytest.mark.parametrize(("fn", "example", "args"), CASES,
                         ids=[f"{fn}:{ex.split('/')[-1]}" for fn, ex, _ in CASES])
def test_in_place_leaves_the_tree_kpt_fn_eval_leaves(tmp_path: Path, fn: str, example: str,
                                                     args: list[str]) -> None:
    src = CATALOG / example
    under_kpt, standalone = tmp_path / "kpt" / "pkg", tmp_path / "standalone" / "pkg"
    for dst in (under_kpt, standalone):
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".expected"))
    kpt = run(KPT, "fn", "eval", str(under_kpt), "--exec", script(fn), "--", *args)
    assert kpt.returncode == 0, kpt.stderr
    ours = run(script(fn), str(standalone), *args, "--in-place")
    assert ours.returncode == 0, ours.stderr
    assert loaded(standalone) == loaded(under_kpt)
    assert sorted(tree(standalone)) == sorted(tree(under_kpt))


@given(layout, st.lists(pattern, max_size=4), st.sets(st.sampled_from(DIRS), max_size=2))
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_packages_are_written_as_kpt_fn_eval_writes_them(
        tmp_path_factory: pytest.TempPathFactory, files: list[tuple[list[str], str]],
        patterns: list[str], subpackages: set[str]) -> None:
    """Hidden files, subpackages and ignored files: set-namespace in place, under kpt and
    standalone, leaves the same tree, byte for byte."""
    base = tmp_path_factory.mktemp("eval")
    trees = []
    for where in ("kpt", "standalone"):
        pkg = base / where
        pkg.mkdir()
        (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                     "  name: pkg\n")
        (pkg / ".krmignore").write_text("\n".join(patterns) + "\n")
        for n, (dirs, name) in enumerate(files):
            path = pkg.joinpath(*dirs, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(resource(f"r{n}") + "  namespace: old # keep\n")
        for sub in subpackages:
            (pkg / sub).mkdir(exist_ok=True)
            (pkg / sub / "Kptfile").write_text(f"apiVersion: kpt.dev/v1\nkind: Kptfile\n"
                                               f"metadata:\n  name: s{len(sub)}\n")
        proc = (run(KPT, "fn", "eval", str(pkg), "--exec", script("set-namespace"), "--",
                    "namespace=new") if where == "kpt"
                else run(script("set-namespace"), str(pkg), "namespace=new", "--in-place"))
        assert proc.returncode == 0, proc.stderr
        trees.append((loaded(pkg), tree(pkg)))
    assert trees[0][0] == trees[1][0]
    assert trees[0][1] == trees[1][1]  # byte for byte, on these kpt-formatted files


MOVER = '''\
import sys
from krmfn import KubeObject, ResourceList, function


@function(name="mover")
def mover(rl: ResourceList) -> None:
    for obj in rl.items:
        if obj.name == "a":
            obj.set_file("moved/a.yaml")
    for n, name in enumerate(["n1", "n2"]):
        new = KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": name}})
        new.set_file("new/both.yaml", n)
        rl.items.append(new)
    rl.items.append(KubeObject.from_dict({"apiVersion": "v1", "kind": "Secret",
                                          "metadata": {"name": "../../../outside/pwn"}}))


mover.main(sys.argv[1:])
'''


def test_moves_and_new_files_match_kpt(tmp_path: Path) -> None:
    exe = tmp_path / "mover"
    (tmp_path / "mover.py").write_text(MOVER)
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} {tmp_path / 'mover.py'} \"$@\"\n")
    exe.chmod(0o755)
    trees = []
    for where in ("kpt", "standalone"):
        pkg = tmp_path / where / "pkg"
        pkg.mkdir(parents=True)
        (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                     "  name: pkg\n")
        (pkg / "two.yaml").write_text("# head\n" + resource("a") + "---\n" + resource("b"))
        proc = (run(KPT, "fn", "eval", str(pkg), "--exec", str(exe)) if where == "kpt"
                else run(str(exe), str(pkg), "--in-place"))
        assert proc.returncode == 0, proc.stderr
        assert sorted(os.listdir(tmp_path / where)) == ["pkg"]
        trees.append(loaded(pkg))
    assert trees[0] == trees[1]
    assert trees[1]["moved/a.yaml"] == [yaml.safe_load(resource("a"))]
    assert [d["metadata"]["name"] for d in trees[1]["new/both.yaml"]] == ["n1", "n2"]


def test_reading_a_package_with_a_journal_needs_repair(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(resource("a"))
    (tmp_path / ".krmfn-commit").write_text("[]")
    with pytest.raises(InputError, match="interrupted"):
        read_package([str(tmp_path)])
    proc = run(script("set-namespace"), str(tmp_path), "namespace=x")
    assert proc.returncode == 1 and "run --in-place again" in proc.stderr
