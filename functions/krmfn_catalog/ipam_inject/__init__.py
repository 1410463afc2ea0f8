"""ipam-inject: allocate IPs for claims and inject them into attachments and fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from krmfn._cli_function import console_main

if TYPE_CHECKING:
    from krmfn_catalog.ipam_inject.function import ipam_inject

__all__ = ["ipam_inject", "main"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: its input is read while the function's modules load."""
    console_main("krmfn_catalog.ipam_inject.function", "ipam_inject", argv)


def __getattr__(name: str) -> Any:
    if name == "ipam_inject":  # loaded when asked for, so that `main` can start reading first
        from krmfn_catalog.ipam_inject.function import ipam_inject

        return ipam_inject
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
