"""nfdeploy: golden cases for every rule and error, idempotency and item order, the
answers read from our claims or Nephio's statuses (generated), after ipam-inject and
vlan-assign on a real pipeline, and the example package under kpt."""

from __future__ import annotations

import ipaddress
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpt_support import diff, hunks, needs_kpt, render, scratch_package
from krmfn import ResourceList
from krmfn.testing import GoldenCase, golden_cases, resource_list, run, run_golden
from krmfn_catalog.ipam_inject import ipam_inject
from krmfn_catalog.nfdeploy import nfdeploy
from krmfn_catalog.vlan_assign import vlan_assign

HERE = Path(__file__).resolve().parent
FUNCTION = HERE.parent / "functions" / "krmfn_catalog" / "nfdeploy"
CASES = golden_cases(FUNCTION / "testdata")
EXAMPLES = sorted(p for p in (FUNCTION / "examples").iterdir() if (p / "Kptfile").exists())
SCRIPT = Path(sys.executable).parent / "nfdeploy"
OWNER = "specializer.nephio.org/owner"


def items_text(output: str) -> list[str]:
    return [obj.to_yaml() for obj in ResourceList.parse(output).items]


def results_of(output: str) -> list[dict[str, Any]]:
    results = yaml.safe_load(output).get("results") or []
    assert isinstance(results, list)
    return results


def errors_of(output: str) -> list[dict[str, Any]]:
    return [r for r in results_of(output) if r["severity"] == "error"]


def kind_of(output: str, kind: str) -> list[dict[str, Any]]:
    return [o.to_dict() for o in ResourceList.parse(output).items if o.kind == kind]


def spec_of(output: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in kind_of(output, "NFDeployment")
             if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1
    spec = found[0].get("spec") or {}
    assert isinstance(spec, dict)
    return spec


def shuffled(text: str, seed: int) -> str:
    rl = ResourceList.parse(text)
    items = list(rl.items)
    random.Random(seed).shuffle(items)
    return ResourceList(items, rl.function_config).to_text()


# -- golden cases ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: GoldenCase) -> None:
    out = run_golden(nfdeploy, case)
    if out.exit_code == 0:
        again = run(nfdeploy, out.stdout)
        assert again.exit_code == 0, again.stderr
        assert items_text(again.stdout) == items_text(out.stdout), "not idempotent"
        assert "nothing" in results_of(again.stdout)[-1]["message"]
    else:
        # nothing written, one line on stderr, and every error says where
        assert items_text(out.stdout) == items_text(case.input_text())
        assert out.stderr.startswith("nfdeploy: error: ") and out.stderr.count("\n") == 1
        for error in errors_of(out.stdout):
            assert "field" in error or "Kptfile" in error["message"], error


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_item_order_does_not_change_the_spec(case: GoldenCase) -> None:
    text = case.input_text()
    first = run(nfdeploy, text)
    for seed in range(3):
        other = run(nfdeploy, shuffled(text, seed))
        assert other.exit_code == first.exit_code
        if first.exit_code == 0:
            for obj in kind_of(first.stdout, "NFDeployment"):
                name = obj["metadata"]["name"]
                assert spec_of(other.stdout, name) == spec_of(first.stdout, name)
        assert sorted(e["message"] for e in errors_of(other.stdout)) == sorted(
            e["message"] for e in errors_of(first.stdout))


def test_there_is_a_golden_case_for_each_rule_and_error() -> None:
    assert {c.name for c in CASES} >= {
        "our-claims", "nephio-statuses", "claim-wins", "keeps-what-it-does-not-own",
        "no-nfdeployment", "error-claim-without-status", "error-no-answer-at-all",
        "error-bad-answers", "error-no-kptfile", "error-bad-config"}


# -- what the golden cases pin down, said directly -----------------------------------------


def test_the_spec_holds_the_claims_answers() -> None:
    case = next(c for c in CASES if c.name == "our-claims")
    spec = spec_of(run(nfdeploy, case.input_text()).stdout)
    assert spec["provider"] == "upf.free5gc.io"
    assert spec["interfaces"] == [
        {"name": "n3", "ipv4": {"address": "172.3.0.2/24", "gateway": "172.3.0.1"},
         "ipv6": {"address": "fd00:3::2/64", "gateway": "fd00:3::1"}, "vlanID": 101},
        {"name": "n4", "ipv4": {"address": "172.4.0.7/24"}}]
    assert spec["networkInstances"] == [
        {"name": "vpc-internal", "interfaces": ["n4"], "dataNetworks": [
            {"name": "internet", "pool": [{"prefix": "10.0.0.0/16"}, {"prefix": "10.1.0.0/16"}]}]},
        {"name": "vpc-ran", "interfaces": ["n3"]}]
    assert spec["capacity"] == {"maxUplinkThroughput": "5G", "maxDownlinkThroughput": "1000",
                                "maxSessions": 10}


def test_missing_answers_name_the_claim_that_should_give_them() -> None:
    case = next(c for c in CASES if c.name == "error-claim-without-status")
    out = run(nfdeploy, case.input_text())
    named = {(e["resourceRef"]["kind"], e["resourceRef"]["name"], e["field"]["path"])
             for e in errors_of(out.stdout)}
    assert named == {("IPClaim", "upf-n3-ipv6", "status.prefix"),
                     ("VLANClaim", "upf-n3", "status.vlanID"),
                     ("IPClaim", "upf-internet-pool1", "status.prefix")}
    case = next(c for c in CASES if c.name == "error-no-answer-at-all")
    messages = " ".join(e["message"] for e in errors_of(run(nfdeploy, case.input_text()).stdout))
    for expected in ("upf-n3-ipv4", "upf-n3)", "upf-internet-pool1", "free5gc-upf"):
        assert expected in messages


def test_help_prints_the_usage_from_the_readme() -> None:
    out = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True)
    assert "## Usage" in out.stdout and "NfDeploy" in out.stdout


