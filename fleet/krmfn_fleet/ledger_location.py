"""Where a fleet's allocation ledger is: `--ledger`, else the `KRMFN_LEDGER` environment
variable (the same precedence as the functions' `ledger` config).

A file path is made absolute, since the functions may run in another working directory;
a database location (a URL such as `postgresql://user@host/db`, or libpq's
`key=value` form) is handed to the functions unchanged. The functions tell the two apart
the same way and open the ledger; the fleet never does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["LEDGER_ENV", "is_database", "ledger_location"]

LEDGER_ENV = "KRMFN_LEDGER"
_DATABASE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^\s*[a-z_]+\s*=")


def is_database(location: str) -> bool:
    """Whether `location` names a database server rather than a file."""
    return bool(_DATABASE.match(location))


def ledger_location(given: str | os.PathLike[str] | None) -> str:
    """The ledger the run uses: "" for none, a database location as it is, or an absolute
    file path."""
    location = os.fspath(given) if given else os.environ.get(LEDGER_ENV, "").strip()
    if not location or is_database(location):
        return location
    return str(Path(location).expanduser().resolve())
