"""An editable YAML node tree that writes itself back by splicing its source text.

Reads walk libyaml's nodes; writes change the tree and record *where* in the source the
change goes. Rendering copies the source and replaces only the recorded spans, so every
byte a function did not deliberately change (comments, quotes, block scalars, flow style,
key order) comes out as it came in. What cannot be spliced safely (an item whose nodes are
shared through YAML aliases) is re-rendered whole instead: correct, but without comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from krmfn._errors import FieldError
from krmfn._nodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    construct,
    find_key,
    is_synthetic,
    line_end,
    line_start,
)
from krmfn._parse import _indented_comments_end
from krmfn._path import Match, Segment, format_path
from krmfn._render import float_text, render_block, render_flow, render_scalar, scalar_tag

__all__ = ["Doc", "to_node"]

_MAP = "tag:yaml.org,2002:map"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"


def to_node(value: Any) -> Node:
    """A synthetic node (no source text) holding a plain Python value."""
    cls = value.__class__
    if cls is str:  # the common case first: no ABC checks
        return ScalarNode(_STR, value)
    if cls is dict or isinstance(value, Mapping):
        return MappingNode(_MAP, [(to_node(str(k)), to_node(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return SequenceNode(_SEQ, [to_node(v) for v in value])
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    else:
        text = float_text(value) if isinstance(value, float) else str(value)
    return ScalarNode(scalar_tag(value), text)


class _Edit:
    __slots__ = ("ctx", "end", "kind", "node", "seq", "start", "style")

    def __init__(self, kind: str, start: int, end: int, seq: int, node: Node | None = None,
                 ctx: tuple[Any, ...] = (), style: str | None = None) -> None:
        self.kind, self.start, self.end, self.seq = kind, start, end, seq
        self.node, self.ctx, self.style = node, ctx, style


class Doc:
    """A node tree over `text`; `render()` gives `text` with the edits spliced in."""

    __slots__ = ("_edits", "_flow_at", "_insert_at", "_orig_end", "_pristine", "_scalar_edits",
                 "base", "end", "rewrite", "root", "start", "text", "wide_lists")

    def __init__(self, text: str, root: Node, *, start: int = 0, end: int | None = None,
                 rewrite: bool = False, keep_source: bool = True) -> None:
        self.text = text
        self.root = root
        self.start = start
        self.end = len(text) if end is None else end
        self.rewrite = rewrite
        # (path, node) when `root` is a stand-in holding one part of a document at its
        # place (see `_lazy_item`): paths through it start at the node, not at the root
        self.base: tuple[tuple[Segment, ...], Node] | None = None
        # A rewrite-mode tree (aliases expanded) whose value is still what the text says
        # can be written as that text, unless the text leans on anchors elsewhere.
        self._pristine = repr(construct(root)) if rewrite and keep_source else None
        self.wide_lists = False
        self._edits: list[_Edit] = []
        self._scalar_edits: dict[int, _Edit] = {}
        # id(node) -> (node, where its text ends in `text`): for nodes that replaced original
        # text, and for collections that lost entries (their original extent still counts).
        # The node is held so that its id cannot be reused by a later node.
        self._orig_end: dict[int, tuple[Node, int, int]] = {}  # (node, start, end)
        # id(flow collection) -> (it, where entries added to it go, JSON-like): one place,
        # so that what is added stays in order whatever is deleted around it
        self._flow_at: dict[int, tuple[Node, int, bool]] = {}
        self._insert_at: dict[int, tuple[Node, int]] = {}  # id(block collection) -> (it, pos)

    @property
    def changed(self) -> bool:
        if self.rewrite:
            return self._pristine is None or repr(construct(self.root)) != self._pristine
        return bool(self._edits)

    @property
    def spliceable(self) -> bool:
        """True when `render()` gives this document's text: not rewriting, or rewriting
        but still holding the value its (self-contained) text says."""
        return not self.rewrite or not self.changed

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
                self._append(old, v)
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
            edit = _Edit("scalar", node.start_mark.index, node.end_mark.index, len(self._edits),
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
        if _is_flow(parent):
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
            dash = _dash_before(self.text, int(old.start_mark.index))
            if dash >= 0:
                start = dash + 1
                comment, end = self._dash_line_comment(dash, old, end)
                ctx = ("seq", dash - line_start(self.text, dash), " ", comment)
            else:
                start, ctx = old.start_mark.index, ("seq", old.start_mark.column - 2, "", "")
        self._orig_end[id(new)] = (new, int(old.start_mark.index), end)
        self._drop_edits_under(old)
        self._edits.append(_Edit("value", start, end, len(self._edits), new, ctx))

    def _dash_line_comment(self, dash: int, old: Node, end: int) -> tuple[str, int]:
        """The `# comment` ending the line of a list entry's dash (with the end of the
        text to replace, taken past it when it follows a one-line value)."""
        text = self.text
        stop = line_end(text, dash)
        after = self._first_line_end(old, stop) if old.start_mark.index < stop else dash + 1
        if after is None or not text[after:stop].strip().startswith("#"):
            return "", end
        return text[after:stop], max(end, stop)

    def _first_line_end(self, node: Node, stop: int) -> int | None:
        """Where the content on the first line of `node` ends, if that line ends at `stop`
        (None when it runs on, or its text is not known)."""
        while True:
            if is_synthetic(node):
                return None
            if not isinstance(node, (MappingNode, SequenceNode)) or node.flow_style or (
                    not node.value):
                if isinstance(node, ScalarNode) and node.style in ("|", ">"):
                    return None
                end = self._end_of(node)
                return end if end <= stop else None
            entry = node.value[0]
            if not isinstance(entry, tuple):
                node = entry
                continue
            key, value = entry
            if is_synthetic(key):
                return None
            if is_synthetic(value) or value.start_mark.index >= stop:
                return self.text.index(":", key.end_mark.index) + 1
            node = value

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
        self._edits.append(_Edit("insert", pos, pos, len(self._edits), pair[1],
                                 (*ctx, pair[0], mapping)))

    def _append(self, seq: SequenceNode, value: Any) -> None:
        node = to_node(value)
        if is_synthetic(seq):
            seq.value.append(node)
            return
        ctx: tuple[Any, ...]
        if seq.flow_style:
            pos, ctx = self._flow_insert_at(seq)
        else:
            pos, ctx = self._block_insert_pos(seq), ("seq", self._block_column(seq))
        seq.value.append(node)
        self._edits.append(_Edit("insert", pos, pos, len(self._edits), node, (*ctx, None, seq)))

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
        self._edits.append(_Edit("delete", start, end, len(self._edits)))

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

    def _flow_span(self, parent: MappingNode | SequenceNode, idx: int) -> tuple[int, int]:
        """The text an entry of a flow collection takes, with one of its commas."""
        firsts = [e[0] if isinstance(e, tuple) else e for e in parent.value]
        lasts = [e[1] if isinstance(e, tuple) else e for e in parent.value]
        start, end = self._start_of(firsts[idx]), self._end_of(lasts[idx])
        after = [i for i in range(idx + 1, len(firsts)) if self._is_original(firsts[i])]
        if after:
            return start, self._start_of(firsts[after[0]])
        before = [i for i in range(idx) if self._is_original(firsts[i])]
        if before:
            return self._end_of(lasts[before[-1]]), end
        return start, end

    def _block_span(self, parent: MappingNode | SequenceNode, idx: int) -> tuple[int, int]:
        """The lines an entry of a block collection takes, with the comment ending its last
        line (and for a list entry its `- `). An entry that shares its first line with an
        outer `- ` keeps that dash: the text up to the next entry goes instead. So does the
        first remaining entry of a collection that began on such a line (deleting what was
        before it has pulled it up onto that line)."""
        text = self.text
        item = parent.value[idx]
        first, node = (item[0], item[1]) if isinstance(item, tuple) else (item, item)
        begin = self._start_of(first)
        if isinstance(parent, SequenceNode):
            dash = _dash_before(text, begin)
            begin = dash if dash >= 0 else begin
        ls = line_start(text, begin)
        end = self._region_end(node)
        stop = line_end(text, end)
        rest = text[end:stop].strip(" \t")
        if not rest or rest.startswith("#"):
            end = stop + 1 if stop < len(text) else stop
            # comment lines indented under the entry are inside it: left alone they could
            # end up inside a block scalar before it
            end = min(_indented_comments_end(text, end, begin - line_start(text, begin)),
                      max(self.end, end))
        shared = bool(text[ls:begin].strip())
        if not shared and not any(self._is_original(e[0] if isinstance(e, tuple) else e)
                                  for e in parent.value[:idx]):
            lead = int(parent.start_mark.index)
            shared = bool(text[line_start(text, lead) : lead].strip())
        if not shared:
            return ls, end
        for later in parent.value[idx + 1 :]:
            later_first = later[0] if isinstance(later, tuple) else later
            if self._is_original(later_first):
                later_begin = self._start_of(later_first)
                if isinstance(parent, SequenceNode):
                    later_begin = max(_dash_before(text, later_begin), begin)
                return begin, later_begin
        return begin, end

    def _replace_with_empty(self, parent: MappingNode | SequenceNode) -> None:
        """A block collection that loses its last entry becomes `{}` / `[]` in place."""
        empty: Any = {} if isinstance(parent, MappingNode) else []
        holder, seg = self._parent_of(parent)
        if holder is None or seg is None:
            raise FieldError("", "cannot remove the last field of the whole object")
        self._replace(holder, seg, parent, to_node(empty))

    def _parent_of(self, target: Node) -> tuple[Node | None, Segment | None]:
        stack: list[Node] = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, MappingNode):
                for k, v in node.value:
                    if v is target:
                        return node, k.value
                    stack.append(v)
            elif isinstance(node, SequenceNode):
                for i, v in enumerate(node.value):
                    if v is target:
                        return node, i
                    stack.append(v)
        return None, None

    # ------------------------------------------------------------ positions
    def _end_of(self, node: Node) -> int:
        """Where a node's own text ends; for block collections the end of their last leaf,
        not libyaml's end mark (which lies past comments that belong to what follows)."""
        while True:
            known = self._known_end(node)
            if known is not None:
                return known
            if not isinstance(node, (MappingNode, SequenceNode)) or node.flow_style or (
                not node.value
            ):
                end = int(node.end_mark.index)
                if isinstance(node, ScalarNode) and node.style in ("|", ">"):
                    end = end - 1 if self.text[end - 1] == "\n" else end
                return end
            if isinstance(node, SequenceNode):
                last = next(c for c in reversed(node.value) if self._is_original(c))
            else:
                last = next(v for _, v in reversed(node.value) if self._is_original(v))
            # only a tree with aliases (rewrite mode) can hold a node read before its key
            if self.rewrite and not is_synthetic(last) and last.start_mark.index < self._after(
                    node, last):
                # an alias: its node (and end) lies at the anchor, earlier in the text
                end = int(node.end_mark.index)
                while end > node.start_mark.index and self.text[end - 1] in " \t\r\n":
                    end -= 1
                return end
            node = last

    def _after(self, node: MappingNode | SequenceNode, child: Node) -> int:
        """Where the text of `child`, the last entry of `node`, cannot start before."""
        if isinstance(node, MappingNode):
            key = next(k for k, v in reversed(node.value) if v is child)
            return int(key.end_mark.index) if not is_synthetic(key) else 0
        at = max(i for i, c in enumerate(node.value) if c is child)
        earlier = [c for c in node.value[:at] if self._is_original(c)]
        return self._start_of(earlier[-1]) + 1 if earlier else int(node.start_mark.index)

    def _known_end(self, node: Node) -> int | None:
        entry = self._orig_end.get(id(node))
        return entry[2] if entry is not None and entry[0] is node else None

    def _is_original(self, node: Node) -> bool:
        """True for a node with text of its own: from the input, or put in place of one."""
        return not is_synthetic(node) or self._known_end(node) is not None

    def _start_of(self, node: Node) -> int:
        if not is_synthetic(node):
            return int(node.start_mark.index)
        return self._orig_end[id(node)][1]

    def _region_end(self, node: Node) -> int:
        """End of the text a node occupies: the end of its last line for block collections
        (comments on that line go with it); its end mark for scalars and flow collections."""
        end = self._end_of(node)
        if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style:
            return line_end(self.text, end)
        return end

    def _block_insert_pos(self, node: MappingNode | SequenceNode) -> int:
        """After the line of the last leaf, and after the comment lines indented deeper
        than the new entry (they belong to what is above them). Edits never move where a
        collection's original text ends (see `_end_of`), so the answer is kept per node."""
        entry = self._insert_at.get(id(node))
        if entry is not None and entry[0] is node:
            return entry[1]
        end = min(line_end(self.text, self._end_of(node)), self.end)
        if end < self.end:
            end = min(_indented_comments_end(self.text, end + 1, self._block_column(node)),
                      self.end)
        self._insert_at[id(node)] = (node, end)
        return end

    def _flow_insert_at(self, node: MappingNode | SequenceNode) -> tuple[int, tuple[str, bool]]:
        entry = self._flow_at.get(id(node))
        if entry is None or entry[0] is not node:
            entry = (node, self._flow_insert_pos(node), self._json_like(self._flow_top(node)))
            self._flow_at[id(node)] = entry
        return entry[1], ("flow", entry[2])

    def _flow_insert_pos(self, node: MappingNode | SequenceNode) -> int:
        originals = [c for c in node.value if self._is_original(c[0] if isinstance(c, tuple)
                                                                 else c)]
        if not originals:
            return int(node.start_mark.index) + 1
        last = originals[-1]
        return self._end_of(last[1] if isinstance(last, tuple) else last)

    def _block_column(self, node: MappingNode | SequenceNode) -> int:
        return int(node.start_mark.column)

    def _flow_top(self, node: Node) -> Node:
        """The outermost flow collection around `node`: JSON or not is decided there."""
        while True:
            holder, _ = self._parent_of(node)
            if holder is None or not _is_flow(holder):
                return node
            node = holder

    def _json_like(self, node: Node) -> bool:
        """A flow collection written as JSON: every string in it double-quoted, including
        some a YAML writer would have left plain (`{"on": {a: web}}` is YAML whose key
        needed quotes)."""
        evidence = False
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, ScalarNode):
                if is_synthetic(n) or id(n) in self._scalar_edits or not (
                        n.style or n.tag == "tag:yaml.org,2002:str"):
                    continue  # says nothing (or no longer what the text says)
                if n.style != '"':
                    return False
                evidence = evidence or render_scalar(n.value, flow=True) == n.value
            elif isinstance(n, MappingNode):
                stack.extend(x for pair in n.value for x in pair)
            elif isinstance(n, SequenceNode):
                stack.extend(n.value)
        return evidence

    # ------------------------------------------------------------ rendering
    def render(self) -> str:
        """The source text with every edit spliced in (the whole tree if rewriting)."""
        if not self.spliceable:
            raise RuntimeError("rewrite-mode documents are rendered by their owner")
        text = self.text
        if not self._edits or self.rewrite:
            return text if self.start == 0 and self.end == len(text) else text[
                self.start : self.end]
        out: list[str] = []
        pos, last = self.start, ""
        # Inserts sort before replacements at the same place, and the widest replacement
        # first: an edit that starts inside a span already replaced belongs to text that no
        # longer exists, so it is dropped. Block inserts at one place go innermost first
        # (a key added to `metadata.annotations` before a `spec:` added after it).
        edits = self._edits
        first = edits[0]
        if len(edits) > 1 and not all(  # entries added at one place keep their order
                e.kind == "insert" and e.start == first.start and e.ctx[:2] == first.ctx[:2]
                for e in edits):
            edits = sorted(edits, key=lambda e: (e.start, e.kind != "insert", _nesting(e),
                                                 -e.end, e.seq))
        for e in edits:
            if e.start < pos:
                if e.kind == "delete" and last == "delete" and e.end > pos:
                    pos = e.end  # deletes that overlap: both go
                continue
            out.append(text[pos : e.start])
            out.append(self._render_edit(e))
            if e.end > pos:
                pos, last = e.end, e.kind
        out.append(text[pos : self.end])
        return "".join(out)

    def _render_edit(self, e: _Edit) -> str:
        if e.kind == "delete":
            return ""
        node = e.node
        assert node is not None
        value = construct(node)
        if e.kind == "scalar":
            text = render_scalar(value, style=e.style, flow=e.ctx[0], json_style=e.ctx[1])
            if e.start == e.end and self.text[e.start - 1 : e.start] not in (" ", "\t", "\n"):
                return " " + text  # an empty scalar (`key:`) ends right at its indicator
            return text
        kind = e.ctx[0]
        if kind == "flow":
            json_style = e.ctx[1]
            if e.kind == "value":
                return render_flow(value, json_style=json_style)
            key, parent = e.ctx[2], e.ctx[3]
            sep = ", " if _position(parent, node) > 0 else ""
            if key is None:
                return sep + render_flow(value, json_style=json_style)
            k = render_scalar(construct(key), flow=True, json_style=json_style)
            return f"{sep}{k}: {render_flow(value, json_style=json_style)}"
        col: int = e.ctx[1]
        if e.kind == "value":
            body = self._render_value(value, kind, col)
            if kind == "seq":
                lead: str = e.ctx[2]
                tail: str = e.ctx[3]
                body = body[1:] if body.startswith(" ") else body
                first, nl, rest = body.partition("\n")
                return lead + first + tail + nl + rest
            comment: str = e.ctx[2]
            return comment + body if body.startswith("\n") else body + comment
        key = e.ctx[2]
        head = " " * col + ("- " if key is None else f"{render_scalar(construct(key))}:")
        body = self._render_value(value, "seq" if key is None else "map", col)
        if key is None:
            body = body[1:] if body.startswith(" ") else body
        line = head + body
        if e.start >= self.end and not self.text[self.start : self.end].endswith("\n"):
            return "\n" + line
        return line + "\n"

    def _render_value(self, value: Any, kind: str, col: int) -> str:
        """A value placed after `key:` (kind "map") or after `- ` (kind "seq")."""
        if not isinstance(value, (Mapping, list, tuple)) or not value:
            return " " + (render_scalar(value) if not isinstance(value, (Mapping, list, tuple))
                          else ("{}" if isinstance(value, Mapping) else "[]"))
        if kind == "map":
            child = col + 2 if isinstance(value, Mapping) or self.wide_lists else col
            return "\n" + "\n".join(render_block(value, child, wide_lists=self.wide_lists))
        lines = render_block(value, col + 2, wide_lists=self.wide_lists)
        lines[0] = lines[0][col + 2 :]
        return "\n".join(lines)


