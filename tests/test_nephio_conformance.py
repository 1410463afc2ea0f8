"""Nephio's own goldens through our catalog: a package Nephio's interface-fn, dnn-fn or
nad-fn works on, run through ipam-inject, vlan-assign and policy-validate in that order
(as a Kptfile pipeline runs them, stopping at the first failure), must come out with the
claims and the NetworkAttachmentDefinitions Nephio's functions give it.

The data (tests/conformance/nephio-fn, see tests/conformance/README.md) is Nephio's,
unchanged. Nephio takes addresses and VLANs from a mock, so what is compared is names,
labels, owners, the shape of statuses, and the NAD JSON with each claim's status put in
place of the mock's.
Where we deliberately differ, the case's entry below says why and checks what we do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpt_support import diff, git, needs_kpt, render, scratch_package
from krmfn import Function
from krmfn.testing import resource_list, run
from krmfn_catalog.ipam_inject import ipam_inject
from krmfn_catalog.policy_validate import policy_validate
from krmfn_catalog.vlan_assign import vlan_assign

DATA = Path(__file__).resolve().parent / "conformance" / "nephio-fn"
PIPELINE: tuple[tuple[str, Function], ...] = (
    ("ipam-inject", ipam_inject), ("vlan-assign", vlan_assign),
    ("policy-validate", policy_validate))
NAD = "NetworkAttachmentDefinition"
OWNER = "specializer.nephio.org/owner"
FOR = "specializer.nephio.org/for"


def cases(function: str) -> list[Path]:
    root = DATA / function
    return sorted(p.parent for p in root.rglob("_expected*") if p.name != "_expected_results.txt")


def package_docs(case: Path) -> list[dict[str, Any]]:
    """The package's resources, as kpt would send them (the `_expected*` files left out)."""
    docs: list[dict[str, Any]] = []
    for path in sorted(case.iterdir()):
        if path.is_file() and not path.name.startswith("_") and (
                path.suffix == ".yaml" or path.name == "Kptfile"):
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def expected_items(case: Path) -> list[dict[str, Any]]:
    path = case / "_expected.yaml"
    return (yaml.safe_load(path.read_text()) or {}).get("items") or [] if path.exists() else []


@dataclass
class Outcome:
    items: list[dict[str, Any]]
    failed: str  # the function that failed ("" when the whole pipeline passed)
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


def pipeline(docs: list[dict[str, Any]]) -> Outcome:
    text = resource_list(yaml.safe_dump_all(docs, sort_keys=False))
    warnings: list[dict[str, Any]] = []
    for name, function in PIPELINE:
        out = run(function, text)
        results = yaml.safe_load(out.stdout).get("results") or []
        warnings += [r for r in results if r["severity"] == "warning"]
        if out.exit_code:
            errors = [r for r in results if r["severity"] == "error"]
            assert errors, f"{name} failed without an error result"
            return Outcome(yaml.safe_load(text)["items"], name, errors, warnings)
        text = out.stdout
    return Outcome(yaml.safe_load(text)["items"], "", [], warnings)


def of_kind(items: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in items if o["kind"] == kind}


def without_empty(value: Any) -> Any:
    """Go's encoding/json writes a struct field tagged omitempty even when it is empty
    (nad-fn's tuning plugin carries `"ipam":{}`); such an empty object means nothing."""
    if isinstance(value, dict):
        return {k: without_empty(v) for k, v in value.items() if v != {}}
    if isinstance(value, list):
        return [without_empty(v) for v in value]
    return value


def nephio_config(nad: dict[str, Any], theirs: dict[str, dict[str, Any]],
                  ours: dict[str, dict[str, Any]]) -> Any:
    """nad-fn's JSON with each claim's status from our run in place of Nephio's mock, in
    nad-fn's order (addresses and routes sorted by their text)."""
    swap: dict[str, str] = {}
    for name, claim in theirs.items():
        mine = (ours.get(name) or {}).get("status") or {}
        for key in ("prefix", "gateway"):
            if (claim.get("status") or {}).get(key) and mine.get(key):
                swap[claim["status"][key]] = mine[key]
    config = without_empty(json.loads(nad["spec"]["config"]))
    for plugin in config["plugins"]:
        ipam = plugin.get("ipam") or {}
        for entry in ipam.get("addresses", []):
            entry.update({k: swap.get(v, v) for k, v in entry.items()})
        for route in ipam.get("routes", []):
            route["gw"] = swap.get(route["gw"], route["gw"])
        if "addresses" in ipam:
            ipam["addresses"].sort(key=lambda a: a.get("address", ""))
    return config


