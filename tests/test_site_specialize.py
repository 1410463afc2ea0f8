"""site-specialize: golden cases for each rule and error, idempotency, the catalog
apply-setters conformance cases and Nephio's UPF blueprint under kpt, and the example."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from kpt_support import (
    CONFORMANCE,
    diff,
    git,
    hunks,
    kpt,
    needs_kpt,
    needs_shared,
    render,
    scratch_package,
    script,
    use_exec,
)
from krmfn import KubeObject, ResourceList
from krmfn.testing import GoldenCase, golden_cases, run, run_golden
from krmfn_catalog.site_specialize import site_specialize

HERE = Path(__file__).resolve().parents[1] / "functions/krmfn_catalog/site_specialize"
CASES = golden_cases(HERE / "testdata")
APPLY_SETTERS = CONFORMANCE / "kpt-catalog-apply-setters"
UPF = CONFORMANCE / "nephio-fn/catalog/workloads/free5gc/pkg-example-upf-bp"
EXAMPLE = HERE / "examples/edge-site"
IMAGE = "ghcr.io/krmfn/site-specialize:v0.1.0"


def items_text(output: str) -> list[str]:
    return [o.to_yaml() for o in ResourceList.parse(output).items]


def messages(output: str, severity: str | None = None) -> list[str]:
    results = KubeObject.from_yaml(output).get("results") or []
    return [r["message"] for r in results if severity in (None, r["severity"])]


# ------------------------------------------------------------------ golden cases
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: GoldenCase) -> None:
    run_golden(site_specialize, case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_second_run_changes_nothing(case: GoldenCase) -> None:
    first = run(site_specialize, case.input_text())
    second = run(site_specialize, first.stdout)
    assert second.exit_code == first.exit_code
    assert items_text(second.stdout) == items_text(first.stdout)


def test_every_rule_and_error_has_a_case() -> None:
    names = {c.name for c in CASES}
    assert names >= {
        "inject-typed-config", "inject-configmap", "condition-updated-in-place",
        "rerender-from-package", "missing-injection", "conflicting-package-facts",
        "setters", "setters-configmap", "setters-no-match", "labels-off", "patches",
        "patch-error", "cni-mismatch", "bad-config",
    }


def case(name: str) -> GoldenCase:
    return next(c for c in CASES if c.name == name)


def test_a_specialized_package_re_renders_without_config() -> None:
    first = run(site_specialize, case("inject-typed-config").input_text())
    rl = ResourceList.parse(first.stdout)
    rl.function_config = None
    again = run(site_specialize, ResourceList(rl.items).to_text())
    assert again.exit_code == 0, again.stderr
    assert items_text(again.stdout) == items_text(first.stdout)


def test_injection_writes_site_and_condition_once() -> None:
    out = run(site_specialize, case("inject-typed-config").input_text())
    rl = ResourceList.parse(out.stdout)
    wc = rl.items.find("WorkloadCluster", "workload-cluster")
    kptfile = rl.items.find("Kptfile", "upf")
    assert wc is not None and kptfile is not None
    assert wc.get("spec") == {"clusterName": "edge-01", "cnis": ["macvlan", "ipvlan"],
                              "masterInterface": "eth1"}
    assert wc.get_annotation("kpt.dev/config-injection") == "required"
    assert wc.get_annotation("kpt.dev/injected-resource") == "edge-01"
    assert kptfile.get("status.conditions") == [
        {"type": "Ready", "status": "True"},
        {"type": "config.injection.WorkloadCluster.workload-cluster", "status": "True",
         "reason": "ConfigInjected",
         "message": 'injected resource "edge-01" from the site facts'},
    ]
    updated = run(site_specialize, case("condition-updated-in-place").input_text())
    conditions = ResourceList.parse(updated.stdout).items[0].get("status.conditions")
    assert [c["type"] for c in conditions] == [
        "config.injection.WorkloadCluster.cluster", "Ready"]
    assert conditions[0]["reason"] == "ConfigInjected"
    assert ResourceList.parse(updated.stdout).items[1].get("status") is None  # sub/Kptfile


def test_setters_leave_what_the_site_facts_set_so_a_second_run_starts_from_the_same_facts(
) -> None:
    """The site's facts are read from a filled WorkloadCluster: a setter that changed one of
    them would give the next run other facts (found by fuzzing)."""
    text = """apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: infra.nephio.org/v1alpha1
  kind: WorkloadCluster
  metadata:
    name: facts
  spec:
    clusterName: edge-04
    masterInterface: eth4 # kpt-set: ${clusterName}
