#!/usr/bin/env python3
"""`make demo-fleet`: a fleet of interconnected workloads from PackageVariantSets.

examples/fleet holds WorkloadClusters (three regions, a core site and a few edge sites
each), PackageVariantSets (a UPF on every edge site, an SMF and an AMF on every core
site) and the blueprints they name. One call renders every package into
OUT/<cluster>/<package>/, the UPFs first: each SMF is then given the UPFs of its region,
with the N4 address the shared ledger allocated to each. The demo prints, per cluster,
what was placed there and which peers each SMF and AMF got.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from krmfn_fleet import FleetError, render_variant_fleet

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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