def strip(config: Any, keys: tuple[str, ...]) -> Any:
    return {**config, "plugins": [{k: v for k, v in p.items() if k not in keys}
                                  for p in config["plugins"]]}


# -- nad-fn: the NAD JSON ----------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What we give on a nad-fn case. `fails`: the function of ours that refuses it and
    words of its error; `nads`: Nephio's NADs we must equal (all by default), `renamed`
    where ours has another name; `ignore`: plugin keys we deliberately set otherwise;
    `why`: the reason for any difference."""

    fails: tuple[str, str] = ("", "")
    nads: tuple[str, ...] | None = None
    renamed: tuple[tuple[str, str], ...] = ()
    ignore: tuple[str, ...] = ()
    why: str = ""


VLAN_ALLOCATED = ("vlan-assign allocates a VLAN for every vlan attachment: nad-fn runs after "
                  "interface-fn made the VLANClaim and Nephio's VLAN backend answered it, "
                  "this package has none, so its master has no VLAN there and one here")
NOT_ALLOCATABLE = ("an IPClaim without a status on a network instance the package does not "
                   "define cannot be answered: ipam-inject refuses the package (all or "
                   "nothing) where nad-fn writes a NAD with an empty address or none")
NAD_CASES: dict[str, Expect] = {
    "golden/create_full_resources": Expect(),
    "golden/create_full_resources_dual_stack": Expect(),
    "golden/empty_nad_masterinterface": Expect(),
    "golden/only_ipclaim_ipvlanType": Expect(ignore=("master",), why=VLAN_ALLOCATED),
    "golden/only_ipclaim_macvlanType": Expect(ignore=("master",), why=VLAN_ALLOCATED),
    "golden/only_ipclaim_sriovType": Expect(ignore=("master",), why=VLAN_ALLOCATED),
    "golden/default_network": Expect(ignore=("master",), why=VLAN_ALLOCATED),
    "golden/vlanclaim_notReady": Expect(
        nads=("upf-cluster01-n6",),
        why="VLANClaims without a status are allocated here; nad-fn waits for Nephio's VLAN "
            "backend and writes no NAD for them"),
    "golden/existing_nad_resources": Expect(
        nads=("upf-cluster01-n3", "upf-cluster01-n4", "upf-cluster01-n6"),
        renamed=(("upf-cluster01-n3", "n3"), ("upf-cluster01-n4", "n4"),
                 ("upf-cluster01-n6", "n6")), ignore=("type", "mode"),
        why="each Interface already owns a NAD (n3, n4, n6 in namespace default): we bring "
            "that one up to date instead of adding a second one beside it whose twin keeps "
            "a stale address; its plugin type and mode are the user's and stay"),
    "golden/create_full_resources_dual_stack_redundant": Expect(
        fails=("ipam-inject", "a second IPClaim named 'n3-ipv4'"),
        why="two IPClaims of one name and namespace are one resource given twice"),
    "golden/create_full_resources_ipv6": Expect(
        fails=("ipam-inject", "unknown network instance 'vpc-ran'"),
        why="the Interfaces have no ipFamilyPolicy, so they ask for IPv4 (interface-fn "
            "does the same), on network instances the package does not define"),
    "golden/ipclaim_notReady": Expect(
        fails=("ipam-inject", "unknown network instance 'vpc-internal'"), why=NOT_ALLOCATABLE),
    "golden/only_vlanclaim": Expect(
        fails=("ipam-inject", "unknown network instance 'vpc-ran'"), why=NOT_ALLOCATABLE),
    "empty_ipamaddress": Expect(
        fails=("ipam-inject", "unknown network instance 'vpc-ran'"), why=NOT_ALLOCATABLE),
    "missing_vlan": Expect(
        fails=("ipam-inject", "unknown network instance 'vpc-ran'"), why=NOT_ALLOCATABLE),
    "missing_vlanclaim_ipclaim": Expect(
        fails=("ipam-inject", "unknown network instance 'vpc-ran'"), why=NOT_ALLOCATABLE),
    "empty_cni": Expect(
        fails=("vlan-assign", "is required to create NetworkAttachmentDefinition"),
        why="nad-fn refuses it too (\"cniType not supported\"): a vlan attachment without "
            "a cniType has no plugin to configure"),
    "workloadcluster_with_mismatch_cni": Expect(
        fails=("ipam-inject", "cniType 'sriov' is not supported by cluster 'cluster01'"),
        why="nad-fn refuses it too; ours fails the run instead of a condition per NAD"),
    "missing_interface": Expect(
        fails=("vlan-assign", "is required: the name of the VLAN index"),
        why="the VLANClaims of n4 and n6 name no VLAN index and have no Interface to take "
            "one from; nad-fn refuses the Interface-less claims as well"),
    "missing_workloadcluster": Expect(
        nads=(), why="nothing to do: the package holds no Interface or claim (nad-fn "
                     "insists on a WorkloadCluster even then)"),
    "missing_kptfile": Expect(
        nads=(), why="nothing to do: our functions need no Kptfile"),
}


def test_every_nad_fn_case_has_an_expectation() -> None:
    found = {str(c.relative_to(DATA / "nad-fn")) for c in cases("nad-fn")}
    found |= {"missing_kptfile"}  # it has only _expected_error.txt
    assert found == set(NAD_CASES)


@pytest.mark.parametrize("name", sorted(NAD_CASES))
def test_nad_fn_golden(name: str) -> None:
    case, expect = DATA / "nad-fn" / name, NAD_CASES[name]
    outcome = pipeline(package_docs(case))
    function, words = expect.fails
    if function:
        assert outcome.failed == function, (outcome.failed, outcome.errors)
        assert any(words in e["message"] for e in outcome.errors), outcome.errors
        return
    assert not outcome.failed, f"{outcome.failed}: {outcome.errors}"  # policy-validate too
    golden = expected_items(case)
    theirs, ours = of_kind(golden, "IPClaim"), of_kind(outcome.items, "IPClaim")
    nads = of_kind(golden, NAD)
    wanted = expect.nads if expect.nads is not None else tuple(nads)
    renamed = dict(expect.renamed)
    mine = of_kind(outcome.items, NAD)
    for nad in wanted:
        our = mine[renamed.get(nad, nad)]
        got = strip(json.loads(our["spec"]["config"]), expect.ignore)
        assert got == strip(nephio_config(nads[nad], theirs, ours), expect.ignore), nad
        assert our["metadata"]["annotations"][OWNER] == nads[nad]["metadata"]["annotations"][
            OWNER]
    if "master" in expect.ignore:  # ours is the allocated VLAN's sub-interface
        vlans = {c["metadata"]["annotations"][OWNER]: c["status"]["vlanID"]
                 for c in of_kind(outcome.items, "VLANClaim").values()}
        for made in mine.values():
            (plugin, *_) = json.loads(made["spec"]["config"])["plugins"]
            assert plugin["master"] == f"eth1.{vlans[made['metadata']['annotations'][OWNER]]}"


def test_a_status_nephio_set_on_an_undefined_instance_is_taken_with_a_warning() -> None:
    outcome = pipeline(package_docs(DATA / "nad-fn" / "golden" / "only_ipclaim_sriovType"))
    assert not outcome.failed
    claims = {w["resourceRef"]["name"] for w in outcome.warnings
              if "is taken as given, not verified" in w["message"]}
    assert claims == {"n3-ipv4", "n4-ipv4", "n6-ipv4"}


# -- interface-fn and dnn-fn: the claims ----------------------------------------------------


def networks_for(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A Network for every instance the requests name that the package does not define:
    interface-fn and dnn-fn only make claims (Nephio's IPAM answers them elsewhere);
    ipam-inject answers them, from pools the package must hold."""
    defined = {d["metadata"]["name"] for d in docs if d["kind"] == "Network"}
    wanted = sorted({d["spec"]["networkInstance"]["name"] for d in docs
                     if d["kind"] in ("Interface", "DataNetwork")
                     and (d.get("spec") or {}).get("networkInstance")} - defined - {"default"})
    return [{"apiVersion": "infra.nephio.org/v1alpha1", "kind": "Network",
             "metadata": {"name": name, "annotations": {
                 "config.kubernetes.io/local-config": "true"}},
             "spec": {"routingTables": [{"name": name, "prefixes": [
                 {"prefix": f"10.{i}.0.0/16"}, {"prefix": f"fd00:{i}::/48"},
                 {"prefix": f"{100 + i}.0.0.0/8",
                  "labels": {"nephio.org/prefix-kind": "pool"}},
                 {"prefix": f"10.{200 + i}.0.0/16",
                  "labels": {"nephio.org/prefix-kind": "loopback"}}]}]}}
            for i, name in enumerate(wanted)]


