"""Large ResourceLists without holding every node tree at once.

A node tree costs about thirty times the text it was parsed from, and composing it costs
ten times what checking the text's syntax does. From `LAZY_MIN_ITEMS` items or
`LAZY_MIN_BYTES` of text on (real install manifests hold a few huge CRDs), the items
block is cut at its `- ` lines into one text chunk per item, and each item is composed
only when a function first reads it: a function that looks at a few resources of a large
package pays for those. Identity fields (apiVersion, kind, name, namespace) are read from
the chunk text by pattern, so listing the items costs no parsing. From `EVICT_MIN_ITEMS`
items on, only the `RESIDENT` most recent trees stay in memory; an evicted tree that was
edited leaves its text for writing, and its edits are made again if it is read again.

Most functions touch only the metadata of most items (a label, the namespace, an
annotation to look for), so an item is also read in parts (`_large.parts`, `_large.lazy_item`): the
lines of one metadata key, else its head (apiVersion, kind, metadata), and an
annotation or label whose key is nowhere in its text is known to be absent. Every item is
checked whole anyway, so reading most of an item in parts would only cost more.

Cutting text before parsing is unsafe on its own (a multi-line quoted scalar can contain
a line that looks like an item). Every guess is therefore verified: each chunk is composed
and checked once (when read, after the function ran, or meanwhile by a worker process, see
`_large.check_worker`) and must hold exactly one resource whose identity matches what the
patterns found, with its parts where the patterns said. Any surprise raises
`LayoutChanged`, and the caller runs the function again on the whole document parsed at
once.
"""

from __future__ import annotations

import operator
import re
from collections import OrderedDict
from typing import Any, NamedTuple, Protocol

import yaml
from yaml._yaml import CParser

from krmfn._errors import InputError
from krmfn._large.parts import head_end
from krmfn._text.anchors import may_hold_anchor, shares_nodes
from krmfn._text.nodes import MappingNode, Node, ScalarNode, SequenceNode, construct, value_of
from krmfn._text.parse import (
    GcPaused,
    _guard_depth,
    _resolve,
    check_tree,
    long_prefix,
    may_have_tags,
    nesting_bounded,
)

__all__ = [
    "EVICT_MIN_ITEMS",
    "LAZY_MIN_BYTES",
    "LAZY_MIN_ITEMS",
    "LOCAL_CONFIG",
    "RESIDENT",
    "Facts",
    "LayoutChanged",
    "LazyList",
    "LazySplit",
    "agrees",
    "compose_chunk",
    "guess_identity",
    "identity",
    "local_fact",
    "scalar_fact",
    "shape_problem",
    "split_items",
]

LAZY_MIN_ITEMS = 100
LAZY_MIN_BYTES = 256 * 1024  # or this much text, in however few items
EVICT_MIN_ITEMS = 2000
RESIDENT = 256
# Line patterns start with "\n" and run over "\n" + text: a literal first character lets
# the regex engine skip to candidates in C (`^` with re.M tries every position). A match
# at index i of that string is a line starting at index i of the text.
_ITEMS_LINE = re.compile(r"\nitems:[ \t]*(?:#[^\n]*)?(?=\n|\Z)")
_TOP_KEY = re.compile(r"\n[^\s#-]")
_DOC_MARK = re.compile(r"\n(?:---|\.\.\.)(?=[ \t\n]|\Z)")
_PLAIN = r"([A-Za-z0-9][A-Za-z0-9._/:-]*)[ \t]*(?:#[^\n]*)?$"


class LayoutChanged(InputError):
    """The cheap cut of the text into items turned out wrong: parse the whole document."""


class LazySplit(NamedTuple):
    header: str  # the ResourceList text without the items block
    items_at: int  # where the items go back into `header`
    wide: bool
    text: str  # the whole input: chunks are slices of it, taken only when needed
    bounds: list[int]  # chunk i is text[bounds[i]:bounds[i + 1]]


