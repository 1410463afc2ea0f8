"""Where a text ends: a final line break added without changing what the text says,
and a document's end marker (`...`), which must not end up inside a ResourceList.
"""

from __future__ import annotations

import re

from krmfn._text.nodes import MappingNode, ScalarNode, SequenceNode

__all__ = ["ended", "split_at_document_end", "without_document_end"]

_BLOCK_HEADER = re.compile(r"([|>])([-+1-9]*)")
_DOCUMENT_END = re.compile(r"^\.\.\.(?=[ \t]|$)", re.M)


def without_document_end(text: str) -> str:
    """A document's text without its end marker (`...`) and what follows it (comments):
    what goes into a ResourceList as an item, where the marker would end the list."""
    return split_at_document_end(text)[0]


def split_at_document_end(text: str) -> tuple[str, str]:
    """(the text before its document end marker `...`, the marker and what follows)."""
    end = _DOCUMENT_END.search(text) if "\n..." in text or text.startswith("...") else None
    return (text, "") if end is None else (text[: end.start()], text[end.start() :])


def ended(text: str) -> str:
    """`text` with a final line break that does not change what it says. Where it ends in
    a block scalar (`|`, `>`) whose chomping keeps a final line break, adding one would
    add it to the value: that scalar gets the strip indicator (`|-`) instead, which with
    the line break reads as it did without."""
    if not text or text.endswith("\n"):
        return text
    plain = text + "\n"
    if "|" not in text and ">" not in text:
        return plain
    leaf = _last_leaf(text)
    if leaf is None or leaf.style not in ("|", ">") or leaf.end_mark.index != len(text):
        return plain
    if _same_leaf(plain, leaf):
        return plain
    header = _BLOCK_HEADER.search(text, int(leaf.start_mark.index))
    if header is None:
        return plain
    flags = header.group(2).replace("+", "").replace("-", "")
    stripped = text[: header.start(2)] + flags + "-" + text[header.end(2) :] + "\n"
    return stripped if _same_leaf(stripped, leaf) else plain


def _last_leaf(text: str) -> ScalarNode | None:
    """The scalar that ends the text of a document (or of a part of one), if it parses."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    while isinstance(node, (MappingNode, SequenceNode)) and node.value and not (
            node.flow_style):
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node if isinstance(node, ScalarNode) else None


def _same_leaf(text: str, leaf: ScalarNode) -> bool:
    again = _last_leaf(text)
    return again is not None and again.value == leaf.value and again.tag == leaf.tag
