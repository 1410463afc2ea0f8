"""The krmfn catalog: small functions that each do one narrow job on a package.

`CATALOG` (in `krmfn_catalog.catalog`) is the code's own list; `catalog.yaml` at the
repository root publishes it and a test keeps the two in agreement. It loads when asked
for: a function's console script imports this package first, and reads its input before
anything else loads.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CATALOG", "VERSION", "CatalogEntry", "entry"]

VERSION = "v0.1.0"


def __getattr__(name: str) -> Any:
    if name in ("CATALOG", "CatalogEntry", "entry"):
        from krmfn_catalog import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
