"""`krmfn ledger migrate SRC DST`: copy a ledger into another, SQLite to PostgreSQL or back.

Every record is read from SRC in one session and written to DST in one session, which
then reads DST back and compares it with SRC record for record (owner, place, value and
holder); any difference rolls the copy back, so DST ends up either an exact copy or as it
was. The taken ranges the allocators search are rebuilt from the records as they are put,
so DST answers every question as SRC does.

A DST that already holds allocations is refused unless `--replace` is given (then what it
held is dropped in the same transaction): merging two ledgers could hand one address to
two owners. SRC is never written; an SQLite SRC must exist (a copy of nothing is a typo).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .backends import missing_file, open_ledger, shown
from .ledger import IPRecord, LedgerError, VLANRecord

__all__ = ["add_migrate_parser", "migrate", "migrate_main"]


class _Mismatch(LedgerError):
    """DST does not read back as SRC: the copy is rolled back."""


def add_migrate_parser(commands: Any) -> None:
    text = "copy every allocation of one ledger into another (SQLite or PostgreSQL)"
    c = commands.add_parser("migrate", help=text, description=text)
    c.add_argument("source", metavar="SRC", help="the ledger to copy (not changed)")
    c.add_argument("target", metavar="DST", help="the ledger to copy into (created if need be)")
    c.add_argument("--replace", action="store_true",
                   help="drop what DST holds first (without it a non-empty DST is refused)")


def migrate(source: str, target: str, *, replace: bool = False) -> tuple[int, int, int]:
    """Copy SRC into DST; (IP records, VLAN records, records DST held before and dropped)."""
    if source == target:
        raise LedgerError(f"ledger {shown(source)}: SRC and DST are the same ledger")
    problem = missing_file(source)
    if problem:
        raise LedgerError(problem)
    src = open_ledger(source)
    try:
        with src.session() as session:
            ip, vlan = session.ip_where(), session.vlan_where()
    finally:
        src.close()
    dst = open_ledger(target)
    try:
        with dst.session() as session:
            old_ip, old_vlan = session.ip_where(), session.vlan_where()
            held = len(old_ip) + len(old_vlan)
            if held and not replace:
                raise LedgerError(f"ledger {shown(target)}: already holds {held}"
                                  " allocation(s); give --replace to drop them")
            session.pop_ip(r.key for r in old_ip)
            session.pop_vlan(r.key for r in old_vlan)
            session.put_ip(ip)
            session.put_vlan(vlan)
            _compare(target, "IP", ip, session.ip_where())
            _compare(target, "VLAN", vlan, session.vlan_where())
    finally:
        dst.close()
    return len(ip), len(vlan), held


def _compare(target: str, what: str, wanted: list[IPRecord] | list[VLANRecord],
             got: list[IPRecord] | list[VLANRecord]) -> None:
    if wanted == got:
        return
    ours = {r.key: r for r in wanted}
    theirs = {r.key: r for r in got}
    key = next((k for k in sorted(ours.keys() | theirs.keys()) if ours.get(k) != theirs.get(k)),
               "(order)")
    raise _Mismatch(f"ledger {shown(target)}: {what} record {key!r} reads back differently;"
                    " nothing was copied")


def migrate_main(args: argparse.Namespace) -> int:
    try:
        ip, vlan, dropped = migrate(args.source, args.target, replace=args.replace)
    except LedgerError as exc:
        sys.stderr.write(f"krmfn ledger: error: {exc}\n")
        return 1
    tail = f" (replacing {dropped} it held)" if dropped else ""
    sys.stdout.write(f"copied {ip} IP and {vlan} VLAN allocation(s) from {shown(args.source)}"
                     f" to {shown(args.target)}{tail}, verified record for record\n")
    return 0
