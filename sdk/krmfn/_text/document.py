"""An editable YAML node tree that writes itself back by splicing its source text.

Reads walk libyaml's nodes; writes change the tree and record *where* in the source the
change goes. Rendering copies the source and replaces only the recorded spans, so every
byte a function did not deliberately change (comments, quotes, block scalars, flow style,
key order) comes out as it came in. What cannot be spliced safely (an item whose nodes are
shared through YAML aliases) is re-rendered whole instead: correct, but without comments.
Where nodes lie in the text and how the recorded edits are written: `_text.doc_text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from krmfn._errors import FieldError
from krmfn._text.doc_text import DocText, Edit, dash_before, is_flow
from krmfn._text.nodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    construct,
    find_key,
    fingerprint,
    int_text,
    is_synthetic,
    line_end,
    line_start,
)
from krmfn._text.path import Match, Segment, format_path
from krmfn._text.render import float_text, key_text, render_flow, scalar_tag

__all__ = ["Doc", "to_node"]

_MAP = "tag:yaml.org,2002:map"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
FLOW_WIDTH = 100  # the longest line an append keeps a one-line flow list on


def to_node(value: Any) -> Node:
    """A synthetic node (no source text) holding a plain Python value."""
    cls = value.__class__
    if cls is str:  # the common case first: no ABC checks
        return ScalarNode(_STR, value)
    if cls is dict or isinstance(value, Mapping):
        return MappingNode(_MAP, [(to_node(key_text(k)), to_node(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return SequenceNode(_SEQ, [to_node(v) for v in value])
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    else:
        text = float_text(value) if isinstance(value, float) else (
            int_text(value) if isinstance(value, int) else str(value))
    return ScalarNode(scalar_tag(value), text)


class Doc(DocText):
    """A node tree over `text`; `render()` gives `text` with the edits spliced in."""

    __slots__ = ("base", "comment_at", "head_at")

    def __init__(self, text: str, root: Node, *, start: int = 0, end: int | None = None,
                 rewrite: bool = False, keep_source: bool = True) -> None:
        super().__init__(text, root, start, end, rewrite)
        # (path, node) when `root` is a stand-in holding one part of a document at its
        # place (see `_large.lazy_item`): paths through it start at the node, not at the root
        self.base: tuple[tuple[Segment, ...], Node] | None = None
        # A rewrite-mode tree (aliases expanded) whose value is still what the text says
        # can be written as that text, unless the text leans on anchors elsewhere.
        self._pristine = fingerprint(construct(root)) if rewrite and keep_source else None
        # comments written in this run (see `_text.comments`): by where a line comment starts,
        # and by where the line a head comment stands above starts
        self.comment_at: dict[int, str] = {}
        self.head_at: dict[int, str] = {}

    # ----------------------------------------------------------------- reading
    def lookup(self, segs: tuple[Segment, ...]) -> Node | None:
        node: Node | None = self.root
        skip = self._skip(segs)
        if skip:
            node = self.base[1]  # type: ignore[index]
            segs = segs[skip:]
        for seg in segs:
            node = _child(node, seg)
            if node is None:
                return None
        return node

    def _skip(self, segs: tuple[Segment, ...]) -> int:
        """How many steps of `segs` lead to `base`'s node (0: walk from the root)."""
        base = self.base
        if base is None:
            return 0
        path = base[0]
        return len(path) if segs[: len(path)] == path else 0

    # ----------------------------------------------------------------- writing
    def set(self, segs: tuple[Segment, ...], value: Any) -> None:
        _not_empty(segs)
        parent: Node = self.root
        skip = self._skip(segs)
        if skip:
            parent = self.base[1]  # type: ignore[index]
        for i in range(skip, len(segs)):
            seg = segs[i]
            node = _child(parent, seg)
            if node is None:
                if not isinstance(seg, str) or not isinstance(parent, MappingNode):
                    where = format_path(segs[: i + 1])
                    raise FieldError(where, "no such field (only map keys are created)")
                nested: Any = value
                if i < len(segs) - 1:  # maps on the way are created too
                    if not all(isinstance(s, str) for s in segs[i + 1 :]):
                        raise FieldError(format_path(segs), "cannot create list elements")
                    for s in reversed(segs[i + 1 :]):
                        nested = {s: nested}
                self._insert_pair(parent, seg, nested)
                return
            if i == len(segs) - 1:
                self._assign(parent, seg, node, value)
                return
            parent = node

    def delete(self, segs: tuple[Segment, ...]) -> bool:
        _not_empty(segs)
        parent = self.lookup(segs[:-1]) if len(segs) > 1 else self.root
        seg = segs[-1]
        if isinstance(parent, MappingNode) and isinstance(seg, str):
            idx = find_key(parent, seg)
            if idx < 0:
                return False
            self._remove(parent, idx)
            return True
        if isinstance(parent, SequenceNode):
            at = _seq_index(parent, seg)
            if at is None:
                return False
            self._remove(parent, at)
            return True
        return False

    def append(self, segs: tuple[Segment, ...], value: Any) -> None:
        _not_empty(segs)
        seq = self.lookup(segs)
        if seq is None:
            self.set(segs, [value])
            return
        if not isinstance(seq, SequenceNode):
            raise FieldError(format_path(segs), "is not a list")
        self._append(seq, value)

    # -------------------------------------------------------------- internals
    def _assign(self, parent: Node, seg: Segment, old: Node, value: Any) -> None:
        """Make `old` (the child `seg` of `parent`) hold `value`, changing as little text
        as possible: equal values are left alone, maps and lists are merged key by key."""
        if isinstance(old, MappingNode) and isinstance(value, Mapping):
            for k, v in value.items():
                k = str(k)
                idx = find_key(old, k)
                if idx < 0:
                    self._insert_pair(old, k, v)
                else:
                    self._assign(old, k, old.value[idx][1], v)
            for idx in range(len(old.value) - 1, -1, -1):
                if old.value[idx][0].value not in value:
                    self._remove(old, idx)
            return
        if isinstance(old, SequenceNode) and isinstance(value, (list, tuple)):
            for i, v in enumerate(value[: len(old.value)]):
                self._assign(old, i, old.value[i], v)
            for v in value[len(old.value) :]:
                old = self._append(old, v)  # (a flow list may become a new block list)
            for idx in range(len(old.value) - 1, len(value) - 1, -1):
                self._remove(old, idx)
            return
        if isinstance(old, ScalarNode) and not isinstance(value, (Mapping, list, tuple)):
            if _same_scalar(old, value):
                return
            if not is_synthetic(old) and old.style not in ("|", ">"):
                self._set_scalar(old, value, parent)
                return
        self._replace(parent, seg, old, to_node(value))

    def _set_scalar(self, node: ScalarNode, value: Any, parent: Node) -> None:
        if id(node) not in self._scalar_edits:
            flow, json_style = False, False
            if isinstance(parent, (MappingNode, SequenceNode)) and parent.flow_style:
                flow, json_style = True, self._flow_insert_at(parent)[1][1]  # JSON stays JSON
            edit = Edit("scalar", node.start_mark.index, node.end_mark.index, len(self._edits),
                         node, (flow, json_style), node.style)
            self._scalar_edits[id(node)] = edit
            self._edits.append(edit)
        fresh = to_node(value)
        node.value, node.tag = fresh.value, fresh.tag

    def _replace(self, parent: Node, seg: Segment, old: Node, new: Node) -> None:
        slot = _slot(parent, seg)
        if isinstance(parent, MappingNode):
            parent.value[slot] = (parent.value[slot][0], new)
        else:
            parent.value[slot] = new
        if is_synthetic(parent) or is_synthetic(old):
            span = self._orig_end.get(id(old))
            if span is not None and span[0] is old:
                self._orig_end[id(new)] = (new, span[1], span[2])
            for e in self._edits:
                if e.node is old:
                    e.node = new
            return
        end = self._region_end(old)
        ctx: tuple[Any, ...]
        if is_flow(parent):
            start, ctx = old.start_mark.index, ("flow", self._json_like(self._flow_top(parent)))
        elif isinstance(parent, MappingNode):
            key = parent.value[slot][0]
            colon = self.text.index(":", key.end_mark.index)
            start = colon + 1
            # The comment of the key's line stays with the key, whichever the new value's
            # style: after a scalar, or on the key line above a block collection.
            block = isinstance(old, (MappingNode, SequenceNode)) and not old.flow_style
            at = start if block else end
            comment = self.text[at : line_end(self.text, at)]
            if at in self.comment_at:  # one written in this run replaces the input's
                written = self.comment_at[at]
                comment = f" {written}" if written else ""
            if not comment.strip().startswith("#") or (
                isinstance(old, ScalarNode) and old.style in ("|", ">")
            ):
                comment = ""
            elif not block:
                end = line_end(self.text, end)
            ctx = ("map", key.start_mark.column, comment)
        else:
            # From just after the entry's `-` (a `# comment` or a line break may stand
            # between it and the value), rendered two columns right of the dash.
            # The comment of the dash's line stays there, after the new value's first line.
            dash = dash_before(self.text, int(old.start_mark.index))
            if dash >= 0:
                start = dash + 1
                comment, end = self._dash_line_comment(dash, old, end)
                ctx = ("seq", dash - line_start(self.text, dash), " ", comment)
            else:
                start, ctx = old.start_mark.index, ("seq", old.start_mark.column - 2, "", "")
        self._orig_end[id(new)] = (new, int(old.start_mark.index), end)
        self._drop_edits_under(old)
        self._edits.append(Edit("value", start, end, len(self._edits), new, ctx))

    def _insert_pair(self, mapping: MappingNode, key: str, value: Any) -> None:
        pair = (to_node(key), to_node(value))
        if is_synthetic(mapping):
            mapping.value.append(pair)
            return
        ctx: tuple[Any, ...]
        if mapping.flow_style:
            pos, ctx = self._flow_insert_at(mapping)
        else:
            pos, ctx = self._block_insert_pos(mapping), ("map", self._block_column(mapping))
        mapping.value.append(pair)
        self._edits.append(Edit("insert", pos, pos, len(self._edits), pair[1],
                                 (*ctx, pair[0], mapping)))

    def _append(self, seq: SequenceNode, value: Any) -> SequenceNode:
        """Append `value` to `seq`; the node that holds the list afterwards: `seq`, or the
        block list that replaced a flow list grown too long (appends that follow go there)."""
        node = to_node(value)
        if is_synthetic(seq):
            seq.value.append(node)
            return seq
        ctx: tuple[Any, ...]
        if seq.flow_style and self._outgrows_its_line(seq, node):
            holder, seg = self._parent_of(seq)
            assert holder is not None and seg is not None
            seq.value.append(node)
            block = to_node(construct(seq))  # now a block list
            assert isinstance(block, SequenceNode)
            self._replace(holder, seg, seq, block)
            return block
        if seq.flow_style:
            pos, ctx = self._flow_insert_at(seq)
        else:
            pos, ctx = self._block_insert_pos(seq), ("seq", self._block_column(seq))
        seq.value.append(node)
        self._edits.append(Edit("insert", pos, pos, len(self._edits), node, (*ctx, None, seq)))
        return seq

    def _outgrows_its_line(self, seq: SequenceNode, node: Node) -> bool:
        """A one-line flow list under a block map's key that appending `node` takes past
        FLOW_WIDTH characters is written as a block list instead (its key's comment kept):
        a list that grows at every run would otherwise grow into one endless line. A flow
        list that was longer in the input, spans lines, holds comments or is JSON stays."""
        holder, _ = self._parent_of(seq)
        if not isinstance(holder, MappingNode) or holder.flow_style or is_synthetic(holder):
            return False
        text, start, end = self.text, int(seq.start_mark.index), int(seq.end_mark.index)
        first, last = line_start(text, start), line_end(text, end)
        if "\n" in text[start:end] or "#" in text[start:end] or last - first > FLOW_WIDTH:
            return False
        if self._json_like(seq):
            return False
        added = sum(len(", " + render_flow(construct(c))) for c in (*seq.value, node)
                    if is_synthetic(c))
        return last - first + added > FLOW_WIDTH

    def _remove(self, parent: MappingNode | SequenceNode, idx: int) -> None:
        item = parent.value[idx]
        node = item[1] if isinstance(parent, MappingNode) else item
        first = item[0] if isinstance(parent, MappingNode) else item
        if is_synthetic(parent):
            del parent.value[idx]
            return
        if self._known_end(parent) is None:  # its extent in the text outlives its entries
            self._orig_end[id(parent)] = (parent, int(parent.start_mark.index),
                                          self._end_of(parent))
        if parent.flow_style:
            self._flow_insert_at(parent)  # where (and how) later additions go: decided now
        if not self._is_original(first):
            self._edits = [e for e in self._edits if e.node is not node]
            del parent.value[idx]
            if not parent.value and not parent.flow_style:
                self._replace_with_empty(parent)
            return
        if not parent.flow_style and not any(
            self._is_original(e[0] if isinstance(e, tuple) else e)
            for i, e in enumerate(parent.value) if i != idx
        ):
            # The last entry from the text goes: what remains (if anything) was added by the
            # function, and is written afresh in place of the whole collection.
            holder, seg = self._parent_of(parent)
            if holder is None or seg is None:
                raise FieldError("", "cannot remove the last field of the whole object")
            self._drop_edits_under(node)
            del parent.value[idx]
            self._replace(holder, seg, parent, to_node(construct(parent)))
            return
        start, end = (self._flow_span if parent.flow_style else self._block_span)(parent, idx)
        del parent.value[idx]
        self._drop_edits_under(node)
        self._edits.append(Edit("delete", start, end, len(self._edits)))

    def _drop_edits_under(self, node: Node) -> None:
        """Forget edits inside a subtree whose text goes away (an insert at its very end
        would otherwise survive it)."""
        if not self._edits:
            return
        ids: set[int] = set()
        stack = [node]
        while stack:
            n = stack.pop()
            ids.add(id(n))
            if isinstance(n, MappingNode):
                stack.extend(v for _, v in n.value)
            elif isinstance(n, SequenceNode):
                stack.extend(n.value)
        self._edits = [e for e in self._edits if e.node is None or id(e.node) not in ids]
        for key in [k for k in self._scalar_edits if k in ids]:
            del self._scalar_edits[key]

    def _replace_with_empty(self, parent: MappingNode | SequenceNode) -> None:
        """A block collection that loses its last entry becomes `{}` / `[]` in place."""
        empty: Any = {} if isinstance(parent, MappingNode) else []
        holder, seg = self._parent_of(parent)
        if holder is None or seg is None:
            raise FieldError("", "cannot remove the last field of the whole object")
        self._replace(holder, seg, parent, to_node(empty))


