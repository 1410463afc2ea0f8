"""The field-by-field three-way merge of one resource, over plain data.

`merge_fields(base, theirs, ours)` walks the three values of one resource together and
says what to do to `ours`: a list of `Edit`s (set a field, delete a field, append a list
item, addressed by index paths into `ours` as it stands) and the `FieldConflict`s where
both sides changed the same field to different values. The edits are ordered so that
applying them one after the other keeps every later path valid: the edits inside a list's
items come first, then its appends (at its end), then its items' deletions (last index
first).

A field is compared with the same value on the other sides, type included (`1`, `"1"`,
`1.0` and `true` all differ):

- unchanged upstream (`theirs` == `base`): ours stays;
- changed upstream only (`ours` == `base`): theirs' value (or its deletion);
- changed on both sides alike: nothing to do;
- changed on both sides differently: maps are merged key by key and lists of maps item by
  item (below), each part by the same rules; anything else is a conflict. A map or list
  added on both sides (or made of another value on both) is merged as if its base were
  empty. A field deleted on one side and changed on the other is a conflict, unless the
  change only deleted parts of it (map keys, keyed list items): then it is deleted.

Lists of maps are merged item by item when every item of the three lists has a merge key
with a scalar value, unique in its list: Kubernetes' strategic-merge key for the list's
field where it has one (containers, volumes and env by `name`, volumeMounts by
`mountPath`, container ports by `containerPort` and Service ports by `port`, ...), else
`name`. An item deleted upstream and untouched here is deleted; one added upstream is
appended; the items keep ours' order. Any other list is one value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from krmfn import same_value
from krmfn._text.path import Match, Segment

__all__ = ["ABSENT", "Edit", "FieldConflict", "merge_fields", "merge_key", "within"]


class _Absent:
    """A field that is not there (unlike a null value, which is)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()

# The strategic-merge keys of Kubernetes' own list fields, by field name (the name is
# the same wherever the field appears in the core kinds). "ports" is special: a
# container's ports are keyed by containerPort, a Service's by port.
_KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "volumes": ("name",),
    "env": ("name",),
    "imagePullSecrets": ("name",),
    "resourceClaims": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",),
    "conditions": ("type",),
    "ports": ("containerPort", "port"),
}


@dataclass(frozen=True)
class Edit:
    """One change to ours: `path` holds list indices into ours as it stands."""

    op: Literal["set", "delete", "append"]
    path: tuple[Segment, ...]
    value: Any = None


@dataclass(frozen=True)
class FieldConflict:
    """A field both sides changed differently; `field` names list items by merge key."""

    field: tuple[Segment, ...]
    base: Any
    ours: Any
    theirs: Any


def merge_key(name: str | None, lists: Iterable[list[Any]]) -> str | None:
    """The key the items of these versions of one list are merged by, or None (the list
    is one value): the field's known key, else `name`, when every item has it."""
    lists = list(lists)
    for key in (*_KNOWN_KEYS.get(name or "", ()), "name"):
        if all(_keyed_by(items, key) for items in lists):
            return key
    return None


def _keyed_by(items: list[Any], key: str) -> bool:
    seen: set[Any] = set()
    for item in items:
        if not isinstance(item, dict):
            return False
        value = item.get(key, ABSENT)
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return False
        # (1 and "1" are different keys: the type takes part)
        if (type(value), value) in seen:
            return False
        seen.add((type(value), value))
    return True


def within(value: Any, base: Any, name: str | None) -> bool:
    """True when `value` is `base` or a part of it: absent, or with only some of its map
    keys and keyed list items (each again a part of base's). A side that deleted a field
    agrees with a side that only cut it down."""
    if value is ABSENT or same_value(value, base):
        return True
    if _maps(value, base):
        return all(k in base and within(v, base[k], k) for k, v in value.items())
    if isinstance(value, list) and isinstance(base, list):
        key = merge_key(name, (base, value))
        if key is None:
            return False
        olds = _by_key(base, key)
        return all((k := (type(item[key]), item[key])) in olds and within(item, olds[k], None)
                   for item in value)
    return False


