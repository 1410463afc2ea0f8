"""`krmfn`: the project's own command line (the catalog; fleet rendering; the ledger).

The commands over the catalog live with it and are imported only when asked for."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

_HELP = """usage: krmfn COMMAND [ARGS]

commands:
  catalog            list the catalog's functions (name, image, description)
  fleet render ...   render a blueprint for every site of an inventory (see `krmfn fleet -h`)
  ledger ...         list, show or release what an allocation ledger holds
                     (see `krmfn ledger -h`)
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _command(args)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _command(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(_HELP)
        return 0
    if args[0] == "catalog":
        if args[1:] in (["-h"], ["--help"]):
            sys.stdout.write("usage: krmfn catalog\n")
            return 0
        if args[1:]:
            sys.stderr.write(f"usage: krmfn catalog\nkrmfn catalog: error: unexpected "
                             f"argument {args[1]!r}\n")
            return 2
        from krmfn_catalog import CATALOG

        width = max(len(f.name) for f in CATALOG)
        for f in CATALOG:
            sys.stdout.write(f"{f.name:<{width}}  {f.image}  {f.description}\n")
        return 0
    if args[0] == "fleet":
        from krmfn._fleet_cli import fleet_main

        return fleet_main(args[1:])
    if args[0] == "ledger":
        import importlib

        ledger_cli = importlib.import_module("krmfn_catalog.allocation.ledger_cli")
        code: int = ledger_cli.main(args[1:])
        return code
    sys.stderr.write(f"{_HELP.splitlines()[0]}\nkrmfn: error: unknown command {args[0]!r} "
                     "(see `krmfn --help`)\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
