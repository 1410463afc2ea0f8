"""Releasing allocations: a package rendered again without a claim frees what the claim held
(and a subnet no address is left in), so the next claim gets it; a run that cannot tell its
package, or that fails, releases nothing; `krmfn ledger list|show|release` does the rest.

Through the functions in process, under `kpt fn render`, and in `krmfn fleet render`.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kpt_support import needs_kpt, render, script
from test_ledger_owner import package, run

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINT = ROOT / "examples" / "blueprint" / "upf-lite"


def rows(ledger: Path, table: str = "ip_allocations") -> dict[str, tuple[str, ...]]:
    with sqlite3.connect(ledger) as db:
        column = "prefix" if table == "ip_allocations" else "vlan_id"
        found = {str(r[0]): tuple(str(v) for v in r[1:]) for r in
                 db.execute(f"SELECT owner, {column}, cluster, package, claim FROM {table}")}
    db.close()
    return found


# -- in process ---------------------------------------------------------------------------

CLAIMS = ["n3", "n4", "n6"]


@pytest.mark.parametrize("kind", ["network", "pool"])
@pytest.mark.parametrize("removed", CLAIMS)
@pytest.mark.parametrize("how", ["kptfile", "context"])
def test_a_claim_removed_from_a_package_frees_what_it_held_for_the_next_claim(
        tmp_path: Path, kind: str, removed: str, how: str) -> None:
    ledger = tmp_path / "ledger.sqlite"
    before, _ = run(package("upf", "edge-01", [(c, kind) for c in CLAIMS], how=how), ledger)
    kept = [c for c in CLAIMS if c != removed]
    after, results = run(package("upf", "edge-01", [(c, kind) for c in kept], how=how), ledger)
    assert {k: v for k, v in after.items() if removed not in k} == \
        {k: v for k, v in before.items() if removed not in k}  # the others keep theirs
    messages = [r["message"] for r in results]
    assert any(m.startswith("ledger: released") and f"core/{removed}" in m
               for m in messages if "IPClaim" in m), messages
    assert any("VLANClaim core/" + removed in m for m in messages), messages
    assert not [k for k in rows(ledger) if k.endswith(f"/{removed}")]
    assert not [k for k in rows(ledger, "vlan_allocations") if k.endswith(f"/{removed}")]
    # What it held is the lowest free again: a new claim of another package takes it.
    other, _ = run(package("smf", "edge-01", [("n9", kind)], how=how), ledger)
    assert other["ip n9"] == before[f"ip {removed}"]
    assert other["vlan n9"] == before[f"vlan {removed}"]


def test_a_run_that_cannot_tell_its_package_releases_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    run(package("upf", "edge-01", [("n3", "network"), ("n4", "network")]), ledger)
    held = rows(ledger)
    # The same cluster, no Kptfile and no package context (as a step with selectors sees
    # it): its claims are filed under the cluster alone, nothing of upf's is touched.
    run(package("upf", "edge-01", [("n3", "network")], how="none"), ledger)
    after = rows(ledger)
    assert {k: v for k, v in after.items() if k in held} == held
    assert "edge-01/core/n3" in after


def test_a_failed_run_releases_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    run(package("upf", "edge-01", [("n3", "network"), ("n4", "pool")]), ledger)
    held = rows(ledger), rows(ledger, "vlan_allocations")
    broken = package("upf", "edge-01", [("n3", "network")]) + (
        "---\napiVersion: ipam.resource.nephio.org/v1alpha1\nkind: IPClaim\nmetadata:\n"
        "  name: bad\n  namespace: core\nspec:\n  kind: pool\n  prefixLength: 28\n"
        "  networkInstance:\n    name: nowhere\n")
    from krmfn_catalog.ipam_inject import ipam_inject

    text = yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                           "items": list(yaml.safe_load_all(broken)),
                           "functionConfig": {"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"name": "c"},
                                              "data": {"ledger": str(ledger)}}})
    assert ipam_inject.run_text(text).exit_code == 1
    assert (rows(ledger), rows(ledger, "vlan_allocations")) == held


def test_the_last_claim_gone_frees_the_package_and_its_subnet(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    first, _ = run(package("upf", "edge-01", [("n3", "network")]), ledger)
    assert any(k.startswith("subnet|") for k in rows(ledger))
    run(package("upf", "edge-01", []), ledger)
    assert rows(ledger) == {} and rows(ledger, "vlan_allocations") == {}
    # the subnet went back to the pool: another cluster's first subnet is that one
    other, _ = run(package("upf", "edge-02", [("n3", "network")]), ledger)
    assert other["ip n3"] == first["ip n3"]


def test_a_subnet_another_package_still_uses_stays(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    run(package("upf", "edge-01", [("n3", "network")]), ledger)
    smf, _ = run(package("smf", "edge-01", [("n3", "network")]), ledger)
    run(package("upf", "edge-01", []), ledger)
    subnets = [k for k in rows(ledger) if k.startswith("subnet|")]
    assert len(subnets) == 1
    again, _ = run(package("smf", "edge-01", [("n3", "network")]), ledger)
    assert again == smf


# -- under kpt, and in the fleet ------------------------------------------------------------


def _addresses(pkg: Path) -> dict[str, Any]:
    """IPClaim name -> status.prefix and VLANClaim name -> status.vlanID of a package."""
    out: dict[str, Any] = {}
    for path in sorted(pkg.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in ("IPClaim", "VLANClaim"):
                status = doc.get("status") or {}
                out[f"{doc['kind']} {doc['metadata']['name']}"] = status.get(
                    "prefix", status.get("vlanID"))
    return out


def _of(addresses: dict[str, Any], interface: str) -> dict[str, Any]:
    """The answers of an Interface's claims, by kind."""
    return {k.split()[0]: v for k, v in addresses.items()
            if interface in k.split()[1].split("-")}


