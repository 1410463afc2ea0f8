"""site-specialize: specialize a blueprint package for one site."""

from __future__ import annotations

from typing import TYPE_CHECKING

from krmfn._run.cli_function import console_entry

if TYPE_CHECKING:
    from krmfn_catalog.site_specialize.function import site_specialize

__all__ = ["main", "site_specialize"]

main, __getattr__ = console_entry(__name__, "site_specialize")
