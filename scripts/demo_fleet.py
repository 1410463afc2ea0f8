#!/usr/bin/env python3
"""`make demo`: a fleet of interconnected workloads from PackageVariantSets.

examples/fleet holds WorkloadClusters (three regions, a core site and a few edge sites
each), PackageVariantSets (a UPF on every edge site, an SMF and an AMF on every core
site) and the blueprints they name. One call renders every package into
OUT/<cluster>/<package>/, the UPFs first: each SMF is then given the UPFs of its region,
with the N4 address the shared ledger allocated to each. The demo prints, per cluster,
what was placed there and which peers each SMF and AMF got; then it adds an edge site to
a copy of the fleet and shows the plan: the new UPF, and its region's core packages
whose injected peers change, nothing else; and the render that follows renders just
those, skipping the rest.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from krmfn_fleet import FleetError, render_variant_fleet
from krmfn_fleet.plan import plan

ROOT = Path(__file__).resolve().parents[1]


def _nf(pkg: Path) -> dict[str, Any] | None:
    for f in sorted(pkg.glob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "NFDeployment":
                return doc
    return None


def _addresses(nf: dict[str, Any]) -> str:
    return ", ".join(f"{i['name']} {i['ipv4']['address']}"
                     for i in nf.get("spec", {}).get("interfaces") or [] if "ipv4" in i)


def _peers(pkg: Path) -> list[str]:
    out = []
    for f in sorted(pkg.glob("dependency-*.yaml")):
        for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "Config":
                peer = doc["spec"]["config"]
                out.append(f"{peer['metadata']['name']} ({_addresses(peer)})")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", default=str(ROOT / "examples" / "fleet"))
    parser.add_argument("--out", default=str(ROOT / "demo-fleet-out"))
    args = parser.parse_args()
    out = Path(args.out)
    start = time.perf_counter()
    try:
        outcomes = render_variant_fleet(args.fleet, out, ledger=out / ".ledger.sqlite")
    except FleetError as exc:
        sys.stderr.write(f"demo-fleet: error: {exc}\n")
        return 1
    elapsed = time.perf_counter() - start
    for cluster in sorted({o.cluster for o in outcomes}):
        print(cluster)
        for o in sorted((o for o in outcomes if o.cluster == cluster), key=lambda o: o.package):
            nf = _nf(out / o.cluster / o.package) if o.ok else None
            what = f"{nf['metadata']['name']}: {_addresses(nf)}" if nf else "FAILED"
            print(f"  {o.package}  {what}")
            for peer in _peers(out / o.cluster / o.package) if o.ok else []:
                print(f"    peer {peer}")
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        for m in o.messages:
            sys.stderr.write(f"{o.key}: {m}\n")
    clusters = len({o.cluster for o in outcomes})
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} packages on {clusters} clusters "
          f"rendered in {elapsed:.1f}s into {out}")
    if failed:
        return 1
    return _plan_new_site(Path(args.fleet), out)


NEW_SITE = """---
apiVersion: infra.nephio.org/v1alpha1
kind: WorkloadCluster
metadata:
  name: edge-nce-01
  labels:
    nephio.org/site-type: edge
    nephio.org/region: eu-west
spec:
  clusterName: edge-nce-01
  cnis:
  - macvlan
  masterInterface: eth1
"""


def _plan_new_site(fleet: Path, out: Path) -> int:
    """Add one edge site to a copy of the fleet, print what a render would do, then
    render it into a copy of the output (the demo's own output stays as it was)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "fleet"
        shutil.copytree(fleet, copy)
        with (copy / "clusters.yaml").open("a", encoding="utf-8") as f:
            f.write(NEW_SITE)
        print("\nwith one more edge site (edge-nce-01, eu-west), `krmfn fleet plan` says:")
        changes = plan(copy, out)
        for c in changes:
            if c.action != "unchanged":
                print(f"  {c.action:<8} {c.key}: {'; '.join(c.reasons)}")
        unchanged = sum(c.action == "unchanged" for c in changes)
        print(f"  and {unchanged} packages unchanged")
        again = Path(tmp) / "out"
        shutil.copytree(out, again)
        outcomes = render_variant_fleet(copy, again, ledger=again / ".ledger.sqlite")
    done = [o for o in outcomes if o.ok and not o.skipped and not o.removed]
    skipped = sum(o.skipped for o in outcomes)
    print(f"\nthen `krmfn fleet render` renders those {len(done)} and skips the {skipped} "
          "others:")
    for o in sorted(done, key=lambda o: o.key):
        peers = ", ".join(config for config, _ in o.injected)
        print(f"  {o.key}" + (f"  peers {peers}" if peers else ""))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