def split_items(text: str) -> LazySplit | None:
    """Cut a large block-style ResourceList into item chunks, or None for the eager path
    (small inputs, anchors, several documents, flow style, unusual layouts)."""
    few = len(text) < LAZY_MIN_BYTES  # a few huge CRDs pay as much as many small items
    if few and text.count("\n- ") + text.count("\n  - ") < LAZY_MIN_ITEMS:
        return None
    lines = "\n" + text
    if may_hold_anchor(text) or text.lstrip().startswith(("{", "[", "%")) or _DOC_MARK.search(
            lines):
        return None
    if any(c in text for c in ("\x85", "\u2028", "\u2029", "\r")):  # see _guard_breaks
        return None
    found = list(_ITEMS_LINE.finditer(lines))
    if len(found) != 1:
        return None
    block_start = found[0].end()  # text index of the line after `items:`
    nxt = _TOP_KEY.search(lines, block_start)
    block_end = nxt.start() if nxt else len(text)
    first = re.search(r"^( *)-(?: |$)", text[block_start:block_end], re.M)
    if first is None or len(first.group(1)) not in (0, 2):
        return None
    pad = first.group(1)
    last = text.rfind("\n", block_start, block_end - 1) + 1  # the block's last line
    line = text[last:block_end].rstrip("\n")
    content = line.lstrip(" ")
    if not content.strip() or (content.startswith("#") and len(line) - len(content) <= len(pad)):
        return None  # blank lines or a comment of what follows end the block: a whole read
        # leaves them out of the last item, and items a function adds go before them
    item_line = re.compile(rf"\n{pad}-(?=[ \n]|\Z)")
    starts = [m.start() for m in item_line.finditer(lines, block_start, block_end + 1)]
    if (few and len(starts) < LAZY_MIN_ITEMS) or text[block_start : starts[0]].strip(" \n"):
        return None
    header = text[: starts[0]] + text[block_end:]
    if re.search(r"^results:", header, re.M):
        return None
    return LazySplit(header, starts[0], pad == "  ", text, [*starts, block_end])


class _ChunkComposer(CParser):
    """libyaml's composer alone: no constructor, the same memoized resolver as `compose`."""

    resolve = staticmethod(_resolve)
    descend_resolver = staticmethod(operator.is_)  # no path resolvers: see _parse._Loader
    ascend_resolver = staticmethod(tuple)


def compose_chunk(chunk: str, index: int, *, tags: bool = True, shallow: bool = False,
                  checked: bool = False, part: bool = False) -> MappingNode:
    """The one resource a chunk holds; LayoutChanged if it is not exactly that. `tags`
    False and `shallow` True spare the checks the whole text ruled out (`LazyList`);
    `checked` all of them (the check worker did them). A `part` is the lines of one key
    of an item's metadata or of the item (see `_large.parts`): a mapping of that one key."""
    if not shallow and not checked:
        _guard_depth(chunk, f"items[{index}]")
    try:
        with GcPaused():
            parser = _ChunkComposer(chunk)
            try:
                seq = parser.get_single_node()
            finally:
                parser.dispose()
    except yaml.YAMLError:
        raise LayoutChanged(f"items[{index}]: does not parse on its own") from None
    if part:
        if not isinstance(seq, MappingNode) or len(seq.value) != 1:
            raise LayoutChanged(f"items[{index}]: a key's lines are not that key alone")
        root = seq
    elif not isinstance(seq, SequenceNode) or len(seq.value) != 1:
        raise LayoutChanged(f"items[{index}]: not exactly one item")
    else:
        root = seq.value[0]
    if not isinstance(root, MappingNode):
        raise LayoutChanged(f"items[{index}]: not a mapping")
    if not checked:
        check_tree(root, f"items[{index}]", tags=tags and may_have_tags(chunk),
                   aliases=False, deep=not shallow)
        if "*" in chunk and "&" in chunk and _ALIAS.search(chunk) and shares_nodes(root):
            # an anchor the text scan took for a scalar's text (see `_text.anchors`)
            raise LayoutChanged(f"items[{index}]: holds an alias")
    return root


_ALIAS = re.compile(r"[\s\[{,:]\*")


Facts = tuple[str, str, str, str, bool | None]  # apiVersion, kind, name, namespace, local
LOCAL_CONFIG = "config.kubernetes.io/local-config"


