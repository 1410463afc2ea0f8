"""`krmfn fleet render FLEET --out OUT`: the command line over `krmfn_fleet.render`.

Prints, per cluster, the packages placed there and, for a package that depends on
others, the peers it was given. Bad input is one line on stderr and exit 1, with nothing
written; a package whose pipeline fails is reported by name (exit 1) and not written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from krmfn_fleet.errors import FleetError
from krmfn_fleet.render import PackageOutcome, render_variant_fleet

__all__ = ["main", "summary"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="krmfn fleet render",
        description="Render every package a fleet's PackageVariantSets place "
                    "(OUT/<cluster>/<package>/), dependencies first.")
    p.add_argument("fleet", help="the fleet directory (WorkloadClusters, "
                                 "PackageVariantSets, repositories/<repo>/<package>/)")
    p.add_argument("--out", required=True, help="where the packages go")
    p.add_argument("--ledger", help="shared SQLite allocation ledger for ipam-inject and "
                                    "vlan-assign")
    p.add_argument("--quiet", action="store_true", help="only the last line")
    return p


def summary(outcomes: Sequence[PackageOutcome]) -> list[str]:
    """Per cluster (sorted): each package placed there, with the peers it was given."""
    lines = []
    for cluster in sorted({o.cluster for o in outcomes}):
        lines.append(f"{cluster}:")
        for o in sorted((o for o in outcomes if o.cluster == cluster), key=lambda o: o.package):
            state = "" if o.ok else "  FAILED"
            lines.append(f"  {o.package} ({o.variant_set}){state}")
            if o.injected:
                peers = ", ".join(source for _, source in o.injected)
                lines.append(f"    peers: {peers}")
    return lines


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    try:
        outcomes = render_variant_fleet(args.fleet, args.out, ledger=args.ledger)
    except FleetError as exc:
        sys.stderr.write(f"krmfn fleet: error: {exc}\n")
        return 1
    if not args.quiet:
        sys.stdout.write("".join(f"{line}\n" for line in summary(outcomes)))
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        for m in o.messages or ["failed"]:
            sys.stderr.write(f"{o.key}: {m}\n")
    sys.stdout.write(f"{len(outcomes) - len(failed)} of {len(outcomes)} packages rendered "
                     f"into {args.out}\n")
    return 1 if failed else 0
