"""Comments of a field, read and written in place: its line comment (`image: web:1  # pin`)
and its head comment (the `#` lines right above it); and renaming a key where it stands.

Where a line comment lives: after a scalar or flow value on the line where the value ends;
after the indicator of a block scalar (`key: |  # note`); after the colon of a block map or
list (`containers:  # note`). A head comment is the run of comment lines directly above
the field's key (a list item's dash), at the same column, with no blank line between: a
comment indented deeper belongs to what is above it. Each edit replaces only those bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from krmfn._errors import FieldError
from krmfn._text.doc_text import Edit, dash_before
from krmfn._text.nodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    find_key,
    is_synthetic,
    line_end,
    line_start,
)
from krmfn._text.path import Segment, format_path
from krmfn._text.render import SIMPLE_KEY_MAX, render_scalar

if TYPE_CHECKING:
    from krmfn._text.document import Doc

__all__ = ["head_comment", "line_comment", "rename_key", "set_head_comment",
           "set_line_comment"]

_BLOCK_INDICATORS = ("|", ">", "|-", ">-", "|+", ">+")


# ---------------------------------------------------------------- line comments
def line_comment(doc: Doc, segs: tuple[Segment, ...]) -> str | None:
    """The line comment of the field at `segs` (None when it has none, or is missing)."""
    found = _line_slot(doc, segs, writing=False)
    if found is None:
        return None
    at, stop = found
    if at in doc.comment_at:  # written in this run: `# text`, or "" when removed
        return doc.comment_at[at][1:].strip() or None
    rest = doc.text[at:stop].lstrip(" \t")
    return rest[1:].strip() if rest.startswith("#") else None


def set_line_comment(doc: Doc, segs: tuple[Segment, ...], comment: str | None) -> bool:
    """Write `# comment` at the end of the field's line (None or "" removes it); False when
    it was so already."""
    text = _comment_text(segs, comment)
    found = _line_slot(doc, segs, writing=True)
    assert found is not None
    at, stop = found
    _refuse_overlap(doc, segs, at, stop)
    if line_comment(doc, segs) == (text or None):
        return False  # already so: no edit, so an unchanged resource stays unchanged
    doc.comment_at[at] = f"# {text}" if text else ""
    rest = doc.text[at:stop]
    start = at
    if text and rest.lstrip(" \t").startswith("#"):  # the spacing before `#` stays
        start = at + len(rest) - len(rest.lstrip(" \t"))
        written = f"# {text}"
    else:
        written = f" # {text}" if text else ""
    _write(doc, start, stop, written, slot=at)
    return True


def _line_slot(doc: Doc, segs: tuple[Segment, ...], *, writing: bool
               ) -> tuple[int, int] | None:
    """(where the comment part of the field's line starts, where that line ends)."""
    node, key = _field(doc, segs, writing)
    if node is None:
        return None
    text = doc.text
    if writing and (is_synthetic(node) or (key is not None and is_synthetic(key))):
        raise FieldError(format_path(segs), "was added in this run: a line comment can be "
                         "written only on a field of the input")
    if node.start_mark is None:
        return None
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        start = int(node.start_mark.index)
        line = text[start : line_end(text, start)]
        indicator = line.split("#", 1)[0].rstrip(" \t")
        if indicator not in _BLOCK_INDICATORS:
            _cannot(segs, writing, "has no line of its own")
            return None
        at = start + len(indicator)
    elif isinstance(node, ScalarNode) or getattr(node, "flow_style", False):
        at = int(node.end_mark.index)
    else:
        if key is None or key.start_mark is None:
            _cannot(segs, writing, "is a list item: its line comment is its first "
                    "field's")
            return None
        at = text.find(":", int(key.end_mark.index))
        if at < 0 or text[key.end_mark.index : at].strip(" \t\"'"):
            _cannot(segs, writing, "has no line of its own")
            return None
        at += 1
    stop = line_end(text, at)
    if stop > at and text[stop - 1] == "\r":
        stop -= 1
    rest = text[at:stop].lstrip(" \t")
    if rest and not rest.startswith("#"):
        _cannot(segs, writing, "shares its line with other fields")
        return None
    return at, stop


# ---------------------------------------------------------------- head comments
def head_comment(doc: Doc, segs: tuple[Segment, ...]) -> str | None:
    """The comment lines right above the field, without their `#` (None when none)."""
    found = _head_slot(doc, segs, writing=False)
    if found is None:
        return None
    begin, anchor_line, _ = found
    if anchor_line in doc.head_at:
        return doc.head_at[anchor_line] or None
    lines = doc.text[begin:anchor_line].splitlines()
    out = [ln.strip(" \t\r")[1:] for ln in lines]
    return "\n".join(ln[1:] if ln.startswith(" ") else ln for ln in out) or None


def set_head_comment(doc: Doc, segs: tuple[Segment, ...], comment: str | None) -> bool:
    """Write comment lines right above the field, at its column (None or "" removes them);
    several lines for a comment holding line breaks."""
    if comment is not None and not isinstance(comment, str):
        raise FieldError(format_path(segs), f"a comment is text, not {type(comment).__name__}")
    found = _head_slot(doc, segs, writing=True)
    assert found is not None
    begin, anchor_line, column = found
    _refuse_overlap(doc, segs, begin, anchor_line)
    text = (comment or "").rstrip("\n")
    if head_comment(doc, segs) == (text or None):
        return False
    newline = "\r\n" if doc.text[anchor_line - 2 : anchor_line] == "\r\n" else "\n"
    pad = " " * column
    body = "".join(f"{pad}# {ln}".rstrip(" ") + newline for ln in text.split("\n")) \
        if text else ""
    doc.head_at[anchor_line] = text
    _write(doc, begin, anchor_line, body)
    return True


def _head_slot(doc: Doc, segs: tuple[Segment, ...], *, writing: bool
               ) -> tuple[int, int, int] | None:
    """(where the comment lines start, where the field's line starts, its column)."""
    node, key = _field(doc, segs, writing)
    if node is None:
        return None
    first = key if key is not None else node
    if is_synthetic(first) or first.start_mark is None:
        if writing:
            raise FieldError(format_path(segs), "was added in this run: a head comment can "
                             "be written only above a field of the input")
        return None
    text = doc.text
    anchor = int(first.start_mark.index)
    if key is None:
        dash = dash_before(text, anchor)
        if dash < 0:
            _cannot_head(segs, writing, "is in a flow list")
            return None
        anchor = dash
    ls = line_start(text, anchor)
    before = text[ls:anchor]
    if before.strip(" \t"):
        if before.strip(" \t-") or not before.rstrip(" \t").endswith("-"):
            _cannot_head(segs, writing, "shares its line with other text")
            return None
        if len(segs) == 1 or ls < doc.start:  # the dash of the list holding the resource
            _cannot_head(segs, writing, "is on the resource's first line, after the dash "
                         "of the list that holds it")
            return None
        anchor = ls + len(before) - len(before.lstrip(" \t"))  # the item's first dash
    column = anchor - ls
    if ls < doc.start:
        _cannot_head(segs, writing, "is on the resource's first line")
        return None
    begin = ls
    floor = doc.start
    while begin > floor:
        prev = line_start(text, begin - 1)
        if prev < floor:
            break
        line = text[prev : begin - 1].rstrip("\r")
        stripped = line.lstrip(" \t")
        if not stripped.startswith("#") or len(line) - len(stripped) != column:
            break
        begin = prev
    return begin, ls, column


# ---------------------------------------------------------------- renaming
def rename_key(doc: Doc, segs: tuple[Segment, ...], new: str) -> bool:
    """Rename the key at `segs` to `new` where it stands; False when there is no such key."""
    if not isinstance(new, str) or not new:
        raise FieldError(format_path(segs), "a new key is a non-empty string")
    if not segs or not isinstance(segs[-1], str):
        raise FieldError(format_path(segs), "is not a map key")
    parent = doc.lookup(segs[:-1]) if len(segs) > 1 else doc.root
    if not isinstance(parent, MappingNode):
        return False
    idx = find_key(parent, segs[-1])
    if idx < 0:
        return False
    if new == segs[-1]:
        return True
    if find_key(parent, new) >= 0:
        raise FieldError(format_path((*segs[:-1], new)), "exists already: cannot rename "
                         f"{segs[-1]!r} to it")
    key = parent.value[idx][0]
    if doc.rewrite or is_synthetic(key):
        key.value, key.tag = new, "tag:yaml.org,2002:str"  # written afresh from the tree
        return True
    start, stop = key.start_mark.index, key.end_mark.index
    earlier = doc._scalar_edits.pop(id(key), None)  # renamed before: this rename replaces it
    doc._edits = [e for e in doc._edits if e is not earlier
                  and not (e.kind == "text" and (e.start, e.end) == (start, stop))]
    text = render_scalar(new, flow=parent.flow_style)
    if len(text) > SIMPLE_KEY_MAX:  # too long to be implicit: an explicit `? key` entry
        column = "" if parent.flow_style else "\n" + " " * key.start_mark.column
        _write(doc, start, stop, f"? {text}{column}")
        key.value, key.tag = new, "tag:yaml.org,2002:str"
        return True
    doc._set_scalar(key, new, parent)
    return True


# ---------------------------------------------------------------- shared
def _field(doc: Doc, segs: tuple[Segment, ...], writing: bool
           ) -> tuple[Node | None, Node | None]:
    """The field's value node and its key node (None for a list item)."""
    if not segs:
        raise FieldError("", "empty field path: the whole object has no comment of its own")
    if writing and doc.rewrite:
        raise FieldError(format_path(segs), "is in a resource that uses YAML anchors and "
                         "aliases, which is written afresh: comments cannot be kept there")
    node = doc.lookup(segs)
    if node is None:
        if writing:
            raise FieldError(format_path(segs), "no such field")
        return None, None
    key = None
    if isinstance(segs[-1], str):
        parent = doc.lookup(segs[:-1])
        if isinstance(parent, MappingNode):
            if parent.flow_style and writing:
                raise FieldError(format_path(segs), "is in a flow map: it has no lines of "
                                 "its own")
            key = parent.value[find_key(parent, segs[-1])][0]
        elif isinstance(parent, SequenceNode) and parent.flow_style and writing:
            raise FieldError(format_path(segs), "is in a flow list")
    return node, key


def _write(doc: Doc, start: int, stop: int, text: str, *, slot: int | None = None) -> None:
    """Record `text` in place of [start, stop). Comments are written against the input's
    text, so a later write of the same comment (its slot starts at `slot`) takes the
    place of the earlier one's edit."""
    lo = start if slot is None else slot
    doc._edits = [e for e in doc._edits
                  if not (e.kind == "text" and e.end == stop and lo <= e.start <= stop)]
    doc._edits.append(Edit("text", start, stop, len(doc._edits), None, (text,)))


def _comment_text(segs: tuple[Segment, ...], comment: str | None) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str) or "\n" in comment or "\r" in comment:
        raise FieldError(format_path(segs), "a line comment is one line of text")
    text = comment.strip()
    return text[1:].strip() if text.startswith("#") else text


