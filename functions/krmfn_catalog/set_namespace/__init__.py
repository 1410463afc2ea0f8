"""set-namespace: move every namespaced resource of a package into one namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from krmfn._run.cli_function import console_entry

if TYPE_CHECKING:
    from krmfn_catalog.set_namespace.function import set_namespace

__all__ = ["main", "set_namespace"]

main, __getattr__ = console_entry(__name__, "set_namespace")
