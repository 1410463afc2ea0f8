"""RFC 6902 patches, computed with jsonpatch on a plain copy of the resource and written
back field by field, so the comments of everything a patch does not touch stay.

A patch whose effect is already there (every operation's outcome holds) is skipped: an
`add` to the end of a list would otherwise add again on each render, and a `remove`
would fail once the field is gone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from krmfn import KubeObject, ResourceList, same_value

from krmfn_catalog.site_specialize.config import Patch
from krmfn_catalog.site_specialize.plain import FieldPath, format_path

__all__ = ["apply_patches"]

_ABSENT: Any = object()


def apply_patches(rl: ResourceList, objects: Iterable[KubeObject],
                  patches: list[Patch]) -> int:
    """Apply each patch to the resources its target selects; how many resources changed."""
    import jsonpatch  # only a config with patches pays for it

    candidates = list(objects)
    changed: set[int] = set()
    for i, patch in enumerate(patches):
        selected = [o for o in candidates if patch.target.matches(o)]
        if not selected:
            rl.warning(f"patches[{i}] selects no resource ({patch.target.describe()})")
        for obj in selected:
            doc = obj.to_dict()
            if _already_applied(doc, patch.patch):
                continue
            new = doc
            for j, op in enumerate(patch.patch):
                try:
                    new = jsonpatch.JsonPatch([op]).apply(new)
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                    rl.error(f"patches[{i}] does not apply to {obj.kind} {obj.name}: operation "
                             f"{j} ({op['op']} {op['path']}): {_reason(exc)}", obj,
                             field=_pointer_path(op["path"]) or None)
                    break
            else:
                if not same_value(doc, new):
                    _write(obj, (), doc, new)
                    changed.add(id(obj))
    return len(changed)


def _reason(exc: Exception) -> str:
    """jsonpatch's message without the dump of the whole object it looked in."""
    return re.sub(r" in [\[{].*\Z", "", str(exc), flags=re.S)


def _already_applied(doc: dict[str, Any], ops: list[dict[str, Any]]) -> bool:
    """True when the document already shows what every (non-test) operation would do."""
    effects = [op for op in ops if op["op"] != "test"]
    return bool(effects) and all(_holds(doc, op) for op in effects)


def _holds(doc: dict[str, Any], op: dict[str, Any]) -> bool:
    name, path = op["op"], op["path"]
    if name == "remove":
        return _resolve(doc, path) is _ABSENT
    if name == "move":
        return _resolve(doc, op["from"]) is _ABSENT and _resolve(doc, path) is not _ABSENT
    if name == "copy":
        value = _resolve(doc, op["from"])
        return value is not _ABSENT and same_value(_resolve(doc, path), value)
    if name == "add" and path.endswith("/-"):
        parent = _resolve(doc, path[:-2])
        return isinstance(parent, list) and bool(parent) and same_value(parent[-1], op["value"])
    return same_value(_resolve(doc, path), op["value"])


def _resolve(doc: Any, pointer: str) -> Any:
    node = doc
    for token in _tokens(pointer):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _ABSENT
    return node


def _tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _pointer_path(pointer: str) -> str:
    return format_path(tuple(int(t) if t.isdigit() else t for t in _tokens(pointer)))


def _write(obj: KubeObject, path: FieldPath, old: Any, new: Any) -> None:
    """Make `obj` hold `new` at `path`, editing only where it differs from `old`."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                obj.delete([*path, str(key)])
        for key, value in new.items():
            at = (*path, str(key))
            if key not in old:
                obj.set(list(at), value)
            elif not same_value(old[key], value):
                _write(obj, at, old[key], value)
        return
    if isinstance(old, list) and isinstance(new, list) and path:
        _write_list(obj, path, old, new)
        return
    obj.set(list(path), new)


def _write_list(obj: KubeObject, path: FieldPath, old: list[Any], new: list[Any]) -> None:
    if len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if not same_value(a, b):
                _write(obj, (*path, i), a, b)
        return
    if len(new) > len(old) and all(same_value(a, b) for a, b in zip(old, new, strict=False)):
        for value in new[len(old):]:
            obj.append(list(path), value)
        return
    kept = _kept_indexes(old, new)
    if kept is None:
        obj.set(list(path), new)
        return
    for i in reversed(range(len(old))):
        if i not in kept:
            obj.delete([*path, i])


def _kept_indexes(old: list[Any], new: list[Any]) -> set[int] | None:
    """The indexes of `old` that make up `new` when `new` only lost entries, else None."""
    kept: set[int] = set()
    i = 0
    for value in new:
        while i < len(old) and not same_value(old[i], value):
            i += 1
        if i == len(old):
            return None
        kept.add(i)
        i += 1
    return kept
