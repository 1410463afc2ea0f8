"""vlan-assign: VLAN IDs for VLANClaims and the VLAN sub-interface of every vlan attachment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from krmfn._cli_function import console_main

if TYPE_CHECKING:
    from krmfn_catalog.vlan_assign.function import vlan_assign

__all__ = ["main", "vlan_assign"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: its input is read while the function's modules load."""
    console_main("krmfn_catalog.vlan_assign.function", "vlan_assign", argv)


def __getattr__(name: str) -> Any:
    if name == "vlan_assign":  # loaded when asked for, so that `main` can start reading first
        from krmfn_catalog.vlan_assign.function import vlan_assign

        return vlan_assign
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
