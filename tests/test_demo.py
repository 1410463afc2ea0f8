"""The demo flow end to end: one blueprint, three sites, one shared ledger, real kpt.

The same checks run on our upf-lite blueprint and on Nephio's free5gc UPF blueprint (its
pipeline replaced by ours): every Interface ends up with an allocated IPClaim, a VLANClaim
and a NAD carrying both; namespaces follow the package context; policy-validate passes;
no two sites share an address or a subnet; a second run changes no file.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import netaddr  # type: ignore[import-untyped,unused-ignore]
import pytest
import yaml
from kpt_support import CONFORMANCE, diff, needs_kpt, needs_shared, render, scratch_package

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINT = ROOT / "examples" / "blueprint" / "upf-lite"
INVENTORY = ROOT / "examples" / "sites.yaml"
NEPHIO_UPF = CONFORMANCE / "nephio-fn" / "catalog" / "workloads" / "free5gc" / "pkg-example-upf-bp"
OWNER = "specializer.nephio.org/owner"

pytestmark = [pytest.mark.kpt, needs_kpt]


def _load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("krmfn_demo", ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


def three_sites(tmp_path: Path) -> tuple[Path, list[str]]:
    """The first three sites of the example inventory, as an inventory of their own."""
    entries = yaml.safe_load(INVENTORY.read_text())[:3]
    assert len(entries) == 3
    path = tmp_path / "sites.yaml"
    path.write_text(yaml.safe_dump(entries, sort_keys=False))
    return path, [e["metadata"]["name"] for e in entries]


def snapshot(out: Path, sites: list[str]) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes()
            for site in sites for p in sorted((out / site).rglob("*")) if p.is_file()}


def render_all(blueprint: Path, inventory: Path, out: Path) -> list[Any]:
    reports = demo.run_demo(blueprint, inventory, out, with_kpt=True, log=lambda *_: None)
    problems = {r.site: r.messages for r in reports if not r.ok}
    assert not problems, f"render failed: {json.dumps(problems, indent=1)}"
    return list(reports)


def assert_rerun_changes_nothing(blueprint: Path, inventory: Path, out: Path,
                                 sites: list[str]) -> None:
    before = snapshot(out, sites)
    render_all(blueprint, inventory, out)
    after = snapshot(out, sites)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the second run changed {changed}"


# --- what one rendered package must hold -----------------------------------------------


def by_kind(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r.get("kind") == kind]


def owned(resources: list[dict[str, Any]], kind: str, interface: str) -> list[dict[str, Any]]:
    """Resources of `kind` whose owner annotation names the Interface."""
    return [r for r in by_kind(resources, kind)
            if (r["metadata"].get("annotations") or {}).get(OWNER)
            == f"req.nephio.org/v1alpha1.Interface.{interface}"]


def is_local(obj: dict[str, Any]) -> bool:
    annotations = obj["metadata"].get("annotations") or {}
    return str(annotations.get("config.kubernetes.io/local-config", "")).lower() == "true"


def attached_interfaces(resources: list[dict[str, Any]]) -> list[str]:
    """Interfaces that need an attachment (a CNI on a VLAN); Nephio's default-network
    Interface (sbi, no cniType) needs none."""
    return [str(i["metadata"]["name"]) for i in by_kind(resources, "Interface")
            if i["spec"].get("cniType") and i["spec"].get("attachmentType") == "vlan"]


def check_attachment(resources: list[dict[str, Any]], interface: str,
                     namespace: str) -> tuple[str, netaddr.IPNetwork]:
    """The Interface's IPClaim, VLANClaim and NAD agree; returns (instance, address)."""
    ip_claims = [c for c in owned(resources, "IPClaim", interface)
                 if c["spec"].get("kind", "network") == "network"]
    assert len(ip_claims) == 1, f"{interface}: IPClaims {ip_claims}"
    status = ip_claims[0].get("status") or {}
    assert status.get("prefix") and status.get("gateway"), f"{interface}: IPClaim {status}"
    address = netaddr.IPNetwork(status["prefix"])
    assert netaddr.IPAddress(status["gateway"]) in address.cidr

    vlan_claims = owned(resources, "VLANClaim", interface)
    assert len(vlan_claims) == 1, f"{interface}: VLANClaims {vlan_claims}"
    vlan = (vlan_claims[0].get("status") or {}).get("vlanID")
    assert isinstance(vlan, int) and 1 <= vlan <= 4094, f"{interface}: vlanID {vlan!r}"

    nads = owned(resources, "NetworkAttachmentDefinition", interface)
    assert len(nads) == 1, f"{interface}: NADs {nads}"
    nad = nads[0]
    assert nad["metadata"].get("namespace") == namespace, f"{interface}: NAD namespace"
    config = json.loads(nad["spec"]["config"])
    plugin = (config.get("plugins") or [config])[0]
    assert str(plugin.get("master", "")).endswith(f".{vlan}") or plugin.get("vlan") == vlan, (
        f"{interface}: NAD {plugin} does not carry VLAN {vlan}")
    addresses = (plugin.get("ipam") or {}).get("addresses") or []
    assert {"address": status["prefix"], "gateway": status["gateway"]} in [
        {k: a.get(k) for k in ("address", "gateway")} for a in addresses
    ], f"{interface}: NAD {plugin} does not carry {status}"
    return str(ip_claims[0]["spec"]["networkInstance"]["name"]), address


