"""Nephio's nfdeploy-fn goldens through nfdeploy: every case of
krm-functions/nfdeploy-fn/fn/testdata (tests/conformance/nephio-fn/nfdeploy-fn, Nephio's
data, unchanged; see tests/conformance/README.md).

Where nfdeploy-fn fills the NFDeployment, the whole package we write must equal its
`_expected.yaml`, resource by resource (the NFDeployment's spec and the Kptfile's readiness
gate and conditions included; key order aside). nfdeploy-fn's numbers are not from a
mock: they are the statuses in its input, Nephio's copies on the Interface and the
DataNetwork. The same package with those statuses moved onto claims, as ipam-inject and
vlan-assign write them, must give the same spec. Where we deliberately differ, the case's
entry below says why and checks what we do instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import test_nephio_conformance as conformance
import yaml
from krmfn.testing import resource_list, run
from krmfn_catalog.nfdeploy import nfdeploy

DATA = Path(__file__).resolve().parent / "conformance" / "nephio-fn" / "nfdeploy-fn"
CASES = sorted(p.parent for p in DATA.rglob("_expected*"))
OWNER = "specializer.nephio.org/owner"
NFD = "workload.nephio.org/v1alpha1.NFDeployment"
BLUEPRINTS = conformance.BLUEPRINTS
KRMFN_ANNOTATIONS = ("config.kubernetes.io/index", "config.kubernetes.io/path",
                     "internal.config.kubernetes.io/index", "internal.config.kubernetes.io/path")


def package_docs(case: Path) -> list[dict[str, Any]]:
    """The package's resources as kpt sends them (Nephio's `_expected*` files left out)."""
    docs: list[dict[str, Any]] = []
    for path in sorted(case.iterdir()):
        if path.is_file() and not path.name.startswith("_"):
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def normalized(items: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Resources by kind and name, without the annotations kpt adds in transit."""
    out = {}
    for item in items:
        item = yaml.safe_load(yaml.safe_dump(item))
        annotations = item.get("metadata", {}).get("annotations") or {}
        for key in KRMFN_ANNOTATIONS:
            annotations.pop(key, None)
        if not annotations:
            item.get("metadata", {}).pop("annotations", None)
        out[(item["kind"], item["metadata"]["name"])] = item
    return out


@dataclass
class Outcome:
    code: int
    items: dict[tuple[str, str], dict[str, Any]]
    errors: list[dict[str, Any]]


def nfdeploy_on(docs: list[dict[str, Any]]) -> Outcome:
    out = run(nfdeploy, resource_list(yaml.safe_dump_all(docs, sort_keys=False)))
    data = yaml.safe_load(out.stdout)
    errors = [r for r in data.get("results") or [] if r["severity"] == "error"]
    return Outcome(out.exit_code, normalized(data["items"]), errors)


