"""Where a document's nodes lie in its source text, and how its edits are written there
(see `_text.document.Doc`, which makes the edits).

A block collection's text ends with its last leaf, not where libyaml's end mark says
(that lies past comments belonging to what follows); what is added to it goes after that,
and after the comment lines indented deeper than its entries. Rendering copies the source
and writes each recorded edit at its place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from krmfn._text.ends import ended
from krmfn._text.nodes import (
    AliasSpans,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    construct,
    fingerprint,
    indented_comments_end,
    is_synthetic,
    line_end,
    line_start,
)
from krmfn._text.path import Segment
from krmfn._text.render import block_key, flow_key, render_block, render_flow, render_scalar

__all__ = ["DocText", "Edit", "dash_before", "is_flow"]


class Edit:
    """One change recorded against the text: its kind, the span it replaces, its order, and
    the node whose value is written there (with what writing it needs: `ctx`, `style`)."""

    __slots__ = ("ctx", "end", "kind", "node", "seq", "start", "style")

    def __init__(self, kind: str, start: int, end: int, seq: int, node: Node | None = None,
                 ctx: tuple[Any, ...] = (), style: str | None = None) -> None:
        self.kind, self.start, self.end, self.seq = kind, start, end, seq
        self.node, self.ctx, self.style = node, ctx, style


class DocText:
    """A document's source text, its tree, and the edits recorded against the text."""

    __slots__ = ("_edits", "_flow_at", "_insert_at", "_orig_end", "_pristine", "_scalar_edits",
                 "aliases", "end", "rewrite", "root", "start", "text", "wide_lists")

    def __init__(self, text: str, root: Node, start: int, end: int | None,
                 rewrite: bool) -> None:
        self.text = text
        self.root = root
        self.start = start
        self.end = len(text) if end is None else end
        self.rewrite = rewrite
        self._pristine: Any = None
        self.wide_lists = False
        # where the aliases of a tree that holds some are written: only a tree composed
        # from a whole text has them (an item's is rewritten whole, see `_text.document`)
        self.aliases: AliasSpans | None = None
        self._edits: list[Edit] = []
        self._scalar_edits: dict[int, Edit] = {}  # id(scalar) -> the edit of its text
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
            return self._pristine is None or fingerprint(construct(self.root)) != self._pristine
        return bool(self._edits)

    @property
    def spliceable(self) -> bool:
        """True when `render()` gives this document's text: not rewriting, or rewriting
        but still holding the value its (self-contained) text says."""
        return not self.rewrite or not self.changed

    # ------------------------------------------------------------ positions
    def _end_of(self, node: Node) -> int:
        """Where a node's own text ends; for block collections the end of their last leaf,
        not libyaml's end mark (which lies past comments that belong to what follows). A
        last entry that is an alias ends with its `*name`: the node it names lies at its
        anchor, earlier in the text (see `aliases`)."""
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
                at = next(i for i in range(len(node.value) - 1, -1, -1)
                          if self._is_original(node.value[i]))
                last, slot = node.value[at], at
            else:
                at = next(i for i in range(len(node.value) - 1, -1, -1)
                          if self._is_original(node.value[i][1]))
                last, slot = node.value[at][1], 2 * at + 1
            if self.aliases:
                alias = self.aliases.get((id(node), slot))
                if alias is not None:
                    return alias[1]
            node = last

    def alias_at(self, holder: Node, slot: int) -> tuple[int, int] | None:
        """(start, end) of the `*name` written as entry `slot` of `holder` (see
        `AliasSpans`), or None where that entry is a node of its own."""
        return self.aliases.get((id(holder), slot)) if self.aliases else None

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
            end = min(indented_comments_end(self.text, end + 1, self._block_column(node)),
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
        """The column a block collection's entries start at: its first key's, or its first
        entry's dash. Not the node's own start, which is at its anchor or tag where it has
        one (`labels: &l` starts past the key, and an entry written there would read as part
        of the collection's last value)."""
        first = node.value[0] if node.value else None
        if isinstance(first, tuple):
            first = first[0]
        if first is not None and not is_synthetic(first):
            if isinstance(node, MappingNode):
                return int(first.start_mark.column)
            dash = dash_before(self.text, int(first.start_mark.index))
            if dash >= 0:
                return dash - line_start(self.text, dash)
        return int(node.start_mark.column)

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

    def _flow_top(self, node: Node) -> Node:
        """The outermost flow collection around `node`: JSON or not is decided there."""
        while True:
            holder, _ = self._parent_of(node)
            if holder is None or not is_flow(holder):
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

    def _dash_line_comment(self, dash: int, old: Node, end: int) -> tuple[str, int]:
        """The `# comment` ending the line of a list entry's dash (with the end of the
        text to replace, taken past it when it follows a one-line value)."""
        text = self.text
        stop = line_end(text, dash)
        after = self._first_line_end(old, stop) if old.start_mark.index < stop else dash + 1
        if after is None or not text[after:stop].strip().startswith("#"):
            return "", end
        return text[after:stop], max(end, stop)

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
            dash = dash_before(text, begin)
            begin = dash if dash >= 0 else begin
        ls = line_start(text, begin)
        end = self._region_end(node)
        stop = line_end(text, end)
        rest = text[end:stop].strip(" \t")
        if not rest or rest.startswith("#"):
            end = stop + 1 if stop < len(text) else stop
            # comment lines indented under the entry are inside it: left alone they could
            # end up inside a block scalar before it
            end = min(indented_comments_end(text, end, begin - line_start(text, begin)),
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
                    later_begin = max(dash_before(text, later_begin), begin)
                return begin, later_begin
        return begin, end

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
            piece = self._render_edit(e)
            if e.kind == "insert" and e.start >= self.end and piece.startswith("\n"):
                out, piece = [ended("".join(out))], piece[1:]  # after a text without one
            out.append(piece)
            if e.end > pos:
                pos, last = e.end, e.kind
        out.append(text[pos : self.end])
        return "".join(out)

    def _render_edit(self, e: Edit) -> str:
        if e.kind == "delete":
            return ""
        if e.kind == "text":  # literal text (comments: see `_text.comments`)
            return str(e.ctx[0])
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
            k = flow_key(render_scalar(construct(key), flow=True, json_style=json_style))
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
        head = (" " * col + "- " if key is None
                else block_key(render_scalar(construct(key)), " " * col))
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


def _nesting(e: Edit) -> tuple[int, int]:
    """Sort key: deeper block inserts first; at one column a list (compact under its key)
    is inside the mapping that holds the key."""
    if e.kind != "insert" or not e.ctx or e.ctx[0] not in ("map", "seq"):
        return (0, 0)
    return (-int(e.ctx[1]), 0 if e.ctx[0] == "seq" else 1)


def dash_before(text: str, start: int) -> int:
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


def is_flow(node: Node) -> bool:
    return isinstance(node, (MappingNode, SequenceNode)) and bool(node.flow_style)


def _position(parent: MappingNode | SequenceNode, node: Node) -> int:
    """Where `node` (an entry, or the value of a pair) now stands in `parent`."""
    for i, entry in enumerate(parent.value):
        if (entry[1] if isinstance(entry, tuple) else entry) is node:
            return i
    return -1
