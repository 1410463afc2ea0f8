"""`python -m krmfn_fleet render FLEET --out OUT` (what `krmfn fleet render FLEET` runs)."""

from __future__ import annotations

import sys

from krmfn_fleet.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[1:] if args[:1] == ["render"] else args))
