"""`krmfn`: the project's own command line (the catalog; fleet rendering)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_HELP = """usage: krmfn COMMAND [ARGS]

commands:
  catalog            list the catalog's functions (name, image, description)
  fleet render ...   render a blueprint for every site of an inventory (see `krmfn fleet -h`)
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
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
    sys.stderr.write(f"{_HELP.splitlines()[0]}\nkrmfn: error: unknown command {args[0]!r} "
                     "(see `krmfn --help`)\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
