"""The parts of an item read lazily (see `_large.lazy_item`): the lines of one key of its
metadata, of one of its keys after the head, or of a key deeper in one, each read into a
tree of its own when a function reads or edits only that. Where they lie is found by the
patterns of `_large.parts`; the item's text as it is now is its input with every part's edits
spliced in.
"""

from __future__ import annotations

import functools
import re

from krmfn._large.lazy_list import LazyList
from krmfn._large.parts import HEAD_KEYS, item_keys, key_lines, metadata_keys
from krmfn._text.document import Doc
from krmfn._text.nodes import MappingNode, Node, ScalarNode, SequenceNode
from krmfn._text.path import Segment

__all__ = ["ItemParts"]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"


class ItemParts:
    """Where an item lies in the input, and the trees read of parts of it."""

    __slots__ = ("_chunk", "_cut", "_h", "_index", "_keys", "_list", "_parts", "_routes",
                 "_text", "_tops")

    def __init__(self) -> None:
        # Where the item's text lies in the input, its position, and who keeps trees
        # resident. An item read only in its metadata may have the tree of its head alone
        # (`_h`, the text up to `_cut`; `_cut` -1: it is read whole from now on); one
        # evicted after edits keeps its new `_text`.
        self._chunk: tuple[str, int, int] | None = None
        self._index = 0
        self._list: LazyList | None = None
        self._h: Doc | None = None
        self._cut = 0
        self._text: str | None = None
        # the lines of metadata's keys (`_large.parts.metadata_keys`; False: not looked for yet)
        self._keys: tuple[list[tuple[str, int]], int] | bool | None = False
        # the same of the item's keys after its head (`_large.parts.item_keys`)
        self._tops: list[tuple[str, int]] | bool | None = False
        # by where they start: (where they end, tree, the key, whether a metadata key); a
        # key deeper in an item's key has its path for a key (see `_deep_parts`)
        self._parts: dict[int, tuple[int, Doc, str | tuple[Segment, ...], bool]] | None = None
        # which part answers a path through a metadata key (its first two steps) or to a
        # deeper key (the whole path), once found: asked again for every read and edit
        self._routes: dict[tuple[Segment, ...], Doc] | None = None

    def _evict(self) -> None:
        """Drop the trees (what a LazyList calls on the oldest of its resident items)."""
        raise NotImplementedError

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

    def _key_part(self, segs: tuple[Segment, ...]) -> Doc | bool | None:
        """For a path two map keys deep or more after the head (a CRD's `spec.scope` and
        `spec.names.kind`), the tree of the lines of its second key alone, found by
        indentation (`_large.parts.key_lines`); False when no line of the item's text starts
        with that key, so it is absent (`parts_genuine` checks that every such key starts
        its line, written out); None: the
        item is to be read whole. A large item's schema is then never composed here (the
        check worker composes it on the other core). Only read: kpt's wide lists do not
        matter (see `_item_keys`). The caller marks the item read in parts."""
        if (len(segs) < 2 or not isinstance(segs[0], str) or not isinstance(segs[1], str)
                or segs[0] in HEAD_KEYS or self._h is not None or self._text is not None
                or self._cut < 0 or self._list is None or self._chunk is None
                or self._parts_changed()):
            return None
        key = segs[:2]
        for _end, doc, own, meta in (self._parts or {}).values():
            if not meta and own == key:
                return doc
        text, start, end = self._chunk
        if text.find(segs[1], start, end) < 0 or not _key_line(segs[1]).search(
                text, start - 1, end):
            return False
        keys = self._keys  # where metadata ends is where the head does
        tops = item_keys(text, start, end, self._list.wide,
                         keys[1] if isinstance(keys, tuple) else -1)
        found = next((i for i, (name, _at) in enumerate(tops or ()) if name == segs[0]), None)
        if tops is None or found is None:
            return None
        top_start = tops[found][1]
        top_end = tops[found + 1][1] if found + 1 < len(tops) else end
        column = 4 if self._list.wide else 2
        needle = f"{segs[1]}:"
        pos = text.find(needle, top_start, top_end)
        while pos >= 0:
            line = text.rfind("\n", top_start, pos) + 1
            if line > top_start and not text[line:pos].strip(" "):
                lines = key_lines(text, pos, top_start, top_end, column)
                if lines is None:
                    return None
                if lines[0] == key:
                    return self._part(lines[1], lines[2], key, meta=False)
            pos = text.find(needle, pos + 1, top_end)
        return None

    def _deep_parts(self, found: list[int], start: int, end: int) -> list[Doc] | None:
        """The trees of the keys whose lines hold the places `found` inside the lines of
        the item's key `text[start:end]` (see `_large.parts.key_lines`): a comment is looked for
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


@functools.lru_cache(maxsize=64)
def _key_line(key: str) -> re.Pattern[str]:
    """A line that starts with `key` as a map key, plain or simply quoted."""
    name = re.escape(key)
    return re.compile(rf"\n[ ]*(?:{name}|\"{name}\"|'{name}')[ \t]*:")


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