def merge_fields(base: dict[str, Any] | None, theirs: dict[str, Any], ours: dict[str, Any]
                 ) -> tuple[list[Edit], list[FieldConflict]]:
    """The edits that bring theirs' changes since base into ours, and the conflicts.
    `base` None: the resource was added on both sides (merged as from an empty one)."""
    walk = _Walk()
    walk.value((), (), {} if base is None else base, theirs, ours)
    return walk.edits, walk.conflicts


@dataclass
class _Walk:
    edits: list[Edit] = field(default_factory=list)
    conflicts: list[FieldConflict] = field(default_factory=list)

    def value(self, at: tuple[Segment, ...], shown: tuple[Segment, ...],
              b: Any, t: Any, o: Any) -> None:
        if same_value(t, b) or same_value(o, t):
            return
        # (a map or list both sides made of something else merges as if added on both)
        if _maps(t, o):
            self.map(at, shown, b if _maps(b) else {}, t, o)
            return
        if isinstance(t, list) and isinstance(o, list):
            base = b if isinstance(b, list) else []
            key = merge_key(_last_name(shown), (base, t, o))
            if key is not None:
                self.items(at, shown, key, base, t, o)
                return
        if same_value(o, b) or (t is ABSENT and within(o, b, _last_name(shown))):
            if t is ABSENT:
                self.edits.append(Edit("delete", at))
            else:
                self.edits.append(Edit("set", at, t))
            return
        if o is ABSENT and within(t, b, _last_name(shown)):
            return  # deleted here, only cut down upstream: it stays deleted
        self.conflicts.append(FieldConflict(shown, b, o, t))

    def map(self, at: tuple[Segment, ...], shown: tuple[Segment, ...],
            b: dict[str, Any], t: dict[str, Any], o: dict[str, Any]) -> None:
        keys = list(o)
        keys += [k for k in t if k not in o]
        keys += [k for k in b if k not in o and k not in t]
        for k in keys:
            self.value((*at, k), (*shown, k), b.get(k, ABSENT), t.get(k, ABSENT),
                       o.get(k, ABSENT))

    def items(self, at: tuple[Segment, ...], shown: tuple[Segment, ...], key: str,
              b: list[Any], t: list[Any], o: list[Any]) -> None:
        bs, ts = _by_key(b, key), _by_key(t, key)
        gone: list[int] = []
        for i, item in enumerate(o):
            k = (type(item[key]), item[key])
            bv, tv = bs.get(k, ABSENT), ts.get(k, ABSENT)
            here, named = (*at, i), (*shown, Match(key, str(item[key])))
            if same_value(tv, bv) or same_value(item, tv):
                continue
            if tv is ABSENT:
                if within(item, bv, None):
                    gone.append(i)
                else:
                    self.conflicts.append(FieldConflict(named, bv, item, tv))
                continue
            self.value(here, named, bv, tv, item)
        os_ = _by_key(o, key)
        for k, tv in ts.items():
            if k in os_:
                continue
            bv = bs.get(k, ABSENT)
            if bv is ABSENT:
                self.edits.append(Edit("append", at, tv))
            elif not within(tv, bv, None):
                self.conflicts.append(FieldConflict((*shown, Match(key, str(k[1]))), bv,
                                                    ABSENT, tv))
        for i in reversed(gone):
            self.edits.append(Edit("delete", (*at, i)))


def _maps(*values: Any) -> bool:
    """True when every value is a map keyed by strings only (a path can name its keys)."""
    return all(isinstance(v, dict) and all(isinstance(k, str) for k in v) for v in values)


def _by_key(items: list[Any], key: str) -> dict[tuple[type, Any], Any]:
    return {(type(item[key]), item[key]): item for item in items}


def _last_name(shown: tuple[Segment, ...]) -> str | None:
    return shown[-1] if shown and isinstance(shown[-1], str) else None
