"""Where an item's parts lie in its text, found by pattern, and the check against its tree.

A function that touches only an item's metadata need not parse the whole item (see
`_large.lazy_item`): its head (apiVersion, kind, metadata), the lines of one metadata key, or
the lines of one of its keys after the head are enough. Where those lie is read from the
text by line patterns, cheaply and only as a guess; `parts_genuine` then tells, from the
item's composed tree, whether every such guess holds (the check worker asks it of every
item it checks).
"""

from __future__ import annotations

import functools
import re

from krmfn._text.nodes import MappingNode, ScalarNode, value_of
from krmfn._text.path import Segment

__all__ = [
    "HEAD_KEYS",
    "KEY_PART_MIN",
    "head_end",
    "head_genuine",
    "item_keys",
    "items_genuine",
    "key_lines",
    "metadata_genuine",
    "metadata_keys",
    "parts_genuine",
]


# From this size on, a read of a key two deep after an unread item's head (`spec.scope`)
# reads that key's lines alone (`ItemParts._key_part`): a CRD's schema can be megabytes.
KEY_PART_MIN = 8192
# An item's head: the keys every function asks about (and metadata-only edits touch).
HEAD_KEYS = frozenset({"apiVersion", "kind", "metadata"})
_ITEM_KEY = {wide: re.compile(rf"\n(?:{dash}|{top})(?=[^\s#-])(?:([A-Za-z]+):(?=[ \t\n]))?")
             for wide, top, dash in ((False, "  ", "- "), (True, "    ", "  - "))}


def head_end(text: str, start: int, end: int, wide: bool) -> int | None:
    """Where the head of the item `text[start:end]` ends: the start of the first
    item-level line after apiVersion, kind and metadata that holds another key; None when
    the item is not laid out that way. Found by pattern, so a guess: see `head_genuine`."""
    if start == 0 or text[start - 1] != "\n":
        return None
    seen: set[str] = set()
    for m in _ITEM_KEY[wide].finditer(text, start - 1, end):
        key = m.group(1)
        if key in HEAD_KEYS and key not in seen:
            seen.add(key)
            continue
        return m.start() + 1 if len(seen) == 3 else None
    return None


_META_LINE = {wide: re.compile(rf"\n(?:{dash}|{top})metadata:[ \t]*(?:#[^\n]*)?\n")
              for wide, top, dash in ((False, "  ", "- "), (True, "    ", "  - "))}
_META_KEY = {wide: re.compile(rf"\n{top}  (?=[^\s#-])(?:([A-Za-z][A-Za-z0-9]*):(?=[ \t\n]))?")
             for wide, top in ((False, "  "), (True, "    "))}


def metadata_keys(text: str, start: int, end: int, wide: bool, cut: int | None = -1
                  ) -> tuple[list[tuple[str, int]], int] | None:
    """The keys of an item's metadata with where their lines start, and where its lines
    end, found by pattern (see `metadata_genuine`): key `k` is the text from its line up
    to the next key's. None when unsure. A function that reads or edits one label reads
    the lines of `labels` alone, not all of metadata and its eight kpt annotations.
    (`cut`: what `head_end` gives, when known.)"""
    if cut == -1:
        cut = head_end(text, start, end, wide)
    if cut is None:
        return None
    meta = _META_LINE[wide].search(text, start - 1, cut)
    if meta is None:
        return None
    keys = []
    for m in _META_KEY[wide].finditer(text, meta.end() - 1, cut):
        if m.group(1) is None:
            return None
        keys.append((m.group(1), m.start() + 1))
    return (keys, cut) if keys else None


def item_keys(text: str, start: int, end: int, wide: bool, cut: int | None = -1
              ) -> list[tuple[str, int]] | None:
    """The keys of an item after its head (see `head_end`), with where their lines start:
    key `k` is the text from its line up to the next key's (the last: to the item's end).
    None when unsure."""
    if cut == -1:
        cut = head_end(text, start, end, wide)
    if cut is None:
        return None
    keys = []
    for m in _ITEM_KEY[wide].finditer(text, cut - 1, end):
        if m.group(1) is None:
            return None
        keys.append((m.group(1), m.start() + 1))
    return keys or None


def items_genuine(root: MappingNode, keys: list[tuple[str, int]], start: int,
                  wide: bool) -> bool:
    """The keys `item_keys` found are the item's after its head, at those places."""
    rest = root.value[3:]
    if len(rest) != len(keys):
        return False
    column = 4 if wide else 2
    for (key, _value), (name, at) in zip(rest, keys, strict=True):
        if (not isinstance(key, ScalarNode) or key.style or key.value != name
                or key.start_mark.index != at - start + column):
            return False
    return True


