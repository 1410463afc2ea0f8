"""What a KubeObject read from a large list does to be read lazily (see `_lazy`).

Such an item starts as a slice of the input text. It is composed whole when a function
first needs it whole, or in parts when it only touches its metadata (one metadata key's
lines, or the head) or looks for comments (the keys that hold them). Edits made in parts
are spliced into the text, kept, and made again on the whole tree if one is composed
later; whatever was only guessed from the text is checked before anything is written
(`_verify`, and the check worker).
"""

from __future__ import annotations

import copy
from typing import Any

from krmfn._document import Doc
from krmfn._lazy import (
    Facts,
    LayoutChanged,
    LazyList,
    agrees,
    identity,
    local_fact,
    scalar_fact,
    shape_problem,
)
from krmfn._nodes import MappingNode, Node, ScalarNode, SequenceNode, construct
from krmfn._parts import item_keys, key_lines, metadata_keys, parts_genuine
from krmfn._path import Segment

__all__ = ["LazyItem"]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_SEQINDENT: tuple[Segment, ...] = (
    "metadata", "annotations", "internal.config.kubernetes.io/seqindent")


class LazyItem:
    """The lazily read side of a KubeObject: its text, its parts, its checks."""

    __slots__ = (
        "_absent_read",
        "_checked",
        "_chunk",
        "_cut",
        "_d",
        "_dirty",
        "_facts",
        "_guess",
        "_h",
        "_index",
        "_keys",
        "_list",
        "_log",
        "_parts",
        "_routes",
        "_text",
        "_tops",
    )

    def __init__(self, doc: Doc | None) -> None:
        self._d = doc  # the whole tree, when read whole (always, for other objects)
        # Where the item's text lies in the input, its identity as read from that text,
        # its position, and who keeps trees resident. An item read only in its metadata
        # may have the tree of its head alone (`_h`, the text up to `_cut`; `_cut` -1: it
        # is read whole from now on); one evicted after edits keeps its new `_text`.
        self._chunk: tuple[str, int, int] | None = None
        self._h: Doc | None = None
        self._cut = 0
        # the lines of metadata's keys (`_parts.metadata_keys`; False: not looked for yet),
        # and the trees read of some of them, by position
        self._keys: tuple[list[tuple[str, int]], int] | bool | None = False
        # the same of the item's keys after its head (`_parts.item_keys`)
        self._tops: list[tuple[str, int]] | bool | None = False
        # by where they start: (where they end, tree, the key, whether a metadata key); a
        # key deeper in an item's key has its path for a key (see `_deep_parts`)
        self._parts: dict[int, tuple[int, Doc, str | tuple[Segment, ...], bool]] | None = None
        # which part answers a path through a metadata key (its first two steps) or to a
        # deeper key (the whole path), once found: asked again for every read and edit
        self._routes: dict[tuple[Segment, ...], Doc] | None = None
        self._log: list[tuple[str, tuple[Segment, ...], tuple[Any, ...]]] | None = None
        self._absent_read = False  # a label or annotation found absent from the text alone
        self._text: str | None = None
        self._facts: Facts | None = None
        self._guess: Facts | None = None  # the identity read from the text, once used
        self._index = 0
        self._list: LazyList | None = None
        self._dirty = False
        self._checked = True  # only lazily read items start unchecked

    @property
    def _doc(self) -> Doc:
        doc = self._d
        if doc is None:
            doc = self._materialize()
        return doc

    def _doc_at(self, segs: tuple[Segment, ...], edit: str = "") -> Doc:
        """The tree to read `segs` in (or to `edit` them: "set", "delete", "append"). An
        item not read yet is read in parts when the path lies in its metadata: the lines
        of one metadata key, else its head (see `_parts`). That
        is what most functions touch of most items, and a small part of each: an item is
        checked whole anyway (by the check worker, see `verify`), so reading most of it in
        parts would cost more than reading it whole once. (The lines of a key after the
        head, `spec`, are read alone only to find comments: see `line_comments`.)"""
        doc = self._d
        if doc is not None:
            return doc
        routes = self._routes
        if routes is not None and segs and (not edit or len(segs) > 2) and self._cut >= 0:
            doc = routes.get(segs[:2] if segs[0] == "metadata" else segs)
            if doc is not None and (not edit or segs[0] == "metadata"):
                return doc
        if segs and self._cut >= 0 and self._text is None and self._list is not None:
            if segs[0] == "metadata":
                if len(segs) > 1 and self._h is None:
                    part = self._meta_part_for(segs, edit)
                    if part is not None:
                        if isinstance(segs[1], str):
                            self._route(segs[:2], part)
                        return part
                if len(segs) > 1 or not edit:
                    head = self._h or self._read_head()
                    if head is not None:
                        return head
            elif self._parts and (len(segs) > 1 or not edit):
                part = self._item_part_for(segs, edit)
                if part is not None:
                    return part
        return self._materialize()

    def _item_part_for(self, segs: tuple[Segment, ...], edit: str) -> Doc | None:
        """The tree read of the item's key `segs[0]`, or of a key deeper in it on the path
        (as with metadata's keys, an edit of the deeper key itself must set a scalar)."""
        for _end, doc, key, meta in (self._parts or {}).values():
            if meta:
                continue
            if key == segs[0]:
                return doc
            if isinstance(key, tuple) and segs[: len(key)] == key:
                if len(segs) == len(key) and edit and (
                        edit != "set" or not isinstance(doc.lookup(segs), ScalarNode)):
                    return None
                self._route(key, doc)
                return doc
        return None

    def _route(self, key: tuple[Segment, ...], doc: Doc) -> None:
        if self._routes is None:
            self._routes = {}
        self._routes[key] = doc

    def _meta_part_for(self, segs: tuple[Segment, ...], edit: str) -> Doc | None:
        """The tree of the lines of the metadata key `segs[1]`; for a key metadata does not
        have, of its last key's (what is added goes at the end). None where a part would
        not do what the whole tree does: edits of metadata's own entries but setting a
        scalar or adding a key."""
        keys = self._metadata_keys()
        field = segs[1]
        if keys is None or not isinstance(field, str):
            return None
        lines, meta_end = keys
        at = None
        for i, (name, _start) in enumerate(lines):
            if name == field:
                at = i
                break
        i = len(lines) - 1 if at is None else at  # a key to add goes after the last one
        doc = self._part(lines[i][1], lines[i + 1][1] if i + 1 < len(lines) else meta_end,
                         lines[i][0])
        if doc is not None and at is not None and edit and len(segs) == 2 and (
                edit != "set" or not isinstance(doc.lookup(segs), ScalarNode)):
            return None
        return doc

    def _metadata_keys(self) -> tuple[list[tuple[str, int]], int] | None:
        if self._keys is False:
            assert self._chunk is not None and self._list is not None
            text, start, end = self._chunk
            found = metadata_keys(text, start, end, self._list.wide)
            if found is not None and text.find("wide", start, end) >= 0:
                found = None  # kpt's wide lists: the head says how new lists are written
            self._keys = found
        return self._keys  # type: ignore[return-value]

    def _item_keys(self) -> list[tuple[str, int]] | None:
        if self._tops is False:
            assert self._chunk is not None and self._list is not None
            text, start, end = self._chunk
            keys = self._keys  # where metadata ends is where the head does
            cut = keys[1] if isinstance(keys, tuple) else -1
            found = item_keys(text, start, end, self._list.wide, cut)
            self._tops = None if found is not None and text.find("wide", start, end) >= 0 else (
                found)
        return self._tops  # type: ignore[return-value]

    def _part(self, start: int, end: int, key: str | tuple[Segment, ...],
              meta: bool = True) -> Doc | None:
        """The tree of `text[start:end]`, the lines of the metadata key `key` (`meta`), of
        the item's, or of the key deeper in one at the path `key`; None (and the item is
        read whole from now on) if they do not hold that key alone. Parts read before that
        overlap it go (none has edits: see `_parts_holding`)."""
        parts = self._parts
        if parts is not None and start in parts and parts[start][0] == end:
            return parts[start][1]
        assert self._list is not None and self._chunk is not None
        chunk = self._chunk[0][start:end]
        root = self._list.part(chunk, self._index)
        self._routes = None  # the parts change
        if root is None:
            self._cut = -1
            return None
        # a stand-in of what holds the key, with the key at its place: edits land where
        # they would in the whole tree
        part, base = root, None  # type: MappingNode, tuple[Segment, ...] | None
        if meta:
            root = MappingNode(_MAP_TAG, [(ScalarNode(_STR_TAG, "metadata"), root)])
            base = ("metadata",)
        elif isinstance(key, tuple):
            root, base = _stand_in(key, root), key[:-1]
        doc = Doc(chunk, root)
        if base is not None:
            doc.base = (base, part)
        if parts is None:
            parts = self._parts = {}
        for at in [at for at, p in parts.items() if at < end and start < p[0]]:
            del parts[at]
        parts[start] = (end, doc, key, meta)
        if len(parts) == 1 and self._h is None:
            self._list.add(self)
        return doc

    def _meta_parts(self) -> list[tuple[Doc, str]]:
        return [(doc, str(key)) for _end, doc, key, meta in (self._parts or {}).values()
                if meta]

    def _parts_changed(self, *, meta: bool = False) -> bool:
        return self._parts is not None and any(
            part[1].changed for part in self._parts.values() if part[3] or not meta)

    def _read_head(self) -> Doc | None:
        lazy_list, chunk = self._list, self._chunk
        assert lazy_list is not None and chunk is not None
        if self._parts_changed(meta=True):
            return None  # the whole tree, with the edits made again
        found = lazy_list.head(*chunk, self._index)
        if found is None:
            self._cut = -1
            return None
        cut, root = found
        facts = identity(root)
        if not self._checked and self._guess is not None and not agrees(facts, self._guess):
            raise LayoutChanged(f"items[{self._index}]: identity differs from the text scan")
        text, start, _end = chunk
        had_parts = self._parts is not None
        if self._parts:  # metadata's parts go: the head holds them
            self._parts = {at: p for at, p in self._parts.items() if not p[3]} or None
        self._routes = None
        self._h, self._cut, self._facts = Doc(text[start:cut], root), cut, facts
        self._mark_wide(self._h)
        if not had_parts:
            lazy_list.add(self)
        return self._h

    @staticmethod
    def _mark_wide(doc: Doc) -> None:
        """kpt's `seqindent: wide` annotation says how lists added to the item are written."""
        if "wide" in doc.text:
            node = doc.lookup(_SEQINDENT)
            if isinstance(node, ScalarNode) and construct(node) == "wide":
                doc.wide_lists = True

    def _materialize(self) -> Doc:
        """Compose this item whole (first read, or again after eviction), checking that it
        is what the cheap cut of the text said it was. Edits made before (in parts of it,
        or in a tree since evicted) are made again on the new tree, in order: re-reading
        edited text would not give the same tree (a map emptied in place is a flow `{}`
        in the text, and what is added to it later would be written in flow style)."""
        lazy_list = self._list
        assert lazy_list is not None and self._chunk is not None
        self._h = self._parts = self._routes = None
        text, start, end = self._chunk
        chunk = text[start:end]
        trusted = not self._checked and lazy_list.checked_by_worker(self._index)
        if trusted and self._read_in_parts and lazy_list.worker.headless(self._index):
            raise LayoutChanged(f"items[{self._index}]: its parts are not what they seemed")
        root = lazy_list.compose(chunk, self._index, checked=trusted)
        if not trusted:
            if problem := self._problem(root):
                raise LayoutChanged(f"items[{self._index}]: {problem}")
            if not self._checked:
                lazy_list.checked_here(self._index)
        doc = Doc(chunk, root)
        self._d = doc
        self._mark_wide(doc)
        self._checked = True
        for op, segs, value in self._log or ():
            getattr(doc, op)(segs, *value)
        self._facts = None if self._log else identity(root)
        self._text = None
        lazy_list.add(self)
        return doc

    def _logged(self, op: str, segs: tuple[Segment, ...], *value: Any) -> None:
        """Keep an edit of a lazily read item, to be made again (see `_materialize`) when
        its whole tree is read after it: it was made in a part, or the tree may be evicted."""
        lazy_list = self._list
        if lazy_list is not None and (self._d is None or lazy_list.limit is not None):
            if self._log is None:
                self._log = []
            kept = copy.deepcopy(value) if value and isinstance(value[0], (dict, list)) else value
            self._log.append((op, segs, kept))

    @property
    def _read_in_parts(self) -> bool:
        return (self._cut > 0 or self._keys is not False or self._tops is not False
                or self._absent_read)

    def _absent(self, segs: tuple[Segment, ...]) -> bool:
        """A label or annotation an unread item does not have: its key is nowhere in the
        item's text. Asking for one that way (`depends-on`, `local-config`) is common and
        reading the item for it is not needed; the check of the item verifies that every
        label and annotation key is written out in its text."""
        if (len(segs) < 3 or segs[0] != "metadata" or segs[1] not in ("annotations", "labels")
                or not isinstance(segs[2], str) or self._d is not None or self._h is not None
                or self._text is not None or self._chunk is None or self._cut < 0):
            return False
        if any(k.value == segs[1] for doc, _key in self._meta_parts()
               for k, _v in doc.root.value[0][1].value):
            return False  # read or added in a part: ask it
        text, start, end = self._chunk
        if text.find(segs[2], start, end) >= 0:
            return False
        self._absent_read = True
        return True

    def _problem(self, root: MappingNode) -> str | None:
        """What is wrong with the whole tree of this item's input text, if anything (for an
        item not checked yet: also what the text scans said of it)."""
        problem = shape_problem(root)
        if problem is not None:
            return problem[1]
        if self._checked or self._chunk is None or self._list is None:
            return None
        if self._read_in_parts and not parts_genuine(root, *self._chunk, self._list.wide):
            return "its parts are not what they seemed"
        if self._guess is not None and not agrees(identity(root), self._guess):
            return "identity differs from the text scan"
        return None

    def _current_text(self) -> str:
        """The item's text as it is now, while it has no whole tree."""
        if self._text is not None:
            return self._text
        assert self._chunk is not None
        text, start, end = self._chunk
        parts = self._parts
        if self._h is None and not parts:
            return text[start:end]
        out, pos = [], start
        if self._h is not None:  # the head's text starts the item's
            out.append(self._h.render())
            pos = self._cut
        for at, (stop, doc, _key, _meta) in sorted((parts or {}).items()):
            out += (text[pos:at], doc.render())
            pos = stop
        out.append(text[pos:end])
        return "".join(out)

    def _evict(self) -> None:
        """Drop the trees; what edits made of the text is kept for writing it."""
        doc = self._d or self._h
        if doc is None and not self._parts:
            return
        if self._log:
            self._text = doc.render() if doc is self._d and doc is not None else (
                self._current_text())
            self._dirty = self._dirty or (doc is not None and doc.changed) or (
                self._parts_changed())
        if isinstance(doc, Doc) and isinstance(doc.root, MappingNode):
            self._facts = identity(doc.root)
        self._d = self._h = self._parts = self._routes = None

    @property
    def _unverified(self) -> bool:
        """A lazily read item whose input text was not checked whole yet."""
        return not self._checked and self._chunk is not None

    def _verify(self, *, checked: bool = False) -> None:
        """Check the input text of an item nobody read whole, so every item of the input is
        checked once (`checked`: the check worker did it already)."""
        if self._checked or self._chunk is None or self._list is None:
            return
        if checked:
            if self._read_in_parts and self._list.worker.headless(self._index):
                raise LayoutChanged(f"items[{self._index}]: its parts are not what they seemed")
            self._checked = True
        elif self._d is None and self._h is None and not self._parts and not self._log:
            self._materialize()
        else:  # read in parts, or edited: the trees stay as they are
            text, start, end = self._chunk
            root = self._list.compose(text[start:end], self._index)
            if problem := self._problem(root):
                raise LayoutChanged(f"items[{self._index}]: {problem}")
            self._list.checked_here(self._index)
            self._checked = True

    def _facts_from_parts(self, old: Facts) -> Facts:
        found: dict[str, Node | None] = {}
        for doc, own in self._meta_parts():
            found.setdefault(own, None)  # the part's own key, unless deleted
            for key, value in doc.root.value[0][1].value:
                found[key.value] = value
        return (old[0], old[1],
                scalar_fact(found["name"]) if "name" in found else old[2],
                scalar_fact(found["namespace"]) if "namespace" in found else old[3],
                local_fact(found["annotations"]) if "annotations" in found else old[4])

    def _holds(self, needle: str) -> bool:
        """Whether the item's text, as it is now, holds `needle` (it has no whole tree)."""
        if self._h is None and not self._parts and self._text is None:
            assert self._chunk is not None
            return self._chunk[0].find(needle, self._chunk[1], self._chunk[2]) >= 0
        return needle in self._current_text()

    def _parts_holding(self, needle: str) -> list[Doc] | None:
        """The trees of the parts whose lines hold every `needle` of an unread item's text,
        in text order (the lines of metadata keys, and of the item's keys after its head,
        or of keys deeper in those: a Deployment's setters are in `metadata.name`, and in
        `spec` on the lines of `replicas` and of a container's `image`); None when the
        item is to be read whole."""
        if (self._h is not None or self._text is not None or self._cut < 0
                or self._list is None or self._chunk is None or self._parts_changed()):
            return None
        text, start, end = self._chunk
        keys, tops = self._metadata_keys(), self._item_keys()
        if not keys or not tops:
            return None
        lines, meta_end = keys
        ranges = [(at, lines[i + 1][1] if i + 1 < len(lines) else meta_end, name, True)
                  for i, (name, at) in enumerate(lines)]
        ranges += [(at, tops[i + 1][1] if i + 1 < len(tops) else end, name, False)
                   for i, (name, at) in enumerate(tops)]
        wanted: dict[int, tuple[tuple[int, int, str, bool], list[int]]] = {}
        pos = text.find(needle, start, end)
        while pos >= 0:
            where = next((r for r in ranges if r[0] <= pos < r[1]), None)
            if where is None:
                return None
            wanted.setdefault(where[0], (where, []))[1].append(pos)
            pos = text.find(needle, pos + 1, end)
        docs: list[Doc] = []
        for (part_start, part_end, key, meta), found in sorted(wanted.values()):
            deep = None if meta else self._deep_parts(found, part_start, part_end)
            if deep is not None:
                docs += deep
                continue
            if self._cut < 0:
                return None
            doc = self._part(part_start, part_end, key, meta)
            if doc is None:
                return None
            docs.append(doc)
        return docs

    def _deep_parts(self, found: list[int], start: int, end: int) -> list[Doc] | None:
        """The trees of the keys whose lines hold the places `found` inside the lines of
        the item's key `text[start:end]` (see `_parts.key_lines`): a comment is looked for
        on a few lines of a large `spec`. None when one is not found that way, or the
        key's tree was read already."""
        assert self._chunk is not None and self._list is not None
        if self._parts and start in self._parts:
            return None
        text = self._chunk[0]
        column = 4 if self._list.wide else 2
        docs: list[Doc] = []
        reach = -1
        for at in found:
            if at < reach:
                continue  # on the lines of the key before
            lines = key_lines(text, at, start, end, column)
            if lines is None:
                return None
            path, first, reach = lines
            doc = self._part(first, reach, path, meta=False)
            if doc is None:
                return None
            docs.append(doc)
        return docs


def _stand_in(path: tuple[Segment, ...], node: MappingNode) -> MappingNode:
    """A tree holding `node` (the one key `path[-1]`) at `path` alone; list entries before
    it are empty stand-ins, never reached (only paths through the key are read in it)."""
    held: Node = node
    for seg in reversed(path[:-1]):
        if isinstance(seg, int):
            held = SequenceNode(_SEQ_TAG, [ScalarNode(_NULL_TAG, "")] * seg + [held])
        else:
            held = MappingNode(_MAP_TAG, [(ScalarNode(_STR_TAG, str(seg)), held)])
    assert isinstance(held, MappingNode)
    return held
