"""Rendering a package again without undoing what was changed in it by hand.

When a package is rendered again (its blueprint has a new revision, its site facts or
injected peers changed, or `--force`), the new render is not simply written over the
package: if the package as it stands differs from what the last render wrote (its drift,
see `krmfn_fleet.drift`), the three are merged, as kpt pkg update merges resources:

- base: what the last render wrote (the base store),
- theirs: what the render gives now,
- ours: the package as it stands in OUT.

The files go through `krmfn_fleet.merge3` (resource files per resource, field by field,
lists of maps by their key; any other file whole, from the side that changed it). A
field (or a whole file) changed both by hand and by the render, to different values, is
a conflict: the package is then left exactly as it was, and every
conflict is reported. `--discard-drift` skips all this and writes the render as is.
A package without drift takes the render as is, which is the common, cheap case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from krmfn._errors import InputError

from krmfn_fleet.drift import drifted, file_ids, package_files, read_base
from krmfn_fleet.merge3 import merge_package

__all__ = ["Kept", "keep_local_edits"]


@dataclass
class Kept:
    """What to write for one package, and what was kept or refused on the way."""

    files: dict[str, bytes]
    kept: list[str] = field(default_factory=list)  # files edited by hand, edits kept
    conflicts: list[str] = field(default_factory=list)  # one line each, package left as it was


def _texts(files: Mapping[str, bytes]) -> dict[str, str]:
    """The files that are UTF-8 text (every one a package normally has)."""
    out = {}
    for name, data in files.items():
        try:
            out[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return out


def keep_local_edits(package: Path, out: Path, key: str, theirs: Mapping[str, bytes],
                     recorded: Mapping[str, str] | None) -> Kept:
    """The files to write for `key` (at `package`), given the new render `theirs` and
    the ids of the files the last render wrote (`recorded`; None when that render
    recorded none, in which case nothing can be told from the render and it is written
    as is)."""
    if recorded is None or not package.is_dir():
        return Kept(dict(theirs))
    ours = package_files(package)
    changed = drifted(recorded, file_ids(ours))
    if not changed:
        return Kept(dict(theirs))
    base = read_base(out, key)
    if file_ids(base) != dict(recorded):
        return Kept(dict(ours), conflicts=[
            f"{key}: edited by hand ({', '.join(n for n, _ in changed)}) and its last "
            f"render is not in {out / '.krmfn-fleet'}: nothing to merge with "
            "(--discard-drift overwrites the edits)"])
    result = Kept({}, kept=[n for n, _ in changed])
    texts = [_texts(side) for side in (base, theirs, ours)]
    b_texts, t_texts, o_texts = texts
    for name in sorted(set(base) | set(theirs) | set(ours)):
        if all(name in t for t in texts):
            continue
        b, t, o = base.get(name), theirs.get(name), ours.get(name)  # not UTF-8 text
        if o != b and t != b and t != o:
            result.conflicts.append(f"{key}: {name}: changed by hand and by the render")
        elif (pick := t if o == b else o) is not None:  # the side that changed it
            result.files[name] = pick
    try:
        answer = merge_package(b_texts, t_texts, o_texts)
    except InputError as exc:  # e.g. a resource defined twice by hand
        result.conflicts.append(f"{key}: cannot merge the hand edits: {exc}")
        return result
    for c in answer.conflicts:
        where = f"{c.file}: {c.resource}: {c.field}" if c.field else f"{c.file}"
        result.conflicts.append(
            f"{key}: {where}: edited by hand to {_show(c.ours)}, rendered now as "
            f"{_show(c.theirs)} (was {_show(c.base)})")
    result.files.update({n: t.encode("utf-8") for n, t in answer.files.items()})
    return result


def _show(value: str | None) -> str:
    text = "(nothing)" if value is None else value.strip()
    return text if len(text) <= 60 else text[:57] + "..."