def expected(case: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return normalized(yaml.safe_load((case / "_expected.yaml").read_text())["items"])


def error_refs(outcome: Outcome) -> set[tuple[str, str, str]]:
    return {(e.get("resourceRef", {}).get("kind", ""), e.get("resourceRef", {}).get("name", ""),
             e.get("field", {}).get("path", "")) for e in outcome.errors}


# -- the statuses, moved onto claims as ipam-inject and vlan-assign write them ----------


def with_our_claims(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The package with every Interface's and DataNetwork's status removed and carried
    instead by the claims they own, named as interface-fn and dnn-fn name them."""
    out: list[dict[str, Any]] = []
    for doc in docs:
        doc = yaml.safe_load(yaml.safe_dump(doc))
        out.append(doc)
        status = doc.get("status") or {}
        owner = (doc.get("metadata", {}).get("annotations") or {}).get(OWNER, "")
        nfd = owner.rsplit(".", 1)[-1]
        me = {OWNER: f"req.nephio.org/v1alpha1.{doc['kind']}.{doc['metadata']['name']}"}
        name = f"{nfd}-{doc['metadata']['name']}"
        if doc["kind"] == "Interface" and status:
            for entry in status.get("ipClaimStatus") or []:
                family = "ipv6" if ":" in entry["prefix"] else "ipv4"
                out.append({"apiVersion": "ipam.resource.nephio.org/v1alpha1",
                            "kind": "IPClaim",
                            "metadata": {"name": f"{name}-{family}", "annotations": me},
                            "spec": {"kind": "network",
                                     "selector": {"matchLabels": {
                                         "nephio.org/address-family": family}}},
                            "status": dict(entry)})
            if status.get("vlanClaimStatus"):
                out.append({"apiVersion": "vlan.resource.nephio.org/v1alpha1",
                            "kind": "VLANClaim",
                            "metadata": {"name": name, "annotations": me},
                            "spec": {"vlanIndex": {"name": "cluster01"}},
                            "status": {"vlanID": status["vlanClaimStatus"]["vlanID"]}})
            del doc["status"]
        if doc["kind"] == "DataNetwork" and status.get("pools"):
            for pool, entry in zip(doc["spec"]["pools"], status["pools"], strict=True):
                out.append({"apiVersion": "ipam.resource.nephio.org/v1alpha1",
                            "kind": "IPClaim",
                            "metadata": {"name": f"{name}-{pool['name']}", "annotations": me},
                            "spec": {"kind": "pool"},
                            "status": dict(entry["ipClaim"])})
            del doc["status"]
    return out


def spec_of(items: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    specs = [v["spec"] for (kind, _), v in items.items() if kind == "NFDeployment"]
    assert len(specs) == 1
    return dict(specs[0])


# -- the cases ---------------------------------------------------------------------------

FILLS = ("nfdeployment_withprovider", "nfdeployment_withsamenetwork",
         "nfdeployment_witthdependency", "nfdeployment_withexistingconfig",
         "nfdeployment_withmultipledependencies", "nfdeployment_witthduplicatedependency")

WAITS = ("nfdeploy-fn waits for a later pass of Nephio's condition dance: it writes 'not "
         "ready' conditions and leaves the spec unfilled. No later pass comes here (nfdeploy "
         "runs once, after the functions that answer the claims), so a part without its "
         "answer is an error naming the claim that should have given it, and nothing is "
         "written.")
OLD_FIELD = ("this DataNetwork names its network instance in `networkInstanceReference`, a "
             "field Nephio's DataNetwork no longer has, and asks for pool1 with no answer: "
             "nfdeploy-fn silently leaves the pool out; here both are errors.")


def _stage1(outcome: Outcome, docs: list[dict[str, Any]]) -> None:
    assert {("Interface", "n2", "status.ipClaimStatus"),
            ("Interface", "n2", "status.vlanClaimStatus.vlanID"),
            ("Dependency", "upf", "status.injected")} <= error_refs(outcome)
    messages = " ".join(e["message"] for e in outcome.errors)
    assert "amf-cluster01-n2-ipv4" in messages and "free5gc-upf" in messages


def _missing_ip(outcome: Outcome, docs: list[dict[str, Any]]) -> None:
    assert error_refs(outcome) == {("Interface", "n3", "status.ipClaimStatus"),
                                   ("Interface", "n3", "status.vlanClaimStatus.vlanID")}
    assert "upf-cluster01-n3-ipv4" in outcome.errors[0]["message"]


def _missing_dnn(outcome: Outcome, docs: list[dict[str, Any]]) -> None:
    assert error_refs(outcome) == {("DataNetwork", "internet", "spec.networkInstance.name"),
                                   ("DataNetwork", "internet", "status.pools")}
    assert any("upf-cluster01-internet-pool1" in e["message"] for e in outcome.errors)


def _without_kptfile(outcome: Outcome, docs: list[dict[str, Any]]) -> None:
    # nfdeploy-fn refuses any package without a Kptfile; this one holds no NFDeployment,
    # so there is nothing to fill or record and nfdeploy leaves it alone. With an
    # NFDeployment, the missing Kptfile is the error it is in nfdeploy-fn.
    assert outcome.code == 0
    assert outcome.items == normalized(docs)
    nfd = {"apiVersion": "workload.nephio.org/v1alpha1", "kind": "NFDeployment",
           "metadata": {"name": "upf-cluster01"}, "spec": {"provider": "upf.free5gc.io"}}
    with_nfd = nfdeploy_on([*docs, nfd])
    assert with_nfd.code == 1
    assert [e["message"] for e in with_nfd.errors] == [
        "the package has no root Kptfile: nfdeploy records the specialization in its "
        "status.conditions, as Nephio does"]


@dataclass(frozen=True)
class Differs:
    why: str
    check: Callable[[Outcome, list[dict[str, Any]]], None]


DIFFERS: dict[str, Differs] = {
    "nfdeployment_stage1": Differs(WAITS, _stage1),
    "missingipclaimstatus": Differs(WAITS, _missing_ip),
    "missingdnnstatus": Differs(f"{WAITS} Also: {OLD_FIELD}", _missing_dnn),
    "missingcapacity": Differs(
        f"{OLD_FIELD} Without that DataNetwork the case is test_missing_capacity_...",
        _missing_dnn),
    "missingKptFile": Differs("see _without_kptfile", _without_kptfile),
}


def test_every_nfdeploy_fn_case_has_an_expectation() -> None:
    assert {c.name for c in CASES} == set(FILLS) | set(DIFFERS)


@pytest.mark.parametrize("name", FILLS)
def test_the_package_is_what_nfdeploy_fn_writes(name: str) -> None:
    case = DATA / "golden" / name
    outcome = nfdeploy_on(package_docs(case))
    assert outcome.code == 0, outcome.errors
    assert outcome.items == expected(case)


@pytest.mark.parametrize("name", FILLS)
def test_the_same_answers_on_our_claims_give_the_same_spec(name: str) -> None:
    case = DATA / "golden" / name
    docs = with_our_claims(package_docs(case))
    assert not any("status" in d for d in docs if d["kind"] in ("Interface",)), \
        "the copy still holds Nephio's statuses"
    outcome = nfdeploy_on(docs)
    assert outcome.code == 0, outcome.errors
    assert spec_of(outcome.items) == spec_of(expected(case))
    kptfile = ("Kptfile", expected(case)[next(k for k in expected(case) if k[0] == "Kptfile")][
        "metadata"]["name"])
    assert outcome.items[kptfile] == expected(case)[kptfile]


@pytest.mark.parametrize("name", sorted(DIFFERS))
def test_where_we_differ_on_purpose(name: str) -> None:
    case = next(c for c in CASES if c.name == name)
    docs = package_docs(case)
    outcome = nfdeploy_on(docs)
    differs = DIFFERS[name]
    assert differs.why
    if outcome.code:
        assert outcome.items == normalized(docs), "a failed run wrote something"
    differs.check(outcome, docs)


def test_missing_capacity_leaves_spec_capacity_out_as_nfdeploy_fn_does() -> None:
    """failure/missingcapacity, with its DataNetwork (see OLD_FIELD) taken out of our copy:
    no Capacity, so no `spec.capacity`; everything else as nfdeploy-fn writes it."""
    case = DATA / "failure" / "missingcapacity"
    docs = [d for d in package_docs(case) if d["kind"] != "DataNetwork"]
    outcome = nfdeploy_on(docs)
    assert outcome.code == 0, outcome.errors
    want = {k: v for k, v in expected(case).items() if k[0] != "DataNetwork"}
    assert outcome.items == want
    assert "capacity" not in spec_of(outcome.items)


# -- Nephio's free5gc blueprints, through our whole pipeline -----------------------------


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=[b.name for b in BLUEPRINTS])
def test_free5gc_blueprints_get_their_nfdeployment_filled(blueprint: Path) -> None:
    """Nephio's own AMF, SMF and UPF blueprints for a site, through ipam-inject,
    vlan-assign and policy-validate, then nfdeploy: the UPF's spec holds exactly what the
    claims were given. The AMF and SMF depend on the UPF package: until its objects are
    injected (`status.injected`, which the fleet fills) that is an error naming the
    Dependency; once injected, their specs are filled with it as a parameters reference."""
    outcome = conformance.pipeline(conformance.site(conformance.package_docs(blueprint),
                                                    "edge-07"))
    assert not outcome.failed, outcome.errors
    items = outcome.items
    filled = nfdeploy_on(items)
    dependencies = [d for d in items if d["kind"] == "Dependency"]
    if dependencies:
        assert filled.code == 1
        assert error_refs(filled) == {("Dependency", "upf", "status.injected")}
        for dependency in dependencies:
            dependency["status"] = {"injected": [
                {"name": "upf-edge-07", "namespace": "example",
                 "apiVersion": "ref.nephio.org/v1alpha1", "kind": "Config"}]}
        filled = nfdeploy_on(items)
    assert filled.code == 0, filled.errors
    spec = spec_of(filled.items)
    deployment = next(k[1] for k in filled.items if k[0] == "NFDeployment")
    claims = {(d["kind"], d["metadata"]["name"]): d.get("status") for d in items
              if d["kind"] in ("IPClaim", "VLANClaim")}
    owned = [d for d in items if d["kind"] == "Interface"
             and d["metadata"]["annotations"][OWNER] == f"{NFD}.{deployment}"
             and d["spec"]["networkInstance"]["name"] != "default"]
    assert [i["name"] for i in spec["interfaces"]] == sorted(d["metadata"]["name"]
                                                             for d in owned)
    for entry in spec["interfaces"]:
        ip = claims[("IPClaim", f"{deployment}-{entry['name']}-ipv4")]
        vlan = claims[("VLANClaim", f"{deployment}-{entry['name']}")]
        assert entry == {"name": entry["name"],
                         "ipv4": {"address": ip["prefix"], "gateway": ip["gateway"]},
                         "vlanID": vlan["vlanID"]}
    dnns = [n["dataNetworks"] for n in spec["networkInstances"] if "dataNetworks" in n]
    if "upf" in blueprint.name:
        assert dnns == [[{"name": "internet", "pool": [
            {"prefix": claims[("IPClaim", f"{deployment}-internet-pool{i}")]["prefix"]}
            for i in (1, 2, 3)]}]]
        assert spec["capacity"] == {"maxUplinkThroughput": "5G", "maxDownlinkThroughput": "5G"}
    else:
        assert dnns == []  # their DataNetwork asks for no pool
        assert spec["parametersRefs"] == [{"name": "upf-edge-07",
                                           "apiVersion": "ref.nephio.org/v1alpha1",
                                           "kind": "Config"}]
    again = nfdeploy_on(list(filled.items.values()))
    assert again.code == 0 and again.items == filled.items
