"""vlan-assign: VLAN IDs for VLANClaims and the VLAN sub-interface of every vlan attachment."""

from krmfn_catalog.vlan_assign.function import vlan_assign

__all__ = ["main", "vlan_assign"]

main = vlan_assign.main