def check_claims_as_nephio(golden: list[dict[str, Any]], items: list[dict[str, Any]],
                           kinds: tuple[str, ...]) -> None:
    """Every claim Nephio's function makes, we make: same name, spec, labels and owners;
    a status of the right shape; and no other claim for the same owner."""
    for kind in kinds:
        theirs, ours = of_kind(golden, kind), of_kind(items, kind)
        owners = {c["metadata"]["annotations"][OWNER] for c in theirs.values()}
        assert {n for n, c in ours.items()
                if c["metadata"]["annotations"].get(OWNER) in owners} == set(theirs), kind
        for name, claim in theirs.items():
            mine = ours[name]
            want = {k: v for k, v in claim["metadata"]["annotations"].items()
                    if k.startswith("specializer.nephio.org/")}
            got = {k: v for k, v in mine["metadata"]["annotations"].items()
                   if k.startswith("specializer.nephio.org/")}
            assert got == want, name
            assert mine["spec"] == claim["spec"], name
            status = mine["status"]
            if kind == "VLANClaim":
                assert isinstance(status["vlanID"], int), name
            elif claim["spec"]["kind"] == "network":
                assert set(status) == {"prefix", "gateway"}, name
            else:
                assert set(status) == {"prefix"}, name
            family = claim["spec"].get("selector", {}).get("matchLabels", {}).get(
                "nephio.org/address-family")
            if family:
                assert (":" in status["prefix"]) == (family == "ipv6"), name


