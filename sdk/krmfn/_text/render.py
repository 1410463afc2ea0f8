"""Rendering new values as YAML text fragments that read back the same under YAML 1.1.

Only what a function adds or changes is rendered here; everything else is copied from the
input text. A plain scalar is written only when a YAML 1.1 reader (Kubernetes tooling) would
read it back as the same string: `yes`, `on`, `0755`, `1e3` or `null` get quotes.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from yaml.nodes import ScalarNode

from krmfn._text.nodes import int_text
from krmfn._text.parse import _resolve

__all__ = ["SIMPLE_KEY_MAX", "block_key", "float_text", "flow_key", "key_text", "render_block",
           "render_flow", "render_scalar", "scalar_tag"]

_STR = "tag:yaml.org,2002:str"
_PLAIN_UNSAFE_START = set("-?:,[]{}#&*!|>'\"%@`~= \t")
# not printable in YAML (or read as a line break): never written raw
_RAW_UNSAFE = r"\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff"
_BLOCK_UNSAFE = re.compile(rf": | #|[\x00-\x1f{_RAW_UNSAFE}]")
_JSON_UNSAFE = re.compile(rf"[{_RAW_UNSAFE}]")
_FLOW_UNSAFE = re.compile(rf": | #|[\x00-\x1f{_RAW_UNSAFE},\[\]{{}}]")
# What Go's YAML 1.1 reader (go-yaml v2, under sigs.k8s.io/yaml and so kubectl) takes for
# a number or a boolean beyond PyYAML's resolver: `y`/`n`, `1e3`, `1.`, `0o17`.
_GO_NOT_STRING = re.compile(
    r"[yYnN]|[-+]?(\.[0-9_]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?0[xXoObB][0-9a-fA-F_]+"
)


def scalar_tag(value: Any) -> str:
    """The YAML tag a node holding `value` gets, so later reads construct the right type."""
    if value is None:
        return "tag:yaml.org,2002:null"
    if isinstance(value, bool):
        return "tag:yaml.org,2002:bool"
    if isinstance(value, int):
        return "tag:yaml.org,2002:int"
    if isinstance(value, float):
        return "tag:yaml.org,2002:float"
    return _STR


@functools.lru_cache(maxsize=1 << 14)  # keys and values repeat: kinds, paths, severities
def _plain_ok(s: str, flow: bool) -> bool:
    if not s or s[0] in _PLAIN_UNSAFE_START or s[-1] in " \t:":
        return False
    if (_FLOW_UNSAFE if flow else _BLOCK_UNSAFE).search(s) or _GO_NOT_STRING.fullmatch(s):
        return False
    return _resolve(ScalarNode, s, (True, False)) == _STR


def render_scalar(value: Any, *, style: str | None = None, flow: bool = False,
                  json_style: bool = False) -> str:
    """One scalar as text. `style` is the style of the scalar being replaced, kept if safe."""
    if value.__class__ is str:
        s = value
    elif value is None:
        return "null"
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, int):
        return int_text(value)
    elif isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return float_text(value)
    else:
        s = str(value)
    if json_style or style == '"':
        return _double_quoted(s)
    if style == "'" and "\n" not in s and _printable(s):
        return "'" + s.replace("'", "''") + "'"
    if _plain_ok(s, flow):
        return s
    if "\n" not in s and _printable(s) and '"' in s and "'" not in s:
        return "'" + s + "'"
    return _double_quoted(s)


SIMPLE_KEY_MAX = 1024
"""YAML readers (libyaml, PyYAML, go-yaml) look for an implicit key's `:` within 1,024
characters of the key's start: a longer key is written as an explicit `? key` entry, or
no reader could read the text back."""


def block_key(text: str, pad: str) -> str:
    """A rendered key and its `:` at `pad`; a key too long to be implicit stands on a line
    of its own after `? `, its `:` on the next line at the same column."""
    if len(text) > SIMPLE_KEY_MAX:
        return f"{pad}? {text}\n{pad}:"
    return f"{pad}{text}:"


def flow_key(text: str) -> str:
    """A rendered key in a flow map: `? key` when too long to be implicit."""
    return f"? {text}" if len(text) > SIMPLE_KEY_MAX else text


def key_text(key: Any) -> str:
    """A map key (or another value) as the string it is written as."""
    return int_text(key) if isinstance(key, int) and not isinstance(key, bool) else str(key)


def float_text(value: float) -> str:
    """`repr`, except that YAML 1.1 needs a dot in the mantissa: `1e+20` is a string there."""
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        return f"{mantissa}.0e{exponent}"
    return text


def _double_quoted(s: str) -> str:
    """JSON's escaping (valid YAML too), plus escapes for what YAML may not hold raw or
    reads as a line break: DEL, NEL, the Unicode line and paragraph separators, BOM, and
    the two noncharacters U+FFFE and U+FFFF."""
    text = json.dumps(s, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _printable(s: str) -> bool:
    return not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f
                   or c in "\u2028\u2029\ufeff\ufffe\uffff" for c in s)


def render_flow(value: Any, *, json_style: bool = False) -> str:
    """A value in flow style, for insertion into `{...}` / `[...]` or JSON input."""
    if isinstance(value, Mapping):
        inner = ", ".join(
            f"{flow_key(render_scalar(key_text(k), flow=True, json_style=json_style))}: "
            f"{render_flow(v, json_style=json_style)}"
            for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_flow(v, json_style=json_style) for v in value) + "]"
    return render_scalar(value, flow=True, json_style=json_style)


def render_block(value: Mapping[str, Any] | Sequence[Any], indent: int, *,
                 wide_lists: bool = False) -> list[str]:
    """A collection in block style as lines (no trailing newlines), each starting at `indent`.

    Empty collections nested inside are written `{}` / `[]`; sequences under a key are
    written compact (`- ` at the key's column) unless `wide_lists`, as kpt's seqindent says.
    """
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            key = block_key(render_scalar(key_text(k)), pad)
            if _is_nonempty_collection(v):
                lines.append(key)
                child = indent + 2 if isinstance(v, Mapping) or wide_lists else indent
                lines.extend(render_block(v, child, wide_lists=wide_lists))
            else:
                lines.append(f"{key} {_inline(v)}")
        return lines
    for item in value:
        if _is_nonempty_collection(item):
            sub = render_block(item, indent + 2, wide_lists=wide_lists)
            lines.append(f"{pad}- {sub[0][indent + 2:]}")
            lines.extend(sub[1:])
        else:
            lines.append(f"{pad}- {_inline(item)}")
    return lines


def _is_nonempty_collection(v: Any) -> bool:
    if v.__class__ is str:  # most values: no ABC check
        return False
    return isinstance(v, (Mapping, list, tuple)) and len(v) > 0


def _inline(v: Any) -> str:
    if v.__class__ is str:
        return render_scalar(v)
    if isinstance(v, Mapping):
        return "{}"
    if isinstance(v, (list, tuple)):
        return "[]"
    return render_scalar(v)
