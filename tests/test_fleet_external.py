"""Pipeline steps no installed package registers run as kpt runs them: an `exec:` as a
subprocess, an `image:` with the container runtime. Checked against the real
`kpt fn render` on generated packages and steps (selectors, exclude, configMap and
configPath, items added and removed, results, failures)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpt_support import KPT, needs_kpt
from krmfn_fleet import render_variant_fleet
from krmfn_fleet.external import External, container_runtime, external_step
from krmfn_fleet.pipeline import render_package

FUNCTION = """\
import sys

import yaml

rl = yaml.safe_load(sys.stdin)
config = rl.get("functionConfig") or {}
cfg = config.get("data") or config.get("spec") or {}
out = []
for item in rl.get("items") or []:
    if item["metadata"]["name"] == cfg.get("drop"):
        continue
    item["metadata"].setdefault("labels", {})[cfg.get("key", "team")] = cfg.get("value", "x")
    if item["metadata"]["name"] == cfg.get("move"):
        for key in ("config.kubernetes.io/path", "internal.config.kubernetes.io/path"):
            item["metadata"]["annotations"][key] = cfg.get("to", "moved.yaml")
    out.append(item)
if cfg.get("add"):
    out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": cfg["add"]},
                "data": {"from": "fn"}})
if cfg.get("fail"):
    sys.stderr.write("something first\\n" + cfg["fail"] + "\\n")
    sys.exit(1)
rl["items"] = out
rl["results"] = [{"message": "labelled %d" % len(out), "severity": "info"}]
yaml.safe_dump(rl, sys.stdout)
"""
KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: pkg # the package
  annotations:
    config.kubernetes.io/local-config: "true"
"""
KINDS = ("ConfigMap", "Secret", "Service")


def write_function(pkg: Path, name: str = "label.py") -> None:
    path = pkg / name
    path.write_text(f"#!{sys.executable}\n{FUNCTION}")
    path.chmod(0o755)


def resource(kind: str, name: str, namespace: str | None) -> str:
    meta = f"  name: {name} # keep this comment\n" + (
        f"  namespace: {namespace}\n" if namespace else "")
    return f"apiVersion: v1\nkind: {kind}\nmetadata:\n{meta}data:\n  k: v\n"


def make_package(root: Path, resources: list[tuple[str, str, str | None, str]],
                 steps: list[dict[str, Any]], config: dict[str, str] | None) -> Path:
    pkg = root / "pkg"
    pkg.mkdir(parents=True)
    files: dict[str, list[str]] = {}
    for kind, name, namespace, file in resources:
        files.setdefault(file, []).append(resource(kind, name, namespace))
    for file, docs in files.items():
        (pkg / file).parent.mkdir(parents=True, exist_ok=True)
        (pkg / file).write_text("---\n".join(docs))
    if config is not None:
        (pkg / "fn-config.yaml").write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "fn-config", "annotations": {
                "config.kubernetes.io/local-config": "true"}}, "data": config}))
    (pkg / "Kptfile").write_text(KPTFILE + yaml.safe_dump({"pipeline": {"mutators": steps}}))
    write_function(pkg)
    return pkg


def documents(pkg: Path) -> dict[str, list[Any]]:
    return {str(p.relative_to(pkg)): [d for d in yaml.safe_load_all(p.read_text()) if d]
            for p in sorted(pkg.rglob("*.yaml")) if p.is_file()} | {
        "Kptfile": [yaml.safe_load((pkg / "Kptfile").read_text())]}


def in_order(docs: dict[str, list[Any]], ordered: bool) -> dict[str, list[Any]]:
    """The documents of each file, in file order or (not `ordered`) sorted."""
    return docs if ordered else {name: sorted(found, key=lambda d: yaml.safe_dump(d))
                                 for name, found in docs.items()}