@dataclass(frozen=True)
class Claims:
    """What we give on an interface-fn or dnn-fn case (as `Expect`)."""

    fails: tuple[str, str] = ("", "")
    kinds: tuple[str, ...] = ("IPClaim", "VLANClaim")
    why: str = ""


CLAIM_CASES: dict[str, Claims] = {
    "interface-fn/interface_cni_vlan": Claims(),
    "interface-fn/interface_cni_vlan-dualstack": Claims(),
    "interface-fn/interface_cni_vlan-ipv6only": Claims(),
    "interface-fn/interface_cni_novlan": Claims(),
    "interface-fn/interface_loopback": Claims(),
    "interface-fn/interface_default": Claims(),
    "interface-fn/set_status": Claims(),
    "interface-fn/missing_kptfile": Claims(
        kinds=(), why="our functions need no Kptfile (interface-fn refuses the package)"),
    "interface-fn/cni_mismatch": Claims(
        fails=("ipam-inject", "cniType 'sriov' is not supported"),
        why="interface-fn refuses it too, as a Kptfile condition"),
    "interface-fn/cni_mismatch_partial": Claims(
        fails=("ipam-inject", "cniType 'sriov' is not supported"),
        why="a run is all or nothing: interface-fn still makes n4's claims"),
    "interface-fn/workloadcluster_without_clustername": Claims(
        fails=("ipam-inject", "no cluster to claim an address in"),
        why="interface-fn refuses it too, as a Kptfile condition"),
    "dnn-fn/create_owned_resources": Claims(kinds=("IPClaim",)),
    "dnn-fn/set_dnn_status": Claims(kinds=("IPClaim",)),
    "dnn-fn/missing_kptfile": Claims(
        kinds=(), why="our functions need no Kptfile (dnn-fn refuses the package)"),
    "dnn-fn/missing_workloadcluster": Claims(
        kinds=(), why="without a WorkloadCluster the pool claim selects no cluster (dnn-fn "
                      "refuses to make one): the pool is still allocated"),
    "dnn-fn/multiple_workloadclusters": Claims(
        fails=("ipam-inject", "a second WorkloadCluster"),
        why="dnn-fn refuses it too, as a Kptfile condition"),
    "dnn-fn/workloadcluster_without_clustername": Claims(
        fails=("ipam-inject", "spec.networkInstance.name is required"),
        why="the package also holds a pool claim with an empty networkInstance, which "
            "dnn-fn marks for deletion (its owner lost the pool); we do not delete claims"),
    "dnn-fn/deleted_pool": Claims(
        fails=("ipam-inject", "spec.networkInstance.name is required"),
        why="dnn-fn marks a claim whose pool is gone for deletion "
            "(specializer.nephio.org/delete); we leave removal to the person or the "
            "ledger's release, and such a claim cannot be allocated"),
    "dnn-fn/garbage_collection": Claims(
        fails=("ipam-inject", "spec.networkInstance.name is required"),
        why="as deleted_pool: the claim's DataNetwork is gone"),
}


