"""nfdeploy: fill an NFDeployment's spec from what its Interfaces, DataNetworks, Capacity and
Dependencies were given, and record in the Kptfile that the package is specialized."""

from __future__ import annotations

from typing import TYPE_CHECKING

from krmfn._run.cli_function import console_entry

if TYPE_CHECKING:
    from krmfn_catalog.nfdeploy.function import nfdeploy

__all__ = ["main", "nfdeploy"]

main, __getattr__ = console_entry(__name__, "nfdeploy")