def kpt_render(pkg: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KPT, "fn", "render", ".", "--allow-exec"], cwd=pkg,
                          capture_output=True, text=True, check=False, env=env)


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[tuple[str, str, str | None, str]],
                                    list[dict[str, Any]], dict[str, str] | None]:
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1,
                          max_size=5, unique=True))
    resources = [(draw(st.sampled_from(KINDS)), n,
                  draw(st.sampled_from([None, "ns1"])),
                  draw(st.sampled_from(["one.yaml", "sub/two.yaml"]))) for n in names]
    data = {"key": draw(st.sampled_from(["team", "example.com/owner"])),
            "value": draw(st.sampled_from(["ran", "core", "x-1"]))}
    if draw(st.booleans()):
        data["add"] = "added"
    if draw(st.booleans()):
        data["drop"] = draw(st.sampled_from(names))
    if draw(st.booleans()):
        data["move"] = draw(st.sampled_from(names))
        data["to"] = draw(st.sampled_from(["moved.yaml", "sub/two.yaml", "one.yaml"]))
    step: dict[str, Any] = {"exec": "./label.py"}
    config = None
    if draw(st.booleans()):
        step["configMap"] = data
    else:
        step["configPath"] = "fn-config.yaml"
        config = data
    if draw(st.booleans()):
        step["selectors"] = [{"kind": k} for k in draw(
            st.lists(st.sampled_from(KINDS), min_size=1, max_size=2, unique=True))]
    if draw(st.booleans()):
        step["exclude"] = [{"name": draw(st.sampled_from(names))}]
    steps = [step]
    if draw(st.booleans()):  # a second step sees what the first made
        steps.append({"exec": "./label.py", "configMap": {"key": "second", "value": "y"}})
    return resources, steps, config


@needs_kpt
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases())
def test_an_exec_step_gives_the_package_kpt_fn_render_gives(
        case: tuple[list[tuple[str, str, str | None, str]], list[dict[str, Any]],
                    dict[str, str] | None]) -> None:
    resources, steps, config = case
    with tempfile.TemporaryDirectory() as tmp:
        theirs = make_package(Path(tmp) / "kpt", resources, steps, config)
        ours = make_package(Path(tmp) / "krmfn", resources, steps, config)
        done = kpt_render(theirs)
        result = render_package(ours, allow_exec=True)
        # A resource a step moves into another file goes after that file's own resources
        # (kpt sorts the file by index: the same resources, maybe in another order).
        moved = bool(config and config.get("move"))
        assert in_order(documents(ours), not moved) == in_order(documents(theirs), not moved)
        if done.returncode != 0:  # e.g. a move onto a file and index another item holds
            assert not result.ok, f"kpt refused it: {done.stderr}"
            return
        assert result.ok, [r.message for s in result.steps for r in s.results]
        assert all(r.message.startswith("labelled ") for s in result.steps for r in s.results)
        # what no step was given keeps every byte, its comment included
        if len(steps) == 1:
            for _, name, _, file in [r for r in resources if not _picked(steps[0], r)]:
                assert f"name: {name} # keep this comment" in (ours / file).read_text()


def _picked(step: dict[str, Any], res: tuple[str, str, str | None, str]) -> bool:
    kinds = {s["kind"] for s in step.get("selectors", [])}
    excluded = {s["name"] for s in step.get("exclude", [])}
    return (not kinds or res[0] in kinds) and res[1] not in excluded


def test_a_step_results_are_the_step_results(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, [("ConfigMap", "a", None, "one.yaml")],
                       [{"exec": "./label.py", "configMap": {"key": "team"}}], None)
    result = render_package(pkg, allow_exec=True)
    assert result.ok
    assert [(r.message, r.severity.value) for r in result.steps[0].results] == [
        ("labelled 2", "info")]  # the Kptfile and the ConfigMap, as kpt gives them


@needs_kpt
def test_a_failing_step_fails_the_package_with_its_stderr(tmp_path: Path) -> None:
    steps = [{"exec": "./label.py", "configMap": {"fail": "bad value for key"}}]
    theirs = make_package(tmp_path / "kpt", [("ConfigMap", "a", None, "one.yaml")], steps,
                          None)
    ours = make_package(tmp_path / "krmfn", [("ConfigMap", "a", None, "one.yaml")], steps,
                        None)
    before = {p: p.read_bytes() for p in ours.rglob("*") if p.is_file()}
    assert kpt_render(theirs).returncode != 0
    result = render_package(ours, allow_exec=True)
    assert not result.ok
    assert result.steps[-1].results[-1].message == "bad value for key"
    assert {p: p.read_bytes() for p in ours.rglob("*") if p.is_file()} == before