def test_every_interface_and_dnn_case_has_an_expectation() -> None:
    found = {str(c.relative_to(DATA)) for f in ("interface-fn", "dnn-fn") for c in cases(f)}
    found |= {"interface-fn/missing_kptfile", "dnn-fn/missing_kptfile"}
    assert found == set(CLAIM_CASES)


@pytest.mark.parametrize("name", sorted(CLAIM_CASES))
def test_claims_are_named_labelled_and_owned_as_nephio_does(name: str) -> None:
    case, expect = DATA / name, CLAIM_CASES[name]
    docs = package_docs(case)
    outcome = pipeline(docs + networks_for(docs))
    function, words = expect.fails
    if function:
        assert outcome.failed == function, (outcome.failed, outcome.errors)
        assert any(words in e["message"] for e in outcome.errors), outcome.errors
        return
    assert not outcome.failed, f"{outcome.failed}: {outcome.errors}"  # policy-validate too
    golden = expected_items(case)
    check_claims_as_nephio(golden, outcome.items, expect.kinds)
    for interface in of_kind(outcome.items, "Interface").values():
        if interface["spec"]["networkInstance"]["name"] == "default" or not interface[
                "spec"].get("cniType"):
            continue
        owner = f"req.nephio.org/v1alpha1.Interface.{interface['metadata']['name']}"
        (nad,) = [n for n in of_kind(outcome.items, NAD).values()
                  if n["metadata"]["annotations"][OWNER] == owner]
        root = interface["metadata"]["annotations"].get(OWNER, "")
        if ".NFDeployment." in root:  # the name interface-fn gives the NAD it asks for
            assert nad["metadata"]["name"] == (
                f"{root.rsplit('.', 1)[-1]}-{interface['metadata']['name']}")
        addresses = json.loads(nad["spec"]["config"])["plugins"][0]["ipam"]["addresses"]
        claims = [c for c in of_kind(outcome.items, "IPClaim").values()
                  if c["metadata"]["annotations"][OWNER] == owner]
        assert sorted(a["address"] for a in addresses) == sorted(
            c["status"]["prefix"] for c in claims)


def test_a_package_interface_fn_processed_gets_no_second_claim() -> None:
    """interface-fn already made upf-cluster01-n3 (VLAN 10) and the dual-stack IP claims:
    they are adopted, the NAD points at VLAN 10 and holds both addresses."""
    outcome = pipeline(package_docs(DATA / "interface-fn" / "set_status"))
    assert not outcome.failed, outcome.errors
    assert sorted(of_kind(outcome.items, "VLANClaim")) == ["upf-cluster01-n3"]
    assert sorted(of_kind(outcome.items, "IPClaim")) == [
        "upf-cluster01-n3-ipv4", "upf-cluster01-n3-ipv6"]
    (nad,) = of_kind(outcome.items, NAD).values()
    plugin = json.loads(nad["spec"]["config"])["plugins"][0]
    assert plugin["master"] == "eth1.10"
    assert plugin["ipam"]["addresses"] == [{"address": "10.0.0.2/24", "gateway": "10.0.0.1"},
                                           {"address": "1000::2/64", "gateway": "1000::1"}]


# -- Nephio's free5gc blueprints ------------------------------------------------------------


BLUEPRINTS = sorted((DATA / "catalog" / "workloads" / "free5gc").iterdir())


