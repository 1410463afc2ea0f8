"""What a three-way merge of packages should give, computed another way than merge3 does.

merge3 walks the three trees together. Here each version of a resource is first flattened
into a table path -> entry (a map or a keyed list is an entry of its own, saying what kind
of container stands there; any other value is a leaf), the three tables are merged entry
by entry with the plain three-way rule, and the merged table is built back into a tree.
A conflict is an entry that both sides changed to different things, unless both made it
the same kind of container (then only its entries can conflict), or an entry left in a
container that is gone (one side deleted the container, the other changed inside it).

Lists are keyed by this module's own table of merge keys (the same rules as the
specification, written again): a list's key is decided for each version alone, and
`consistent` says whether the three versions agree (where they do not, the case is not
one this oracle decides).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Ident = tuple[str, str, str, str]
Step = str | tuple[str, str, Any]  # a map key, or (list item key, key field, key value)
FlatPath = tuple[Step, ...]

_KEYS = {
    "containers": ["name"], "initContainers": ["name"], "ephemeralContainers": ["name"],
    "volumes": ["name"], "env": ["name"], "imagePullSecrets": ["name"],
    "resourceClaims": ["name"], "volumeMounts": ["mountPath"],
    "volumeDevices": ["devicePath"], "hostAliases": ["ip"],
    "topologySpreadConstraints": ["topologyKey"], "conditions": ["type"],
    "ports": ["containerPort", "port"],
}


def canon(value: Any) -> Any:
    """A hashable form equal for equal values of equal types only."""
    if isinstance(value, dict):
        return ("map", frozenset((canon(k), canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(canon(v) for v in value))
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def list_key(name: str | None, items: list[Any]) -> str | None:
    for key in [*_KEYS.get(name or "", []), "name"]:
        values = [item.get(key) if isinstance(item, dict) else None for item in items]
        if all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values) and \
                len({canon(v) for v in values}) == len(values):
            return key
    return None


@dataclass
class Flat:
    entries: dict[FlatPath, Any] = field(default_factory=dict)
    order: dict[FlatPath, int] = field(default_factory=dict)  # a keyed item's place
    keys: dict[FlatPath, str | None] = field(default_factory=dict)  # each list's key


def flatten(value: Any) -> Flat:
    flat = Flat()
    _flatten(value, (), None, flat)
    return flat


def _flatten(value: Any, path: FlatPath, name: str | None, flat: Flat) -> None:
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        flat.entries[path] = ("MAP",)
        for k, v in value.items():
            _flatten(v, (*path, k), k, flat)
        return
    if isinstance(value, list):
        key = list_key(name, value)
        flat.keys[path] = key
        if key is not None:
            flat.entries[path] = ("KEYED", key)
            for i, item in enumerate(value):
                step = ("item", key, canon(item[key]))
                flat.order[(*path, step)] = i
                # (the item's entries; its key field is one of them)
                _flatten(item, (*path, step), None, flat)
            return
    flat.entries[path] = ("LEAF", canon(value), value)


def consistent(*flats: Flat | None) -> bool:
    """Whether every list present in several versions is keyed alike in all of them."""
    seen: dict[FlatPath, str | None] = {}
    for flat in flats:
        if flat is None:
            continue
        for path, key in flat.keys.items():
            if seen.setdefault(path, key) != key:
                return False
    return True


_GONE = ("GONE",)


def _entry_kind(e: Any) -> Any:
    return e[:2] if e[0] in ("MAP", "KEYED") else None  # (None for a leaf or _GONE)


def merge_resource(b: Flat | None, t: Flat | None, o: Flat | None
                   ) -> tuple[dict[FlatPath, Any], list[FlatPath]]:
    """The merged entries and the paths of the conflicts."""
    tables = [{} if f is None else f.entries for f in (b, t, o)]
    paths = set().union(*tables)
    merged: dict[FlatPath, Any] = {}
    conflicts: list[FlatPath] = []
    for path in paths:
        bv, tv, ov = (tbl.get(path, _GONE) for tbl in tables)
        bk, tk, ok = (_cmp(x) for x in (bv, tv, ov))
        if tk == bk:
            chosen = ov
        elif ok == bk:
            chosen = tv
        elif ok == tk or (_entry_kind(tv) is not None and _entry_kind(tv) == _entry_kind(ov)):
            chosen = ov  # (the same container made on both sides: its entries decide)
        else:
            conflicts.append(path)
            continue
        if chosen is not _GONE:
            merged[path] = chosen
    # an entry kept in a container one side deleted: that side deleted what the other
    # changed
    for path in list(merged):
        if path and path[:-1] not in merged and path[:-1] not in conflicts:
            conflicts.append(path)
    return merged, conflicts


def _cmp(entry: Any) -> Any:
    return entry[:2]


def build(entries: dict[FlatPath, Any], places: list[Flat | None]) -> Any:
    """The tree of merged entries; keyed items in ours' order, then in theirs' (the
    places are ours, theirs)."""
    if () not in entries:
        return None
    return _build((), entries, places)


def _build(path: FlatPath, entries: dict[FlatPath, Any], places: list[Flat | None]) -> Any:
    entry = entries[path]
    children = [p for p in entries if len(p) == len(path) + 1 and p[:len(path)] == path]
    if entry[0] == "MAP":
        return {p[-1]: _build(p, entries, places) for p in children}
    if entry[0] == "KEYED":
        def place(p: FlatPath) -> tuple[int, int]:
            for rank, flat in enumerate(places):
                if flat is not None and p in flat.order:
                    return rank, flat.order[p]
            raise AssertionError(f"no place for {p}")
        return [_build(p, entries, places) for p in sorted(children, key=place)]
    return entry[2]


def merge_packages(base: dict[Ident, Any], theirs: dict[Ident, Any], ours: dict[Ident, Any]
                   ) -> tuple[dict[Ident, Any], dict[Ident, list[FlatPath]]]:
    """The merged resources by identity, and the conflicts' paths by resource."""
    out: dict[Ident, Any] = {}
    conflicts: dict[Ident, list[FlatPath]] = {}
    for ident in set(base) | set(theirs) | set(ours):
        flats = [flatten(v[ident]) if ident in v else None for v in (base, theirs, ours)]
        entries, found = merge_resource(*flats)
        if found:
            conflicts[ident] = found
        value = build(entries, [flats[2], flats[1]])
        if value is not None:
            out[ident] = value
    return out, conflicts
