"""Three-way merge of a package: bring upstream's changes into a package edited by hand.

`merge_package(base, theirs, ours)` takes three versions of one package, each a mapping
from a package-relative path to the file's text: `base` the old upstream (the old
blueprint, or the package as last rendered), `theirs` the new upstream, `ours` the
package as it stands, hand edits included. It returns the merged files and the conflicts;
with any conflict the caller leaves the package as it was (the files returned are then
ours, unchanged).

The semantics are those of `kpt pkg update --strategy resource-merge`:

- Resources are matched by identity: group, kind, namespace and name, the last two read
  from a `# kpt-merge: namespace/name` comment on `metadata` where there is one (kpt
  writes it when it fetches a package, so that a resource whose namespace or name
  changed here still matches its upstream). kpt's own annotations take no part in
  matching nor in merging: `config.kubernetes.io/path`, `index` and `id` and
  `internal.config.kubernetes.io/...`, which carry a resource's file and place, and
  `internal.kpt.dev/...` (the `upstream-identifier` that `kpt pkg get` adds to every
  resource); they stay as ours has them.
- A resource added by hand stays. One added upstream is added: in its own file, as its
  upstream text, when ours has no file of that name, else appended to ours' file of that
  name. One deleted upstream is deleted when ours still has it as base had it (or only
  cut down: fields or list items deleted); edited by hand otherwise, it is a conflict.
  One deleted by hand stays deleted unless upstream changed it (beyond cutting it down):
  a conflict. One added on both sides is merged field by field as if its base were
  empty.
- Within a resource, fields are merged one by one (see `krmfn_fleet.merge3_fields`):
  maps key by key, lists of maps item by item by their merge key, anything else as one
  value.
- A file that is not a package of resources (not YAML, or a document in it that is not a
  resource, in any of the three versions; or YAML without a resource in any) is merged
  whole: changed on one side, that side's text; changed on both sides differently, a
  conflict whose field is "".

Where this differs from kpt, on purpose:

- A field changed on both sides to different values is a conflict here. kpt's merge
  (kyaml's merge3) silently takes upstream's value, losing the hand edit; a fleet must
  not lose a hand edit unseen, so the package is left alone and the conflict reported.
  For the same reason a resource (or field, or list item) deleted by hand but changed
  upstream is a conflict, where kpt keeps it deleted (a resource) or takes upstream's;
  and a resource deleted upstream but edited here is a conflict, where kpt keeps ours
  (a fleet would keep a resource its blueprint no longer has, unseen).
- Lists of maps whose items all have a `name` are merged item by item whatever their
  kind; kpt knows the merge keys of Kubernetes' own kinds from their OpenAPI schema only,
  and replaces a custom resource's list changed upstream as a whole (a hand edit of one
  of its items is lost).
- The file a resource is in takes no part in its identity: a resource moved to another
  file, upstream or here, is still the same one (kpt matches on the file too, and takes
  a moved resource for one deleted and one added).
- A field upstream sets to null is set to null (kpt deletes it); a map deleted upstream
  is deleted (kpt leaves `{}`). Kubernetes reads both as unset.
- Output keeps ours' bytes: every line the merge did not change keeps its text, its
  comments and its place (kpt rewrites a merged file through its YAML library).

A package nothing changed in (ours is base) becomes theirs exactly, as upstream wrote it.

Any other difference from `kpt pkg update` is a bug; `tests/test_merge3_kpt.py` compares
the two on real packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from krmfn._errors import InputError
from krmfn._object import KubeObject
from krmfn._package import Package, package_from_texts
from krmfn._package_paths import is_reserved
from krmfn._path import Segment, format_path
from krmfn._resource_list import ResourceList
from krmfn._text_ends import ended

from krmfn_fleet.merge3_fields import ABSENT, Edit, merge_fields, within

__all__ = ["Conflict", "MergeResult", "merge_package"]

_Identity = tuple[str, str, str, str]  # group, kind, namespace, name
_SHORT = 200  # characters of a value a conflict shows
_MERGE_COMMENT = "kpt-merge:"
_KPT_INTERNAL = "internal.kpt.dev/"  # kpt's bookkeeping (`upstream-identifier`)


@dataclass(frozen=True)
class Conflict:
    """A field both sides changed differently. `file` is the resource's file in ours (in
    theirs when ours has it no more); `resource` reads "apiVersion/Kind namespace/name"
    (no namespace when it has none; "" for a whole file); `field` the field's path with
    list items named by their merge key (`spec.template.spec.containers[name=upf].image`),
    "" for a whole resource or file; the values are short YAML texts, None where absent."""

    file: str
    resource: str
    field: str
    base: str | None
    ours: str | None
    theirs: str | None


@dataclass
class MergeResult:
    """The merged package (path -> text, every file it holds) and the conflicts; with
    any conflict, `files` is ours as it was."""

    files: dict[str, str]
    conflicts: list[Conflict] = field(default_factory=list)


@dataclass
class _Resource:
    file: str
    obj: KubeObject

    @cached_property
    def data(self) -> dict[str, Any]:
        """The resource as plain data, read when needed (before any edit of ours)."""
        return _data(self.obj)


_Parsed = tuple[Package, list[KubeObject]]


@dataclass
class _Side:
    """One version of the package: its resource files read, its resources by identity."""

    name: str
    texts: Mapping[str, str]
    files: dict[str, _Parsed] = field(default_factory=dict)
    resources: dict[_Identity, _Resource] = field(default_factory=dict)


def merge_package(base: Mapping[str, str], theirs: Mapping[str, str],
                  ours: Mapping[str, str]) -> MergeResult:
    """Merge the changes from `base` to `theirs` into `ours` (see the module)."""
    if dict(base) == dict(theirs) or dict(ours) == dict(theirs):
        return MergeResult(dict(ours), [])
    if dict(ours) == dict(base):  # nothing changed here: upstream's package as it is
        return MergeResult(dict(theirs), [])
    # base and theirs are only read: a file the same in both is read once. Ours is
    # edited, so it reads its own files, but for those the same in all three versions
    # (nothing in them can change)
    shared: dict[tuple[str, str], _Parsed | None] = {}
    parsed = [_parse_all(texts, shared) for texts in (base, theirs)]
    parsed.append(_parse_all(ours, {(n, text): p for (n, text), p in shared.items()
                                    if base.get(n) == text == theirs.get(n)}))
    whole = {n for texts in (base, theirs, ours) for n in texts if not _is_resource_file(n)}
    whole |= {n for files in parsed for n, p in files.items() if p is None}
    # a YAML file of comments only, in every version that has it, is text like any other
    whole |= {n for n in set().union(*parsed)
              if not any(p[1] for files in parsed if (p := files.get(n)) is not None)}
    b, t, o = (_read(label, texts, files, whole) for label, texts, files in
               zip(("base", "theirs", "ours"), (base, theirs, ours), parsed, strict=True))
    merge = _Merge(b, t, o)
    for name in sorted(whole):
        merge.whole_file(name)
    merge.resources()
    if merge.conflicts:
        return MergeResult(dict(ours), sorted(merge.conflicts, key=_conflict_order))
    return MergeResult(merge.output(), [])


def _conflict_order(c: Conflict) -> tuple[str, str, str]:
    return c.file, c.resource, c.field


def _is_resource_file(name: str) -> bool:
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    return last == "Kptfile" or last.endswith((".yaml", ".yml"))


def _parse_all(texts: Mapping[str, str], cache: dict[tuple[str, str], _Parsed | None]
               ) -> dict[str, _Parsed | None]:
    """Each resource file read (None: not a package of resources, merged whole)."""
    out: dict[str, _Parsed | None] = {}
    for name, text in texts.items():
        if _is_resource_file(name):
            key = (name, text)
            if key not in cache:
                cache[key] = _parse(name, text)
            out[name] = cache[key]
    return out


def _parse(name: str, text: str) -> _Parsed | None:
    try:
        rl, pkg = package_from_texts(Path("."), [(name, text)])
    except InputError:
        return None
    return pkg, list(rl.items)


def _read(label: str, texts: Mapping[str, str], files: dict[str, _Parsed | None],
          whole: set[str]) -> _Side:
    side = _Side(label, texts)
    for name, parsed in files.items():
        if name in whole or parsed is None:
            continue
        side.files[name] = parsed
        for obj in parsed[1]:
            ident = _identity(obj)
            if ident in side.resources:
                raise InputError(f"{name}: {_label(obj)} is defined twice in the {label} "
                                 f"package (also in {side.resources[ident].file})")
            side.resources[ident] = _Resource(name, obj)
    return side


def _identity(obj: KubeObject) -> _Identity:
    """Group, kind, namespace and name; the namespace and name its upstream had where a
    `# kpt-merge: namespace/name` comment on `metadata` says (as `kpt pkg get` writes it,
    so that a resource renamed or moved to another namespace here still matches)."""
    namespace, name = obj.namespace, obj.name
    if _MERGE_COMMENT in obj.to_yaml():
        comment = (obj.line_comment("metadata") or "").strip()
        if comment.startswith(_MERGE_COMMENT):
            ns, slash, nm = comment.removeprefix(_MERGE_COMMENT).strip().partition("/")
            if slash:
                namespace, name = ns, nm
    return obj.group, obj.kind, namespace, name


def _data(obj: KubeObject) -> dict[str, Any]:
    """The resource as plain data, without kpt's own annotations (an annotations map
    that held nothing else counts as absent)."""
    data = obj.to_dict()
    meta = data.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(annotations, dict) and annotations:
        for key in [k for k in annotations if _kpt_own(k)]:
            del annotations[key]
        if not annotations:
            del meta["annotations"]
    return data


def _kpt_own(key: Any) -> bool:
    return isinstance(key, str) and (is_reserved(key) or key.startswith(_KPT_INTERNAL))


def _label(obj: KubeObject) -> str:
    where = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    return f"{obj.api_version}/{obj.kind} {where}"


def _show(value: Any) -> str | None:
    """A short YAML text of a value (None: absent)."""
    if value is ABSENT:
        return None
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, sort_keys=False,
                          allow_unicode=True).strip()
    text = text.removesuffix("\n...").strip()
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


class _Merge:
    def __init__(self, base: _Side, theirs: _Side, ours: _Side) -> None:
        self.b, self.t, self.o = base, theirs, ours
        self.conflicts: list[Conflict] = []
        self.whole: dict[str, str | None] = {}  # whole files: name -> text (None: gone)
        self.touched: set[str] = set()  # ours' resource files with a change
        self.removed: set[int] = set()  # ids of ours' objects deleted
        self.added: dict[str, list[_Resource]] = {}  # file -> theirs' new resources

    def whole_file(self, name: str) -> None:
        b, t, o = (side.texts.get(name) for side in (self.b, self.t, self.o))
        if t == b or o == t:
            return
        if o == b:
            self.whole[name] = t
            return
        self.conflicts.append(Conflict(name, "", "", _file_state(b), _file_state(o),
                                       _file_state(t)))

    def resources(self) -> None:
        b, t, o = self.b.resources, self.t.resources, self.o.resources
        for ident, mine in o.items():
            old, new = b.get(ident), t.get(ident)
            if new is None:
                if old is not None:
                    self._deleted_upstream(old, mine)
            elif old is None or (old.obj is not new.obj
                                 and old.obj.to_yaml() != new.obj.to_yaml()):
                self._merge(old, new, mine)
        for ident, new in t.items():
            if ident in o:
                continue
            old = b.get(ident)
            if old is None:
                self.added.setdefault(new.file, []).append(new)
            elif not within(new.data, old.data, None):
                self._conflict(new.file, new.obj, "", old.data, ABSENT, new.data)

    def _deleted_upstream(self, old: _Resource, mine: _Resource) -> None:
        if within(mine.data, old.data, None):
            self.removed.add(id(mine.obj))
            self.touched.add(mine.file)
        else:
            self._conflict(mine.file, mine.obj, "", old.data, mine.data, ABSENT)

    def _merge(self, old: _Resource | None, new: _Resource, mine: _Resource) -> None:
        edits, conflicts = merge_fields(None if old is None else old.data, new.data,
                                        mine.data)
        for c in conflicts:
            self._conflict(mine.file, mine.obj, format_path(c.field), c.base, c.ours,
                           c.theirs)
        if edits and not conflicts:
            _apply(mine.obj, edits)
            self.touched.add(mine.file)

    def _conflict(self, file: str, obj: KubeObject, path: str, b: Any, o: Any, t: Any
                  ) -> None:
        self.conflicts.append(Conflict(file, _label(obj), path, _show(b), _show(o),
                                       _show(t)))

    def output(self) -> dict[str, str]:
        out = dict(self.o.texts)
        for name, text in self.whole.items():
            if text is None:
                out.pop(name, None)
            else:
                out[name] = text
        for name in self.touched:
            pkg, objs = self.o.files[name]
            kept = [obj for obj in objs if id(obj) not in self.removed]
            rendered = pkg.render_files(ResourceList(kept)).get(name)
            if rendered is None:
                del out[name]
            else:
                out[name] = _line_breaks_of(self.o.texts[name], rendered)
        for name, new in self.added.items():
            docs = [r.obj.to_yaml() for r in new]
            if name in out:
                out[name] = _appended(out[name], docs)
            elif name not in self.b.texts and len(new) == len(self.t.files[name][1]):
                out[name] = self.t.texts[name]  # a new file: as upstream wrote it
            else:
                out[name] = "---\n".join(ended(d) for d in docs)
        return out


def _apply(obj: KubeObject, edits: list[Edit]) -> None:
    for e in edits:
        if e.op == "set":
            _set(obj, e.path, e.value)
        elif e.op == "delete":
            obj.delete(e.path)
        else:
            obj.append(e.path, e.value)


def _set(obj: KubeObject, path: tuple[Segment, ...], value: Any) -> None:
    """Set a field; a map into a map that holds only kpt's own annotations (which the
    merge does not see) key by key, so that they stay."""
    current = obj.get(path) if isinstance(value, dict) and value else None
    if isinstance(current, dict) and current and all(_kpt_own(k) for k in current):
        for key, item in value.items():
            _set(obj, (*path, key), item)
    else:
        obj.set(path, value)


def _file_state(text: str | None) -> str | None:
    """What a conflict shows of a whole file: its size (its text may be anything)."""
    if text is None:
        return None
    lines = text.count("\n") + (not text.endswith("\n") and text != "")
    return f"{lines} lines"


def _appended(text: str, docs: list[str]) -> str:
    """A file's text with documents added at its end, each after a `---` line."""
    parts = [ended(text.replace("\r\n", "\n"))] if text.strip() else []
    for doc in docs:
        if parts and not parts[-1].rstrip().endswith("---"):
            parts.append("---\n")
        parts.append(ended(doc))
    return _line_breaks_of(text, "".join(parts))


def _line_breaks_of(before: str, text: str) -> str:
    """A rewritten file with the line breaks its old text had (CRLF stays CRLF)."""
    if "\r\n" in before and before.count("\r\n") == before.count("\n"):
        return text.replace("\n", "\r\n")
    return text