def site(docs: list[dict[str, Any]], cluster: str) -> list[dict[str, Any]]:
    """The blueprint as config injection leaves it for a site: its WorkloadCluster filled."""
    for doc in docs:
        if doc["kind"] == "WorkloadCluster":
            doc["metadata"]["annotations"]["kpt.dev/injected-resource"] = cluster
            doc["spec"] = {"clusterName": cluster, "masterInterface": "eth1",
                           "cnis": ["macvlan", "ipvlan", "sriov"]}
    return docs


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=[b.name for b in BLUEPRINTS])
def test_free5gc_blueprints_specialize_as_nephio_names_them(blueprint: Path) -> None:
    docs = site(package_docs(blueprint), "edge-07")
    outcome = pipeline(docs)
    assert not outcome.failed, f"{outcome.failed}: {outcome.errors}"
    items = outcome.items
    deployment = next(iter(of_kind(items, "NFDeployment")))
    ip_claims, vlans, nads = (of_kind(items, k) for k in ("IPClaim", "VLANClaim", NAD))
    for name, interface in of_kind(items, "Interface").items():
        instance = interface["spec"]["networkInstance"]["name"]
        owner = interface["metadata"]["annotations"][OWNER].rsplit(".", 1)[-1]
        if instance == "default":
            continue
        claim = ip_claims[f"{owner}-{name}-ipv4"]
        assert claim["metadata"]["annotations"][FOR] == interface["metadata"]["annotations"][
            OWNER]
        labels = claim["spec"]["selector"]["matchLabels"]
        assert labels["nephio.org/address-family"] == "ipv4"
        assert labels["nephio.org/cluster-name"] == "edge-07"
        vlan = vlans[f"{owner}-{name}"]["status"]["vlanID"]
        plugin, *rest = json.loads(nads[f"{owner}-{name}"]["spec"]["config"])["plugins"]
        assert plugin["master"] == f"eth1.{vlan}" and plugin["capabilities"] == {"ips": True}
        assert rest == [{"type": "tuning", "capabilities": {"mac": True}}]  # macvlan
        assert plugin["ipam"]["addresses"] == [
            {"address": claim["status"]["prefix"], "gateway": claim["status"]["gateway"]}]
    pools = sorted(n for n, c in ip_claims.items() if c["spec"]["kind"] == "pool")
    dnn = next(iter(of_kind(items, "DataNetwork").values()))
    if (dnn.get("spec") or {}).get("pools"):  # the UPF's; the AMF's and SMF's are empty
        assert pools == [f"{deployment}-internet-{p['name']}" for p in dnn["spec"]["pools"]]
    else:
        assert pools == []
    again = pipeline(items)  # a second render changes nothing
    assert not again.failed and again.items == items


# -- properties: dual stack and families ------------------------------------------------------


def interface_package(policy: str | None, cni: str, nfd: bool) -> list[dict[str, Any]]:
    annotations = {OWNER: "workload.nephio.org/v1alpha1.NFDeployment.upf-a"} if nfd else {}
    spec: dict[str, Any] = {"networkInstance": {"name": "vpc"}, "cniType": cni,
                            "attachmentType": "vlan"}
    if policy is not None:
        spec["ipFamilyPolicy"] = policy
    return [
        {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
         "metadata": {"name": "a"},
         "spec": {"clusterName": "a", "masterInterface": "eth1", "cnis": [cni]}},
        {"apiVersion": "req.nephio.org/v1alpha1", "kind": "Interface",
         "metadata": {"name": "n3", "annotations": annotations}, "spec": spec},
        *networks_for([{"kind": "Interface", "spec": spec}]),
    ]


FAMILIES = {None: ["ipv4"], "ipv4only": ["ipv4"], "ipv6only": ["ipv6"],
            "dualstack": ["ipv4", "ipv6"]}


@pytest.mark.parametrize("nfd", [True, False], ids=["nfdeployment", "plain"])
@pytest.mark.parametrize("cni", ["macvlan", "ipvlan", "sriov"])
@pytest.mark.parametrize("policy", list(FAMILIES), ids=str)
def test_every_family_the_interface_asks_for_reaches_the_nad(
    policy: str | None, cni: str, nfd: bool,
) -> None:
    outcome = pipeline(interface_package(policy, cni, nfd))
    assert not outcome.failed, outcome.errors
    prefix = "upf-a-n3" if nfd else "n3"
    claims = of_kind(outcome.items, "IPClaim")
    assert sorted(claims) == [f"{prefix}-{f}" for f in FAMILIES[policy]]
    (nad,) = of_kind(outcome.items, NAD).values()
    assert nad["metadata"]["name"] == prefix
    plugin, *rest = json.loads(nad["spec"]["config"])["plugins"]
    assert plugin["type"] == cni and plugin["capabilities"] == {"ips": True}
    assert rest == ([{"type": "tuning", "capabilities": {"mac": True}}]
                    if cni == "macvlan" else [])
    assert [a["address"] for a in plugin["ipam"]["addresses"]] == sorted(
        c["status"]["prefix"] for c in claims.values())
    families = {":" in r["dst"] for r in plugin["ipam"]["routes"]}
    assert families == {f == "ipv6" for f in FAMILIES[policy]}
    again = pipeline(outcome.items)
    assert again.items == outcome.items


def ip_claim(status: str | None, **spec: Any) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "apiVersion": "ipam.resource.nephio.org/v1alpha1", "kind": "IPClaim",
        "metadata": {"name": "n3"},
        "spec": {"kind": "network", "networkInstance": {"name": "vpc"},
                 "selector": {"matchLabels": {"nephio.org/cluster-name": "a"}}, **spec}}
    if status:
        claim["status"] = {"prefix": status}
    return claim


