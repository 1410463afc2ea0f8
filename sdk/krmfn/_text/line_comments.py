"""The line comments of a whole tree at once, found by scanning only the lines that hold a
`#` (what `KubeObject.line_comments` lists), and the comment of one node from its text."""

from __future__ import annotations

import bisect

from krmfn._text.document import Doc
from krmfn._text.nodes import MappingNode, Node, ScalarNode, SequenceNode, line_end

__all__ = ["comments_in", "line_comment_of"]


def comments_in(doc: Doc, containing: str) -> list[tuple[tuple[str | int, ...], str]]:
    """`KubeObject.line_comments` over one tree (a whole item, or one of its parts)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    text = doc.text
    # Only lines that hold a `#` (or what the comment must contain) can matter: find them
    # once, by line number (counted from the first node's own mark, so only this item's
    # text is scanned). The stand-ins that hold a part of an item at its place have no
    # marks and no comments: the walk starts below them, at the part's own tree.
    root = doc.root
    start: tuple[str | int, ...] = ()
    while root.start_mark is None and isinstance(root, (MappingNode, SequenceNode)) and (
            root.value):
        if isinstance(root, MappingNode):
            start, root = (*start, str(root.value[0][0].value)), root.value[0][1]
        else:
            start, root = (*start, len(root.value) - 1), root.value[-1]
    root_mark = root.start_mark
    needle = containing or "#"
    at = text.find(needle, doc.start, doc.end)
    if root_mark is None or at < 0:
        return out
    if (root.__class__ is MappingNode and len(root.value) == 1 and start
            and root.value[0][1].__class__ is ScalarNode
            and text.find("\n", doc.start, doc.end - 1) < 0):  # one `key: value` line
        key, value = root.value[0]
        comment = line_comment_of(text, value, key)
        if comment is not None and containing in comment:
            out.append(((*start, str(key.value)), comment))
        return out
    pos, line = int(root_mark.index), int(root_mark.line)
    lines: set[int] = set()
    while at >= 0:
        line += text.count("\n", pos, at) if at >= pos else -text.count("\n", at, pos)
        pos = at
        lines.add(line)
        at = text.find(needle, at + 1, doc.end)
    ordered = sorted(lines)
    last = len(ordered)

    def touched(node: Node, key: Node | None) -> bool:
        """Some line of the subtree (its key's included) is one of `lines`."""
        if node.start_mark is None:
            return True
        first_line = node.start_mark.line
        if key is not None and key.start_mark is not None:
            first_line = min(first_line, key.start_mark.line)
        at = bisect.bisect_left(ordered, first_line)
        return at < last and ordered[at] <= node.end_mark.line

    stack: list[tuple[tuple[str | int, ...], Node, Node | None]] = [(start, root, None)]
    while stack:
        path, node, key = stack.pop()
        if path and node.start_mark is not None:
            key_mark = key.start_mark if key is not None else None
            if (node.end_mark.line in lines or node.start_mark.line in lines
                    or (key_mark is not None and key_mark.line in lines)):
                comment = line_comment_of(text, node, key)
                if comment is not None and containing in comment:
                    out.append((path, comment))
        # only subtrees with a wanted line go on the stack (in reverse: document order)
        if isinstance(node, MappingNode):
            stack.extend(((*path, str(k.value)), v, k) for k, v in reversed(node.value)
                         if touched(v, k))
        elif isinstance(node, SequenceNode):
            stack.extend(((*path, i), v, None) for i, v in reversed(list(
                enumerate(node.value))) if touched(v, None))
    return out


def line_comment_of(text: str, node: Node, key: Node | None) -> str | None:
    """The comment after a scalar or flow value on its line; for a block collection, the
    comment on the line of its key (`key` is None for list items)."""
    if node.start_mark is None:
        return None
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        start = int(node.start_mark.index)
        rest = text[start : line_end(text, start)]
    elif isinstance(node, ScalarNode) or getattr(node, "flow_style", False):
        end = int(node.end_mark.index)
        rest = text[end : line_end(text, end)]
    else:
        if key is None or key.start_mark is None:
            return None
        colon = text.find(":", int(key.end_mark.index))
        if colon < 0 or text[key.end_mark.index : colon].strip(" \t\"'"):
            return None
        rest = text[colon + 1 : line_end(text, colon)]
    hash_at = rest.find("#")
    if hash_at < 0 or rest[:hash_at].strip(" \t") not in ("", "|", ">", "|-", ">-", "|+"):
        return None
    return rest[hash_at + 1 :].strip()
