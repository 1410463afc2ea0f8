"""policy-validate: golden cases for every network check and policy outcome, the config
switches, the no-mutation property, and kpt running it as a validator."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpt_support import BIN, diff, git, kpt, needs_kpt, render, scratch_package, use_exec
from krmfn import KubeObject
from krmfn.testing import golden_cases, resource_list, run, run_golden
from krmfn_catalog import entry
from krmfn_catalog.policy_validate import policy_validate
from krmfn_catalog.policy_validate.function import level_of
from krmfn_catalog.policy_validate.network_checks import CHECKS

HERE = entry("policy-validate").directory
TESTDATA = HERE / "testdata"
EXAMPLES = HERE / "examples"

# case -> (exit code, the results as (severity, tag) in order, without the summary line);
# a tag is the check name, or policy/rule.
EXPECTED: dict[str, tuple[int, list[tuple[str, str]]]] = {
    "duplicate-address": (1, [("error", "duplicate-address")]),
    "duplicate-address-ok": (0, []),
    "address-outside-network": (1, [("error", "address-outside-network")] * 4),
    "address-outside-network-ok": (0, []),
    "duplicate-vlan": (1, [("error", "duplicate-vlan")] * 2),
    "duplicate-vlan-ok": (0, []),
    "invalid-nad-config": (1, [("error", "invalid-nad-config")] * 3),
    "invalid-nad-config-ok": (0, []),
    "nad-address-mismatch": (1, [("error", "nad-address-mismatch")] * 3),
    "nad-address-mismatch-ok": (0, []),
    "nad-vlan-mismatch": (1, [("error", "nad-vlan-mismatch")] * 3),
    "nad-vlan-mismatch-ok": (0, []),
    "missing-nad": (1, [("error", "missing-nad")]),
    "missing-nad-ok": (0, []),
    "missing-injection": (1, [("error", "missing-injection")]),
    "missing-injection-ok": (0, []),
    "nephio-package-clean": (0, []),
    "checks-off": (0, []),
    "checks-warning": (0, [("warning", "nad-vlan-mismatch")] * 3),
    "checks-configmap": (0, [("warning", "duplicate-vlan")] * 2),
    "config-unknown-check": (1, [("error", "")] * 2),
    "policy-enforce-fails": (1, [("error", "require-team-label/check-team")]),
    "policy-audit-warns": (0, [("warning", "require-team-label/check-team")]),
    "policy-default-is-audit": (0, [("warning", "require-team-label/check-team")]),
    "policy-passes": (0, []),
    "policy-from-config": (1, [("error", "disallow-latest-tag/autogen-require-image-tag")]),
    "policy-any-pattern": (0, [("warning", "require-probes/liveness-or-readiness")]),
    "policy-unsupported-warns": (0, [("warning", "images-from-registry/allowed-registry")]),
    "policy-namespace-selector": (1, [
        ("error", "production-replicas/two-replicas-in-production"),
        ("warning", "production-replicas/two-replicas-in-production"),
    ]),
    "policy-invalid": (1, [("error", "")]),
}


def results_of(stdout: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(stdout)
    return list(data.get("results") or [])


def tag_of(result: dict[str, Any]) -> str:
    tags = result.get("tags") or {}
    if "check" in tags:
        return str(tags["check"])
    if "policy" in tags:
        return f"{tags['policy']}/{tags['rule']}"
    return ""


def test_every_case_has_expectations() -> None:
    assert sorted(c.name for c in golden_cases(TESTDATA)) == sorted(EXPECTED)


def test_every_check_has_a_failing_and_a_passing_case() -> None:
    names = {c.name for c in golden_cases(TESTDATA)}
    for check in CHECKS:
        assert check in names and f"{check}-ok" in names


@pytest.mark.parametrize("case", golden_cases(TESTDATA), ids=lambda c: c.name)
def test_golden(case: Any) -> None:
    out = run_golden(policy_validate, case)
    code, expected = EXPECTED[case.name]
    assert out.exit_code == code
    results = results_of(out.stdout)
    config_failed = case.name in ("config-unknown-check",)
    findings = results if config_failed else results[:-1]
    assert [(r["severity"], tag_of(r)) for r in findings] == expected
    if not config_failed:
        summary = results[-1]
        assert summary["severity"] == "info" and " checked, " in summary["message"]
        for r in findings:  # every finding says where: resource, field and file
            assert r["resourceRef"]["name"] and r["field"]["path"] and r["file"]["path"]
    assert out.exit_code == int(any(r["severity"] == "error" for r in results))


def test_failure_message_says_what_and_where() -> None:
    case = next(c for c in golden_cases(TESTDATA) if c.name == "policy-from-config")
    (failure, _) = results_of(run(policy_validate, case.input_text()).stdout)
    assert failure["field"]["path"] == "spec.template.spec.containers[0].image"
    assert failure["message"].startswith("An image tag other than latest is required")
    assert '"registry.example.com/upf:latest" does not match "!*:latest"' in failure["message"]
    assert failure["tags"] == {"policy": "disallow-latest-tag",
                               "rule": "autogen-require-image-tag"}


def test_unsupported_rules_warn_once_per_rule_not_per_resource() -> None:
    case = next(c for c in golden_cases(TESTDATA) if c.name == "policy-unsupported-warns")
    results = results_of(run(policy_validate, case.input_text()).stdout)
    warnings = [r for r in results if r["severity"] == "warning"]
    assert len(warnings) == 1
    assert "images-from-registry" in warnings[0]["message"]
    assert "allowed-registry" in warnings[0]["message"]
    assert "3 resources" in warnings[0]["message"]
    assert warnings[0]["field"]["path"] == "spec.rules[0]"


@pytest.mark.parametrize(("value", "level"), [
    (False, "off"), (True, "error"), ("off", "off"), ("Warning", "warning"),
    ("error", "error"), ("fatal", None), (0, None), (None, None),
])
def test_level_of(value: object, level: str | None) -> None:
    assert level_of(value) == level


POLICY = """\
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: no-annotations
spec:
  validationFailureAction: Enforce
  rules:
  - name: none
    match:
      any:
      - resources: {kinds: [ConfigMap]}
    validate:
      message: no annotations
      pattern:
        metadata:
          X(annotations): null