- apiVersion: infra.nephio.org/v1alpha1
  kind: WorkloadCluster
  metadata:
    name: placeholder
    annotations:
      kpt.dev/config-injection: required
  spec:
    masterInterface: eth1
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: upf-config
  data:
    cluster: unset # kpt-set: ${clusterName}
"""
    first = run(site_specialize, text)
    assert first.exit_code == 0, first.stderr
    rl = ResourceList.parse(first.stdout)
    assert [o.get("spec.masterInterface") for o in rl.items[:2]] == ["eth4", "eth4"]
    assert rl.items[2].get("data.cluster") == "edge-04"
    assert messages(first.stdout, "warning") == [
        "setter comment '${clusterName}' is on a field the site's facts set: they keep it"]
    second = run(site_specialize, first.stdout)
    assert items_text(second.stdout) == items_text(first.stdout)


def test_missing_injection_is_an_error_only_when_required() -> None:
    out = run(site_specialize, case("missing-injection").input_text())
    assert out.exit_code == 1
    assert "required-cluster requires config injection" in out.stderr
    errors = messages(out.stdout, "error")
    assert len(errors) == 1 and "optional-cluster" not in errors[0]


def test_labels_skip_local_config_kptfile_and_the_function_config_item() -> None:
    text = case("inject-typed-config").input_text()
    rl = ResourceList.parse(text)
    assert rl.function_config is not None
    config_item = KubeObject.from_yaml(rl.function_config.to_yaml())
    rl.items.append(config_item)
    out = ResourceList.parse(run(site_specialize, rl.to_text()).stdout)
    labelled = {o.name for o in out.items if "nephio.org/cluster-name" in o.labels}
    assert labelled == {"upf"}  # the Deployment and the Namespace, both named upf
    assert [o.kind for o in out.items if o.name == "upf" and o.labels] == [
        "Deployment", "Namespace"]
    assert out.items[-1].labels == {}


def test_labels_can_be_switched_off() -> None:
    out = ResourceList.parse(run(site_specialize, case("labels-off").input_text()).stdout)
    assert all(not o.labels for o in out.items)
    assert out.items[0].get("spec.clusterName") == "edge-06"


def test_setter_types_follow_the_field() -> None:
    out = ResourceList.parse(run(site_specialize, case("setters").input_text()).stdout)
    web, settings = out.items
    assert web.get("spec.replicas") == 3 and web.get("spec.paused") is True
    assert web.get("spec.template.spec.containers[0].ports[0].containerPort") == 9090
    assert settings.get("data.version") == "2"
    assert web.get("spec.template.spec.containers[0].image") == (
        "registry.local:5000/team/nginx:1.25.3")
    assert web.get("spec.template.spec.containers[0].args") == ["--quiet", "--port=9090"]
    assert settings.get("environments") == ["prod"]
    assert settings.get("data.endpoint") == "http://api.edge-05:80/api"
    assert settings.get("data.untouched") == "keep"
    assert settings.get("data.literal") == "${app}"
    assert web.get("spec.template.spec.containers[1].image") == "envoy:v1.28"
    assert web.line_comment("spec.template.spec.containers[0].args") == "kpt-set: ${args}"
    cm = ResourceList.parse(run(site_specialize, case("setters-configmap").input_text()).stdout)
    deployment = cm.items[0]
    assert deployment.get("spec.replicas") == 3 and deployment.get("spec.paused") is True
    assert deployment.get("spec.template.spec.containers[0].image") == "true"
    assert deployment.get("spec.template.spec.containers[0].command") == ["/bin/web", "--serve"]


def test_unmatched_partial_pattern_is_a_warning_and_keeps_the_value() -> None:
    resources = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                 "data:\n  image: nginx # kpt-set: ${image}:${tag}\n")
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  tag: '1.2'\n"
    from krmfn.testing import resource_list

    out = run(site_specialize, resource_list(resources, config))
    assert out.exit_code == 0
    assert ResourceList.parse(out.stdout).items[0].get("data.image") == "nginx"
    assert any("does not match the setter pattern" in m for m in messages(out.stdout, "warning"))


def test_one_partial_pattern_reads_each_value_its_own_parts() -> None:
    """Patterns are taken apart once per text: each field still keeps its own parts."""
    resources = "---\n".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"
        f"data:\n  image: {image} # kpt-set: ${{image}}:${{tag}}-${{image}}\n"
        for i, image in enumerate(["nginx:1.0-nginx", "r:5000/x:2-r:5000/x", "odd"]))
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  tag: '9'\n"
    from krmfn.testing import resource_list

    out = run(site_specialize, resource_list(resources, config))
    assert [o.get("data.image") for o in ResourceList.parse(out.stdout).items] == [
        "nginx:9-nginx", "r:5000/x:9-r:5000/x", "odd"]
    assert len(messages(out.stdout, "warning")) == 1


def test_patch_errors_name_the_patch_and_resource_and_write_nothing_to_it() -> None:
    out = run(site_specialize, case("patch-error").input_text())
    assert out.exit_code == 1
    assert "patches[0] does not apply to Deployment web" in out.stderr
    web, api = ResourceList.parse(out.stdout).items
    assert web.get("spec.replicas") == 1  # all operations of a patch, or none
    assert api.get("spec.replicas") == 2 and api.get("spec.strategy.type") == "RollingUpdate"


def test_patches_keep_comments_of_untouched_fields() -> None:
    out = run(site_specialize, case("patches").input_text())
    upf = ResourceList.parse(out.stdout).items[0]
    assert upf.get("spec.replicas") == 2
    assert upf.line_comment("spec.replicas") == "one per site"
    assert upf.line_comment("spec.template.spec.containers[0].image") == "pinned"
    assert upf.get("spec.template.spec.containers[0].args") == ["--n3", "--n6"]
    assert upf.get("spec.template.spec.nodeSelector") == {"disk": "ssd", "site": "edge-07"}
    assert "# the first container is the user plane" in upf.to_yaml()
    assert messages(out.stdout, "warning") == ["patches[3] selects no resource (kind=StatefulSet)"]


@pytest.mark.parametrize("nan", [".NaN", ".nan", ".NAN"])
def test_a_patch_leaves_a_nan_it_does_not_touch_as_written(nan: str) -> None:
    """A NaN is not equal to itself in Python: compared with `==`, every NaN of a patched
    resource looked changed and was written again as `.nan`."""
    from krmfn.testing import resource_list

    resources = (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nspec:\n"
                 f"  ratio: {nan} # not a number\n  other: [1, {nan}]\n")
    config = ("apiVersion: fn.kpt.dev/v1alpha1\nkind: SiteSpecialize\nmetadata:\n  name: s\n"
              "site:\n  clusterName: edge-1\npatches:\n- target: {kind: ConfigMap}\n"
              "  patch:\n  - {op: add, path: /spec/added, value: 1}\n")
    out = run(site_specialize, resource_list(resources, config))
    assert out.exit_code == 0, out.stderr
    text = ResourceList.parse(out.stdout).items[0].to_yaml()
    assert f"  ratio: {nan} # not a number\n  other: [1, {nan}]\n" in text
    assert "added: 1" in text


def test_interface_with_a_cni_the_site_lacks_is_an_error_on_the_field() -> None:
    out = run(site_specialize, case("cni-mismatch").input_text())
    assert out.exit_code == 1
    results = KubeObject.from_yaml(out.stdout).get("results")
    errors = [r for r in results if r["severity"] == "error"]
    assert [(r["resourceRef"]["name"], r["field"]["path"]) for r in errors] == [
        ("n3", "spec.cniType")]


def test_bad_config_reports_every_problem_with_its_field() -> None:
    out = run(site_specialize, case("bad-config").input_text())
    assert out.exit_code == 1
    fields = [r["field"]["path"] for r in KubeObject.from_yaml(out.stdout).get("results")]
    assert "functionConfig.values.clusterName" in fields
    assert "functionConfig.patches[0].patch[0].op" in fields
    assert "functionConfig.patches[0].target" in fields
    assert items_text(out.stdout) == items_text(case("bad-config").input_text())


# ------------------------------------------------------------------ SDK helper it relies on
def test_line_comments_lists_scalar_and_key_line_comments() -> None:
    obj = KubeObject.from_yaml(
        "apiVersion: v1\nkind: K\nmetadata:\n  name: a # kpt-set: ${name}\n"
        "envs: # kpt-set: ${envs}\n- dev # first\n- stage\nflow: [a] # f\n"
        "text: | # t\n  x\nplain: 1\n")
    assert obj.line_comments() == [
        (("metadata", "name"), "kpt-set: ${name}"),
        (("envs",), "kpt-set: ${envs}"),
        (("envs", 0), "first"),
        (("flow",), "f"),
        (("text",), "t"),
    ]
    assert obj.line_comment("envs") == "kpt-set: ${envs}"
    assert obj.line_comment("plain") is None


# ------------------------------------------------------------------ under kpt
def _setters_cases() -> list[Path]:
    if not APPLY_SETTERS.is_dir():
        return []
    return sorted(p.parent for p in APPLY_SETTERS.rglob("Kptfile"))


@needs_kpt
@needs_shared
@pytest.mark.kpt
@pytest.mark.parametrize("src", _setters_cases(), ids=lambda p: p.name)
def test_apply_setters_conformance(src: Path, tmp_path: Path) -> None:
    """The catalog's apply-setters cases, with site-specialize in its place; each runs twice
    (the second render must change nothing) as the catalog's own harness does."""
    pkg = scratch_package(src, tmp_path / src.name)
    use_exec(pkg, {"apply-setters": "site-specialize"})
    proc = kpt("fn", "render", str(pkg), "--allow-exec", "--results-dir", str(tmp_path / "r"))
    config = (src / ".expected/config.yaml")
    want_code = 0
    if config.exists():
        found = re.search(r"^exitCode:\s*(\d+)", config.read_text(), re.M)
        want_code = int(found.group(1)) if found else 0
    assert proc.returncode == want_code, proc.stderr
    first = diff(pkg)
    expected_diff = src / ".expected/diff.patch"
    if expected_diff.exists():
        assert hunks(first) == hunks(expected_diff.read_text())
    expected_results = src / ".expected/results.yaml"
    if expected_results.exists():
        want = KubeObject.from_yaml(expected_results.read_text())
        got = KubeObject.from_yaml((tmp_path / "r/results.yaml").read_text())
        assert [r["message"] for r in got.get("items[0].results")] == [
            r["message"] for r in want.get("items[0].results")]
    git(pkg, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "one")
    kpt("fn", "render", str(pkg), "--allow-exec")
    assert diff(pkg) == ""


