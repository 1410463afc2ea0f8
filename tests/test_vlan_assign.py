"""vlan-assign: golden cases for every rule and error, idempotency and determinism,
allocation properties, the NAD JSON shared with ipam-inject, the ledger under concurrent
renders of many sites, and the example package under kpt."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from kpt_support import diff, hunks, needs_kpt, render, scratch_package
from krmfn import KubeObject, ResourceList
from krmfn.testing import GoldenCase, golden_cases, resource_list, run, run_golden
from krmfn_catalog import nephio_nad
from krmfn_catalog.vlan_assign import vlan_assign

HERE = Path(__file__).resolve().parent
FUNCTION = HERE.parent / "functions" / "krmfn_catalog" / "vlan_assign"
CASES = golden_cases(FUNCTION / "testdata")
EXAMPLES = sorted(p for p in (FUNCTION / "examples").iterdir() if (p / "Kptfile").exists())
SCRIPT = Path(sys.executable).parent / "vlan-assign"


def items_text(output: str) -> list[str]:
    """The items of a ResourceList, as YAML, results left out."""
    return [obj.to_yaml() for obj in ResourceList.parse(output).items]


def items_of(output: str) -> list[dict[str, Any]]:
    return [obj.to_dict() for obj in ResourceList.parse(output).items]


def results_of(output: str) -> list[dict[str, Any]]:
    results = yaml.safe_load(output).get("results") or []
    assert isinstance(results, list)
    return results


def errors_of(output: str) -> list[dict[str, Any]]:
    return [r for r in results_of(output) if r["severity"] == "error"]


def vlan_ids(output: str) -> dict[tuple[str, str, str], int]:
    """(index, namespace, name) -> status.vlanID of every claim that has one."""
    out = {}
    for obj in items_of(output):
        status = obj.get("status")
        if obj["kind"] == "VLANClaim" and isinstance(status, dict) and "vlanID" in status:
            key = (obj["spec"]["vlanIndex"]["name"], obj["metadata"].get("namespace", ""),
                   obj["metadata"]["name"])
            out[key] = obj["status"]["vlanID"]
    return out


def masters(output: str) -> dict[str, str]:
    out = {}
    for obj in ResourceList.parse(output).items:
        if obj.kind == "NetworkAttachmentDefinition":
            try:
                plugin = nephio_nad.plugin_of(nephio_nad.read_config(obj))
            except nephio_nad.NadConfigError:
                continue
            out[obj.name] = str(plugin.get("master", ""))
    return out


def shuffled(text: str, seed: int) -> str:
    rl = ResourceList.parse(text)
    items = list(rl.items)
    random.Random(seed).shuffle(items)
    return ResourceList(items, rl.function_config).to_text()


# -- golden cases ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: GoldenCase) -> None:
    out = run_golden(vlan_assign, case)
    if out.exit_code == 0:
        again = run(vlan_assign, out.stdout)
        assert again.exit_code == 0, again.stderr
        assert items_text(again.stdout) == items_text(out.stdout), "not idempotent"
        assert [r["severity"] for r in results_of(again.stdout)][-1] == "info"
        assert "nothing to change" in results_of(again.stdout)[-1]["message"]
    else:
        # nothing written, and every error says where
        assert items_text(out.stdout) == items_text(case.input_text())
        assert errors_of(out.stdout) and out.stderr.startswith("vlan-assign: error: ")
        for error in errors_of(out.stdout):
            assert "field" in error, error
            assert "resourceRef" in error or error["field"]["path"].startswith(
                "functionConfig"), error


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_item_order_does_not_change_the_answers(case: GoldenCase) -> None:
    text = case.input_text()
    first = run(vlan_assign, text)
    for seed in range(3):
        other = run(vlan_assign, shuffled(text, seed))
        assert other.exit_code == first.exit_code
        assert vlan_ids(other.stdout) == vlan_ids(first.stdout)
        assert masters(other.stdout) == masters(first.stdout)
        assert sorted(e["message"] for e in errors_of(other.stdout)) == sorted(
            e["message"] for e in errors_of(first.stdout))


def test_there_is_a_golden_case_for_each_rule_and_error() -> None:
    names = {case.name for case in CASES}
    assert {"claims-lowest-free", "claims-status-kept", "claims-static",
            "index-vlanindex-resource", "index-config", "interfaces-create",
            "interfaces-existing", "error-static-clash", "error-static-invalid",
            "error-exhausted", "error-unknown-index", "error-status-clash"} <= names


def test_every_golden_case_has_expectations() -> None:
    for case in CASES:
        assert (case.path / "expected.yaml").exists(), case.name


# -- what the golden cases pin down, said directly -----------------------------------------


def case_output(name: str) -> str:
    case = next(c for c in CASES if c.name == name)
    return run(vlan_assign, case.input_text()).stdout


def test_lowest_free_ids_by_namespace_and_name_per_index() -> None:
    assert vlan_ids(case_output("claims-lowest-free")) == {
        ("edge-01", "smf", "n4"): 2,
        ("edge-01", "upf", "n3"): 3,
        ("edge-01", "upf", "n6"): 4,
        ("edge-02", "upf", "backhaul"): 2,
    }


def test_attachments_get_claims_and_nads_in_the_workload_namespace() -> None:
    out = items_of(case_output("interfaces-create"))
    claims = {o["metadata"]["name"]: o for o in out if o["kind"] == "VLANClaim"}
    nads = {o["metadata"]["name"]: o for o in out if o["kind"] == "NetworkAttachmentDefinition"}
    # named as Nephio's interface-fn names them: the Interfaces belong to NFDeployment
    # upf-edge-01
    assert sorted(claims) == sorted(nads) == ["upf-edge-01-n3", "upf-edge-01-n6"]
    n3, n6 = claims["upf-edge-01-n3"], claims["upf-edge-01-n6"]
    assert n3["metadata"]["namespace"] == "upf"
    assert n3["metadata"]["annotations"]["specializer.nephio.org/owner"] == (
        "req.nephio.org/v1alpha1.Interface.n3")
    assert n3["metadata"]["annotations"]["specializer.nephio.org/for"] == (
        "workload.nephio.org/v1alpha1.NFDeployment.upf-edge-01")
    assert n3["spec"] == {"vlanIndex": {"name": "edge-01"}}
    assert json.loads(nads["upf-edge-01-n6"]["spec"]["config"]) == {
        "cniVersion": "0.3.1",
        "plugins": [{"type": "ipvlan", "capabilities": {"ips": True},
                     "master": f"eth1.{n6['status']['vlanID']}", "mode": "l2"}],
    }


def test_existing_nad_keeps_every_other_key() -> None:
    nads = {o["metadata"]["name"]: o for o in items_of(case_output("interfaces-existing"))
            if o["kind"] == "NetworkAttachmentDefinition"}
    n3 = json.loads(nads["upf-edge-02-n3"]["spec"]["config"])
    assert n3["plugins"][0]["ipam"]["addresses"] == [
        {"address": "172.2.0.2/24", "gateway": "172.2.0.1"}]
    assert n3["plugins"][0]["master"] == "ens5.7"
    n2 = json.loads(nads["n2"]["spec"]["config"])
    assert n2 == {"cniVersion": "0.3.1", "type": "ipvlan", "master": "ens5.2", "mode": "l3"}


# -- properties ------------------------------------------------------------------------------

FABRIC = {"ranges": ["100-105", 110], "reserved": [102]}
FABRIC_IDS = {100, 101, 103, 104, 105, 110}


def claim_doc(name: str, namespace: str, index: str, static: int | None,
              status: int | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"vlanIndex": {"name": index}}
    if static is not None:
        spec["vlanID"] = static
    doc: dict[str, Any] = {
        "apiVersion": "vlan.resource.nephio.org/v1alpha1", "kind": "VLANClaim",
        "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    if status is not None:
        doc["status"] = {"vlanID": status}
    return doc


@st.composite
def packages(draw: st.DrawFn) -> tuple[str, bool]:
    """A ResourceList with claims on two indexes (one declared small), and maybe a
    WorkloadCluster with vlan Interfaces; True when fabric is declared in the config."""
    docs: list[dict[str, Any]] = []
    in_config = draw(st.booleans())
    if not in_config:
        docs.append({"apiVersion": "vlan.resource.nephio.org/v1alpha1", "kind": "VLANIndex",
                     "metadata": {"name": "fabric"}, "spec": FABRIC})
    ids = st.one_of(st.none(), st.sampled_from([2, 3, 4, 100, 101, 102, 103, 110, 4094]))
    for i in range(draw(st.integers(0, 9))):
        index = draw(st.sampled_from(["edge-01", "fabric"]))
        static = draw(ids) if draw(st.integers(0, 4)) == 0 else None
        docs.append(claim_doc(f"c{i}", draw(st.sampled_from(["a", "b"])), index, static,
                              draw(ids)))
    interfaces = draw(st.integers(0, 3))
    if interfaces:
        docs.append({"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
                     "metadata": {"name": "edge-01"},
                     "spec": {"clusterName": "edge-01", "masterInterface": "eth1"}})
    for i in range(interfaces):
        docs.append({"apiVersion": "req.nephio.org/v1alpha1", "kind": "Interface",
                     "metadata": {"name": f"if{i}", "namespace": "a"},
                     "spec": {"cniType": "macvlan", "attachmentType": "vlan"}})
    config = None
    if in_config:
        config = yaml.safe_dump({"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "VlanAssign",
                                 "metadata": {"name": "c"}, "indexes": {"fabric": FABRIC}})
    text = resource_list("".join("---\n" + yaml.safe_dump(d) for d in docs), config)
    return text, in_config


def kept_statuses(text: str) -> dict[tuple[str, str, str], int]:
    """The input statuses the rules say must survive: in the index's allowed IDs, no static
    request on the claim, and no other claim of the index carrying or asking for that ID."""
    claims = [o for o in items_of(text) if o["kind"] == "VLANClaim"]
    wanted: dict[tuple[str, int], int] = {}
    for claim in claims:
        for value in (claim["spec"].get("vlanID"), (claim.get("status") or {}).get("vlanID")):
            if value is not None:
                key = (claim["spec"]["vlanIndex"]["name"], value)
                wanted[key] = wanted.get(key, 0) + 1
    out = {}
    for claim in claims:
        index, status = claim["spec"]["vlanIndex"]["name"], (claim.get("status") or {}).get(
            "vlanID")
        allowed = FABRIC_IDS if index == "fabric" else set(range(2, 4095))
        if status in allowed and "vlanID" not in claim["spec"] and wanted[(index, status)] == 1:
            out[(index, claim["metadata"]["namespace"], claim["metadata"]["name"])] = status
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packages(), st.integers(0, 2**16))
def test_random_packages_get_unique_allowed_stable_ids(
    package: tuple[str, bool], seed: int
) -> None:
    text, _ = package
    out = run(vlan_assign, text)
    event("ok" if out.exit_code == 0 else "error")
    if out.exit_code != 0:
        assert items_text(out.stdout) == items_text(text)
        assert all("resourceRef" in e and "field" in e for e in errors_of(out.stdout))
    else:
        answers = vlan_ids(out.stdout)
        claims = [o for o in items_of(out.stdout) if o["kind"] == "VLANClaim"]
        assert len(answers) == len(claims)  # every claim answered
        for index in ("edge-01", "fabric"):
            taken = [v for (i, _, _), v in answers.items() if i == index]
            assert len(taken) == len(set(taken)), f"duplicate IDs in {index}"
            allowed = FABRIC_IDS if index == "fabric" else set(range(2, 4095))
            assert set(taken) <= allowed
        for claim in claims:  # statics honoured
            if "vlanID" in claim["spec"]:
                assert claim["status"]["vlanID"] == claim["spec"]["vlanID"]
        for key, status in kept_statuses(text).items():  # valid, unclashed statuses kept
            assert answers[key] == status
        for name, master in masters(out.stdout).items():
            assert master == f"eth1.{answers[('edge-01', 'a', name)]}"
        again = run(vlan_assign, out.stdout)
        assert again.exit_code == 0 and items_text(again.stdout) == items_text(out.stdout)
    other = run(vlan_assign, shuffled(text, seed))
    assert other.exit_code == out.exit_code
    assert vlan_ids(other.stdout) == vlan_ids(out.stdout)


# -- the NAD JSON shared with ipam-inject ----------------------------------------------------

INTERFACE = KubeObject.from_dict({
    "apiVersion": "req.nephio.org/v1alpha1", "kind": "Interface",
    "metadata": {"name": "n3", "annotations": {
        nephio_nad.OWNER_ANNOTATION: "workload.nephio.org/v1alpha1.NFDeployment.upf"}},
    "spec": {"cniType": "macvlan", "attachmentType": "vlan"}})
IPAM = {"type": "static", "addresses": [{"address": "10.0.0.2/24", "gateway": "10.0.0.1"}]}


def set_key(key: str, value: Any) -> Any:
    def edit(plugin: dict[str, Any]) -> None:
        plugin[key] = value
    return edit


@pytest.mark.parametrize("start", [
    None,
    '{"plugins":[{"custom":1,"type":"macvlan"}],"cniVersion":"0.4.0","name":"x"}',
    '{"cniVersion":"0.3.1","type":"macvlan","mode":"private"}',
], ids=["created", "foreign-layout", "single-plugin"])
def test_either_function_first_gives_the_same_nad_text(start: str | None) -> None:
    def nad() -> KubeObject:
        made = nephio_nad.new_nad(INTERFACE, name="upf-n3", namespace="", cni_type="macvlan")
        if start is not None:
            made.set("spec.config", start)
        return made

    vlan_first, ipam_first = nad(), nad()
    for obj, edits in ((vlan_first, ("master", "ipam")), (ipam_first, ("ipam", "master"))):
        for key in edits:
            value = "eth1.7" if key == "master" else IPAM
            assert nephio_nad.edit_plugin(obj, set_key(key, value))
    assert vlan_first.get("spec.config") == ipam_first.get("spec.config")
    config = nephio_nad.read_config(vlan_first)
    plugin = nephio_nad.plugin_of(config)
    assert plugin["master"] == "eth1.7" and plugin["ipam"] == IPAM
    if start is not None:
        assert {k: v for k, v in config.items() if k != "plugins"}.items() >= {
            k: v for k, v in json.loads(start).items() if k not in ("plugins", "type", "mode")
        }.items()
    # a second edit with the same values leaves the text alone
    before = vlan_first.to_yaml()
    assert not nephio_nad.edit_plugin(vlan_first, set_key("master", "eth1.7"))
    assert vlan_first.to_yaml() == before


def test_an_equal_config_in_another_layout_is_not_rewritten() -> None:
    nad = nephio_nad.new_nad(INTERFACE, name="upf-n3", namespace="", cni_type="macvlan")
    nad.set("spec.config", '{ "plugins": [ {"master": "eth1.7", "type": "macvlan"} ],\n'
                           '  "cniVersion": "0.3.1" }')
    before = nad.to_yaml()
    assert not nephio_nad.edit_plugin(nad, set_key("master", "eth1.7"))
    assert nad.to_yaml() == before


@pytest.mark.parametrize("config", [
    "not json", "[]", '{"cniVersion":"0.3.1"}', '{"plugins":[1]}',
    '{"plugins":[{"type":"a"}],"plugins":[]}',
])
def test_configs_that_cannot_be_edited_are_refused(config: str) -> None:
    nad = nephio_nad.new_nad(INTERFACE, name="upf-n3", namespace="", cni_type="macvlan")
    nad.set("spec.config", config)
    with pytest.raises(nephio_nad.NadConfigError):
        nephio_nad.read_config(nad)


def test_nad_names_and_namespaces() -> None:
    assert nephio_nad.nad_name(INTERFACE) == "upf-n3"
    plain = KubeObject.from_dict({"apiVersion": "req.nephio.org/v1alpha1", "kind": "Interface",
                                  "metadata": {"name": "n6", "namespace": "ran"}})
    assert nephio_nad.nad_name(plain) == "n6"
    assert nephio_nad.created_namespace(plain, []) == "ran"
    workload = KubeObject.from_dict({"apiVersion": "workload.nephio.org/v1alpha1",
                                     "kind": "NFDeployment",
                                     "metadata": {"name": "upf", "namespace": "core"}})
    assert nephio_nad.created_namespace(INTERFACE, [workload]) == "core"
    INTERFACE.set_annotation(nephio_nad.NAMESPACE_ANNOTATION, "upf-ns")
    try:  # the workload in the package wins: it follows set-namespace, the annotation not
        assert nephio_nad.created_namespace(INTERFACE, [workload]) == "core"
        assert nephio_nad.created_namespace(INTERFACE, []) == "upf-ns"
    finally:
        INTERFACE.remove_annotation(nephio_nad.NAMESPACE_ANNOTATION)


def test_runs_with_ipam_inject_in_either_order_agree() -> None:
    ipam_module = pytest.importorskip("krmfn_catalog.ipam_inject")
    ipam_inject = ipam_module.ipam_inject
    example = FUNCTION / "examples" / "vlan-attachments"
    text = resource_list((example / "upf.yaml").read_text() + "---\n"
                         + (example / "cluster.yaml").read_text())
    outputs = []
    for first, second in ((vlan_assign, ipam_inject), (ipam_inject, vlan_assign)):
        one = run(first, text)
        assert one.exit_code == 0, one.stderr
        two = run(second, one.stdout)
        assert two.exit_code == 0, two.stderr
        outputs.append({(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
                        for o in items_of(two.stdout)})
    assert outputs[0] == outputs[1]  # every resource, NAD text included
    nads = [o for k, o in outputs[0].items() if k[0] == "NetworkAttachmentDefinition"]
    assert len(nads) == 2
    for nad in nads:
        plugin = json.loads(nad["spec"]["config"])["plugins"][0]
        assert plugin["master"].startswith("eth1.") and plugin["ipam"]["addresses"]


# -- the ledger ------------------------------------------------------------------------------


def site_package(site: int, shared: int = 2) -> str:
    """A site's package: a Kptfile, its cluster, two vlan Interfaces on the cluster's own
    index and `shared` claims on the transport index every site draws from."""
    cluster = f"edge-{site:02d}"
    docs = [
        {"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "metadata": {"name": f"upf-{cluster}"}},
        {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
         "metadata": {"name": cluster},
         "spec": {"clusterName": cluster, "masterInterface": "eth1"}},
    ]
    for name in ("n3", "n6"):
        docs.append({"apiVersion": "req.nephio.org/v1alpha1", "kind": "Interface",
                     "metadata": {"name": name, "annotations": {
                         nephio_nad.OWNER_ANNOTATION:
                             f"workload.nephio.org/v1alpha1.NFDeployment.upf-{cluster}"}},
                     "spec": {"cniType": "macvlan", "attachmentType": "vlan"}})
    for i in range(shared):
        docs.append(claim_doc(f"uplink-{i}", "upf", "transport", None, None))
    return "".join("---\n" + yaml.safe_dump(d) for d in docs)


def ledger_config(path: Path, ranges: str = "100-199") -> str:
    return yaml.safe_dump({"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "VlanAssign",
                           "metadata": {"name": "vlans"}, "ledger": str(path),
                           "indexes": {"transport": {"ranges": [ranges]}}})


def ledger_rows(path: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT owner, vlan_index, vlan_id FROM vlan_allocations"
                          " ORDER BY owner").fetchall()
    db.close()
    return [(str(a), str(b), int(c)) for a, b, c in rows]


def test_packages_sharing_a_ledger_never_share_an_id(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    first = run(vlan_assign, resource_list(site_package(1), ledger_config(ledger)))
    second = run(vlan_assign, resource_list(site_package(2), ledger_config(ledger)))
    assert first.exit_code == second.exit_code == 0, first.stderr + second.stderr
    transport = {k: v for k, v in {**vlan_ids(first.stdout), **{
        (i, "2/" + n, m): v for (i, n, m), v in vlan_ids(second.stdout).items()}}.items()
        if k[0] == "transport"}
    assert sorted(transport.values()) == [100, 101, 102, 103]
    # each cluster's own index starts afresh
    assert vlan_ids(first.stdout)[("edge-01", "", "upf-edge-01-n3")] == 2
    assert vlan_ids(second.stdout)[("edge-02", "", "upf-edge-02-n3")] == 2
    # a site rendered again from its blueprint, without statuses, gets its IDs back
    again = run(vlan_assign, resource_list(site_package(1), ledger_config(ledger)))
    assert items_text(again.stdout) == items_text(first.stdout)
    owners = {owner for owner, _, _ in ledger_rows(ledger)}
    assert "edge-01/upf-edge-01/upf/uplink-0" in owners
    assert len(owners) == 8


def test_a_status_another_package_holds_in_the_ledger_is_moved(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    first = run(vlan_assign, resource_list(site_package(1, shared=1), ledger_config(ledger)))
    held = vlan_ids(first.stdout)[("transport", "upf", "uplink-0")]
    # site 2 is a copy of site 1's rendered package: its copied status is taken
    copied = first.stdout.replace("edge-01", "edge-02")
    second = run(vlan_assign, copied)
    assert second.exit_code == 0, second.stderr
    assert vlan_ids(second.stdout)[("transport", "upf", "uplink-0")] != held
    assert any(f"changed from {held} to" in r["message"] for r in results_of(second.stdout))


def test_a_failed_run_writes_nothing_to_the_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    out = run(vlan_assign, resource_list(site_package(1, shared=3),
                                         ledger_config(ledger, "100-101")))
    assert out.exit_code == 1
    messages = [e["message"] for e in errors_of(out.stdout)]
    assert messages == ["no free VLAN ID left in VLAN index 'transport'"]
    assert not ledger.exists() or ledger_rows(ledger) == []


def test_a_ledger_that_cannot_be_used_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "not-a-ledger").write_text("hello\n" * 1000)
    for path in (tmp_path / "missing" / "ledger.sqlite", tmp_path / "not-a-ledger"):
        out = run(vlan_assign, resource_list(site_package(1), ledger_config(path)))
        assert out.exit_code == 1
        assert str(path) in errors_of(out.stdout)[0]["message"]
        assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1
        assert items_text(out.stdout) == items_text(resource_list(site_package(1)))


def test_a_ledger_needs_a_name_for_the_package(tmp_path: Path) -> None:
    claims = "---\n" + yaml.safe_dump(claim_doc("c", "", "transport", None, None))
    out = run(vlan_assign, resource_list(claims, ledger_config(tmp_path / "l.sqlite")))
    assert out.exit_code == 1
    assert errors_of(out.stdout)[0]["field"]["path"] == "functionConfig.owner"
    named = yaml.safe_load(ledger_config(tmp_path / "l.sqlite")) | {"owner": "lab"}
    out = run(vlan_assign, resource_list(claims, yaml.safe_dump(named)))
    assert out.exit_code == 0, out.stderr
    assert [owner for owner, _, _ in ledger_rows(tmp_path / "l.sqlite")] == ["lab//c"]


def test_vlan_assign_processes_for_many_sites_never_collide(tmp_path: Path) -> None:
    """Eight sites, each rendered by two processes at once, all on one ledger file."""
    ledger = tmp_path / "ledger.sqlite"
    sites = range(8)
    for site in sites:
        (tmp_path / f"site-{site}.yaml").write_text(
            resource_list(site_package(site, shared=3), ledger_config(ledger)))
    procs = []
    for site in [*sites, *reversed(sites)]:  # every input is ready before any process starts
        with (tmp_path / f"site-{site}.yaml").open() as stdin:
            procs.append((site, subprocess.Popen([str(SCRIPT)], stdin=stdin, text=True,
                                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    outputs: dict[int, list[str]] = {s: [] for s in sites}
    for site, proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        outputs[site].append(stdout)
    transport: list[int] = []
    for site in sites:
        one, two = outputs[site]
        assert items_text(one) == items_text(two), f"site {site} got two answers"
        ids = vlan_ids(one)
        transport += [v for (index, _, _), v in ids.items() if index == "transport"]
        assert {v for (index, _, _), v in ids.items() if index != "transport"} == {2, 3}
    assert sorted(transport) == list(range(100, 100 + 3 * len(sites)))
    assert len(ledger_rows(ledger)) == 5 * len(sites)


# -- the command line and the example -------------------------------------------------------


def test_help_prints_the_usage_from_the_readme() -> None:
    out = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True)
    assert "## Usage" in out.stdout and "VlanAssign" in out.stdout and "ledger" in out.stdout


def test_examples_have_expectations() -> None:
    assert [p.name for p in EXAMPLES] == ["vlan-attachments"]
    for example in EXAMPLES:
        assert (example / ".expected" / "diff.patch").read_text().startswith("diff --git")


@needs_kpt
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_renders_as_expected(example: Path, tmp_path: Path) -> None:
    pkg = scratch_package(example, tmp_path / example.name)
    render(pkg)
    patch = diff(pkg)
    assert hunks(patch) == hunks((example / ".expected" / "diff.patch").read_text())
    render(pkg)  # a second render changes nothing
    assert diff(pkg) == patch