"""


def test_kpt_bookkeeping_annotations_are_not_seen_by_policies() -> None:
    resources = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
  annotations:
    config.kubernetes.io/index: '0'
    config.kubernetes.io/path: 'plain.yaml'
    internal.config.kubernetes.io/path: 'plain.yaml'
    config.k8s.io/id: '1'
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: annotated
  annotations:
    owner: team-a
    config.kubernetes.io/path: 'annotated.yaml'
"""
    config = yaml.safe_dump({"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "PolicyValidate",
                             "metadata": {"name": "v"}, "policies": [yaml.safe_load(POLICY)]})
    out = run(policy_validate, resource_list(resources, config))
    failures = [r for r in results_of(out.stdout) if r["severity"] == "error"]
    assert [f["resourceRef"]["name"] for f in failures] == ["annotated"]


def test_resources_no_rule_can_select_are_not_read_as_data(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Matching decides from apiVersion and kind first: a ConfigMap policy never builds the
    Deployment and the Service into plain data (what most of a large package is)."""
    resources = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain, annotations: {owner: team-a}}
"""
    config = yaml.safe_dump({"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "PolicyValidate",
                             "metadata": {"name": "v"}, "policies": [yaml.safe_load(POLICY)]})
    read: list[str] = []
    to_dict = KubeObject.to_dict

    def spy(obj: KubeObject) -> dict[str, Any]:
        read.append(obj.kind)
        return to_dict(obj)

    text = resource_list(resources, config)
    monkeypatch.setattr(KubeObject, "to_dict", spy)
    out = run(policy_validate, text)
    assert [tag_of(r) for r in results_of(out.stdout)][:1] == ["no-annotations/none"]
    assert [kind for kind in read if kind != "PolicyValidate"] == ["ConfigMap"]  # the config


def test_malformed_inline_policy_is_a_config_error() -> None:
    bad = yaml.safe_load(POLICY)
    bad["spec"]["validationFailureAction"] = "Block"
    config = yaml.safe_dump({"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "PolicyValidate",
                             "metadata": {"name": "v"}, "policies": [bad]})
    out = run(policy_validate, resource_list(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", config))
    assert out.exit_code == 1
    (result,) = results_of(out.stdout)
    assert result["field"]["path"] == "functionConfig.policies[0]"
    assert "Block" in result["message"]


def test_policies_in_a_configmap_as_yaml_text() -> None:
    config = yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "v"},
                             "data": {"policies": yaml.safe_dump([yaml.safe_load(POLICY)])}})
    resources = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {a: b}\n"
    out = run(policy_validate, resource_list(resources, config))
    assert out.exit_code == 1
    assert [tag_of(r) for r in results_of(out.stdout)][:1] == ["no-annotations/none"]


def test_usage_documents_every_check() -> None:
    usage = policy_validate.usage()
    assert "## Usage" in usage
    for check in CHECKS:
        assert f"| `{check}` |" in usage


def test_runs_are_deterministic() -> None:
    for case in golden_cases(TESTDATA):
        text = case.input_text()
        assert run(policy_validate, text) == run(policy_validate, text)


