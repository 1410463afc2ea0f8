"""A ResourceList's text into its items, each with the span of text it occupies (the
path for small or unusual inputs; large block-style lists are cut into items without
composing the whole, see `_large.lazy_list`). The document is composed and checked by `_text.parse`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from krmfn._errors import InputError
from krmfn._text.nodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    alias_spans,
    indented_comments_end,
    line_end,
)
from krmfn._text.parse import (
    check_keys_unique,
    check_tree,
    compose,
    long_prefix,
    may_have_anchors,
    may_have_tags,
    nesting_bounded,
)

if TYPE_CHECKING:
    from krmfn._text.document import Doc

__all__ = ["Chunk", "ParsedList", "from_header", "parse_resource_list"]


@dataclass
class Chunk:
    """One item: its node tree, the text its marks refer to, and the span it occupies."""

    text: str
    root: Node
    start: int
    end: int
    form: str  # "chunk": span holds `- ` and indentation; "inline": span is the bare node
    aliased: bool = False  # holds nodes reached twice (aliases): edits rewrite it whole
    shared: bool = False  # shares nodes with other items: its text cannot stand alone


@dataclass
class ParsedList:
    api_version: str
    header_text: str  # the ResourceList text around the items block ("" when rebuilt)
    items_at: int  # where item text goes inside header_text (-1: rebuild the header)
    wide: bool  # items written `  - ` under `items:` (kpt's "wide" seqindent)
    items: list[Chunk]
    function_config: Chunk | None
    old_results: list[object] = field(default_factory=list)


def parse_resource_list(text: str) -> ParsedList:
    """Compose a ResourceList and find each item's span; raises InputError (one line)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError("input is empty: expected a ResourceList")
    root = compose(text)
    if root is None:
        raise InputError("input is empty: expected a ResourceList")
    if not isinstance(root, MappingNode):
        raise InputError("input is not a ResourceList: the document is not a mapping")
    parsed = from_header(root, text, "input")
    items_node = next((v for k, v in root.value if k.value == "items"), None)
    if items_node is None or items_node.tag == "tag:yaml.org,2002:null":
        return parsed
    if not isinstance(items_node, SequenceNode):
        raise InputError("ResourceList.items is not a list")
    whole = _whole_text(text, root)
    for i in range(len(items_node.value)):
        parsed.items.append(_whole_chunk(whole, items_node, i))
    items = parsed.items
    chunks = [c for c in items if c.form == "chunk"]
    parsed.wide = bool(chunks) and text[chunks[0].start : chunks[0].start + 4] == "  - "
    shared_with_header = _mark_shared(root, items) if whole.aliases is not None else False
    fc_at = next((i for i, (k, _v) in enumerate(root.value) if k.value == "functionConfig"), -1)
    if parsed.function_config is not None and (
            shared_with_header or whole.alias_at(root, 2 * fc_at + 1) is not None):
        # its text may lean on anchors elsewhere: it is written from its data
        parsed.function_config.aliased = parsed.function_config.shared = True
    if items and len(chunks) == len(items) and not shared_with_header:
        # Keep the ResourceList's own text around the items: output differs from input
        # only where a function changed something. Old results are cut out of it (they
        # are written again, with the new ones, at the end).
        first, last = items[0].start, items[-1].end
        cut = _results_span(whole) or (first, first)
        if first < cut[1] and cut[0] < last:
            return parsed
        rest = text[: cut[0]] + text[cut[1] :]
        shift = cut[1] - cut[0] if cut[1] <= first else 0
        parsed.header_text = rest[: first - shift] + rest[last - shift :]
        parsed.items_at = first - shift
    return parsed


def _whole_text(text: str, root: MappingNode) -> Doc:
    """The composed document over its text, for the spans of its parts (with where its
    aliases are written, if it may have any)."""
    from krmfn._text.document import Doc

    doc = Doc(text, root)
    if may_have_anchors(text):
        doc.aliases = alias_spans(text, root)
    return doc


def _results_span(whole: Doc) -> tuple[int, int] | None:
    """The lines of the ResourceList's own `results:` field, if it has one."""
    from krmfn._text.nodes import line_start

    root, text = whole.root, whole.text
    assert isinstance(root, MappingNode)
    for i, (k, v) in enumerate(root.value):
        if k.value == "results":
            alias = whole.alias_at(root, 2 * i + 1)
            end = line_end(text, whole._end_of(v) if alias is None else alias[1])
            return line_start(text, int(k.start_mark.index)), min(end + 1, len(text))
    return None