# -- generated packages: the same answers, wherever they were written -------------------

FAMILIES = {"ipv4only": ("ipv4",), "ipv6only": ("ipv6",), "dualstack": ("ipv4", "ipv6")}


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    """An NFDeployment's Interfaces and DataNetworks with their answers, and where each
    answer is written: on our claims, or on Nephio's statuses."""
    names = draw(st.lists(st.from_regex(r"n[0-9]{1,2}", fullmatch=True), min_size=1,
                          max_size=4, unique=True))
    interfaces = []
    for i, name in enumerate(names):
        policy = draw(st.sampled_from(sorted(FAMILIES)))
        answers = {}
        for family in FAMILIES[policy]:
            if family == "ipv4":
                address = f"10.{i}.{draw(st.integers(0, 255))}.{draw(st.integers(2, 254))}/24"
                gateway = f"10.{i}.0.1"
            else:
                address = f"fd00:{i}::{draw(st.integers(2, 9999)):x}/64"
                gateway = f"fd00:{i}::1"
            answers[family] = (address, draw(st.sampled_from([gateway, None])))
        interfaces.append({
            "name": name, "policy": policy, "answers": answers,
            "instance": draw(st.sampled_from(["vpc-ran", "vpc-internal", "vpc-internet"])),
            "vlan": draw(st.one_of(st.none(), st.integers(2, 4094))),
            "ours": draw(st.booleans())})
    pools = draw(st.lists(st.integers(0, 255), max_size=3, unique=True))
    return {"interfaces": interfaces, "pools": pools, "ours_pools": draw(st.booleans())}


