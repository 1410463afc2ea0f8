"""set-namespace: move every namespaced resource of a package into one namespace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from krmfn._cli_function import console_main

if TYPE_CHECKING:
    from krmfn_catalog.set_namespace.function import set_namespace

__all__ = ["main", "set_namespace"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: its input is read while the function's modules load."""
    console_main("krmfn_catalog.set_namespace.function", "set_namespace", argv)


def __getattr__(name: str) -> Any:
    if name == "set_namespace":  # loaded when asked for, so that `main` can start reading first
        from krmfn_catalog.set_namespace.function import set_namespace

        return set_namespace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
