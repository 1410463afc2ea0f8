"""krmfn_fleet: rendering a fleet of packages offline, from the inputs Nephio's management
cluster reads (WorkloadClusters, PackageVariantSets and the blueprints they name).

It sits on top of the SDK (`krmfn`) and finds functions through the `krmfn.functions`
entry-point group; the SDK never imports it.
"""

from __future__ import annotations

from krmfn_fleet.errors import FleetError
from krmfn_fleet.inputs import Fleet, load_fleet
from krmfn_fleet.placement import Placement, place
from krmfn_fleet.render import PackageOutcome, render_variant_fleet

__all__ = ["Fleet", "FleetError", "PackageOutcome", "Placement", "load_fleet", "place",
           "render_variant_fleet"]