@needs_kpt
def test_a_step_moving_an_item_out_of_the_package_fails_it(tmp_path: Path) -> None:
    steps = [{"exec": "./label.py", "configMap": {"move": "a", "to": "../../escape.yaml"}}]
    theirs = make_package(tmp_path / "kpt", [("ConfigMap", "a", None, "one.yaml")], steps,
                          None)
    ours = make_package(tmp_path / "krmfn", [("ConfigMap", "a", None, "one.yaml")], steps,
                        None)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert kpt_render(theirs).returncode != 0  # kpt refuses it too
    result = render_package(ours, allow_exec=True)
    assert not result.ok
    assert "../../escape.yaml" in result.steps[-1].results[-1].message
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_exec_needs_allow_exec_as_in_kpt(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    pkg = make_package(tmp_path, [("ConfigMap", "a", None, "one.yaml")],
                       [{"exec": f"./touch.sh {marker}"}], None)
    (pkg / "touch.sh").write_text('#!/bin/sh\ntouch "$1"\ncat\n')
    (pkg / "touch.sh").chmod(0o755)
    result = render_package(pkg)
    assert not result.ok and not marker.exists()
    assert "--allow-exec" in result.steps[0].results[0].message
    # with it, the arguments after the program go to it (kpt splits exec in shell words)
    assert render_package(pkg, allow_exec=True).ok
    assert marker.exists()


@needs_kpt
def test_a_relative_exec_resolves_from_the_package_as_kpt_in_the_package(
        tmp_path: Path) -> None:
    """kpt resolves `../label.py` against its working directory and refuses no path: run
    from inside the package, that is the package's parent; so it is here, from anywhere."""
    steps = [{"exec": "../shared/label.py", "configMap": {"key": "up"}}]
    for side in ("kpt", "krmfn"):
        make_package(tmp_path / side, [("ConfigMap", "a", None, "one.yaml")], steps, None)
        (tmp_path / side / "shared").mkdir()
        write_function(tmp_path / side / "shared")
    assert kpt_render(tmp_path / "kpt" / "pkg").returncode == 0
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert render_package(tmp_path / "krmfn" / "pkg", allow_exec=True).ok
    finally:
        os.chdir(cwd)
    assert documents(tmp_path / "krmfn" / "pkg") == documents(tmp_path / "kpt" / "pkg")


def test_a_fleet_runs_a_blueprint_exec_from_the_blueprint(tmp_path: Path) -> None:
    from fleet_support import blueprint, cluster, pvs, write_fleet

    fleet = tmp_path / "fleet"
    bp = blueprint(fleet, "upf", extra={"settings.yaml": resource("ConfigMap", "s", None)})
    (bp / "Kptfile").write_text((bp / "Kptfile").read_text() + yaml.safe_dump({
        "pipeline": {"mutators": [{"exec": "./label.py", "configMap": {"value": "edge"},
                                   "selectors": [{"name": "s"}]}]}}))
    write_function(bp)
    write_fleet(fleet, [cluster("edge-1")], [pvs("upf", "upf", [{"objectSelector": {
        "apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster"}}])])
    refused = render_variant_fleet(fleet, tmp_path / "out")
    assert not refused[0].ok and "--allow-exec" in refused[0].messages[0]
    assert not (tmp_path / "out" / "edge-1").exists()
    done = subprocess.run([sys.executable, "-m", "krmfn_fleet", "render", str(fleet), "--out",
                           str(tmp_path / "out"), "--allow-exec"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    settings_cm = yaml.safe_load((tmp_path / "out" / "edge-1" / "upf" / "settings.yaml")
                                 .read_text())
    assert settings_cm["metadata"]["labels"] == {"team": "edge"}


# --- image steps -----------------------------------------------------------------------

@needs_kpt
def test_an_image_without_a_registry_is_named_as_kpt_names_it(tmp_path: Path) -> None:
    """kpt reports the image it tried to run; the runtime runs the same one here."""
    pkg = make_package(tmp_path, [("ConfigMap", "a", None, "one.yaml")],
                       [{"image": "no-such-fn-for-krmfn:v0"}], None)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "KPT_FN_RUNTIME": container_runtime() or "docker"}
    done = subprocess.run([KPT, "fn", "render", ".", "--image-pull-policy", "never"],
                          cwd=pkg, capture_output=True, text=True, check=False, env=env)
    step = external_step({"image": "no-such-fn-for-krmfn:v0"}, package_dir=pkg,
                         allow_exec=False, runtime="podman")
    assert isinstance(step, External)
    assert f'"{step.argv[-1]}"' in done.stdout + done.stderr


BASE = "localhost/krmfn/base:v0.1.0"


@pytest.fixture(scope="module")
def image() -> str:
    """A one-file function image built here, on the project's base image (PyYAML)."""
    runtime = container_runtime()
    if runtime is None:
        pytest.skip("no container runtime (podman or docker)")
    if subprocess.run([runtime, "image", "exists", BASE], check=False).returncode:
        pytest.skip(f"{BASE} is not built (make image-base)")
    tag = "localhost/krmfn-test/label:v1"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "label.py").write_text(FUNCTION)
        (Path(tmp) / "Containerfile").write_text(
            f"FROM {BASE}\nCOPY label.py /label.py\nENTRYPOINT [\"python3\", \"/label.py\"]\n")
        done = subprocess.run([runtime, "build", "--network=none", "--pull=never", "-q",
                               "-t", tag, tmp], capture_output=True, text=True, check=False)
        if done.returncode:
            pytest.skip(f"cannot build a test image: {done.stderr.strip()[-200:]}")
    return tag


@pytest.mark.container
@needs_kpt
@pytest.mark.parametrize("config", [{"key": "team", "value": "ran", "add": "added"},
                                    {"drop": "b", "value": "core"}])
def test_an_image_step_gives_the_package_kpt_fn_render_gives(
        tmp_path: Path, image: str, config: dict[str, str]) -> None:
    resources = [("ConfigMap", "a", None, "one.yaml"), ("Secret", "b", "ns1", "one.yaml"),
                 ("Service", "c", None, "sub/two.yaml")]
    steps = [{"image": image, "configMap": config, "exclude": [{"kind": "Service"}]}]
    theirs = make_package(tmp_path / "kpt", resources, steps, None)
    ours = make_package(tmp_path / "krmfn", resources, steps, None)
    runtime = container_runtime() or ""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KPT_FN_RUNTIME": runtime}
    done = subprocess.run([KPT, "fn", "render", ".", "--image-pull-policy", "never"],
                          cwd=theirs, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    result = render_package(ours)
    assert result.ok, [r.message for s in result.steps for r in s.results]
    assert documents(ours) == documents(theirs)


@needs_kpt
def test_a_move_onto_another_resource_place_fails_as_under_kpt(tmp_path: Path) -> None:
    resources = [("ConfigMap", "a", None, "one.yaml"), ("ConfigMap", "b", None, "sub/two.yaml")]
    steps = [{"exec": "./label.py", "configPath": "fn-config.yaml"}]
    config = {"key": "team", "value": "ran", "move": "a", "to": "sub/two.yaml"}
    theirs = make_package(tmp_path / "kpt", resources, steps, config)
    ours = make_package(tmp_path / "krmfn", resources, steps, config)
    before = documents(ours)
    done = kpt_render(theirs)
    assert done.returncode != 0 and 'index "0" already exists' in done.stderr
    result = render_package(ours, allow_exec=True)
    assert not result.ok
    assert any('resource at path "sub/two.yaml" and index "0" already exists' in r.message
               for s in result.steps for r in s.results)
    assert documents(ours) == before