def metadata_genuine(root: MappingNode, keys: list[tuple[str, int]], start: int,
                     wide: bool) -> bool:
    """The keys `metadata_keys` found (text offsets from `start`) are metadata's, at those
    places: each key's lines composed alone give the nodes the whole item has."""
    meta = value_of(root, "metadata")
    if not isinstance(meta, MappingNode) or meta.flow_style or len(meta.value) != len(keys):
        return False
    column = 6 if wide else 4
    for (key, _value), (name, at) in zip(meta.value, keys, strict=True):
        if (not isinstance(key, ScalarNode) or key.style or key.value != name
                or key.start_mark.index != at - start + column):
            return False
    return True


def head_genuine(root: MappingNode, cut: int, wide: bool) -> bool:
    """The head guessed by `head_end` (`cut` relative to the chunk) is exactly the item's
    first keys: composed on its own it gives the same nodes as the whole item does."""
    key_at = cut + (4 if wide else 2)
    seen: set[str] = set()
    for key, _value in root.value:
        if key.start_mark.index == key_at:
            return len(seen) == 3
        if not isinstance(key, ScalarNode) or key.style or key.value not in HEAD_KEYS or (
                key.value in seen):
            return False
        seen.add(key.value)
    return False


def parts_genuine(root: MappingNode, text: str, start: int, end: int, wide: bool) -> bool:
    """What the patterns say of the parts of the item `text[start:end]` (its head, its
    metadata keys, its keys after the head) holds for its tree `root`, and so does what
    `LazyItem._absent` assumes: every label and annotation key is written out in the
    text (only quoted keys can differ from their text), and, in a large item, every key
    of the item's keys after the head starts its line, written out."""
    cut = _cut_if_lines_are_keys(root, text, start, end, wide)
    if cut == -1:  # the long way
        cut = head_end(text, start, end, wide)
        if cut is not None and not (head_genuine(root, cut - start, wide) and (
                (tops := item_keys(text, start, end, wide, cut)) is None
                or items_genuine(root, tops, start, wide))):
            return False
    if cut is not None:
        keys = metadata_keys(text, start, end, wide, cut)
        if keys is not None and not metadata_genuine(root, keys[0], start, wide):
            return False
    meta = value_of(root, "metadata")
    if isinstance(meta, MappingNode):
        for name, node in meta.value:
            if (name.value in _SPELLED_OUT and isinstance(node, MappingNode)
                    and not _spelled_out(node, text, start, end)):
                return False
    # and, in an item large enough to be read so, the keys of its keys after the head
    # (`ItemParts._key_part`, `LazyItem._absent` of `spec.x`)
    return end - start < KEY_PART_MIN or all(
        _line_keys(node, text, start) for name, node in root.value
        if isinstance(node, MappingNode) and name.value not in HEAD_KEYS)


def _line_keys(node: MappingNode, text: str, start: int) -> bool:
    """Every key of `node` starts its line (after spaces), written out plain or simply
    quoted: `ItemParts._key_part` finds a key by such a line, or knows it is absent."""
    for key, _value in node.value:
        if not isinstance(key, ScalarNode):
            return False
        at = start + key.start_mark.index
        line = text.rfind("\n", 0, at) + 1
        style, name = key.style, key.value
        spelled = (f"{style}{name}{style}" if style in ("'", '"') else name) if (
            style in ("'", '"', None, "")) else None
        if spelled is None or text[line:at].strip(" ") or not text.startswith(spelled, at):
            return False
    return True


def _spelled_out(node: MappingNode, text: str, start: int, end: int) -> bool:
    """Every key of `node` is written out in `text[start:end]` (only quoted keys can
    differ from their text)."""
    for key, _value in node.value:
        style = getattr(key, "style", None)
        if style and (style != "'" or "'" in key.value) and text.find(
                key.value, start, end) < 0:
            return False
    return True


def _cut_if_lines_are_keys(root: MappingNode, text: str, start: int, end: int,
                           wide: bool) -> int | None:
    """When the item-level lines the patterns see are exactly the keys of the tree, by
    name and place (the common case, found in one scan), what `head_end` gives; then its
    cut and `item_keys` hold. Else -1: the caller checks the long way."""
    if start == 0 or text[start - 1] != "\n":
        return -1
    column = 4 if wide else 2
    found = [(m.group(1), m.start() + 1) for m in _ITEM_KEY[wide].finditer(text, start - 1, end)]
    pairs = root.value
    if len(found) != len(pairs) or not all(
            not key.style and key.value == name and key.start_mark.index + start == at + column
            for (key, _value), (name, at) in zip(pairs, found, strict=True)):
        return -1
    head = {name for name, _at in found[:3]}
    return found[3][1] if len(found) > 3 and head == HEAD_KEYS else None


_SPELLED_OUT = frozenset({"annotations", "labels"})


# --- a key deeper in an item's key: the line a comment a function looks for is on -----

