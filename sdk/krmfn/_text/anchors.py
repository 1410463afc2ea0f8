"""Whether a text may hold a YAML anchor, for the lazy path to know (see `_large.lazy_list`).

Items that share nodes through anchors and aliases cannot be read one by one, so a list
that holds an anchor is read whole. An `&` is an anchor only where YAML reads a node's
properties: at the start of a node, never inside a scalar or a comment. Real install
manifests hold `&&` in shell snippets of CRD descriptions, which a search for ` &` takes
for anchors, and then a few megabytes of CRDs were read whole for nothing.

Each `&` that follows a space or an indicator is looked at on its own line: it is content
when what comes before it there is a plain scalar already going on (after indentation,
`- ` entries and a plain key), or a comment. Anything else (an `&` opening a value, a
quoted scalar or flow collection on the line, a line that may continue something from the
lines above) counts as an anchor: a wrong "yes" costs only speed. A wrong "no" costs no
correctness either: an alias to an anchor in another item does not parse on its own, and
an item whose tree shares nodes is sent to the whole-document path
(`_large.lazy_list.compose_chunk`).
"""

from __future__ import annotations

import re

__all__ = ["may_hold_anchor", "shares_nodes"]

# what an `&` that may start a node's properties follows: whitespace, a flow indicator, `:`
_BEFORE = frozenset(" \t\n\r[{,:")
_ENTRY = re.compile(r"(?:-[ ]+)+")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][\w./-]*[ ]*:[ \t]+")
_NOT_PLAIN_START = frozenset("&*!|>'\"%@`#[]{},\t")
_VALUE_INDICATOR = re.compile(r":(?:[ \t]+|$)")


def may_hold_anchor(text: str) -> bool:
    """False only when every `&` of `text` that could start an anchor is inside a plain
    scalar or a comment on its line."""
    if "&" not in text:
        return False
    if text.startswith("&"):
        return True
    flow_from = -1  # where the first flow collection that may go on over lines opens
    at = text.find("&", 1)
    while at >= 0:  # str.find runs in C over text that has no `&` for megabytes
        if text[at - 1] not in _BEFORE:
            at = text.find("&", at + 1)
            continue
        line = text.rfind("\n", 0, at) + 1
        inside = _in_scalar_or_comment(text[line:at])
        if inside is None:  # content of a plain scalar, if this line is not in a flow
            if flow_from == -1:
                flow_from = _multi_line_flow(text)
            inside = line < flow_from
        if not inside and not _in_block_scalar(text, line):
            return True
        at = text.find("&", at + 1)
    return False


# a flow collection that starts a block node: after indentation, `- ` / `? ` / `: `
# indicators, a key, and properties
_FLOW_START = re.compile(  # matched at a line's start
    r"[ ]*(?:[-?:][ \t]+)*(?:(?:\"[^\"\n]*\"|'[^'\n]*'|(?:[^\s:#\[{]|:(?=\S))"
    r"(?:[^:\n]|:(?=\S))*?)[ \t]*:[ \t]+)?(?:[-?:][ \t]+)*(?:[&!]\S*[ \t]+)*[\[{]"
    )


def _multi_line_flow(text: str) -> int:
    """Where the first line that may open a flow collection going on over lines starts
    (len(text) when there is none). A block's flow collection starts where a block node
    does; one whose brackets close on its own line (read as YAML reads flow: quoted
    scalars skipped, a comment ending it) ends there."""
    lines = set()
    for bracket in "[{":
        at = text.find(bracket)
        while at >= 0:
            lines.add(text.rfind("\n", 0, at) + 1)
            at = text.find(bracket, text.find("\n", at) + 1 or len(text))
    for line in sorted(lines):
        m = _FLOW_START.match(text, line)
        if m is None:
            continue
        end = text.find("\n", m.end())
        if not _closes(text[m.end() - 1 : len(text) if end < 0 else end]):
            return line
    return len(text)


def _closes(line: str) -> bool:
    """Whether the flow collection `line` opens closes on it (False when unsure)."""
    depth, i, after = 0, 0, "["
    while i < len(line):
        c = line[i]
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:  # nothing may follow but a comment (`[a]: [b,` opens another)
                return re.fullmatch(r"[ \t]*(?:#[^\n]*)?", line[i + 1 :]) is not None
        elif c in "\"'":
            if after not in "[{,:":
                return False  # a quote inside a plain scalar, or something odd
            close = re.compile(r'(?:[^"\\]|\\.)*"' if c == '"' else r"(?:[^']|'')*'")
            m = close.match(line, i + 1)
            if m is None:
                return False
            i = m.end()
            after = c
            continue
        elif c == "#" and line[i - 1] in " \t":
            return False
        if c not in " \t":
            after = c
        i += 1
    return False