UPF_SITE = """\
apiVersion: fn.kpt.dev/v1alpha1
kind: SiteSpecialize
metadata:
  name: edge-berlin-01
  annotations:
    config.kubernetes.io/local-config: "true"
site:
  clusterName: edge-berlin-01
  siteCode: ber1
  region: eu-central
  cnis: [macvlan, ipvlan, sriov]
  masterInterface: eth1
"""


def _commit(pkg: Path, message: str) -> None:
    git(pkg, "add", "-A")
    git(pkg, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", message)


def _upf_package(tmp_path: Path, site: str) -> Path:
    """The blueprint, formatted by an empty kpt render first (its files lack final newlines
    and have trailing blanks, which any render normalizes), then given our pipeline."""
    pkg = scratch_package(UPF, tmp_path / "upf")
    kptfile = pkg / "Kptfile"
    head = kptfile.read_text().split("pipeline:")[0]
    kptfile.write_text(head)
    kpt("fn", "render", str(pkg), check=True)
    _commit(pkg, "formatted")
    kptfile.write_text(kptfile.read_text() + "pipeline:\n  mutators:\n"
                       f"    - exec: {script('site-specialize')}\n      configPath: site.yaml\n")
    (pkg / "site.yaml").write_text(site)
    _commit(pkg, "site")
    return pkg


@needs_kpt
@needs_shared
@pytest.mark.kpt
def test_nephio_upf_blueprint_is_specialized_for_a_site(tmp_path: Path) -> None:
    pkg = _upf_package(tmp_path, UPF_SITE)
    kpt("fn", "render", str(pkg), "--allow-exec", check=True)
    git(pkg, "add", "-A")
    changed = git(pkg, "diff", "--cached", "--name-only").split()
    assert changed == ["Kptfile", "namespace.yaml", "upfdeployment.yaml", "workload-cluster.yaml"]
    wc = KubeObject.from_yaml((pkg / "workload-cluster.yaml").read_text())
    assert wc.get("spec") == {"clusterName": "edge-berlin-01",
                              "cnis": ["macvlan", "ipvlan", "sriov"], "masterInterface": "eth1"}
    assert wc.annotations["kpt.dev/injected-resource"] == "edge-berlin-01"
    assert wc.annotations["kpt.dev/config-injection"] == "required"
    kptfile = KubeObject.from_yaml((pkg / "Kptfile").read_text())
    assert kptfile.get("status.conditions") == [
        {"type": "config.injection.WorkloadCluster.workload-cluster", "status": "True",
         "reason": "ConfigInjected",
         "message": 'injected resource "edge-berlin-01" from the site facts'}]
    for name in ("namespace.yaml", "upfdeployment.yaml"):
        labels = KubeObject.from_yaml((pkg / name).read_text()).labels
        assert labels["nephio.org/cluster-name"] == "edge-berlin-01"
        assert labels["nephio.org/site"] == "ber1"
    _commit(pkg, "specialized")
    kpt("fn", "render", str(pkg), "--allow-exec", check=True)
    assert git(pkg, "status", "--porcelain") == ""


@needs_kpt
@needs_shared
@pytest.mark.kpt
def test_nephio_upf_blueprint_on_a_site_without_macvlan_fails(tmp_path: Path) -> None:
    pkg = _upf_package(tmp_path, UPF_SITE.replace("[macvlan, ipvlan, sriov]", "[sriov]"))
    proc = kpt("fn", "render", str(pkg), "--allow-exec")
    assert proc.returncode != 0
    assert "cniType 'macvlan' is not offered by site 'edge-berlin-01'" in proc.stderr
    assert git(pkg, "status", "--porcelain") == ""


@needs_kpt
@pytest.mark.kpt
def test_example_matches_its_expected_diff(tmp_path: Path) -> None:
    pkg = scratch_package(EXAMPLE, tmp_path / "edge-site")
    render(pkg)
    expected = (EXAMPLE / ".expected/diff.patch").read_text()
    assert hunks(diff(pkg)) == hunks(_without_kptfile(expected))
    kptfile = pkg / "Kptfile"  # the Kptfile's own change, with the image put back
    kptfile.write_text(re.sub(r"exec: \S+", f"image: {IMAGE}", kptfile.read_text()))
    git(pkg, "add", "-A")
    assert hunks(git(pkg, "diff", "--cached")) == hunks(expected)


def _without_kptfile(patch: str) -> str:
    parts = re.split(r"(?m)^(?=diff --git )", patch)
    return "".join(p for p in parts if not p.startswith("diff --git a/Kptfile "))


def test_help_prints_the_readme_usage() -> None:
    proc = subprocess.run([script("site-specialize"), "--help"], capture_output=True,
                          text=True, check=True)
    assert proc.stdout.startswith("site-specialize\n")
    assert "## Usage" in proc.stdout and "kind: SiteSpecialize" in proc.stdout
