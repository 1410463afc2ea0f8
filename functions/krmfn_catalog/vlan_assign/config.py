"""The functionConfig of vlan-assign, and the ID-list syntax it shares with VLANIndex.

An ID list is a list of entries, each a single ID (`100`, `"100"`) or an inclusive range
(`"100-199"`). The same syntax serves `ranges` (what an index hands out) and `reserved`
(what it never hands out), in the config and in `VLANIndex` resources alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from krmfn_catalog.allocation.vlan import DEFAULT_RANGES, VLAN_ID_MAX, VLAN_ID_MIN, VLANIndex

__all__ = ["IndexSpec", "VlanAssignConfig", "build_index", "parse_id_list"]

_ENTRY = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")

Bounds = tuple[int, int]


@dataclass
class IndexSpec:
    """One index: `ranges` (default 2-4094) minus `reserved`."""

    ranges: list[str | int] | None = None
    reserved: list[str | int] = field(default_factory=list)


@dataclass
class VlanAssignConfig:
    """`indexes` declares VLAN indexes by name; `ledger` names an SQLite file or a
    PostgreSQL location shared with other renders (default: `KRMFN_LEDGER`); `owner`
    overrides the name this package's claims are filed under."""

    indexes: dict[str, IndexSpec] = field(default_factory=dict)
    ledger: str = ""
    owner: str = ""

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for name, spec in self.indexes.items():
            _, found = build_index(spec.ranges, spec.reserved)
            problems.extend((f"indexes.{name}.{where}", message) for where, message in found)
        return problems


def parse_id_list(entries: object, where: str) -> tuple[list[Bounds], list[tuple[str, str]]]:
    """The inclusive ranges an ID list names, and (field, message) for every bad entry."""
    if not isinstance(entries, list):
        return [], [(where, "expected a list of VLAN IDs or ranges like \"100-199\"")]
    bounds: list[Bounds] = []
    problems: list[tuple[str, str]] = []
    for i, entry in enumerate(entries):
        at = f"{where}[{i}]"
        if isinstance(entry, int) and not isinstance(entry, bool):
            low = high = entry
        elif isinstance(entry, str) and (match := _ENTRY.match(entry)):
            low = int(match.group(1))
            high = int(match.group(2) or low)
        else:
            problems.append((at, f"{entry!r} is not a VLAN ID or a range like \"100-199\""))
            continue
        if low > high:
            problems.append((at, f"{entry!r} runs backwards: write the low end first"))
            continue
        if not VLAN_ID_MIN <= low <= high <= VLAN_ID_MAX:
            problems.append((at, f"{entry!r} is outside {VLAN_ID_MIN}-{VLAN_ID_MAX}"))
            continue
        bounds.append((low, high))
    return bounds, problems


def build_index(ranges: object, reserved: object) -> tuple[VLANIndex, list[tuple[str, str]]]:
    """A VLANIndex from its two ID lists (`ranges` None means the default 2-4094)."""
    problems: list[tuple[str, str]] = []
    allowed: tuple[Bounds, ...] = DEFAULT_RANGES
    if ranges is not None:
        found, problems = parse_id_list(ranges, "ranges")
        if not found and not problems:
            problems.append(("ranges", "is empty: list at least one ID or range"))
        allowed = tuple(sorted(set(found)))
    blocked, more = parse_id_list([] if reserved is None else reserved, "reserved")
    problems.extend(more)
    ids = frozenset(i for low, high in blocked for i in range(low, high + 1))
    return VLANIndex(ranges=allowed, reserved=ids), problems