_KEY = r"[A-Za-z0-9_][\w./-]*"
_PLAIN = r"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|[-?:](?=\S))(?:[^\s:#]|:(?=\S)|(?<=\S)#|[ ]+(?=[^\s#]))*"
_DOUBLE = r'"(?:[^"\\\n]|\\[^\n])*"'
_SINGLE = r"'(?:[^'\n]|'')*'"
_IN_FLOW = rf"(?:[^\[\]{{}}\"'\n#]|{_DOUBLE}|{_SINGLE})*"
_VALUE = rf"(?:{_PLAIN}|{_DOUBLE}|{_SINGLE}|\[{_IN_FLOW}\]|\{{{_IN_FLOW}\}})"
# Lines that leave nothing open when they end (no block scalar, no quoted scalar or flow
# collection going on, no anchor, alias or tag): blank, comment, `key:` with nothing or a
# one-line value after it, and `- ` entries of either.
_SIMPLE_LINES = (rf"(?:[ ]*(?:#[^\n]*)?\n"
                 rf"|[ ]*(?:-[ ]+)?(?:{_KEY}:(?:[ ]+{_VALUE})?|(?<=- ){_VALUE})[ ]*"
                 rf"(?:[ ]#[^\n]*)?\n)*")
# one line: indentation, the spaces after a `-`, a plain key, and, for a key with nothing
# but a comment after it (its value is on the lines below), the line's end
_LINE = rf"( *)(?:-( +))?(?:({_KEY}):(?:[ ]*(?:#[^\n]*)?(\n)|[ ]))?"
_KEY_END: dict[int, re.Pattern[str]] = {}


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """Compiled when first used: every run imports this, few look for comments."""
    return re.compile(pattern)


def key_lines(text: str, at: int, start: int, end: int, column: int
              ) -> tuple[tuple[Segment, ...], int, int] | None:
    """The key whose line holds `at`, inside the lines `text[start:end]` of an item's key
    (at `column`): (its path from the item, where its lines start, where they end). Read
    from indentation alone, which is exact when every line above it in the item's key is
    simple (see `_SIMPLE_LINES`: nothing spans lines there, so each line is what it looks
    like); None when they are not, or when the line does not start with a plain key (a
    list entry's first key, a line inside a value)."""
    first = text.rfind("\n", start, at) + 1
    if first <= start:
        return None
    m = _compiled(_LINE).match(text, first)
    if m is None or m.group(2) is not None or m.group(3) is None or not _compiled(
            _SIMPLE_LINES).fullmatch(text, start, first):
        return None
    path: list[Segment] = [m.group(3)]
    pos = first
    col = len(m.group(1))  # the column of the map the key of the last step is in
    while col > column:
        pos, line = _above(text, start, pos, col)
        if line is None:
            return None
        indent, dashed, key, opens = line
        if dashed is not None:  # the list entry that map is
            dash = len(indent)
            if key is None or dash + 1 + len(dashed) != col:
                return None
            index = 0
            while True:  # the entries above it, up to the key the list is the value of
                pos, line = _above(text, start, pos, dash + 1)
                if line is None or len(line[0]) < dash or line[1] is None:
                    break
                index += 1
            if line is None:
                return None
            path.append(index)
            indent, dashed, key, opens = line
        if dashed is not None or key is None or opens is None:
            return None  # not a key whose value is on the lines below
        path.append(key)
        col = len(indent)
    if pos != start or col != column:
        return None
    return tuple(reversed(path)), first, _key_end(text, first, len(m.group(1)), end)


def _above(text: str, start: int, pos: int, below: int
           ) -> tuple[int, tuple[str, str | None, str | None, str | None] | None]:
    """The nearest line above the one at `pos` (and from `start` on) indented less than
    `below`, blank and comment lines aside: (where it starts, the groups of its `_LINE`
    match: indentation, spaces after a `-`, key, end of a key line opening a value)."""
    pad, line_at = " " * below, _compiled(_LINE).match
    while pos > start:
        pos = text.rfind("\n", start - 1, pos - 1) + 1
        if text.startswith(pad, pos):
            continue  # indented as much at least
        line = line_at(text, pos)
        assert line is not None  # every part of the pattern is optional
        after = line.end(1)
        if after - pos < below and text[after] not in "\n#":
            return pos, line.groups()  # type: ignore[return-value]
    return pos, None


def _key_end(text: str, first: int, col: int, end: int) -> int:
    """Where the lines of the key at column `col` on the line at `first` end: at the next
    line less indented, or as indented and not a `-` entry (a list that is the key's value
    may start at its column)."""
    pattern = _KEY_END.get(col)
    if pattern is None:
        pattern = _KEY_END[col] = re.compile(
            rf"\n(?: {{0,{col - 1}}}(?=[^ \n#])| {{{col}}}(?=[^ \n#-]))")
    m = pattern.search(text, first, end - 1)
    return m.start() + 1 if m else end
