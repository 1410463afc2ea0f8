"""`python -m krmfn_fleet ...`: the same as `krmfn fleet ...`."""

from __future__ import annotations

import sys

from krmfn_fleet.cli import fleet_main

if __name__ == "__main__":
    sys.exit(fleet_main(sys.argv[1:]))
