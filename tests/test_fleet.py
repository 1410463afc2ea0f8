"""`krmfn fleet render`: one blueprint, every site of an inventory, in process."""

from __future__ import annotations

import filecmp
import sqlite3
import subprocess
from pathlib import Path

import yaml
from kpt_support import script

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINT = ROOT / "examples" / "blueprint" / "upf-lite"


def _fleet(tmp: Path, inventory: Path, jobs: int = 2) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script("krmfn"), "fleet", "render", str(BLUEPRINT), "--sites",
                           str(inventory), "--out", str(tmp / "out"), "--ledger",
                           str(tmp / "ledger.sqlite"), "--jobs", str(jobs), "--no-progress"],
                          capture_output=True, text=True, timeout=300)


def _claims(site: Path) -> dict[str, str]:
    out = {}
    for path in site.glob("ipclaim_*.yaml"):
        claim = yaml.safe_load(path.read_text())
        out[claim["metadata"]["name"]] = claim["status"]["prefix"]
    return out


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    return all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def test_every_site_rendered_with_its_own_allocations(tmp_path: Path) -> None:
    inventory = tmp_path / "sites.yaml"
    sites = yaml.safe_load((ROOT / "examples" / "sites.yaml").read_text())
    sites += [{"name": f"extra-{i}", "siteCode": f"x{i}", "cnis": ["macvlan"],
               "masterInterface": "eth2"} for i in range(5)]
    inventory.write_text(yaml.safe_dump(sites))
    proc = _fleet(tmp_path, inventory)
    assert proc.returncode == 0, proc.stderr
    assert "8 of 8 sites rendered" in proc.stdout
    seen: dict[str, str] = {}
    for site in sorted((tmp_path / "out").iterdir()):
        upf = yaml.safe_load((site / "upf.yaml").read_text())
        assert upf["metadata"]["namespace"] == site.name  # the package context follows
        for claim, prefix in _claims(site).items():
            assert prefix not in seen, f"{site.name} {claim} and {seen[prefix]} share {prefix}"
            seen[prefix] = f"{site.name} {claim}"
    assert len(seen) == 8 * 4
    before = tmp_path / "before"
    subprocess.run(["cp", "-a", str(tmp_path / "out"), str(before)], check=True)
    again = _fleet(tmp_path, inventory, jobs=1)
    assert again.returncode == 0, again.stderr
    assert _same_tree(tmp_path / "out", before)  # a second render changes nothing


def test_a_bad_inventory_is_a_clear_error(tmp_path: Path) -> None:
    inventory = tmp_path / "sites.yaml"
    inventory.write_text("- siteCode: nameless\n")
    proc = _fleet(tmp_path, inventory)
    assert proc.returncode == 1
    assert proc.stderr.startswith("krmfn fleet: error:") and "name" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_same_tree_at_any_number_of_jobs(tmp_path: Path) -> None:
    """Allocation follows the inventory's order, not the scheduler's: on a fresh ledger,
    1, 2 or 4 worker processes give byte-identical trees (and ledgers with the same rows)."""
    inventory = tmp_path / "sites.yaml"
    inventory.write_text(yaml.safe_dump([
        {"name": f"site-{i:02d}", "clusterName": f"cluster-{i % 5}", "siteCode": f"s{i}",
         "cnis": ["macvlan"], "masterInterface": "eth1"} for i in range(24)]))
    trees, ledgers = [], []
    for jobs in (1, 2, 4):
        run = tmp_path / f"jobs-{jobs}"
        run.mkdir()
        proc = _fleet(run, inventory, jobs=jobs)
        assert proc.returncode == 0, proc.stderr
        trees.append(run / "out")
        with sqlite3.connect(run / "ledger.sqlite") as db:
            ledgers.append(sorted(db.execute("SELECT owner, prefix FROM ip_allocations")) +
                           sorted(db.execute("SELECT owner, vlan_id FROM vlan_allocations")))
        db.close()
    def contents(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file()}

    first = contents(trees[0])
    assert len(first) > 24 * 5
    for other in trees[1:]:
        assert contents(other) == first, f"{other} differs from {trees[0]}"
    assert ledgers[0] and ledgers[1] == ledgers[0] and ledgers[2] == ledgers[0]


def test_exec_steps_run_only_with_allow_exec_from_the_blueprint(tmp_path: Path) -> None:
    """As `kpt fn render --allow-exec`: without it the site fails naming the flag and its
    directory holds the blueprint's copy; with it the step runs (from the blueprint's
    directory, as the fleet of PackageVariantSets runs it), first render and again."""
    import shutil
    import sys

    bp = tmp_path / "bp"
    shutil.copytree(BLUEPRINT, bp)
    (bp / "stamp.py").write_text(
        f"#!{sys.executable}\nimport sys, yaml\nrl = yaml.safe_load(sys.stdin)\n"
        "for item in rl['items']:\n"
        "    item['metadata'].setdefault('labels', {})['stamped'] = 'yes'\n"
        "yaml.safe_dump(rl, sys.stdout)\n")
    (bp / "stamp.py").chmod(0o755)
    kptfile = yaml.safe_load((bp / "Kptfile").read_text())
    kptfile["pipeline"]["mutators"].append(
        {"exec": "./stamp.py", "selectors": [{"kind": "Deployment"}]})
    (bp / "Kptfile").write_text(yaml.safe_dump(kptfile, sort_keys=False))
    inventory = tmp_path / "sites.yaml"
    sites = yaml.safe_load((ROOT / "examples" / "sites.yaml").read_text())[:1]
    inventory.write_text(yaml.safe_dump(sites))
    name = sites[0]["metadata"]["name"]

    def render(out: str, *more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([script("krmfn"), "fleet", "render", str(bp), "--sites",
                               str(inventory), "--out", str(tmp_path / out), "--jobs", "1",
                               "--no-progress", *more], capture_output=True, text=True,
                              timeout=300)

    refused = render("refused")
    assert refused.returncode == 1 and "--allow-exec" in refused.stdout + refused.stderr
    assert "stamped" not in "".join(f.read_text() for f in
                                    (tmp_path / "refused" / name).glob("*.yaml"))
    for _ in range(2):  # a new site, then the same site rendered again in place
        done = render("out", "--allow-exec")
        assert done.returncode == 0, done.stdout + done.stderr
        deployments = [d for f in (tmp_path / "out" / name).glob("*.yaml")
                       for d in yaml.safe_load_all(f.read_text())
                       if d and d.get("kind") == "Deployment"]
        assert deployments and all(d["metadata"]["labels"]["stamped"] == "yes"
                                   for d in deployments)