def package(d: dict[str, Any]) -> str:
    nfd = "workload.nephio.org/v1alpha1.NFDeployment.upf"
    docs: list[dict[str, Any]] = [
        {"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "metadata": {"name": "upf"}},
        {"apiVersion": "workload.nephio.org/v1alpha1", "kind": "NFDeployment",
         "metadata": {"name": "upf"}, "spec": {"provider": "upf.free5gc.io"}}]
    for itf in d["interfaces"]:
        spec = {"networkInstance": {"name": itf["instance"]}, "cniType": "macvlan",
                "attachmentType": "vlan" if itf["vlan"] is not None else "none",
                "ipFamilyPolicy": itf["policy"]}
        obj: dict[str, Any] = {"apiVersion": "req.nephio.org/v1alpha1", "kind": "Interface",
                               "metadata": {"name": itf["name"], "annotations": {OWNER: nfd}},
                               "spec": spec}
        docs.append(obj)
        owner = {OWNER: f"req.nephio.org/v1alpha1.Interface.{itf['name']}"}
        statuses = [{"prefix": a, **({"gateway": g} if g else {})}
                    for a, g in itf["answers"].values()]
        if itf["ours"]:
            for family, status in zip(itf["answers"], statuses, strict=True):
                docs.append({"apiVersion": "ipam.resource.nephio.org/v1alpha1",
                             "kind": "IPClaim",
                             "metadata": {"name": f"upf-{itf['name']}-{family}",
                                          "annotations": owner},
                             "spec": {"kind": "network",
                                      "networkInstance": {"name": itf["instance"]}},
                             "status": status})
            if itf["vlan"] is not None:
                docs.append({"apiVersion": "vlan.resource.nephio.org/v1alpha1",
                             "kind": "VLANClaim",
                             "metadata": {"name": f"upf-{itf['name']}", "annotations": owner},
                             "spec": {"vlanIndex": {"name": "edge"}},
                             "status": {"vlanID": itf["vlan"]}})
        else:
            obj["status"] = {"ipClaimStatus": statuses}
            if itf["vlan"] is not None:
                obj["status"]["vlanClaimStatus"] = {"vlanID": itf["vlan"]}
    if d["pools"]:
        dnn: dict[str, Any] = {
            "apiVersion": "req.nephio.org/v1alpha1", "kind": "DataNetwork",
            "metadata": {"name": "internet", "annotations": {OWNER: nfd}},
            "spec": {"networkInstance": {"name": "vpc-internet"},
                     "pools": [{"name": f"pool{p}", "prefixLength": 24} for p in d["pools"]]}}
        docs.append(dnn)
        for p in d["pools"]:
            if d["ours_pools"]:
                docs.append({"apiVersion": "ipam.resource.nephio.org/v1alpha1",
                             "kind": "IPClaim",
                             "metadata": {"name": f"upf-internet-pool{p}", "annotations": {
                                 OWNER: "req.nephio.org/v1alpha1.DataNetwork.internet"}},
                             "spec": {"kind": "pool"}, "status": {"prefix": f"10.200.{p}.0/24"}})
        if not d["ours_pools"]:
            dnn["status"] = {"pools": [{"name": f"pool{p}",
                                        "ipClaim": {"prefix": f"10.200.{p}.0/24"}}
                                       for p in reversed(d["pools"])]}
    return resource_list(yaml.safe_dump_all(docs, sort_keys=False))


def expected_spec(d: dict[str, Any]) -> dict[str, Any]:
    interfaces = []
    instances: dict[str, dict[str, Any]] = {}
    for itf in sorted(d["interfaces"], key=lambda i: i["name"]):
        entry: dict[str, Any] = {"name": itf["name"]}
        for family, (address, gateway) in sorted(itf["answers"].items()):
            entry[family] = {"address": address, **({"gateway": gateway} if gateway else {})}
        if itf["vlan"] is not None:
            entry["vlanID"] = itf["vlan"]
        interfaces.append(entry)
        instances.setdefault(itf["instance"], {"name": itf["instance"], "interfaces": []})[
            "interfaces"].append(itf["name"])
    if d["pools"]:
        instances.setdefault("vpc-internet", {"name": "vpc-internet"})["dataNetworks"] = [
            {"name": "internet", "pool": [{"prefix": f"10.200.{p}.0/24"} for p in d["pools"]]}]
    return {"provider": "upf.free5gc.io", "interfaces": interfaces,
            "networkInstances": [instances[k] for k in sorted(instances)]}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deployments())
def test_generated_packages_get_their_answers_wherever_they_were_written(
        d: dict[str, Any]) -> None:
    text = package(d)
    out = run(nfdeploy, text)
    assert out.exit_code == 0, out.stderr
    assert spec_of(out.stdout) == expected_spec(d)
    for interface in spec_of(out.stdout)["interfaces"]:
        for family in ("ipv4", "ipv6"):
            if family in interface:
                ipaddress.ip_interface(interface[family]["address"])
    again = run(nfdeploy, out.stdout)
    assert items_text(again.stdout) == items_text(out.stdout)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deployments(), st.data())