# ---------------------------------------------------------------- never changes an item

_names = st.sampled_from(["n3", "n4", "n6", "upf", "smf", "edge-01"])
_addresses = st.sampled_from(["172.2.0.2/24", "172.2.0.3/24", "10.0.0.9/8", "2001:db8::2/64",
                              "not-an-ip", ""])
_masters = st.sampled_from(["eth1", "eth1.100", "eth1.200", "eth1.x"])
_policy_docs = [yaml.safe_load(POLICY), yaml.safe_load(
    (TESTDATA / "policy-unsupported-warns" / "input.yaml").read_text().split("---")[0])]


def _nad_config(master: str, address: str, broken: bool) -> str:
    if broken:
        return '{"plugins": [' + master
    plugin = {"type": "macvlan", "master": master,
              "ipam": {"type": "static", "addresses": [{"address": address}]}}
    return json.dumps({"cniVersion": "0.3.1", "plugins": [plugin]})


@st.composite
def _resource(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(_names)
    owner = {"specializer.nephio.org/owner": f"req.nephio.org/v1alpha1.Interface.{name}"}
    kind = draw(st.sampled_from(["IPClaim", "VLANClaim", "NAD", "Interface", "Network",
                                 "Deployment", "Policy", "WorkloadCluster", "Namespace"]))
    if kind == "IPClaim":
        return {"apiVersion": "ipam.resource.nephio.org/v1alpha1", "kind": "IPClaim",
                "metadata": {"name": f"{name}-ipv4", "annotations": owner},
                "spec": {"kind": "network", "networkInstance": {"name": "vpc-ran"}},
                "status": {"prefix": draw(_addresses), "gateway": "172.2.0.1"}}
    if kind == "VLANClaim":
        return {"apiVersion": "vlan.resource.nephio.org/v1alpha1", "kind": "VLANClaim",
                "metadata": {"name": name, "annotations": owner},
                "spec": {"vlanIndex": {"name": "edge-01"}},
                "status": {"vlanID": draw(st.sampled_from([100, 200, 5000, "x"]))}}
    if kind == "NAD":
        config = _nad_config(draw(_masters), draw(_addresses), draw(st.booleans()))
        return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                "metadata": {"name": f"upf-{name}", "namespace": "upf"},
                "spec": {"config": config}}
    if kind == "Interface":
        return {"apiVersion": "req.nephio.org/v1alpha1", "kind": "Interface",
                "metadata": {"name": name},
                "spec": {"networkInstance": {"name": draw(st.sampled_from(["vpc-ran",
                                                                         "default"]))},
                         "cniType": "macvlan"}}
    if kind == "Network":
        return {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "Network",
                "metadata": {"name": "vpc-ran"},
                "spec": {"routingTables": [{"name": "vpc-ran", "prefixes": [
                    {"prefix": draw(st.sampled_from(["172.2.0.0/16", "10.0.0.0/8", "bad"]))}]}]}}
    if kind == "Policy":
        return dict(draw(st.sampled_from(_policy_docs)))
    if kind == "WorkloadCluster":
        return {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
                "metadata": {"name": name, "annotations": {
                    "kpt.dev/config-injection": draw(st.sampled_from(["required", "optional"]))}},
                "spec": {"clusterName": name}}
    if kind == "Namespace":
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": {"stage": "production"}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": draw(_names),
                         "labels": draw(st.dictionaries(st.sampled_from(["team", "app"]),
                                                        st.sampled_from(["a", "yes", "1"])))},
            "spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": draw(st.sampled_from(["x:latest", "x:1", "x"]))}]}}}}


def _as_item(data: dict[str, Any], flow: bool, comment: bool, index: int) -> str:
    """An item in block style (kpt's wire format; with a comment) or in flow style."""
    text = yaml.safe_dump(data, default_flow_style=flow, sort_keys=False, width=1000)
    if comment and not flow:
        text = text.replace("\n", f"  # item {index}\n", 1)
    lines = text.rstrip("\n").split("\n")
    return "- " + "\n  ".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_resource(), st.booleans(), st.booleans()), max_size=12))
def test_output_items_are_the_input_items_byte_for_byte(
        items: list[tuple[dict[str, Any], bool, bool]]) -> None:
    body = "".join(_as_item(data, flow, comment, i) for i, (data, flow, comment)
                   in enumerate(items))
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
            + ("items:\n" + body if body else "items: []\n"))
    out = run(policy_validate, text)
    assert out.stdout.startswith(text)
    rest = out.stdout[len(text):]
    assert rest.startswith("results:\n")
    results = yaml.safe_load(rest)["results"]
    assert out.exit_code == int(any(r["severity"] == "error" for r in results))


