"""Fleets of PackageVariantSets: placement, CEL fields, injection, package context,
dependencies (order, cycles, scope), determinism and what is written where."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from fleet_support import blueprint, cluster, dependency, pvs, thing, tree, write_fleet
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn_fleet import FleetError, load_fleet, place, render_variant_fleet

SELECT = {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster"}


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _one(path: Path, kind: str) -> dict[str, Any]:
    found = [d for f in sorted(path.glob("*.yaml")) for d in _docs(f) if d["kind"] == kind]
    assert len(found) == 1, (path, kind, found)
    return found[0]


# --- placement ----------------------------------------------------------------------------

_KEYS = ["site-type", "region", "tier"]
_VALUES = ["a", "b", "c"]
labels_st = st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(_VALUES), max_size=3)
expr_st = st.one_of(
    st.builds(lambda k, op, vs: {"key": k, "operator": op, "values": vs},
              st.sampled_from(_KEYS), st.sampled_from(["In", "NotIn"]),
              st.lists(st.sampled_from(_VALUES), min_size=1, max_size=2, unique=True)),
    st.builds(lambda k, op: {"key": k, "operator": op},
              st.sampled_from(_KEYS), st.sampled_from(["Exists", "DoesNotExist"])))


def _oracle(labels: dict[str, str], match: dict[str, str], exprs: list[dict[str, Any]]) -> bool:
    """Label selection written as set algebra over the label pairs."""
    pairs = set(labels.items())
    if not set(match.items()) <= pairs:
        return False
    for e in exprs:
        present = {k for k, _ in pairs}
        if e["operator"] == "Exists" and e["key"] not in present:
            return False
        if e["operator"] == "DoesNotExist" and e["key"] in present:
            return False
        if e["operator"] == "In" and not pairs & {(e["key"], v) for v in e["values"]}:
            return False
        if e["operator"] == "NotIn" and pairs & {(e["key"], v) for v in e["values"]}:
            return False
    return True


@settings(max_examples=60, deadline=None)
@given(sites=st.lists(labels_st, min_size=1, max_size=6),
       match=labels_st, exprs=st.lists(expr_st, max_size=3))
def test_object_selector_places_exactly_the_matching_clusters(
        sites: list[dict[str, str]], match: dict[str, str], exprs: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        blueprint(root, "nf")
        clusters = [cluster(f"site-{i}", **labels) for i, labels in enumerate(sites)]
        selector = {**SELECT, "matchLabels": match, "matchExpressions": exprs}
        write_fleet(root, clusters, [pvs("nf", "nf", [{"objectSelector": selector}])])
        placed = [(p.cluster, p.package) for p in place(load_fleet(root))]
    expected = sorted((f"site-{i}", "nf") for i, labels in enumerate(sites)
                      if _oracle(labels, match, exprs))
    assert placed == expected


def test_cel_fields_name_the_package_and_fill_the_package_context(tmp_path: Path) -> None:
    blueprint(tmp_path, "upf")
    template = {
        "downstream": {"packageExpr": "packageDefault + '-' + target.labels['region']"},
        "injectors": [{"nameExpr": "target.name"}],
        "packageContext": {"data": {"tier": "gold"},
                           "dataExprs": [{"key": "site", "valueExpr": "repoDefault"},
                                         {"keyExpr": "'from-' + packageDefault",
                                          "value": "yes"}]},
        "labels": {"team": "ran"},
        "annotationExprs": [{"key": "approval", "valueExpr": "target.name + '-ok'"}],
    }
    write_fleet(tmp_path, [cluster("edge-1", region="west"), cluster("edge-2", region="east")],
                [pvs("upf", "upf", [{"objectSelector": SELECT, "template": template}])])
    outcomes = render_variant_fleet(tmp_path, tmp_path / "out")
    assert [(o.key, o.ok) for o in outcomes] == [("edge-1/upf-west", True),
                                                  ("edge-2/upf-east", True)]
    pkg = tmp_path / "out" / "edge-2" / "upf-east"
    ctx = _one(pkg, "ConfigMap")
    assert ctx["data"] == {"name": "upf-east", "tier": "gold", "site": "edge-2",
                           "from-upf": "yes"}
    kptfile = yaml.safe_load((pkg / "Kptfile").read_text())
    assert kptfile["metadata"]["name"] == "upf-east"
    assert kptfile["metadata"]["labels"] == {"team": "ran"}
    assert kptfile["metadata"]["annotations"]["approval"] == "edge-2-ok"
    assert (pkg / "README.md").read_text() == "# upf\n"  # files the render does not own


def test_template_functions_run_before_the_blueprints_own(tmp_path: Path) -> None:
    app = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata: {}\n"
    bp = blueprint(tmp_path, "nf", extra={"app.yaml": app})
    (bp / "Kptfile").write_text((bp / "Kptfile").read_text() + (
        "pipeline:\n  validators:\n  - image: ghcr.io/krmfn/policy-validate:v0.1.0\n"))
    template = {"injectors": [{"nameExpr": "target.name"}], "pipeline": {"mutators": [{
        "image": "ghcr.io/krmfn/set-namespace:v0.1.0",
        "configMapExprs": [{"key": "namespace",
                            "valueExpr": "'ran-' + target.labels['region']"}]}]}}
    write_fleet(tmp_path, [cluster("edge-1", region="west")],
                [pvs("nf", "nf", [{"objectSelector": SELECT, "template": template}])])
    [outcome] = render_variant_fleet(tmp_path, tmp_path / "out")
    assert outcome.ok, outcome.messages
    pkg = tmp_path / "out" / "edge-1" / "nf"
    assert yaml.safe_load((pkg / "app.yaml").read_text())["metadata"]["namespace"] == "ran-west"
    kptfile = yaml.safe_load((pkg / "Kptfile").read_text())
    assert kptfile["pipeline"] == {
        "mutators": [{"image": "ghcr.io/krmfn/set-namespace:v0.1.0",
                      "configMap": {"namespace": "ran-west"}}],
        "validators": [{"image": "ghcr.io/krmfn/policy-validate:v0.1.0"}]}


def test_the_workload_cluster_is_injected_where_the_package_asks(tmp_path: Path) -> None:
    blueprint(tmp_path, "req", mode="required")
    blueprint(tmp_path, "opt", mode="optional")
    write_fleet(tmp_path, [cluster("edge-1"), cluster("other")], [
        pvs("req", "req", [{"objectSelector": {**SELECT, "name": "edge-1"},
                            "template": {"injectors": [{"nameExpr": "target.name"}]}}]),
        pvs("opt", "opt", [{"objectSelector": {**SELECT, "name": "edge-1"},
                            "template": {"injectors": [{"kind": "ConfigMap",
                                                        "name": "edge-1"}]}}])])
    render_variant_fleet(tmp_path, tmp_path / "out")
    injected = tmp_path / "out" / "edge-1" / "req"
    wc = _one(injected, "WorkloadCluster")
    assert wc["spec"] == cluster("edge-1")["spec"]
    assert wc["metadata"]["annotations"]["kpt.dev/injected-resource"] == "edge-1"
    kptfile = yaml.safe_load((injected / "Kptfile").read_text())
    assert kptfile["info"]["readinessGates"] == [
        {"conditionType": "config.injection.WorkloadCluster.workload-cluster"}]
    [cond] = kptfile["status"]["conditions"]
    assert (cond["status"], cond["reason"]) == ("True", "ConfigInjected")
    # an injector of another kind matches nothing: the point keeps its spec, and says so
    skipped = tmp_path / "out" / "edge-1" / "opt"
    wc = _one(skipped, "WorkloadCluster")
    assert wc["spec"] == {"clusterName": "example"}
    assert "kpt.dev/injected-resource" not in wc["metadata"]["annotations"]
    kptfile = yaml.safe_load((skipped / "Kptfile").read_text())
    assert "info" not in kptfile  # an optional point is no readiness gate
    [cond] = kptfile["status"]["conditions"]
    assert (cond["status"], cond["reason"]) == ("False", "NoResourceSelected")
    # comments of the blueprint stay
    assert "# stays when nothing is injected" in (skipped / "workload-cluster.yaml").read_text()


# --- dependencies -------------------------------------------------------------------------

def _interconnected(root: Path, *, scope: str = "region") -> None:
    blueprint(root, "edge", extra={"thing.yaml": thing("data-plane", "edge")})
    blueprint(root, "core", extra={"dependency.yaml": dependency("peers", "edge", scope=scope)})
    clusters = [cluster(f"edge-{r}-{i}", type="edge", region=r)
                for r in ("west", "east") for i in (1, 2)]
    clusters += [cluster(f"core-{r}", type="core", region=r) for r in ("west", "east")]
    write_fleet(root, clusters, [
        # the core first: its packages must still render after the edges they depend on
        pvs("core", "core", [{"objectSelector": {**SELECT, "matchLabels": {"type": "core"}}}]),
        pvs("edge", "edge", [{"objectSelector": {**SELECT, "matchLabels": {"type": "edge"}}}])])


def test_a_dependency_receives_every_package_of_its_name_in_its_scope(tmp_path: Path) -> None:
    _interconnected(tmp_path)
    outcomes = render_variant_fleet(tmp_path, tmp_path / "out")
    keys = [o.key for o in outcomes]
    for region in ("west", "east"):
        core = keys.index(f"core-{region}/core")
        assert all(keys.index(f"edge-{region}-{i}/edge") < core for i in (1, 2))
    pkg = tmp_path / "out" / "core-west" / "core"
    dep = _one(pkg, "Dependency")
    assert dep["status"]["injected"] == [
        {"name": f"peers-edge-west-{i}", "apiVersion": "ref.nephio.org/v1alpha1",
         "kind": "Config"} for i in (1, 2)]
    for i in (1, 2):
        [config] = _docs(pkg / f"dependency-peers-edge-west-{i}.yaml")
        assert config["spec"]["config"] == yaml.safe_load(thing("data-plane", "edge"))
        assert config["metadata"]["annotations"] == {
            "fleet.krmfn.io/injected-from": f"edge-west-{i}/edge"}
    assert not list((tmp_path / "out" / "core-east" / "core").glob("dependency-*west*"))


def test_without_a_scope_a_dependency_receives_the_whole_fleet(tmp_path: Path) -> None:
    _interconnected(tmp_path, scope="")
    render_variant_fleet(tmp_path, tmp_path / "out")
    dep = _one(tmp_path / "out" / "core-east" / "core", "Dependency")
    assert [i["name"] for i in dep["status"]["injected"]] == [
        "peers-edge-east-1", "peers-edge-east-2", "peers-edge-west-1", "peers-edge-west-2"]


def test_a_scope_label_the_cluster_lacks_is_an_error_naming_it(tmp_path: Path) -> None:
    _interconnected(tmp_path, scope="zone")
    with pytest.raises(FleetError, match=r"dependency\.yaml: Dependency peers: metadata\."
                                         r"annotations\[fleet\.krmfn\.io/dependency-scope\]: "
                                         r"cluster core-east has no label 'zone'"):
        render_variant_fleet(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_dependency_cycle_is_an_error_naming_it_and_nothing_is_written(
        tmp_path: Path) -> None:
    blueprint(tmp_path, "a", extra={"dependency.yaml": dependency("to-b", "b")})
    blueprint(tmp_path, "b", extra={"dependency.yaml": dependency("to-c", "c")})
    blueprint(tmp_path, "c", extra={"dependency.yaml": dependency("to-a", "a")})
    blueprint(tmp_path, "free")
    one = {"objectSelector": {**SELECT, "name": "site"}}
    write_fleet(tmp_path, [cluster("site")],
                [pvs(n, n, [one]) for n in ("free", "a", "b", "c")])
    before = tree(tmp_path)
    result = subprocess.run([sys.executable, "-m", "krmfn_fleet", "render", str(tmp_path),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == ("krmfn fleet: error: dependency cycle: site/a -> site/b -> "
                             "site/c -> site/a\n")
    assert tree(tmp_path) == before


# --- errors: one line naming the file and field, nothing written ---------------------------

@pytest.mark.parametrize(("template", "message"), [
    ({"downstream": {"packageExpr": "'../../escape'"}},
     r"sets\.yaml: PackageVariantSet nf: spec\.targets\[0\]\.template\.downstream\.package: "
     r"'\.\./\.\./escape' is not a DNS-1123 label"),
    ({"downstream": {"repoExpr": "target.labels['nope']"}},
     r"spec\.targets\[0\]\.template\.downstream\.repoExpr: .*no such key: 'nope'"),
    ({"downstream": {"packageExpr": "1 +"}},
     r"spec\.targets\[0\]\.template\.downstream\.packageExpr: cannot parse '1 \+'"),
    ({"packageContext": {"dataExprs": [{"key": "n", "valueExpr": "1"}]}},
     r"spec\.targets\[0\]\.template\.packageContext\.dataExprs\[0\]\.valueExpr: '1' does "
     r"not give a string"),
    ({"packageContext": {"data": {"name": "other"}}},
     r"spec\.targets\[0\]\.template\.packageContext\.data: the key 'name'"),
    ({"pipeline": {"mutators": [{"configMap": {"a": "b"}}]}},
     r"spec\.targets\[0\]\.template\.pipeline\.mutators\[0\]: needs image or exec"),
    ({"pipeline": {"mutators": [{"image": "x", "configMapExprs": [{"value": "v"}]}]}},
     r"template\.pipeline\.mutators\[0\]\.configMapExprs\[0\]: needs key or keyExpr"),
    ({"adoptionPolicy": "adoptNone", "repositories": []},
     r"spec\.targets\[0\]\.template\.repositories: not supported offline"),
    ({"injectors": [{"kind": "WorkloadCluster"}]},
     r"spec\.targets\[0\]\.template\.injectors\[0\]: needs name or nameExpr"),
])
def test_a_bad_template_is_one_line_naming_the_field(tmp_path: Path, template: dict[str, Any],
                                                     message: str) -> None:
    blueprint(tmp_path, "nf")
    write_fleet(tmp_path, [cluster("site")],
                [pvs("nf", "nf", [{"objectSelector": SELECT, "template": template}])])
    before = tree(tmp_path)
    result = subprocess.run([sys.executable, "-m", "krmfn_fleet", "render", str(tmp_path),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("krmfn fleet: error: ")
    import re
    assert re.search(message, result.stderr), result.stderr
    assert tree(tmp_path) == before


@pytest.mark.parametrize(("selector", "message"), [
    ({"matchExpressions": [{"key": "a", "operator": "Near", "values": ["b"]}]},
     r"objectSelector\.matchExpressions\[0\]\.operator: 'Near' is not In"),
    ({"matchExpressions": [{"key": "a", "operator": "In"}]},
     r"objectSelector\.matchExpressions\[0\]\.values: In needs at least one value"),
    ({"matchLabels": ["a"]}, r"objectSelector\.matchLabels: expected a map"),
])
def test_a_bad_selector_is_an_error_naming_the_field(tmp_path: Path, selector: dict[str, Any],
                                                     message: str) -> None:
    blueprint(tmp_path, "nf")
    write_fleet(tmp_path, [cluster("site")],
                [pvs("nf", "nf", [{"objectSelector": {**SELECT, **selector}}])])
    with pytest.raises(FleetError, match=r"sets\.yaml: PackageVariantSet nf: spec\.targets"
                                         r"\[0\]\." + message):
        place(load_fleet(tmp_path))


def test_an_upstream_without_a_blueprint_names_where_it_looked(tmp_path: Path) -> None:
    write_fleet(tmp_path, [cluster("site")], [pvs("nf", "missing", [{"objectSelector": SELECT}])])
    with pytest.raises(FleetError, match=r"sets\.yaml: PackageVariantSet nf: spec\.upstream: "
                                         r"no blueprint bp/missing"):
        place(load_fleet(tmp_path))


def test_two_sets_placing_one_package_is_an_error_naming_both(tmp_path: Path) -> None:
    blueprint(tmp_path, "nf")
    same = [{"objectSelector": SELECT, "template": {"downstream": {"package": "nf"}}}]
    write_fleet(tmp_path, [cluster("site")], [pvs("one", "nf", same), pvs("two", "nf", same)])
    with pytest.raises(FleetError, match=r"PackageVariantSet two: spec\.targets: places "
                                         r"package site/nf, as PackageVariantSet one"):
        place(load_fleet(tmp_path))


def test_rendering_twice_gives_the_same_tree(tmp_path: Path) -> None:
    _interconnected(tmp_path)
    fleet = tree(tmp_path)
    render_variant_fleet(tmp_path, tmp_path / "one")
    outside = {k: v for k, v in tree(tmp_path).items() if not k.startswith("one/")}
    assert outside == fleet  # nothing written outside OUT
    render_variant_fleet(tmp_path, tmp_path / "two")
    first = tree(tmp_path / "one")
    assert first and first == tree(tmp_path / "two")
    render_variant_fleet(tmp_path, tmp_path / "one")  # again over the first: unchanged
    assert tree(tmp_path / "one") == first


# --- functions found through the krmfn.functions entry-point group --------------------------

_PLUGIN = '''
import krmfn


@krmfn.function(name="stamp")
def stamp(rl: krmfn.ResourceList) -> None:
    for obj in rl.items:
        if obj.kind == "WorkloadCluster":
            obj.set_annotation("stamped", "by-plugin")
'''


def test_an_installed_package_registers_a_function_the_pipeline_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "stamp_fn-0.1.dist-info").mkdir(parents=True)
    (site / "stamp_fn-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: stamp-fn\nVersion: 0.1\n")
    (site / "stamp_fn-0.1.dist-info" / "entry_points.txt").write_text(
        "[krmfn.functions]\nstamp = stamp_fn:stamp\n")
    (site / "stamp_fn.py").write_text(_PLUGIN)
    fleet = tmp_path / "fleet"
    bp = blueprint(fleet, "nf")
    (bp / "Kptfile").write_text((bp / "Kptfile").read_text() + (
        "pipeline:\n  mutators:\n  - image: example.com/fns/stamp:v1\n"
        "  - exec: /usr/local/bin/set-namespace\n    configPath: package-context.yaml\n"))
    write_fleet(fleet, [cluster("site")], [pvs("nf", "nf", [{"objectSelector": SELECT}])])
    run = [sys.executable, "-m", "krmfn_fleet", "render", str(fleet), "--out",
           str(tmp_path / "out")]
    import os
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(run, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    wc = _one(tmp_path / "out" / "site" / "nf", "WorkloadCluster")
    assert wc["metadata"]["annotations"]["stamped"] == "by-plugin"
    # without the package, the image runs as kpt runs it: with the container runtime,
    # which cannot find it, and the package fails with the runtime's message
    result = subprocess.run(run, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("site/nf: example.com/fns/stamp:v1: ")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("repo", ["../..", "/etc", "bp/../../x"])
def test_an_upstream_outside_the_repositories_is_refused(tmp_path: Path, repo: str) -> None:
    blueprint(tmp_path, "nf")
    data = pvs("nf", "nf", [{"objectSelector": SELECT}])
    data["spec"]["upstream"]["repo"] = repo
    write_fleet(tmp_path, [cluster("site")], [data])
    with pytest.raises(FleetError, match=r"spec\.upstream\.repo: .* must name a directory "
                                         r"under repositories/"):
        place(load_fleet(tmp_path))


def test_a_failing_package_is_not_written_and_its_dependents_not_rendered(
        tmp_path: Path) -> None:
    _interconnected(tmp_path)
    kptfile = tmp_path / "repositories" / "bp" / "edge" / "Kptfile"
    kptfile.write_text(kptfile.read_text() + "pipeline:\n  mutators:\n"
                       "  - image: ghcr.io/krmfn/set-namespace:v0.1.0\n")  # no namespace given
    result = subprocess.run([sys.executable, "-m", "krmfn_fleet", "render", str(tmp_path),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert [e.split(": ")[0] for e in errors] == [
        "edge-east-1/edge", "edge-east-2/edge", "core-east/core",
        "edge-west-1/edge", "edge-west-2/edge", "core-west/core"]
    assert all("set-namespace" in e for e in errors if "/edge" in e.split(": ")[0])
    assert errors[2] == "core-east/core: not rendered: its dependency edge-east-1/edge failed"
    assert not (tmp_path / "out" / "edge-east-1").exists()
    assert not (tmp_path / "out" / "core-east").exists()
    assert "0 of 6 packages rendered" in result.stdout


def test_a_cluster_directory_leading_outside_out_fails_that_package_only(
        tmp_path: Path) -> None:
    blueprint(tmp_path / "fleet", "nf")
    write_fleet(tmp_path / "fleet", [cluster("a"), cluster("b")],
                [pvs("nf", "nf", [{"objectSelector": SELECT}])])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a").symlink_to(elsewhere)
    outcomes = render_variant_fleet(tmp_path / "fleet", tmp_path / "out")
    assert [(o.key, o.ok) for o in outcomes] == [("a/nf", False), ("b/nf", True)]
    assert "a symbolic link leads outside" in outcomes[0].messages[0]
    assert list(elsewhere.iterdir()) == []


def test_without_cel_python_an_expression_is_an_error_naming_its_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("celpy", "celpy.adapter", "celpy.celparser", "celpy.evaluation"):
        monkeypatch.setitem(sys.modules, module, None)  # what an import then finds: nothing
    blueprint(tmp_path, "nf")
    plain = {"downstream": {"package": "plain"}}
    write_fleet(tmp_path, [cluster("site")], [
        pvs("plain", "nf", [{"objectSelector": SELECT, "template": plain}]),
        pvs("expr", "nf", [{"objectSelector": SELECT,
                            "template": {"downstream": {"packageExpr": "'x'"}}}])])
    with pytest.raises(FleetError, match=r"PackageVariantSet expr: spec\.targets\[0\]\.template"
                                         r"\.downstream\.packageExpr: a CEL expression needs "
                                         r"cel-python \(pip install 'krmfn\[cel\]'\)"):
        place(load_fleet(tmp_path))
