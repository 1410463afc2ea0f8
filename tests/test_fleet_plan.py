"""`krmfn fleet plan`: what a render would create, change or remove, and why, checked
against what the render then does (a package called unchanged keeps every byte)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fleet_support import tree
from krmfn_fleet import render_variant_fleet
from krmfn_fleet.plan import Change, plan

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"
EDGE = {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
        "metadata": {"name": "edge-nce-01", "labels": {"nephio.org/site-type": "edge",
                                                       "nephio.org/region": "eu-west"}},
        "spec": {"clusterName": "edge-nce-01", "cnis": ["macvlan"], "masterInterface": "eth1"}}


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A copy of the example, rendered once into fleet/out with its ledger beside it."""
    root = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, root)
    outcomes = render_variant_fleet(root, root / "out", ledger=tmp_path / "ledger.db")
    assert all(o.ok for o in outcomes)
    return root


def _pending(changes: list[Change]) -> dict[str, tuple[str, list[str]]]:
    return {c.key: (c.action, c.reasons) for c in changes if c.action != "unchanged"}


def _packages(out: Path) -> dict[str, dict[str, bytes]]:
    return {f"{c.name}/{p.name}": tree(p) for c in out.iterdir() if c.is_dir()
            for p in c.iterdir()}


def _cli(fleet: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "krmfn_fleet", "plan", str(fleet), "--out",
                           str(fleet / "out"), "--detailed-exitcode"],
                          capture_output=True, text=True, check=False)


def _check_render_agrees(fleet: Path, changes: list[Change]) -> None:
    before = _packages(fleet / "out")
    render_variant_fleet(fleet, fleet / "out", ledger=fleet.parent / "ledger.db")
    after = _packages(fleet / "out")
    for c in changes:
        if c.action == "unchanged":
            assert after[c.key] == before[c.key], c.key
        elif c.action == "created":
            assert c.key in after and c.key not in before
        elif c.action == "removed":
            assert c.key not in after and c.key in before
        else:
            assert after[c.key] != before[c.key], c.key
    assert _pending(plan(fleet, fleet / "out")) == {}


def test_a_fresh_render_plans_nothing(fleet: Path) -> None:
    before = tree(fleet)
    result = _cli(fleet)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "0 created, 0 changed, 0 removed, 14 unchanged\n"
    assert tree(fleet) == before


def test_adding_an_edge_site_touches_its_upf_and_its_regions_core(fleet: Path) -> None:
    with (fleet / "clusters.yaml").open("a") as f:
        f.write("---\n" + yaml.safe_dump(EDGE, sort_keys=False))
    before = tree(fleet)
    result = _cli(fleet)
    assert tree(fleet) == before  # the plan writes nothing
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "changed   core-eu-west/free5gc-amf (injected dependency changed "
        "core-eu-west/free5gc-smf)",
        "changed   core-eu-west/free5gc-smf (new dependency edge-nce-01/free5gc-upf)",
        "created   edge-nce-01/free5gc-upf (newly placed)",
        "1 created, 2 changed, 0 removed, 12 unchanged",
    ]
    _check_render_agrees(fleet, plan(fleet, fleet / "out"))


def test_a_site_that_loses_its_label_is_removed_with_its_package(fleet: Path) -> None:
    docs = list(yaml.safe_load_all((fleet / "clusters.yaml").read_text()))
    [lyon] = [d for d in docs if d["metadata"]["name"] == "edge-lyo-01"]
    lyon["metadata"]["labels"]["nephio.org/site-type"] = "retired"
    (fleet / "clusters.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    changes = plan(fleet, fleet / "out")
    assert _pending(changes) == {
        "core-eu-west/free5gc-amf": ("changed",
                                     ["injected dependency changed core-eu-west/free5gc-smf"]),
        "core-eu-west/free5gc-smf": ("changed", ["dependency gone edge-lyo-01/free5gc-upf"]),
        "edge-lyo-01/free5gc-upf": ("removed", ["no longer placed"]),
    }
    ledger = fleet.parent / "ledger.db"
    held = subprocess.run([sys.executable, "-m", "krmfn._run.cli", "ledger", "list", "--ledger",
                           str(ledger), "--cluster", "edge-lyo-01", "--package", "free5gc-upf"],
                          capture_output=True, text=True, check=True).stdout
    assert "upf-edge-lyo-01-n4-ipv4" in held
    _check_render_agrees(fleet, changes)
    assert not (fleet / "out" / "edge-lyo-01").exists()
    held = subprocess.run([sys.executable, "-m", "krmfn._run.cli", "ledger", "list", "--ledger",
                           str(ledger), "--cluster", "edge-lyo-01", "--package", "free5gc-upf"],
                          capture_output=True, text=True, check=True).stdout
    assert held == ""  # its allocations were released


def test_site_facts_and_blueprints_are_reasons_of_their_own(fleet: Path) -> None:
    docs = list(yaml.safe_load_all((fleet / "clusters.yaml").read_text()))
    [berlin] = [d for d in docs if d["metadata"]["name"] == "edge-ber-01"]
    berlin["spec"]["masterInterface"] = "ens9"
    (fleet / "clusters.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    smf = fleet / "repositories" / "free5gc" / "smf" / "capacity.yaml"
    smf.write_text(smf.read_text().replace("maxSessions: 500", "maxSessions: 800"))
    changes = plan(fleet, fleet / "out")
    assert _pending(changes) == {
        "edge-ber-01/free5gc-upf": ("changed", ["site facts changed"]),
        "core-eu-central/free5gc-smf": ("changed", [
            "blueprint changed", "injected dependency changed edge-ber-01/free5gc-upf"]),
        "core-eu-central/free5gc-amf": ("changed", [
            "injected dependency changed core-eu-central/free5gc-smf"]),
        "core-eu-west/free5gc-smf": ("changed", ["blueprint changed"]),
        "core-eu-west/free5gc-amf": ("changed", [
            "injected dependency changed core-eu-west/free5gc-smf"]),
        "core-us-east/free5gc-smf": ("changed", ["blueprint changed"]),
        "core-us-east/free5gc-amf": ("changed", [
            "injected dependency changed core-us-east/free5gc-smf"]),
    }
    _check_render_agrees(fleet, changes)


def test_a_package_deleted_from_the_output_is_created_again(fleet: Path) -> None:
    shutil.rmtree(fleet / "out" / "edge-bos-01" / "free5gc-upf")
    assert _pending(plan(fleet, fleet / "out")) == {
        "edge-bos-01/free5gc-upf": ("created", ["missing from the output"])}


def test_render_skips_what_the_plan_calls_unchanged_and_a_full_render_agrees(
        fleet: Path) -> None:
    with (fleet / "clusters.yaml").open("a") as f:
        f.write("---\n" + yaml.safe_dump(EDGE, sort_keys=False))
    pending = set(_pending(plan(fleet, fleet / "out")))
    outcomes = render_variant_fleet(fleet, fleet / "out", ledger=fleet.parent / "ledger.db")
    assert all(o.ok for o in outcomes)
    assert {o.key for o in outcomes if not o.skipped} == pending
    smf = yaml.safe_load((fleet / "out" / "core-eu-west" / "free5gc-smf" /
                          "dependency-upf-edge-nce-01.yaml").read_text())
    assert smf["spec"]["config"]["metadata"]["name"] == "upf-edge-nce-01"
    incremental = tree(fleet / "out")
    forced = render_variant_fleet(fleet, fleet / "out", ledger=fleet.parent / "ledger.db",
                                  force=True)
    assert not any(o.skipped for o in forced)
    assert tree(fleet / "out") == incremental