def _in_scalar_or_comment(prefix: str) -> bool | None:
    """Whether an `&` after `prefix` (its line up to it) is inside a scalar that started
    on this line, or in a comment; None: inside a plain scalar unless the line is inside
    a flow collection (then `,[]{}` in `prefix` may end it)."""
    rest = prefix.lstrip(" ")
    if rest.startswith("#"):
        return True  # a comment, or a line of a block or quoted scalar: content either way
    if len(rest) < len(prefix) or not rest.startswith(("---", "...")):
        entry = _ENTRY.match(rest)
        if entry:
            rest = rest[entry.end():]
        key = _PLAIN_KEY.match(rest)
        if key:
            rest = rest[key.end():]
    else:
        return False  # a document marker
    if rest[:1] in ("'", '"'):
        return _in_open_quote(rest)
    if not _plain(rest):
        return False  # the `&` opens a node, or what it follows is no plain scalar
    indicators = list(_VALUE_INDICATOR.finditer(rest))
    if indicators:  # a line of a plain scalar, or a key: the `&` is in its value, if any
        rest = rest[indicators[-1].end():].lstrip(" \t")
        if not _plain(rest):
            return False
    if any(c in rest for c in ",[]{}"):
        return None  # in a flow collection these end a plain scalar: the caller knows
    return True


# a line that opens a block scalar: entries, a key (no comment before it), properties, then
# `|` or `>` with no explicit indentation
_BLOCK_HEADER = re.compile(
    r"[ ]*(?:-[ ]+)*(?:[^#\n]*?:[ \t]+)?(?:[&!]\S*[ \t]+)*[|>][+-]?[ \t]*(?:#[^\n]*)?")


def _in_block_scalar(text: str, line: int, limit: int = 4000) -> bool:
    """Whether the line at `line` is in a block scalar (`key: |` and its lines): walking up
    from it, a line less indented than every line below it that opens a block scalar
    whose first line is indented as little as the least of them. False when unsure (no
    such line within `limit` lines, or an explicit indentation indicator)."""
    low = _indent(text, line)
    first = line  # the least indented line seen so far nearest the top
    pos = line
    for _ in range(limit):
        if pos == 0:
            return False
        pos = text.rfind("\n", 0, pos - 1) + 1
        end = text.find("\n", pos)
        content = text[pos:end].strip(" ")
        if not content:
            continue
        indent = _indent(text, pos)
        if indent >= low:
            if indent == low:
                first = pos
            continue
        if _BLOCK_HEADER.fullmatch(text, pos, end):
            return _first_line_after(text, end) == first
        if indent == 0:
            return False
        low, first = indent, pos
    return False


def _indent(text: str, pos: int) -> int:
    end = pos
    while end < len(text) and text[end] == " ":
        end += 1
    return end - pos


def _first_line_after(text: str, end: int) -> int:
    """The start of the first non-blank line after the line ending at `end`."""
    pos = end + 1
    while pos < len(text):
        nxt = text.find("\n", pos)
        nxt = len(text) if nxt < 0 else nxt
        if text[pos:nxt].strip(" "):
            return pos
        pos = nxt + 1
    return -1


def _plain(rest: str) -> bool:
    """Whether `rest` starts a plain scalar."""
    return bool(rest) and rest[0] not in _NOT_PLAIN_START and not (
        rest[0] in "-?:" and rest[1:2] in ("", " ", "\t"))


def _in_open_quote(rest: str) -> bool:
    """Whether an `&` after `rest` is inside the quoted scalar `rest` opens. Should the
    line be inside a quoted scalar of the lines above, that quote closes it instead; then
    what follows it is valid YAML only after a flow indicator or `:`, and that is where
    an anchor could be."""
    quote, body = rest[0], rest[1:]
    if quote == '"':
        closed = re.search(r'(?<!\\)(?:\\\\)*"', body)
    else:
        closed = re.search(r"'(?!')", body.replace("''", "  "))
    return closed is None and body.lstrip(" ")[:1] not in (",", "]", "}", ":")


def shares_nodes(root: object) -> bool:
    """Whether a node tree reaches one node twice (an alias)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        value = getattr(node, "value", None)
        if isinstance(value, list):
            for entry in value:
                if isinstance(entry, tuple):
                    stack.extend(entry)
                else:
                    stack.append(entry)
    return False
