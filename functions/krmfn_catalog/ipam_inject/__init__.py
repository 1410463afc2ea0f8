"""ipam-inject: allocate IPs for claims and inject them into attachments and fields."""

from krmfn_catalog.ipam_inject.function import ipam_inject

__all__ = ["ipam_inject", "main"]

main = ipam_inject.main
