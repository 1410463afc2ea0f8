"""vlan-assign: VLAN IDs for VLANClaims and the VLAN sub-interface of every vlan attachment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from krmfn._run.cli_function import console_entry

if TYPE_CHECKING:
    from krmfn_catalog.vlan_assign.function import vlan_assign

__all__ = ["main", "vlan_assign"]

main, __getattr__ = console_entry(__name__, "vlan_assign")
