"""The one exception of the fleet: its message is one line naming the file and field."""

from __future__ import annotations

__all__ = ["FleetError"]


class FleetError(ValueError):
    """The fleet cannot be rendered: an inventory, a PackageVariantSet, a WorkloadCluster,
    a blueprint or the output directory is unusable, or the packages' dependencies form a
    cycle. One line, naming the file and field."""