def identity(root: MappingNode) -> Facts:
    """(apiVersion, kind, name, namespace, local-config) of a composed item ("" where
    absent): what functions ask of every item, often more than once."""
    meta = value_of(root, "metadata")
    if not isinstance(meta, MappingNode):
        meta = None
    return (scalar_fact(value_of(root, "apiVersion")), scalar_fact(value_of(root, "kind")),
            scalar_fact(meta and value_of(meta, "name")),
            scalar_fact(meta and value_of(meta, "namespace")),
            local_fact(meta and value_of(meta, "annotations")))


def scalar_fact(node: Node | None) -> str:
    """An identity field's value as `identity` gives it."""
    ok = isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:null"
    return str(node.value) if ok else ""  # type: ignore[union-attr]


def local_fact(notes: Node | None) -> bool:
    """Whether metadata.annotations `notes` mark local config."""
    local = value_of(notes, LOCAL_CONFIG) if isinstance(notes, MappingNode) else None
    value = construct(local) if isinstance(local, ScalarNode) else None
    return (value is True or isinstance(value, str)) and str(value).lower() == "true"


def agrees(exact: Facts, guess: Facts) -> bool:
    """The facts read from the tree bear out those guessed from the text (where known)."""
    return exact[:4] == guess[:4] and (guess[4] is None or guess[4] == exact[4])


def _patterns(wide: bool) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str],
                                   re.Pattern[str]]:
    top, dash = ("    ", "  - ") if wide else ("  ", "- ")
    return (re.compile(rf"^(?:{top}|{dash})apiVersion: {_PLAIN}", re.M),
            re.compile(rf"^(?:{top}|{dash})kind: {_PLAIN}", re.M),
            re.compile(rf"^{top}metadata:[ \t]*\n", re.M),
            # the first line after metadata's that is not in it: not indented under it, not
            # blank, not a comment
            re.compile(rf"\n(?!{top}  |[ \t]*\n|[ \t]*#)"))


_COMPACT, _WIDE = _patterns(False), _patterns(True)
_META = {top: (re.compile(rf"^{top}  name: {_PLAIN}", re.M),
               re.compile(rf"^{top}  namespace: {_PLAIN}", re.M),
               re.compile(rf"^{top}  namespace:", re.M)) for top in ("  ", "    ")}


def guess_identity(text: str, start: int, end: int, wide: bool) -> Facts | None:
    """The identity read by patterns from a kpt-formatted chunk, or None when unsure (the
    local-config flag alone may be None: unsure of it only)."""
    top = "    " if wide else "  "
    api_re, kind_re, meta_re, meta_end_re = _WIDE if wide else _COMPACT
    api = api_re.search(text, start, end)
    kind = kind_re.search(text, start, end)
    meta = meta_re.search(text, start, end)
    if not (api and kind and meta):
        return None
    body = meta.end()  # metadata's lines: text[body:body_end], each ending in a newline
    after = meta_end_re.search(text, body - 1, end)
    body_end = after.start() + 1 if after else text.rfind("\n", body - 1, end) + 1
    name_re, ns_re, any_ns_re = _META[top]
    name = name_re.search(text, body, body_end)
    if name is None:
        return None
    ns = ns_re.search(text, body, body_end)
    if ns is None and any_ns_re.search(text, body, body_end):
        return None
    local = False if text.find("local-config", body, body_end) < 0 else _guess_local(
        text[body:body_end], top)
    return (api.group(1), kind.group(1), name.group(1), ns.group(1) if ns else "", local)


def _guess_local(body: str, top: str) -> bool | None:
    found = _BLOCK_NOTES[top].search(body)
    if found is None:
        return None
    line = _LOCAL_LINE[top].search(found.group(1))
    if line is None:
        return None if "local-config" in found.group(1) else False
    return line.group(2).lower() == "true"


_BLOCK_NOTES = {top: re.compile(rf"^{top}  annotations:[ \t]*(?:#[^\n]*)?\n((?:{top}    [^\n]*\n"
                                rf"|[ \t]*\n|[ \t]*#[^\n]*\n)*)", re.M) for top in ("  ", "    ")}
