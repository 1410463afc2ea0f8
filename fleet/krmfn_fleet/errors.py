"""The one exception of the fleet: its message is one line naming the file and field."""

from __future__ import annotations

__all__ = ["FleetError"]


class FleetError(Exception):
    """The fleet's inputs cannot be rendered: a PackageVariantSet, a WorkloadCluster or a
    blueprint is malformed, or the packages' dependencies form a cycle."""
