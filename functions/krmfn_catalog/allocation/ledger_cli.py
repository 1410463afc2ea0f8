"""`krmfn ledger list|show|release|migrate`: what a ledger holds, giving it back, and
moving it between SQLite and PostgreSQL.

A package re-rendered without a claim releases what the claim held by itself (see
`owner`); this command handles the rest: a site taken out of service, a package deleted,
records filed before packages were part of the key. Records are selected by cluster
(`--cluster`, or `--site`), package and claim (`namespace/name`, or a name in any
namespace), all given filters applying together. Releasing an address also releases the
subnet it was in once no address is left in it.

The ledger is `--ledger` (an SQLite file or a PostgreSQL location, see `backends`), else
the `KRMFN_LEDGER` environment variable; `migrate` names both ends (see `ledger_migrate`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import suppress

from ._common import Discard
from .backends import LEDGER_ENV, chosen, missing_file, open_ledger
from .ipam import free_empty_subnets
from .ledger import IPRecord, LedgerError, VLANRecord
from .ledger_migrate import add_migrate_parser, migrate_main

__all__ = ["main"]

Record = IPRecord | VLANRecord


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="krmfn ledger",
                                description="List, show or release the allocations of a "
                                            "ledger (an SQLite file or a PostgreSQL "
                                            "database), or copy a ledger into another.")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (("list", "one line per allocation"),
                       ("show", "every field of each allocation (YAML)"),
                       ("release", "free the selected allocations")):
        c = commands.add_parser(name, help=text, description=text)
        c.add_argument("--ledger", metavar="LOCATION",
                       help=f"the ledger: an SQLite file or a postgresql:// URL (default:"
                            f" ${LEDGER_ENV})")
        c.add_argument("--cluster", "--site", dest="cluster", metavar="NAME",
                       help="only what this cluster (site) holds")
        c.add_argument("--package", metavar="NAME", help="only what this package holds")
        c.add_argument("--claim", metavar="[NAMESPACE/]NAME",
                       help="only this claim (a bare name: in any namespace)")
        c.add_argument("--type", choices=("ip", "vlan"), help="only IP or only VLAN records")
        if name == "release":
            c.add_argument("--dry-run", action="store_true",
                           help="say what would be released, change nothing")
    add_migrate_parser(commands)
    return p


def main(argv: Sequence[str]) -> int:
    p = _parser()
    args = p.parse_args(list(argv))
    if args.command == "migrate":
        return migrate_main(args)
    if args.command == "release" and not (args.cluster or args.package or args.claim):
        p.error("release needs --cluster, --package or --claim (what to release)")
    location = chosen(args.ledger)
    if not location:
        p.error(f"--ledger is required when {LEDGER_ENV} is not set")
    problem = missing_file(location)
    if problem:
        sys.stderr.write(f"krmfn ledger: error: {problem}\n")
        return 1
    try:
        ledger = open_ledger(location)
        with suppress(Discard), ledger.session() as session:
            ip = [] if args.type == "vlan" else session.ip_where(args.cluster, args.package)
            vlan = [] if args.type == "ip" else session.vlan_where(args.cluster, args.package)
            ip = [r for r in ip if _claim_matches(r, args.claim)]
            vlan = [r for r in vlan if _claim_matches(r, args.claim)]
            records: list[Record] = [*ip, *vlan]
            if args.command == "release" and records:
                freed = session.pop_ip(r.key for r in ip)
                records = [*freed, *free_empty_subnets(session, freed),
                           *session.pop_vlan(r.key for r in vlan)]
                if args.dry_run:
                    raise Discard  # the same release, rolled back: exactly what it would do
        ledger.close()
    except LedgerError as exc:
        sys.stderr.write(f"krmfn ledger: error: {exc}\n")
        return 1
    if args.command == "show":
        _show(records)
    elif args.command == "list":
        _table(records)
    else:
        verb = "would release" if args.dry_run else "released"
        tail = " (dry run: nothing changed)" if args.dry_run else ""
        sys.stdout.write(f"{verb} {len(records)} allocation(s){tail}\n")
        _table(records)
    return 0


def _claim_matches(record: Record, wanted: str | None) -> bool:
    if not wanted:
        return True
    if "/" in wanted:
        return record.claim == wanted
    return record.claim.rpartition("/")[2] == wanted


def _columns(record: Record) -> list[str]:
    if isinstance(record, IPRecord):
        value = record.prefix + (f" via {record.gateway}" if record.gateway else "")
        what = ["ip", record.instance, record.kind, value]
    else:
        what = ["vlan", record.index, "vlan", str(record.vlan_id)]
    return [*what[:1], record.cluster or "-", record.package or "-", record.claim or "-",
            *what[1:]]


def _table(records: Sequence[Record]) -> None:
    if not records:
        return
    rows = [["TYPE", "CLUSTER", "PACKAGE", "CLAIM", "IN", "KIND", "VALUE"]]
    rows += [_columns(r) for r in sorted(records, key=_order)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        sys.stdout.write("  ".join([*cells, row[-1]]) + "\n")


def _show(records: Sequence[Record]) -> None:
    import yaml

    out = []
    for record in sorted(records, key=_order):
        entry: dict[str, object] = {"owner": record.key, "cluster": record.cluster,
                                    "package": record.package, "claim": record.claim}
        if isinstance(record, IPRecord):
            entry.update(type="ip", instance=record.instance, kind=record.kind,
                         prefix=record.prefix)
            if record.gateway:
                entry["gateway"] = record.gateway
        else:
            entry.update(type="vlan", index=record.index, vlanID=record.vlan_id)
        out.append(entry)
    sys.stdout.write(yaml.safe_dump(out, sort_keys=False) if out else "[]\n")


def _order(record: Record) -> tuple[str, str, str, str]:
    kind = "ip" if isinstance(record, IPRecord) else "vlan"
    return kind, record.cluster, record.package, record.key
