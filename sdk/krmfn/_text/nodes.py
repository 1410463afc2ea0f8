"""Reading values out of libyaml node trees, and where nodes sit in their source text.

Nodes come from PyYAML's C composer: their marks are character indexes into the text the
item was parsed from. Values are built on demand, so untouched parts of an input never
become Python objects.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "AliasSpans",
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "alias_spans",
    "construct",
    "decimal_int",
    "find_key",
    "fingerprint",
    "indented_comments_end",
    "int_text",
    "is_synthetic",
    "line_end",
    "line_start",
    "scalar_text",
    "value_of",
]

_SAFE = SafeConstructor()
_T = "tag:yaml.org,2002:"
_STR = _T + "str"


def is_synthetic(node: Node) -> bool:
    """True for nodes a function created: they have no text of their own yet."""
    return node.start_mark is None


def scalar_text(node: Node) -> str | None:
    """The string a scalar key/value holds, or None for a collection."""
    return node.value if isinstance(node, ScalarNode) else None


def find_key(node: MappingNode, key: str) -> int:
    """Index of the pair whose key is `key`, or -1. Mappings are small: a scan is fastest."""
    for i, (k, _v) in enumerate(node.value):
        if k.value == key:
            return i
    return -1


def value_of(node: MappingNode, key: str) -> Node | None:
    """The value node of `key` in a mapping, or None."""
    for k, v in node.value:
        if k.value == key:
            return v  # type: ignore[no-any-return]
    return None


def construct(node: Node) -> Any:
    """The plain Python value of a node: dict, list, str, int, float, bool or None.

    Timestamps stay strings (Kubernetes reads them as strings); merge keys are honoured.
    """
    if isinstance(node, ScalarNode):
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _T + "int":
            return _int(node)
        if tag == _T + "bool":
            return _SAFE.construct_yaml_bool(node)
        if tag == _T + "null":
            return None
        if tag == _T + "float":
            return _SAFE.construct_yaml_float(node)
        if tag == _T + "binary":
            return base64.b64encode(_SAFE.construct_yaml_binary(node)).decode()
        return node.value
    # strings, most of what a resource holds, are taken in line rather than by a call
    if node.__class__ is SequenceNode:
        return [v.value if v.tag == _STR and v.__class__ is ScalarNode else construct(v)
                for v in node.value]
    out: dict[Any, Any] = {}
    for k, v in node.value:
        if k.tag == _STR and k.__class__ is ScalarNode:
            out[k.value] = (v.value if v.tag == _STR and v.__class__ is ScalarNode
                            else construct(v))
            continue
        if k.tag == _T + "merge":
            merged = construct(v)
            for m in merged if isinstance(merged, list) else [merged]:
                if isinstance(m, dict):
                    for mk, mv in m.items():
                        out.setdefault(mk, mv)
            continue
        key = construct(k)
        out[key if isinstance(key, (str, int, float, bool)) or key is None else str(key)] = (
            construct(v)
        )
    return out


# (id(collection), slot) -> (start, end) of the `*name` written there; a slot is `i` for a
# sequence's entry i, `2 * i` and `2 * i + 1` for the key and the value of a mapping's pair i
AliasSpans = dict[tuple[int, int], tuple[int, int]]


def alias_spans(text: str, root: Node) -> AliasSpans:
    """Where each alias in the tree `root` composed from `text` is written.

    A composed tree holds an alias as the very node it names, whose marks are the
    anchor's, earlier in the text: an item or a collection whose last entry is an alias
    does not end where that node does. The parser's events still tell: the tree, walked
    in document order without entering a node twice, meets them one for one."""
    import yaml
    from yaml.events import AliasEvent, CollectionEndEvent, NodeEvent

    events = (e for e in yaml.parse(text, Loader=yaml.CSafeLoader) if isinstance(
        e, (NodeEvent, CollectionEndEvent)))
    spans: AliasSpans = {}
    todo: list[tuple[Node | None, int, int]] = [(root, 0, 0)]  # None: a collection's end
    while todo:
        node, holder, slot = todo.pop()
        event = next(events)
        if node is None:
            assert isinstance(event, CollectionEndEvent), event
            continue
        if isinstance(event, AliasEvent):
            start, end = event.start_mark, event.end_mark
            assert start is not None and end is not None
            spans[(holder, slot)] = (int(start.index), int(end.index))
            continue
        if isinstance(node, MappingNode):
            todo.append((None, 0, 0))
            todo.extend((n, id(node), 2 * i + j) for i in range(len(node.value) - 1, -1, -1)
                        for j, n in ((1, node.value[i][1]), (0, node.value[i][0])))
        elif isinstance(node, SequenceNode):
            todo.append((None, 0, 0))
            todo.extend((n, id(node), i) for i in range(len(node.value) - 1, -1, -1)
                        for n in (node.value[i],))
    return spans


# Python converts integers of more than 4,300 decimal digits (by default; never fewer than
# 640) to and from text only in parts: the conversion at once is quadratic, and refused.
_DIGITS_AT_ONCE = 600


def _int(node: ScalarNode) -> int:
    """A YAML 1.1 integer of any length (`1_000`, `0x1F`, `0o17` as `017`, `1:30`)."""
    try:
        return int(_SAFE.construct_yaml_int(node))
    except ValueError:  # too long for int() at once: only decimal digits can be
        pass
    text = str(node.value).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if ":" in text:  # sexagesimal
        value = 0
        for part in text.split(":"):
            value = value * 60 + decimal_int(part)
        return sign * value
    return sign * decimal_int(text)


def decimal_int(digits: str) -> int:
    """`int(digits)` for a string of decimal digits of any length."""
    if len(digits) <= _DIGITS_AT_ONCE:
        return int(digits)
    low = len(digits) // 2
    return decimal_int(digits[:-low]) * _power_of_ten(low) + decimal_int(digits[-low:])


@functools.lru_cache(maxsize=128)
def _power_of_ten(n: int) -> int:
    return int(10**n)


def int_text(value: int) -> str:
    """`str(value)` for an integer of any length (see `_DIGITS_AT_ONCE`)."""
    try:
        return str(value)
    except ValueError:
        pass
    sign, value = ("-", -value) if value < 0 else ("", value)
    width = value.bit_length() * 30103 // 100000 + 2  # more digits than it has
    return sign + (_digits(value, width).lstrip("0") or "0")


def _digits(value: int, width: int) -> str:
    """`value` in exactly `width` decimal digits, zeros first."""
    if width <= _DIGITS_AT_ONCE:
        return str(value).zfill(width)
    low = width // 2
    high, rest = divmod(value, _power_of_ten(low))
    return _digits(high, width - low) + _digits(rest, low)


def fingerprint(value: Any) -> Any:
    """What `value` (plain data) says, types included, as a value to compare: `1`,
    `1.0` and `True` differ, NaN equals NaN, and no integer is converted to text."""
    if isinstance(value, dict):
        return ("map", tuple((fingerprint(k), fingerprint(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("seq", tuple(fingerprint(v) for v in value))
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def line_end(text: str, pos: int) -> int:
    """Index of the newline ending the line that holds `pos` (len(text) if none)."""
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def indented_comments_end(text: str, pos: int, column: int) -> int:
    """Past the comment lines at `pos` indented deeper than `column`: they belong to the
    item above them, not to what follows at the item's own column."""
    while pos < len(text):
        nl = line_end(text, pos)
        stripped = text[pos:nl].lstrip(" ")
        if not stripped.startswith("#") or nl - pos - len(stripped) <= column:
            break
        pos = min(nl + 1, len(text))
    return pos