def test_any_missing_answer_is_an_error_naming_its_claim(d: dict[str, Any],
                                                         data: st.DataObject) -> None:
    """Remove one answer from a package that fills: the run fails, names the claim (or the
    name the claim should have), and writes nothing."""
    docs = [o.to_dict() for o in ResourceList.parse(package(d)).items]
    answered = [i for i, o in enumerate(docs) if "status" in o and o["kind"] in (
        "IPClaim", "VLANClaim", "Interface", "DataNetwork")]
    victim = docs[data.draw(st.sampled_from(answered))]
    del victim["status"]
    text = resource_list(yaml.safe_dump_all(docs, sort_keys=False))
    out = run(nfdeploy, text)
    assert out.exit_code == 1, "a missing answer went unnoticed"
    assert items_text(out.stdout) == items_text(text)
    messages = " ".join(f"{e['resourceRef']['name']} {e['message']}"
                        for e in errors_of(out.stdout))
    name = victim["metadata"]["name"]
    claim = name if victim["kind"] in ("IPClaim", "VLANClaim") else f"upf-{name}"
    assert claim in messages, messages


# -- with the functions that answer the claims -------------------------------------------


def test_after_ipam_inject_and_vlan_assign_the_spec_holds_what_they_allocated() -> None:
    example = EXAMPLES[0]
    texts = [p.read_text() for p in sorted(example.glob("*.yaml"))]
    text = resource_list("---\n".join([(example / "Kptfile").read_text(), *texts]))
    for fn in (ipam_inject, vlan_assign):
        out = run(fn, text)
        assert out.exit_code == 0, out.stderr
        text = out.stdout
    out = run(nfdeploy, text)
    assert out.exit_code == 0, out.stderr
    claims = {o["metadata"]["name"]: o["status"] for kind in ("IPClaim", "VLANClaim")
              for o in kind_of(text, kind)}
    spec = spec_of(out.stdout)
    n3 = next(i for i in spec["interfaces"] if i["name"] == "n3")
    assert n3["ipv4"] == {"address": claims["upf-edge-01-n3-ipv4"]["prefix"],
                          "gateway": claims["upf-edge-01-n3-ipv4"]["gateway"]}
    assert n3["ipv6"]["address"] == claims["upf-edge-01-n3-ipv6"]["prefix"]
    assert n3["vlanID"] == claims["upf-edge-01-n3"]["vlanID"]
    assert [i["name"] for i in spec["interfaces"]] == ["n3", "n6"]  # sbi: the pod network
    pools = spec["networkInstances"][0]["dataNetworks"][0]["pool"]
    assert pools == [{"prefix": claims["upf-edge-01-internet-pool1"]["prefix"]}]
    kptfile = kind_of(out.stdout, "Kptfile")[0]
    conditions = {c["type"]: c for c in kptfile["status"]["conditions"]}
    assert conditions["nephio.org.Specializer.specialize"]["status"] == "True"
    assert conditions["workload.nephio.org/v1alpha1.NFDeployment.upf-edge-01"] == {
        "message": "update done", "status": "True",
        "type": "workload.nephio.org/v1alpha1.NFDeployment.upf-edge-01"}


# -- the example ---------------------------------------------------------------------------


def test_examples_have_expectations() -> None:
    assert [p.name for p in EXAMPLES] == ["upf-deployment"]
    for example in EXAMPLES:
        assert (example / ".expected" / "diff.patch").read_text().startswith("diff --git")


@needs_kpt
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_renders_as_expected(example: Path, tmp_path: Path) -> None:
    pkg = scratch_package(example, tmp_path / example.name)
    render(pkg)
    patch = diff(pkg)
    assert hunks(patch) == hunks((example / ".expected" / "diff.patch").read_text())
    kptfile = yaml.safe_load((pkg / "Kptfile").read_text())
    assert {"conditionType": "nephio.org.Specializer.specialize"} in kptfile["info"][
        "readinessGates"]
    assert kptfile["status"]["conditions"][0] == {
        "reason": "Ready", "status": "True", "type": "nephio.org.Specializer.specialize"}
    kptfile_text = (pkg / "Kptfile").read_text()
    render(pkg)  # a second render changes nothing
    assert diff(pkg) == patch
    assert (pkg / "Kptfile").read_text() == kptfile_text
