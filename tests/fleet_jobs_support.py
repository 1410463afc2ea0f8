"""Fleets for the parallel and distributed render tests: examples/fleet with more edge
sites, and a `jitter` function (registered through the `krmfn.functions` entry-point
group by a package installed in a directory of its own) that sleeps a random few
milliseconds before each package's pipeline goes on: whoever reaches the ledger first
then differs from run to run, as it would on a busy machine."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fleet"
REGIONS = {"eu-west": "par", "eu-central": "ber", "us-east": "nyc"}

JITTER = '''
import random
import time

import krmfn

_random = random.Random()  # seeded from the system: each process its own


@krmfn.function(name="jitter")
def jitter(rl: krmfn.ResourceList) -> None:
    """Sleep up to MAX seconds; change nothing."""
    time.sleep(_random.uniform(0, {seconds}))
'''


def install_jitter(site: Path, seconds: float = 0.015) -> Path:
    """A package in `site` registering `jitter` (put `site` on sys.path or PYTHONPATH)."""
    info = site / "krmfn_jitter-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: krmfn-jitter\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[krmfn.functions]\njitter = krmfn_jitter:jitter\n")
    (site / "krmfn_jitter.py").write_text(JITTER.replace("{seconds}", repr(seconds)))
    return site


def edge(name: str, region: str) -> dict[str, object]:
    return {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
            "metadata": {"name": name, "labels": {"nephio.org/site-type": "edge",
                                                  "nephio.org/region": region}},
            "spec": {"clusterName": name, "cnis": ["macvlan"], "masterInterface": "eth1"}}


def make_fleet(root: Path, extra_edges: int = 8) -> Path:
    """examples/fleet, `extra_edges` more edge sites dealt over its regions, and the
    jitter step first in every blueprint's pipeline."""
    import shutil

    shutil.copytree(EXAMPLE, root)
    for kptfile in root.glob("repositories/*/*/Kptfile"):
        text = kptfile.read_text()
        kptfile.write_text(text.replace("  mutators:\n",
                                        "  mutators:\n  - image: example.com/fns/jitter:v1\n", 1))
    regions = list(REGIONS)
    added = [edge(f"edge-x{i:02d}", regions[i % len(regions)]) for i in range(extra_edges)]
    (root / "more-clusters.yaml").write_text(yaml.safe_dump_all(added, sort_keys=False))
    return root


def change_fleet(root: Path) -> None:
    """A day in the fleet's life: a site added, one removed, one moved to another region."""
    more = root / "more-clusters.yaml"
    docs = list(yaml.safe_load_all(more.read_text()))
    del docs[1]
    docs[2]["metadata"]["labels"]["nephio.org/region"] = "us-east"
    docs.append(edge("edge-new", "eu-central"))
    more.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def env_with(site: Path) -> dict[str, str]:
    """This environment, with `site` importable (for subprocesses and Dask workers)."""
    before = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *([before] if before
                                                                      else [])])}


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root, lock file included (relative name -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}