def _refuse_overlap(doc: Doc, segs: tuple[Segment, ...], start: int, stop: int) -> None:
    """A comment inside text that an edit of this run replaces or removes would be lost."""
    for e in doc._edits:
        if e.kind in ("value", "delete") and e.start < max(stop, start + 1) and e.end > start:
            raise FieldError(format_path(segs), "was replaced or removed in this run: its "
                             "comment cannot be written")


def _cannot(segs: tuple[Segment, ...], writing: bool, why: str) -> None:
    if writing:
        raise FieldError(format_path(segs), f"{why}: it cannot hold a line comment")
    return None


def _cannot_head(segs: tuple[Segment, ...], writing: bool, why: str) -> None:
    if writing:
        raise FieldError(format_path(segs), f"{why}: it cannot hold a head comment")
    return None


_EDITS = {"rename_key": rename_key, "set_line_comment": set_line_comment,
          "set_head_comment": set_head_comment}


def edit(doc: Doc, op: str, segs: tuple[Segment, ...], *value: Any) -> Any:
    """Make the edit `op` (a Doc method, or one of the comment and key edits above, which
    know the document's text and so live here rather than in `Doc`), as an item's edit
    log names it."""
    comments = _EDITS.get(op)
    return comments(doc, segs, *value) if comments else getattr(doc, op)(segs, *value)
