"""krmfn_fleet: rendering fleets of packages offline, on top of the SDK.

Two ways in: a fleet directory of the inputs Nephio's management cluster reads
(WorkloadClusters, PackageVariantSets and the blueprints they name: `render_variant_fleet`,
`plan`), and one blueprint for every site of an inventory (`krmfn_fleet.sites`). Both run
packages' Kptfile pipelines in process (`krmfn_fleet.pipeline`), finding functions through
the `krmfn.functions` entry-point group; the SDK never imports this package.
"""

from __future__ import annotations

from krmfn_fleet.errors import FleetError
from krmfn_fleet.inputs import Fleet, load_fleet
from krmfn_fleet.placement import Placement, place
from krmfn_fleet.plan import Change, plan
from krmfn_fleet.render import PackageOutcome, render_variant_fleet

__all__ = ["Change", "Fleet", "FleetError", "PackageOutcome", "Placement", "load_fleet",
           "place", "plan", "render_variant_fleet"]
