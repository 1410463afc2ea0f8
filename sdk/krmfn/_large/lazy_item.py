"""What a KubeObject read from a large list does to be read lazily (see `_large.lazy_list`).

Such an item starts as a slice of the input text. It is composed whole when a function
first needs it whole, or in parts when it only touches its metadata (one metadata key's
lines, or the head) or looks for comments (the keys that hold them: see `_large.item_parts`).
Edits made in parts are spliced into the text, kept, and made again on the whole tree if
one is composed later; whatever was only guessed from the text is checked before anything
is written (`_verify`, and the check worker).
"""

from __future__ import annotations

import copy
from typing import Any

import krmfn._large.parts as _parts
from krmfn._large.item_parts import ItemParts
from krmfn._large.lazy_list import (
    Facts,
    LayoutChanged,
    agrees,
    identity,
    local_fact,
    scalar_fact,
    shape_problem,
)
from krmfn._large.parts import parts_genuine
from krmfn._text.comments import edit
from krmfn._text.document import Doc
from krmfn._text.nodes import MappingNode, Node, ScalarNode, construct
from krmfn._text.path import Segment

__all__ = ["LazyItem"]

_SEQINDENT: tuple[Segment, ...] = (
    "metadata", "annotations", "internal.config.kubernetes.io/seqindent")


class LazyItem(ItemParts):
    """The lazily read side of a KubeObject: its text, its parts (see `ItemParts`), its
    checks, and the edits made in parts."""

    __slots__ = ("_absent_read", "_checked", "_d", "_dirty", "_facts", "_guess", "_log")

    def __init__(self, doc: Doc | None) -> None:
        super().__init__()
        self._d = doc  # the whole tree, when read whole (always, for other objects)
        self._log: list[tuple[str, tuple[Segment, ...], tuple[Any, ...]]] | None = None
        self._absent_read = False  # a label or annotation found absent from the text alone
        self._facts: Facts | None = None
        self._guess: Facts | None = None  # the identity read from the text, once used
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
        of one metadata key, else its head (see `_large.parts`). That
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
            if not edit and self._large:
                found = self._key_part(segs)
                if isinstance(found, Doc):
                    self._absent_read = True  # read in parts: checked as such
                    return found
        return self._materialize()

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
            edit(doc, op, segs, *value)
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
    def _large(self) -> bool:
        """An item worth reading in parts beyond its metadata (see `_key_part`)."""
        return self._chunk is not None and self._chunk[2] - self._chunk[1] >= _parts.KEY_PART_MIN

    @property
    def _read_in_parts(self) -> bool:
        return (self._cut > 0 or self._keys is not False or self._tops is not False
                or self._absent_read)

    def _absent(self, segs: tuple[Segment, ...]) -> bool:
        """A label or annotation an unread item does not have: its key is nowhere in the
        item's text. Asking for one that way (`depends-on`, `local-config`) is common and
        reading the item for it is not needed; the check of the item verifies that every
        label and annotation key is written out in its text. The same holds for keys two
        deep after the head of a large item (a CRD's `spec.conversion`), see `_key_part`."""
        if segs and segs[0] != "metadata":
            if self._d is None and self._chunk is not None and self._large:
                found = self._key_part(segs)
                if found is not None:
                    self._absent_read = True  # read in parts: checked as such
                return found is False
            return False
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
