"""site-specialize: specialize a blueprint package for one site."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from krmfn._cli_function import console_main

if TYPE_CHECKING:
    from krmfn_catalog.site_specialize.function import site_specialize

__all__ = ["main", "site_specialize"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: its input is read while the function's modules load."""
    console_main("krmfn_catalog.site_specialize.function", "site_specialize", argv)


def __getattr__(name: str) -> Any:
    if name == "site_specialize":  # loaded when asked for, so that `main` can start reading first
        from krmfn_catalog.site_specialize.function import site_specialize

        return site_specialize
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