def _blueprint_without_n6(dst: Path) -> Path:
    """The blueprint with its Interface n6 replaced by an Interface n7 on the same network."""
    shutil.copytree(BLUEPRINT, dst)
    interfaces = dst / "interfaces.yaml"
    text = interfaces.read_text()
    head, n6 = text.split("---\napiVersion: req.nephio.org/v1alpha1\nkind: Interface\n"
                          "metadata:\n  name: n6\n")
    interfaces.write_text(head + "---\napiVersion: req.nephio.org/v1alpha1\nkind: Interface\n"
                          "metadata:\n  name: n7\n" + n6)
    return dst


@needs_kpt
def test_kpt_render_of_a_package_whose_blueprint_lost_a_claim(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"

    def with_ledger(pkg: Path) -> Path:
        kptfile = pkg / "Kptfile"
        text = kptfile.read_text()
        for fn in ("ipam-inject", "vlan-assign"):
            text = text.replace(f"- image: ghcr.io/krmfn/{fn}:v0.1.0\n",
                                f"- image: ghcr.io/krmfn/{fn}:v0.1.0\n"
                                f"    configMap:\n      ledger: {ledger}\n")
        kptfile.write_text(text)
        return pkg

    first = tmp_path / "site"
    shutil.copytree(BLUEPRINT, first)
    render(with_ledger(first))
    before = _addresses(first)
    # The blueprint changed (n6 gone, n7 new): the site is rendered afresh from it.
    shutil.rmtree(first)
    with_ledger(_blueprint_without_n6(first))
    render(first)
    after = _addresses(first)
    assert not _of(after, "n6")
    assert _of(after, "n7") == _of(before, "n6")  # n6's address and VLAN, free again
    assert not [k for k in rows(ledger) if "/n6" in k]


def test_the_fleet_frees_what_a_site_no_longer_claims(tmp_path: Path) -> None:
    inventory = tmp_path / "sites.yaml"
    inventory.write_text(yaml.safe_dump([{"name": f"edge-{i}", "cnis": ["macvlan"],
                                          "masterInterface": "eth1"} for i in range(3)]))
    ledger = tmp_path / "ledger.sqlite"

    def fleet(blueprint: Path, out: Path) -> None:
        proc = subprocess.run([script("krmfn"), "fleet", "render", str(blueprint), "--sites",
                               str(inventory), "--out", str(out), "--ledger", str(ledger),
                               "--jobs", "2", "--no-progress"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr

    fleet(BLUEPRINT, tmp_path / "one")
    changed = _blueprint_without_n6(tmp_path / "bp")
    fleet(changed, tmp_path / "two")
    for i in range(3):
        before = _addresses(tmp_path / "one" / f"edge-{i}")
        after = _addresses(tmp_path / "two" / f"edge-{i}")
        assert _of(before, "n6") and not _of(after, "n6")
        assert _of(after, "n7") == _of(before, "n6")
        assert {k: v for k, v in after.items() if "n7" not in k} == \
            {k: v for k, v in before.items() if "n6" not in k}