def _mark_shared(root: MappingNode, items: list[Chunk]) -> bool:
    """Mark items whose nodes an alias shares with another item or with the rest of the
    ResourceList (they are written out whole, aliases expanded); True if the rest of the
    ResourceList is involved: its text cannot be kept then either."""
    owner: dict[int, int] = {}
    seen: set[int] = set()
    involved: set[int] = set()
    trees: list[tuple[int, Node]] = [(i, c.root) for i, c in enumerate(items)]
    trees += [(-1, v) for k, v in root.value if k.value != "items"]
    for who, tree in trees:
        stack = [tree]
        while stack:
            node = stack.pop()
            first = owner.setdefault(id(node), who)
            if first != who:
                involved.update((first, who))
                continue
            if id(node) in seen:  # an alias within the same tree: walked already
                continue
            seen.add(id(node))
            if isinstance(node, MappingNode):
                stack.extend(v for _, v in node.value)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)
    for i in involved - {-1}:
        items[i].aliased = items[i].shared = True
    return -1 in involved


def _whole_chunk(whole: Doc, items: SequenceNode, i: int) -> Chunk:
    """Item `i` of a document composed whole: an item with its own `- ` line keeps that
    line and everything up to the next item (chunk form: comments stay, the header is
    kept); items of a flow sequence (JSON) are taken as the bare node. Where an item
    starts and ends is where its own text does: an item (or its last entry) that is an
    alias is its `*name`, not the anchored node's text."""
    text, node = whole.text, items.value[i]
    alias = whole.alias_at(items, i)
    start = int(node.start_mark.index) if alias is None else alias[0]
    if isinstance(node, MappingNode) and node.value:
        ls = _dash_line(text, start)
        if ls >= 0:
            if i + 1 < len(items.value):
                nxt = whole.alias_at(items, i + 1)
                stop = _dash_line(text, int(items.value[i + 1].start_mark.index)
                                  if nxt is None else nxt[0])
            else:
                end = whole._end_of(node) if alias is None else alias[1]
                stop = min(line_end(text, end) + 1, len(text))
                dash_line = text[ls : line_end(text, ls)]
                stop = indented_comments_end(text, stop,
                                              len(dash_line) - len(dash_line.lstrip(" ")))
            if stop > ls:
                return Chunk(text, node, ls, stop, "chunk")
    if alias is not None:
        return Chunk(text, node, *alias, "inline", aliased=True, shared=True)
    return Chunk(text, node, start, int(node.end_mark.index), "inline")


def _dash_line(text: str, start: int) -> int:
    """Start of the line holding the `- ` that opens the item at `start` (-1 if unusual).
    Only blank and comment lines may stand between the dash and the item's first key."""
    from krmfn._text.nodes import line_start

    ls = line_start(text, start)
    prefix = text[ls:start]
    while True:
        stripped = prefix.lstrip(" ")
        if stripped.startswith("-"):
            col = len(prefix) - len(stripped)
            rest = stripped[1:].strip()
            return ls if col in (0, 2) and (not rest or rest.startswith("#")) else -1
        if stripped.strip() and not stripped.startswith("#"):
            return -1
        if ls == 0:
            return -1
        end = ls - 1
        ls = line_start(text, end)
        prefix = text[ls:end]


_STR = "tag:yaml.org,2002:str"  # `kind: !!null ResourceList` is not a ResourceList


def from_header(head: MappingNode, text: str, what: str) -> ParsedList:
    # The items are checked one by one by their reader; here only the rest of the list.
    tags, aliases = may_have_tags(text), may_have_anchors(text)
    long_lines = long_prefix(text)
    check_keys_unique(head.value, what)
    for k, v in head.value:
        if k.value != "items":
            deep = v.start_mark is None or not nesting_bounded(
                text, int(v.start_mark.index), int(v.end_mark.index), long_lines=long_lines)
            check_tree(v, f"{what}.{k.value}", tags=tags, aliases=aliases, deep=deep)
    fields = {k.value: v for k, v in head.value}
    kind = fields.get("kind")
    api = fields.get("apiVersion")
    if not isinstance(kind, ScalarNode) or kind.value != "ResourceList" or kind.tag != _STR:
        raise InputError("input is not a ResourceList: kind is "
                         f"{kind.value if isinstance(kind, ScalarNode) else 'missing'}")
    if not isinstance(api, ScalarNode) or api.tag != _STR or api.value not in (
        "config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"
    ):
        raise InputError("input is not a ResourceList: apiVersion must be "
                         "config.kubernetes.io/v1 (or v1beta1)")
    fc = fields.get("functionConfig")
    fc_chunk = None
    if fc is not None and fc.tag != "tag:yaml.org,2002:null":
        fc_chunk = Chunk(text, fc, int(fc.start_mark.index), int(fc.end_mark.index), "inline")
    old: list[object] = []
    results = fields.get("results")
    if results is not None and results.tag != "tag:yaml.org,2002:null":
        from krmfn._text.nodes import construct

        value = construct(results)
        old = value if isinstance(value, list) else [value]
    return ParsedList(str(api.value), "", -1, False, [], fc_chunk, old)