@pytest.mark.parametrize("held", ["fd00:0:0:5::9/64", "10.0.5.9/24"])
def test_a_claim_without_a_family_keeps_the_family_of_its_status(held: str) -> None:
    docs = [*networks_for([{"kind": "Interface", "spec": {"networkInstance": {
        "name": "vpc"}}}]), ip_claim(held)]
    outcome = pipeline(docs)
    assert not outcome.failed, outcome.errors
    assert of_kind(outcome.items, "IPClaim")["n3"]["status"]["prefix"] == held


@pytest.mark.parametrize("where", ["spec", "label"])
def test_an_ipv6_status_is_never_replaced_by_an_ipv4_one(where: str) -> None:
    held = "fd00:0:0:5::9/64"
    claim = ip_claim(held) if where == "label" else ip_claim(held, addressFamily="ipv4")
    if where == "label":
        claim["spec"]["selector"]["matchLabels"]["nephio.org/address-family"] = "ipv4"
    docs = [*networks_for([{"kind": "Interface", "spec": {"networkInstance": {
        "name": "vpc"}}}]), claim]
    refused = pipeline(docs)
    assert refused.failed == "ipam-inject"
    (error,) = refused.errors
    assert held in error["message"] and error["field"]["path"] == (
        "spec.addressFamily" if where == "spec"
        else 'spec.selector.matchLabels["nephio.org/address-family"]')


def test_an_unknown_ip_family_policy_is_an_error_naming_the_field() -> None:
    outcome = pipeline(interface_package("both", "sriov", True))
    assert outcome.failed == "ipam-inject"
    (error,) = outcome.errors
    assert error["field"]["path"] == "spec.ipFamilyPolicy"
    assert error["resourceRef"]["kind"] == "Interface"


def run_in_order(docs: list[dict[str, Any]], order: tuple[Function, ...]) -> list[Any]:
    text = resource_list(yaml.safe_dump_all(docs, sort_keys=False))
    for function in order:
        out = run(function, text)
        assert out.exit_code == 0, out.stderr
        text = out.stdout
    return sorted((o["kind"], o["metadata"]["name"], json.dumps(o.get("spec")),
                   json.dumps(o.get("status"))) for o in yaml.safe_load(text)["items"])


@pytest.mark.parametrize("cni", ["macvlan", "sriov"])
@pytest.mark.parametrize("policy", list(FAMILIES), ids=str)
def test_either_function_first_gives_the_same_package(policy: str | None, cni: str) -> None:
    """The same resources, and the same NAD text (new ones are appended in another order)."""
    docs = interface_package(policy, cni, True)
    first = run_in_order(docs, (ipam_inject, vlan_assign))
    assert first == run_in_order(docs, (vlan_assign, ipam_inject))


def test_claims_of_an_earlier_render_keep_their_names_and_answers() -> None:
    """A package rendered before its requests followed Nephio's names holds `n3-ipv4`,
    `n3` and `internet-pool1`: they are adopted, nothing is added beside them."""
    first = pipeline(site(package_docs(BLUEPRINTS[-1]), "edge-07"))
    assert not first.failed, first.errors
    old = ("IPClaim", "VLANClaim")
    for item in first.items:
        if item["kind"] in old and item["metadata"]["name"].startswith("upf-example-"):
            item["metadata"]["name"] = item["metadata"]["name"].removeprefix("upf-example-")
            del item["metadata"]["annotations"][FOR]
    renamed = {(o["kind"], o["metadata"]["name"]): o.get("status") for o in first.items
               if o["kind"] in old}
    again = pipeline(first.items)
    assert not again.failed, again.errors
    assert {(o["kind"], o["metadata"]["name"]): o.get("status") for o in again.items
            if o["kind"] in old} == renamed


PIPELINE_KPTFILE = """pipeline:
  mutators:
    - image: ghcr.io/krmfn/site-specialize:v0.1.0
      configMap: {clusterName: edge-07, masterInterface: eth1, cnis: "macvlan,ipvlan,sriov"}
    - image: ghcr.io/krmfn/ipam-inject:v0.1.0
    - image: ghcr.io/krmfn/vlan-assign:v0.1.0
  validators:
    - image: ghcr.io/krmfn/policy-validate:v0.1.0
"""