# ---------------------------------------------------------------- kpt, as a validator

VALIDATOR_KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: site
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  validators:
    - image: ghcr.io/krmfn/policy-validate:v0.1.0{config}
"""


def _site_package(root: Path, config: str = "") -> Path:
    src = root / "src"
    src.mkdir()
    case = TESTDATA / "nephio-package-clean" / "input.yaml"
    for doc in case.read_text().split("---\n"):  # each resource into the file it names
        name = re.search(r"^    config.kubernetes.io/path: (\S+)\n", doc, re.M)
        assert name is not None
        (src / name[1]).write_text(doc.replace(name[0], ""))
    kptfile_config = ""
    if config:
        (src / "validate.yaml").write_text(config)
        kptfile_config = "\n      configPath: validate.yaml"
    (src / "Kptfile").write_text(VALIDATOR_KPTFILE.format(config=kptfile_config))
    return scratch_package(src, root / "pkg")


def _render_results(pkg: Path, results_dir: Path) -> tuple[subprocess.CompletedProcess[str],
                                                           dict[str, Any]]:
    use_exec(pkg)
    proc = kpt("fn", "render", str(pkg), "--allow-exec", "--results-dir", str(results_dir))
    results = yaml.safe_load((results_dir / "results.yaml").read_text())
    return proc, results


def _unchanged(pkg: Path) -> bool:
    return diff(pkg) == ""


@needs_kpt
@pytest.mark.kpt
def test_kpt_validator_passes_a_clean_site_package(tmp_path: Path) -> None:
    pkg = _site_package(tmp_path)
    proc = render(pkg)
    assert proc.returncode == 0
    assert _unchanged(pkg)


@needs_kpt
@pytest.mark.kpt
def test_kpt_validator_fails_a_broken_package_and_changes_nothing(tmp_path: Path) -> None:
    pkg = _site_package(tmp_path)
    nad = pkg / "nad_upf-edge-01-n3.yaml"
    nad.write_text(nad.read_text().replace("eth1.100", "eth1.300"))
    git(pkg, "commit", "-qam", "break the NAD")
    proc, results = _render_results(pkg, tmp_path / "results")
    assert proc.returncode != 0
    (fn_results,) = results["items"]
    assert fn_results["exitCode"] == 1
    errors = [r for r in fn_results["results"] if r["severity"] == "error"]
    assert [(e["tags"]["check"], e["file"]["path"]) for e in errors] == [
        ("nad-vlan-mismatch", nad.name)]
    assert _unchanged(pkg)


@needs_kpt
@pytest.mark.kpt
def test_kpt_validator_config_downgrades_a_check(tmp_path: Path) -> None:
    pkg = _site_package(tmp_path, config=(
        "apiVersion: fn.kpt.dev/v1alpha1\nkind: PolicyValidate\nmetadata:\n  name: validate\n"
        "  annotations:\n    config.kubernetes.io/local-config: \"true\"\n"
        "checks:\n  missing-injection: warning\n"))
    cluster = pkg / "workload-cluster.yaml"
    cluster.write_text(cluster.read_text().replace("    kpt.dev/injected-resource: edge-01\n", ""))
    git(pkg, "commit", "-qam", "not injected")
    proc, results = _render_results(pkg, tmp_path / "results")
    assert proc.returncode == 0, proc.stderr
    (fn_results,) = results["items"]
    assert [(r["severity"], r.get("tags")) for r in fn_results["results"][:-1]] == [
        ("warning", {"check": "missing-injection"})]


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()))
def test_examples_have_expectations(example: str) -> None:
    expected = EXAMPLES / example / ".expected"
    assert (expected / "results.yaml").is_file() and (expected / "config.yaml").is_file()


@needs_kpt
@pytest.mark.kpt
@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()))
def test_example_renders_as_expected(example: str, tmp_path: Path) -> None:
    src = EXAMPLES / example
    pkg = scratch_package(src, tmp_path / example)
    proc, results = _render_results(pkg, tmp_path / "results")
    expected_config = yaml.safe_load((src / ".expected" / "config.yaml").read_text())
    want = yaml.safe_load((src / ".expected" / "results.yaml").read_text())
    assert (proc.returncode != 0) == (expected_config.get("exitCode", 0) != 0), proc.stderr
    image = entry("policy-validate").image
    for item in results["items"]:  # the harness ran our executable in place of the image
        assert item.pop("exec") == str(BIN / "policy-validate")
    results["items"] = [{"image": image, **item} for item in results["items"]]
    assert results == want
    assert _unchanged(pkg)