def check_site(out: Path, site: str) -> dict[str, list[netaddr.IPNetwork]]:
    """One site's package is complete; returns its addresses and blocks per instance."""
    resources = demo.read_resources(out / site)
    context = next(r for r in by_kind(resources, "ConfigMap")
                   if r["metadata"]["name"] == "kptfile.kpt.dev")
    namespace = context["data"]["name"]
    assert namespace == site  # kpt pkg get --for-deployment names it after the directory
    for obj in resources:
        if obj.get("kind") == "Namespace":
            assert obj["metadata"]["name"] == namespace
        elif obj.get("kind") in ("Deployment", "NFDeployment", "NetworkAttachmentDefinition"):
            assert obj["metadata"].get("namespace") == namespace, obj["metadata"]
    interfaces = attached_interfaces(resources)
    assert interfaces
    held: dict[str, list[netaddr.IPNetwork]] = {}
    for interface in interfaces:
        instance, address = check_attachment(resources, interface, namespace)
        held.setdefault(instance, []).append(address)
    for claim in by_kind(resources, "IPClaim"):
        if claim["spec"].get("kind") == "pool":
            prefix = (claim.get("status") or {}).get("prefix")
            assert prefix, f"pool claim {claim['metadata']['name']} has no prefix"
            held.setdefault(claim["spec"]["networkInstance"]["name"], []).append(
                netaddr.IPNetwork(prefix))
    vlans = [c["status"]["vlanID"] for c in by_kind(resources, "VLANClaim")]
    assert len(vlans) == len(set(vlans)), f"{site}: VLANs {vlans} repeat"
    return held


def check_site_values(pkg: Path, entry: dict[str, Any]) -> None:
    """The site's facts and setter values reached the workload."""
    deployment = next(r for r in demo.read_resources(pkg) if r.get("kind") == "Deployment")
    assert deployment["metadata"]["labels"]["nephio.org/site"] == entry["site"]["siteCode"]
    values = entry.get("values") or {}
    assert deployment["spec"]["replicas"] == int(values.get("replicas", 1))
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":" + str(values.get("upf-tag", "1.4.2"))), image


def check_fleet(out: Path, sites: list[str], reports: list[Any]) -> None:
    assert [r.verdict for r in reports] == ["pass"] * len(sites)
    seen: list[tuple[str, str, netaddr.IPNetwork]] = []
    for site in sites:
        for instance, nets in check_site(out, site).items():
            for net in nets:
                for other_site, other_instance, other in seen:
                    if other_site != site and other_instance == instance:
                        assert net.cidr not in other.cidr and other.cidr not in net.cidr, (
                            f"{site} {net} and {other_site} {other} share {instance}")
                seen.append((site, instance, net))


# --- the two blueprints ----------------------------------------------------------------


def test_blueprint_renders_as_it_is(tmp_path: Path) -> None:
    """Its own site.yaml describes a sample site: no ledger, no inventory needed."""
    pkg = scratch_package(BLUEPRINT, tmp_path / "upf-lite")
    render(pkg)
    resources = demo.read_resources(pkg)
    for interface in attached_interfaces(resources):
        check_attachment(resources, interface, "example")
    again = scratch_package(pkg, tmp_path / "again")
    render(again)
    assert diff(again) == ""


def test_upf_lite_for_three_sites(tmp_path: Path) -> None:
    inventory, sites = three_sites(tmp_path)
    out = tmp_path / "demo-out"
    reports = render_all(BLUEPRINT, inventory, out)
    check_fleet(out, sites, reports)
    kptfile = yaml.safe_load((out / sites[0] / "Kptfile").read_text())
    assert kptfile["upstream"]["git"]["directory"] == "/upf-lite"  # a real kpt pkg get
    assert kptfile["upstreamLock"]["git"]["commit"]
    namespace, rows = demo.summarize(out / sites[0])
    assert namespace == sites[0]
    assert [row.interface for row in rows] == ["n3", "n4", "n6", "internet-ue-pool (pool)"]
    for entry in yaml.safe_load(inventory.read_text()):
        check_site_values(out / entry["metadata"]["name"], entry)
    assert_rerun_changes_nothing(BLUEPRINT, inventory, out, sites)


def test_a_site_fetched_again_gets_its_allocations_back(tmp_path: Path) -> None:
    """The shared ledger remembers each site: a package deleted and fetched again from the
    blueprint (no statuses) is given the same addresses and VLANs."""
    inventory, sites = three_sites(tmp_path)
    out = tmp_path / "demo-out"
    render_all(BLUEPRINT, inventory, out)
    before = demo.summarize(out / sites[1])
    shutil.rmtree(out / sites[1])
    render_all(BLUEPRINT, inventory, out)
    assert demo.summarize(out / sites[1]) == before


@needs_shared
def test_nephio_upf_blueprint_for_three_sites(tmp_path: Path) -> None:
    blueprint = tmp_path / "blueprints" / "pkg-example-upf-bp"
    shutil.copytree(NEPHIO_UPF, blueprint)
    theirs = (blueprint / "Kptfile").read_text()
    ours = (BLUEPRINT / "Kptfile").read_text()
    # Their pipeline (apply-replacements and Nephio's own functions) is replaced by ours.
    (blueprint / "Kptfile").write_text(
        theirs[: theirs.index("pipeline:")] + ours[ours.index("pipeline:"):])
    shutil.copy(BLUEPRINT / "site.yaml", blueprint / "site.yaml")
    inventory, sites = three_sites(tmp_path)
    out = tmp_path / "demo-out"
    reports = render_all(blueprint, inventory, out)
    check_fleet(out, sites, reports)
    assert_rerun_changes_nothing(blueprint, inventory, out, sites)