def _not_empty(segs: tuple[Segment, ...]) -> None:
    if not segs:
        raise FieldError("", "empty field path: the whole object cannot be set or deleted")


def _child(node: Node | None, seg: Segment) -> Node | None:
    if isinstance(node, MappingNode):
        if isinstance(seg, str):
            for key, value in node.value:  # find_key, in line: every path step comes here
                if key.value == seg:
                    return value  # type: ignore[no-any-return]
        return None
    if isinstance(node, SequenceNode):
        at = _seq_index(node, seg)
        if at is None:
            return None
        child: Node = node.value[at]
        return child
    return None


def _seq_index(node: SequenceNode, seg: Segment) -> int | None:
    if isinstance(seg, int):
        n = len(node.value)
        return seg + n if -n <= seg < 0 else (seg if 0 <= seg < n else None)
    if isinstance(seg, Match):
        for i, item in enumerate(node.value):
            if isinstance(item, MappingNode):
                idx = find_key(item, seg.key)
                if idx >= 0 and construct(item.value[idx][1]) == _coerce(seg.value):
                    return i
    return None


def _coerce(text: str) -> Any:
    return int(text) if text.lstrip("-").isdigit() else text


def _slot(parent: Node, seg: Segment) -> int:
    if isinstance(parent, MappingNode):
        assert isinstance(seg, str)
        return find_key(parent, seg)
    assert isinstance(parent, SequenceNode)
    idx = _seq_index(parent, seg)
    assert idx is not None
    return idx


def _same_scalar(node: ScalarNode, value: Any) -> bool:
    current = construct(node)
    return type(current) is type(value) and current == value
