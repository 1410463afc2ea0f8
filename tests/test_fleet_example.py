"""examples/fleet end to end: every UPF at the edge, SMF and AMF at each regional core,
each SMF given exactly the UPFs of its region with their allocated N4 addresses."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from fleet_support import tree
from kpt_support import diff, needs_kpt, render, scratch_package
from krmfn_fleet import render_variant_fleet

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"


def _docs(pkg: Path) -> list[dict[str, Any]]:
    return [d for f in sorted(pkg.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text())
            if d]


def _nf(pkg: Path) -> dict[str, Any]:
    [nf] = [d for d in _docs(pkg) if d["kind"] == "NFDeployment"]
    return nf


def _n4(nf: dict[str, Any]) -> str:
    [n4] = [i for i in nf["spec"]["interfaces"] if i["name"] == "n4"]
    return str(n4["ipv4"]["address"])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet") / "out"
    outcomes = render_variant_fleet(EXAMPLE, out, ledger=out.parent / "ledger.db")
    assert [o.messages for o in outcomes if not o.ok] == []
    return out


def _regions() -> dict[str, dict[str, list[str]]]:
    """From the example's clusters: region -> site type -> cluster names."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for doc in yaml.safe_load_all((EXAMPLE / "clusters.yaml").read_text()):
        labels = doc["metadata"]["labels"]
        out[labels["nephio.org/region"]][labels["nephio.org/site-type"]].append(
            doc["metadata"]["name"])
    return out


def test_each_cluster_holds_what_its_site_type_asks_for(rendered: Path) -> None:
    regions = _regions()
    expected = {c: ["free5gc-upf"] for r in regions.values() for c in r["edge"]}
    expected |= {c: ["free5gc-amf", "free5gc-smf"] for r in regions.values() for c in r["core"]}
    assert {c.name: sorted(p.name for p in c.iterdir()) for c in rendered.iterdir()
            if c.is_dir() and not c.name.startswith(".")} == expected  # (OUT's own state)
    assert len(regions) == 3 and all(len(r["edge"]) >= 2 for r in regions.values())


def test_each_smf_is_given_exactly_the_upfs_of_its_region(rendered: Path) -> None:
    n4 = {edge: _n4(_nf(rendered / edge / "free5gc-upf"))
          for r in _regions().values() for edge in r["edge"]}
    assert len(set(n4.values())) == len(n4)  # one fleet-wide ledger: no address twice
    for region in _regions().values():
        [core] = region["core"]
        smf = rendered / core / "free5gc-smf"
        refs = _nf(smf)["spec"]["parametersRefs"]
        assert refs == [{"name": f"upf-{edge}", "apiVersion": "ref.nephio.org/v1alpha1",
                         "kind": "Config"} for edge in sorted(region["edge"])]
        configs = {d["metadata"]["name"]: d for d in _docs(smf) if d["kind"] == "Config"}
        assert sorted(configs) == [r["name"] for r in refs]
        for edge in region["edge"]:
            upf = configs[f"upf-{edge}"]["spec"]["config"]
            assert upf["metadata"]["name"] == f"upf-{edge}"
            assert _n4(upf) == n4[edge]  # the rendered UPF's address, not the blueprint's
        assert _n4(_nf(smf)) not in n4.values()


def test_each_amf_is_given_the_smf_of_its_region(rendered: Path) -> None:
    for region in _regions().values():
        [core] = region["core"]
        refs = _nf(rendered / core / "free5gc-amf")["spec"]["parametersRefs"]
        assert [r["name"] for r in refs] == [f"smf-{core}"]


def test_the_command_line_renders_the_same_tree_again(rendered: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "krmfn_fleet", "render", str(EXAMPLE),
                             "--out", str(out), "--ledger", str(tmp_path / "ledger.db")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"14 of 14 packages rendered into {out}"
    assert tree(out) == tree(rendered)


def test_the_demo_prints_each_smfs_peers_and_renders_again_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = [sys.executable, str(EXAMPLE.parents[1] / "scripts" / "demo_fleet.py"),
           "--out", str(out)]
    first = subprocess.run(run, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    for region in _regions().values():
        [core] = region["core"]
        at = lines.index(f"  free5gc-smf  smf-{core}: n4 {_n4(_nf(out / core / 'free5gc-smf'))}")
        peers = [line.split()[1] for line in lines[at + 1:] if line.startswith("    peer ")]
        peers = peers[:len(region["edge"]) + 1]
        assert peers[:len(region["edge"])] == [f"upf-{e}" for e in sorted(region["edge"])]
        assert not lines[at + 1 + len(region["edge"])].startswith("    peer ")
    at = lines.index("with one more edge site (edge-nce-01, eu-west), `krmfn fleet plan` says:")
    assert lines[at + 1:] == [
        "  changed  core-eu-west/free5gc-amf: injected dependency changed "
        "core-eu-west/free5gc-smf",
        "  changed  core-eu-west/free5gc-smf: new dependency edge-nce-01/free5gc-upf",
        "  created  edge-nce-01/free5gc-upf: newly placed",
        "  and 12 packages unchanged",
        "",
        "then `krmfn fleet render` renders those 3 and skips the 12 others:",
        "  core-eu-west/free5gc-amf  peers smf-core-eu-west",
        "  core-eu-west/free5gc-smf  peers upf-edge-bdx-01, upf-edge-lyo-01, upf-edge-nce-01, "
        "upf-edge-par-01",
        "  edge-nce-01/free5gc-upf",
    ]
    # the README shows this very output: each part of its excerpt (parts are separated by
    # blank lines, or by `...` where lines are left out), line for line
    readme = (EXAMPLE.parents[1] / "README.md").read_text()
    excerpt = readme.split("## A fleet of interconnected workloads, offline", 1)[1]
    excerpt = excerpt.split("```text\n", 1)[1].split("```", 1)[0]
    for paragraph in excerpt.strip("\n").replace("\n...\n", "\n\n").split("\n\n"):
        shown = paragraph.split("\n")
        assert any(lines[i:i + len(shown)] == shown for i in range(len(lines))), shown

    def packages() -> dict[str, bytes]:  # the ledger's own bytes are SQLite's business
        return {k: v for k, v in tree(out).items() if not k.startswith(".ledger")}

    rendered = packages()
    again = subprocess.run(run, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert packages() == rendered


@needs_kpt
@pytest.mark.kpt
@pytest.mark.parametrize("package", ["edge-par-01/free5gc-upf", "core-eu-west/free5gc-smf",
                                     "core-eu-west/free5gc-amf"])
def test_a_rendered_package_renders_again_under_kpt_unchanged(rendered: Path, tmp_path: Path,
                                                              package: str) -> None:
    pkg = scratch_package(rendered / package, tmp_path / "pkg")
    render(pkg)
    assert diff(pkg) == ""