@needs_kpt
@pytest.mark.kpt
@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=[b.name for b in BLUEPRINTS])
def test_free5gc_blueprints_render_under_kpt(blueprint: Path, tmp_path: Path) -> None:
    """Nephio's pipeline replaced by ours, run by `kpt fn render` with exec: it renders
    (the AMF's and SMF's empty DataNetwork included) and a second render changes nothing."""
    pkg = scratch_package(blueprint, tmp_path / blueprint.name)
    kptfile = pkg / "Kptfile"
    text = kptfile.read_text()
    kptfile.write_text(text[: text.index("pipeline:")] + PIPELINE_KPTFILE)
    render(pkg)
    made = [yaml.safe_load(p.read_text()) for p in sorted(pkg.glob("*.yaml"))
            if git(pkg, "ls-files", p.name) == ""]
    kinds = sorted(d["kind"] for d in made)
    interfaces = [d for d in package_docs(blueprint) if d["kind"] == "Interface"
                  and d["spec"]["networkInstance"]["name"] != "default"]
    pools = 3 if "upf" in blueprint.name else 0  # the AMF's and SMF's DataNetwork has none
    assert kinds == sorted(["IPClaim"] * (len(interfaces) + pools)
                           + ["VLANClaim", NAD] * len(interfaces))
    git(pkg, "add", "-A")
    git(pkg, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "r")
    render(pkg)
    assert diff(pkg) == "", "a second render must change nothing"


@st.composite
def nad_entries(draw: st.DrawFn) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Addresses and routes a NAD may already hold, of both families."""
    def address(n: int) -> str:
        return f"192.168.9.{n}/24" if n % 2 else f"fd99::{n}/64"

    numbers = draw(st.lists(st.integers(1, 60), max_size=5, unique=True))
    addresses = [{"address": address(n), "gateway": address(n).split("/")[0]}
                 for n in numbers]
    dsts = draw(st.lists(st.integers(1, 60), max_size=5, unique=True))
    routes = [{"dst": f"172.{n}.0.0/16" if n % 2 else f"fd{n:02x}::/32", "gw": "x"}
              for n in dsts]
    return addresses, routes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(list(FAMILIES)), cni=st.sampled_from(["macvlan", "sriov"]),
       nfd=st.booleans(), old=nad_entries(), mtu=st.booleans())
def test_the_interface_s_families_replace_their_entries_and_others_stay(
    policy: str | None, cni: str, nfd: bool,
    old: tuple[list[dict[str, str]], list[dict[str, str]]], mtu: bool,
) -> None:
    docs = interface_package(policy, cni, nfd)
    plugin: dict[str, Any] = {"type": cni, "ipam": {"type": "static", "addresses": old[0],
                                                    "routes": old[1]}}
    if mtu:
        plugin["mtu"] = 9000
    name = "upf-a-n3" if nfd else "n3"
    docs.append({"apiVersion": "k8s.cni.cncf.io/v1", "kind": NAD,
                 "metadata": {"name": name, "annotations": {
                     OWNER: "req.nephio.org/v1alpha1.Interface.n3"}},
                 "spec": {"config": json.dumps({"cniVersion": "0.3.1",
                                                "plugins": [plugin]})}})
    outcome = pipeline(docs)
    assert not outcome.failed, outcome.errors
    claims = of_kind(outcome.items, "IPClaim").values()
    asked = set(FAMILIES[policy])

    def family(text: str) -> str:
        return "ipv6" if ":" in text else "ipv4"

    (nad,) = of_kind(outcome.items, NAD).values()
    got = json.loads(nad["spec"]["config"])["plugins"][0]
    ours = [{"address": c["status"]["prefix"], "gateway": c["status"]["gateway"]}
            for c in claims]
    kept = [a for a in old[0] if family(a["address"]) not in asked]
    assert got["ipam"]["addresses"] == sorted(ours + kept, key=lambda a: a["address"])
    gateways = {family(c["status"]["gateway"]): c["status"]["gateway"] for c in claims}
    for route in got["ipam"].get("routes", []):
        if family(route["dst"]) in asked:
            assert route["gw"] == gateways[family(route["dst"])]
        else:
            assert route in old[1]
    assert sorted((r for r in old[1] if family(r["dst"]) not in asked),
                  key=lambda r: r["dst"]) == [
        r for r in got["ipam"].get("routes", []) if family(r["dst"]) not in asked]
    assert got.get("mtu") == (9000 if mtu else None)
    again = pipeline(outcome.items)
    assert again.items == outcome.items
