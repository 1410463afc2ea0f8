"""`krmfn`: the project's own command line (the catalog; fleet rendering; the ledger).

The SDK knows none of these commands: each is a `main(argv) -> int` that an installed
package registers in the `krmfn.commands` entry-point group (the catalog registers
`catalog` and `ledger`, the fleet package `fleet`), loaded only when asked for. This keeps
the SDK below the catalog and the fleet: it never imports them."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

__all__ = ["main"]

COMMANDS = "krmfn.commands"

_HELP = """usage: krmfn COMMAND [ARGS]

commands:
  catalog            list the catalog's functions (name, image, description)
  fleet render ...   render a blueprint for every site of an inventory, or every package a
                     fleet's PackageVariantSets place (see `krmfn fleet -h`)
  fleet plan ...     what a fleet render would create, change or remove, and why
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


def _registered(name: str) -> Callable[[list[str]], int] | None:
    from importlib.metadata import entry_points

    for ep in entry_points(group=COMMANDS):
        if ep.name == name:
            command: Callable[[list[str]], int] = ep.load()
            return command
    return None


def _command(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(_HELP)
        return 0
    command = _registered(args[0])
    if command is None:
        sys.stderr.write(f"{_HELP.splitlines()[0]}\nkrmfn: error: unknown command "
                         f"{args[0]!r} (see `krmfn --help`)\n")
        return 2
    return command(args[1:])


if __name__ == "__main__":
    sys.exit(main())
