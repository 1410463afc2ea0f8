"""Which VLAN indexes exist, and what each may hand out.

Indexes are declared in the functionConfig (`indexes`) or by `VLANIndex` resources in the
package. Nephio creates one index per cluster, named after it, so:

- when nothing declares an index, every index a claim names exists, with IDs 2-4094;
- once anything declares one, only declared indexes exist, plus the index named after the
  package's WorkloadCluster; a claim naming any other index is an error (a typo must not
  open a fresh ID space that collides with the real one on the wire).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from krmfn import KubeObject

from krmfn_catalog.allocation.vlan import VLANIndex

from .config import IndexSpec, build_index
from .model import Problem

__all__ = ["IndexBook", "read_indexes"]


class IndexBook:
    """The declared indexes, and the rule for the ones not declared."""

    def __init__(self, declared: Mapping[str, VLANIndex], cluster: str | None) -> None:
        self.declared = dict(declared)
        self.cluster = cluster

    def lookup(self, name: str) -> VLANIndex | None:
        if name in self.declared:
            return self.declared[name]
        if not self.declared or name == self.cluster:
            return VLANIndex()
        return None

    def unknown(self, name: str) -> str:
        known = ", ".join(repr(n) for n in sorted(self.declared))
        if self.cluster and self.cluster not in self.declared:
            known += f" and the cluster's own index {self.cluster!r}"
        return f"unknown VLAN index {name!r} (known: {known})"


def read_indexes(
    config: Mapping[str, IndexSpec], resources: Iterable[KubeObject], cluster: str | None
) -> tuple[IndexBook, list[Problem]]:
    """Indexes from the config (already validated) and from VLANIndex `resources`."""
    declared: dict[str, VLANIndex] = {}
    for name, spec in config.items():
        declared[name], _ = build_index(spec.ranges, spec.reserved)
    from_config = set(declared)
    problems: list[Problem] = []
    seen: set[str] = set()
    for obj in resources:
        index, found = build_index(obj.get("spec.ranges"), obj.get("spec.reserved"))
        problems.extend(Problem(message, obj, f"spec.{where}") for where, message in found)
        name = obj.name
        if name in seen:
            problems.append(Problem(f"VLAN index {name!r} is declared twice in the package",
                                    obj, "metadata.name"))
        elif name in from_config:
            if not found and declared[name] != index:
                problems.append(Problem(
                    f"VLAN index {name!r} is also declared in the functionConfig, with other"
                    " ranges or reserved IDs: declare it in one place", obj, "metadata.name"))
        else:
            declared[name] = index
        seen.add(name)
    return IndexBook(declared, cluster), problems
