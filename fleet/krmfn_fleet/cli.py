"""`krmfn fleet`: `render FLEET --out OUT` and `plan FLEET --out OUT` over
`krmfn_fleet.render` and `krmfn_fleet.plan`; `render BLUEPRINT --sites FILE` (the
one-blueprint shortcut) goes to `krmfn_fleet.sites_cli`.

render prints, per cluster, the packages placed there and, for a package that depends on
others, the peers it was given, then the packages whose hand edits it kept; a package
whose hand edits conflict with its new render is one line per conflict on stderr, left
as it was (exit 1, nothing published). plan prints each package as created, changed,
removed or unchanged, with its reasons, then the files edited by hand (drift) with a
diff, and writes nothing; `publish` (and `render --publish`) commit OUT into git
(`krmfn_fleet.publish`). Bad input is one line on stderr and exit
1, with nothing written; a package whose pipeline fails is reported by name (exit 1) and
not written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from krmfn_fleet.drift import drift_of
from krmfn_fleet.errors import FleetError
from krmfn_fleet.plan import plan, read_lock
from krmfn_fleet.publish import RepoTree, publish
from krmfn_fleet.render import PackageOutcome, render_variant_fleet
from krmfn_fleet.schedule import default_jobs

__all__ = ["fleet_main", "main", "summary"]

USAGE = ("usage: krmfn fleet render FLEET --out OUT [--ledger DB] [--force] [--jobs N]\n"
         "                          [--scheduler tcp://HOST:PORT] [--allow-exec] "
         "[--discard-drift]\n"
         "                          [--publish GIT_DIR [--branch B] [--push REMOTE] "
         "[--overwrite]]\n"
         "       krmfn fleet plan FLEET --out OUT [--detailed-exitcode] [--all] "
         "[--repo GIT_DIR [--branch B]]\n"
         "       krmfn fleet publish OUT --repo GIT_DIR [--branch B] [--push REMOTE] "
         "[--overwrite]\n"
         "       krmfn fleet render BLUEPRINT --sites FILE --out DIR [--ledger DB] [--jobs N]\n")


def _publish_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="krmfn fleet publish",
        description="Commit the rendered fleet into a git repository, one directory per "
                    "cluster, one commit (none when nothing changed).")
    p.add_argument("out", help="the rendered fleet (`krmfn fleet render --out`)")
    _repo_options(p, required=True)
    return p


def _repo_options(p: argparse.ArgumentParser, *, required: bool = False,
                  flag: str = "--repo") -> None:
    p.add_argument(flag, dest="repo", required=required, metavar="GIT_DIR",
                   help="a bare repository or a working clone")
    p.add_argument("--branch", help="the branch (default: the repository's HEAD)")
    if flag != "--repo" or required:
        p.add_argument("--push", metavar="REMOTE", help="push the branch there afterwards")
        p.add_argument("--overwrite", action="store_true",
                       help="publish over packages changed in the repository since the "
                            "last publish (by default the publish stops, naming them)")


def _parser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"krmfn fleet {command}",
        description="Render every package a fleet's PackageVariantSets place "
                    "(OUT/<cluster>/<package>/), dependencies first." if command == "render"
        else "List what `krmfn fleet render` would create, change or remove, and why.")
    p.add_argument("fleet", help="the fleet directory (WorkloadClusters, "
                                 "PackageVariantSets, repositories/<repo>/<package>/)")
    p.add_argument("--out", required=True, help="where the packages go")
    if command == "render":
        p.add_argument("--ledger", help="shared allocation ledger for ipam-inject and vlan-assign"
                                        " (an SQLite file or a postgresql:// URL;"
                                        " default: $KRMFN_LEDGER)")
        p.add_argument("--jobs", type=_count, default=default_jobs(),
                       help="worker processes (default: the CPUs this process may use); "
                            "the tree written is the same for any number")
        p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="render on the workers of this dask.distributed scheduler "
                            "(pip install 'krmfn[dask]'); this process writes OUT")
        p.add_argument("--quiet", action="store_true", help="only the last line")
        p.add_argument("--force", action="store_true",
                       help="render every package, also those whose inputs did not change")
        p.add_argument("--allow-exec", action="store_true",
                       help="run pipeline steps `exec:` that no installed package registers "
                            "(as kpt fn render --allow-exec)")
        p.add_argument("--discard-drift", action="store_true",
                       help="write the render over files edited by hand (by default "
                            "the edits are merged into it and kept)")
        _repo_options(p, flag="--publish")
    else:
        p.add_argument("--detailed-exitcode", action="store_true",
                       help="exit 0 when nothing would change, 2 when something would, "
                            "3 when files were edited by hand (drift; 3 wins over 2)")
        p.add_argument("--all", action="store_true", help="list unchanged packages too")
        _repo_options(p)
    return p


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def summary(outcomes: Sequence[PackageOutcome]) -> list[str]:
    """Per cluster (sorted): each package placed there, with the peers it was given."""
    lines = []
    for cluster in sorted({o.cluster for o in outcomes}):
        lines.append(f"{cluster}:")
        for o in sorted((o for o in outcomes if o.cluster == cluster), key=lambda o: o.package):
            state = (" removed" if o.removed else " unchanged" if o.skipped else ""
                     if o.ok else "  CONFLICT: left as it was" if o.conflicts else "  FAILED")
            lines.append(f"  {o.package} ({o.variant_set or 'no longer placed'}){state}")
            if o.removed:
                lines += [f"    {m}" for m in o.messages]
            if o.injected:
                peers = ", ".join(source for _, source in o.injected)
                lines.append(f"    peers: {peers}")
    return lines


def fleet_main(argv: Sequence[str]) -> int:
    """`krmfn fleet ...` (registered in the `krmfn.commands` entry-point group)."""
    args = list(argv)
    if args[:1] == ["render"] and any(a == "--sites" or a.startswith("--sites=")
                                      for a in args[1:]):
        from krmfn_fleet.sites_cli import fleet_main as sites_main

        return sites_main(args)
    return main(args)


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    if args[:1] in (["-h"], ["--help"]):
        sys.stdout.write(USAGE)
        return 0
    if not args:
        sys.stderr.write(f"{USAGE}krmfn fleet: error: a command is required "
                         "(render, plan, publish)\n")
        return 2
    if args[0] not in ("render", "plan", "publish"):
        sys.stderr.write(f"{USAGE}krmfn fleet: error: unknown command {args[0]!r}\n")
        return 2
    command = args[0]
    opts = (_publish_parser() if command == "publish" else _parser(command)).parse_args(
        args[1:])
    try:
        if command == "publish":
            return _publish(opts.out, opts)
        return _render(opts) if command == "render" else _plan(opts)
    except FleetError as exc:
        sys.stderr.write(f"krmfn fleet: error: {exc}\n")
        return 1


def _render(opts: argparse.Namespace) -> int:
    outcomes = render_variant_fleet(opts.fleet, opts.out, ledger=opts.ledger,
                                    force=opts.force, jobs=opts.jobs,
                                    scheduler=opts.scheduler, allow_exec=opts.allow_exec,
                                    discard_drift=opts.discard_drift)
    if not opts.quiet:
        sys.stdout.write("".join(f"{line}\n" for line in summary(outcomes)))
    failed = [o for o in outcomes if not o.ok]
    for o in outcomes:
        if o.kept:
            sys.stdout.write(f"{o.key}: kept hand edits in {', '.join(o.kept)}\n")
    for o in failed:
        for m in o.conflicts or o.messages or ["failed"]:
            sys.stderr.write(f"{m}\n" if o.conflicts else f"{o.key}: {m}\n")
        if o.conflicts:
            sys.stderr.write(f"{o.key}: conflicts: left as it was\n")
    placed = [o for o in outcomes if not o.removed]
    skipped = sum(o.skipped for o in outcomes)
    sys.stdout.write(f"{len(placed) - len(failed)} of {len(placed)} packages rendered "
                     f"into {opts.out}" + (f" ({skipped} unchanged, skipped)" if skipped
                                           else "") + "\n")
    if failed:
        return 1  # a failed render publishes nothing
    return _publish(opts.out, opts) if opts.repo else 0


def _publish(out: str, opts: argparse.Namespace) -> int:
    done = publish(out, opts.repo, branch=opts.branch, push=opts.push,
                   overwrite=opts.overwrite)
    if done.commit is None:
        sys.stdout.write(f"{opts.repo}: nothing changed, nothing committed\n")
    else:
        sys.stdout.write(f"{opts.repo}: {done.commit[:12]} {len(done.created)} created, "
                         f"{len(done.changed)} changed, {len(done.removed)} removed\n")
    return 0


def _plan(opts: argparse.Namespace) -> int:
    source = RepoTree(opts.repo, opts.branch) if opts.repo else None  # (a bad one: first)
    changes = plan(opts.fleet, opts.out)
    counts = {a: 0 for a in ("created", "changed", "removed", "unchanged")}
    for c in changes:
        counts[c.action] += 1
        if c.action != "unchanged" or opts.all:
            why = f" ({'; '.join(c.reasons)})" if c.reasons else ""
            sys.stdout.write(f"{c.action:<9} {c.key}{why}\n")
    sys.stdout.write(", ".join(f"{n} {a}" for a, n in counts.items()) + "\n")
    out = Path(opts.out)
    found = drift_of(out, read_lock(out), source=source)
    for d in found:
        sys.stdout.write(f"drift     {d.key}: {d.file} {d.state}\n")
    for d in found:
        sys.stdout.write(d.diff)
    if found:
        where = opts.repo if opts.repo else opts.out
        packages = len({d.key for d in found})
        sys.stdout.write(f"{len(found)} file{'s' * (len(found) != 1)} in {packages} "
                         f"package{'s' * (packages != 1)} edited by hand in {where}\n")
    pending = counts["created"] + counts["changed"] + counts["removed"]
    if not opts.detailed_exitcode:
        return 0
    return 3 if found else 2 if pending else 0
