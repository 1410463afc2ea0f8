"""`krmfn fleet render BLUEPRINT --sites FILE`: the command line over `krmfn_fleet.sites`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator

from krmfn_fleet.sites import FleetError, SiteOutcome, load_sites, render_fleet

__all__ = ["fleet_main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="krmfn fleet render",
                                description="Render a blueprint for every site of an inventory "
                                            "with its own Kptfile pipeline, in process.")
    p.add_argument("blueprint", help="the blueprint package directory")
    p.add_argument("--sites", required=True, help="the site inventory (YAML list)")
    p.add_argument("--out", required=True, help="where the site packages go (OUT/<site>)")
    p.add_argument("--ledger", help="shared allocation ledger for ipam-inject and vlan-assign"
                                    " (an SQLite file or a postgresql:// URL;"
                                    " default: $KRMFN_LEDGER)")
    p.add_argument("--jobs", type=_count(1), default=os.cpu_count() or 1,
                   help="worker processes (default: number of CPUs)")
    p.add_argument("--limit", type=_count(0), default=0,
                   help="render only the first N sites (0: all)")
    p.add_argument("--allow-exec", action="store_true",
                   help="run exec: steps no installed package registers (as kpt fn render)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _count(least: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{value} is less than {least}")
        return value

    return parse


def fleet_main(argv: list[str]) -> int:
    usage = ("usage: krmfn fleet render BLUEPRINT --sites FILE --out DIR [--ledger DB] "
             "[--jobs N] [--allow-exec]\n")
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write(usage)
        return 0
    if not argv:
        sys.stderr.write(f"{usage}krmfn fleet: error: a command is required (render)\n")
        return 2
    if argv[0] != "render":
        sys.stderr.write(f"krmfn fleet: unknown command {argv[0]!r}\n")
        return 2
    args = _parser().parse_args(argv[1:])
    try:
        sites = load_sites(args.sites)
    except FleetError as exc:
        sys.stderr.write(f"krmfn fleet: error: {exc}\n")
        return 1
    if args.limit:
        sites = sites[: args.limit]

    def progress(stream: Iterator[SiteOutcome], total: int) -> Iterator[SiteOutcome]:
        if args.no_progress or (not sys.stderr.isatty() and os.environ.get("CI")):
            yield from stream
            return
        from tqdm import tqdm

        yield from tqdm(stream, total=total, unit="site", file=sys.stderr, smoothing=0.1)

    start = time.perf_counter()
    try:
        outcomes = render_fleet(args.blueprint, sites, args.out, ledger=args.ledger,
                                jobs=args.jobs, allow_exec=args.allow_exec,
                                progress=progress)
    except FleetError as exc:
        sys.stderr.write(f"krmfn fleet: error: {exc}\n")
        return 1
    elapsed = time.perf_counter() - start
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        for m in o.messages or ["failed"]:
            sys.stderr.write(f"{o.site}: {m}\n")
    rate = len(outcomes) / elapsed if elapsed else 0.0
    sys.stdout.write(f"{len(outcomes) - len(failed)} of {len(outcomes)} sites rendered in "
                     f"{elapsed:.1f}s ({rate:.1f} sites/s, {args.jobs} jobs) into {args.out}\n")
    return 1 if failed else 0