def _nesting(e: _Edit) -> tuple[int, int]:
    """Sort key: deeper block inserts first; at one column a list (compact under its key)
    is inside the mapping that holds the key."""
    if e.kind != "insert" or not e.ctx or e.ctx[0] not in ("map", "seq"):
        return (0, 0)
    return (-int(e.ctx[1]), 0 if e.ctx[0] == "seq" else 1)


def _not_empty(segs: tuple[Segment, ...]) -> None:
    if not segs:
        raise FieldError("", "empty field path: the whole object cannot be set or deleted")


def _dash_before(text: str, start: int) -> int:
    """Index of the `-` that opens the block list entry starting at `start` (-1 if none):
    on the same line, or on an earlier one with only blanks and comments in between."""
    pos = start
    while True:
        ls = line_start(text, pos)
        before = text[ls:pos]
        if pos != start and "#" in before:
            before = before[: before.index("#")]
        stripped = before.rstrip()
        if stripped.endswith("-"):
            return ls + len(stripped) - 1
        if stripped or ls == 0:
            return -1
        pos = ls - 1


def _is_flow(node: Node) -> bool:
    return isinstance(node, (MappingNode, SequenceNode)) and bool(node.flow_style)


def _position(parent: MappingNode | SequenceNode, node: Node) -> int:
    """Where `node` (an entry, or the value of a pair) now stands in `parent`."""
    for i, entry in enumerate(parent.value):
        if (entry[1] if isinstance(entry, tuple) else entry) is node:
            return i
    return -1


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