_LOCAL_LINE = {top: re.compile(rf"^{top}    config\.kubernetes\.io/local-config:[ \t]+(['\"]?)"
                               r"(true|false)\1[ \t]*(?:#[^\n]*)?$", re.M | re.I)
               for top in ("  ", "    ")}


class Resident(Protocol):
    """An item whose trees a LazyList keeps in memory (`_large.item_parts.ItemParts`): all the
    list asks of it is to drop them when it is the oldest past the limit."""

    def _evict(self) -> None: ...


class LazyList:
    """What the items of one lazily read list share: what the whole text showed (so each
    chunk need not be searched again) and the trees kept in memory, oldest first; the
    oldest is evicted past the limit."""

    def __init__(self, text: str, items: int, wide: bool) -> None:
        self.wide = wide
        self.worker: Any = None  # the CheckWorker, once started
        self.tags = may_have_tags(text)
        self.long_lines = long_prefix(text)
        self.limit = RESIDENT if items >= EVICT_MIN_ITEMS else None
        self._objects: OrderedDict[int, Resident] = OrderedDict()

    def guess(self, text: str, start: int, end: int) -> Facts | None:
        """An item's identity from its text (see `guess_identity`), asked for when first
        needed: items that are read anyway never pay for it."""
        return guess_identity(text, start, end, self.wide)

    def compose(self, chunk: str, index: int, *, checked: bool = False,
                part: bool = False) -> MappingNode:
        return compose_chunk(chunk, index, tags=self.tags, checked=checked, part=part,
                             shallow=nesting_bounded(chunk, long_lines=self.long_lines))

    def checked_here(self, index: int) -> None:
        """Item `index` was read whole and checked: the worker need not."""
        if self.worker is not None:
            self.worker.checked_here(index)

    def checked_by_worker(self, index: int) -> bool:
        """The check worker (if any) has checked item `index` already: parse, shape, what
        its text says of its identity. Raises LayoutChanged if it found a problem."""
        return self.worker is not None and index >= self.worker.frontier(index)

    def part(self, chunk: str, index: int) -> MappingNode | None:
        """The tree of `chunk`, the lines of one key of item `index` (of its metadata, of
        the item, or deeper: see `_large.parts`), or None: the item is then read otherwise."""
        if self.worker is not None and self.worker.headless(index):
            return None
        try:
            return self.compose(chunk, index, checked=self.checked_by_worker(index), part=True)
        except InputError:
            return None

    def head(self, text: str, start: int, end: int, index: int) -> tuple[int, MappingNode] | None:
        """(where the head ends, its tree) for an item read by its head alone (see
        `_large.parts.head_end`), or None: the item is then read whole. What the head is checked for
        here is what the whole item would be; the rest waits for `verify`."""
        if self.worker is not None and self.worker.headless(index):
            return None
        cut = head_end(text, start, end, self.wide)
        if cut is None:
            return None
        try:
            root = self.compose(text[start:cut], index, checked=self.checked_by_worker(index))
        except InputError:  # LayoutChanged too: the whole item will tell
            return None
        return (cut, root) if shape_problem(root) is None else None

    def add(self, obj: Resident) -> None:
        if self.limit is None:
            return
        self._objects[id(obj)] = obj
        while len(self._objects) > self.limit:
            self._objects.popitem(last=False)[1]._evict()


def shape_problem(root: object) -> tuple[str, str] | None:
    """(field, message) when an item is not a Kubernetes object."""
    if not isinstance(root, MappingNode):
        return "", "item is not a mapping"
    fields = {k.value: v for k, v in root.value}
    for key in ("apiVersion", "kind"):
        v = fields.get(key)
        if not isinstance(v, ScalarNode) or v.tag != "tag:yaml.org,2002:str" or not v.value:
            return key, f"{key} is missing or not a string"
    meta = fields.get("metadata")
    if not isinstance(meta, MappingNode):
        return "metadata", "metadata is missing or not a map"
    name = next((v for k, v in meta.value if k.value == "name"), None)
    if not isinstance(name, ScalarNode) or not name.value or name.tag not in (
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int"
    ):
        return "metadata.name", "metadata.name is missing or not a string"
    return None
