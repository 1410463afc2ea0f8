"""`python -m krmfn_fleet render|plan FLEET --out OUT` (what `krmfn fleet` runs for a
fleet directory)."""

from __future__ import annotations

import sys

from krmfn_fleet.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
