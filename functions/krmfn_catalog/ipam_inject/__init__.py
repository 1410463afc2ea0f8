"""ipam-inject: allocate IPs for claims and inject them into attachments and fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from krmfn._run.cli_function import console_entry

if TYPE_CHECKING:
    from krmfn_catalog.ipam_inject.function import ipam_inject

__all__ = ["ipam_inject", "main"]

main, __getattr__ = console_entry(__name__, "ipam_inject")
