"""The config fields of a function as `--help` (and so `kpt fn doc`) lists them: YAML name,
type, default and what it is for, from the config dataclass itself, so the list cannot
drift from the code.

A field's text is `field(metadata={"doc": "..."})`, else the comment ending the line that
declares it (`team: str  # the team that owns it`). Fields of a nested dataclass are
listed under their parent's name (`limits.cpu`).
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import tokenize
import types
import typing
from typing import Any

__all__ = ["config_fields", "config_help"]


def config_help(cls: type, kind: str, api_version: str | None) -> str:
    """The `--help` section: where the config comes from, then one line per field."""
    rows = config_fields(cls)
    typed = f"{api_version} {kind}" if api_version else f"fn.kpt.dev/v1alpha1 {kind}"
    out = [f"Config (a v1 ConfigMap's data, `-- key=value`, or the kind {typed}):"]
    if not rows:
        return out[0] + " none\n"
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        out.append(("  " + "  ".join(cells) + "  " + row[3]).rstrip())
    return "\n".join(out) + "\n"


def config_fields(cls: type, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(YAML name, type, default, text) of every field, nested dataclasses included."""
    from krmfn._model.config import _shape

    hints, fields = _shape(cls)
    comments = _line_comments(cls)
    rows: list[tuple[str, str, str, str]] = []
    for name, f in fields.items():
        tp = hints[f.name]
        doc = str(f.metadata.get("doc") or comments.get(f.name, ""))
        rows.append((prefix + name, _type_name(tp), _default(f), doc))
        inner, mark = tp, "."
        if typing.get_origin(tp) in (list, tuple, set, frozenset) and typing.get_args(tp):
            inner, mark = typing.get_args(tp)[0], "[]."  # the fields of each item
        if dataclasses.is_dataclass(inner) and isinstance(inner, type):
            rows.extend(config_fields(inner, f"{prefix}{name}{mark}"))
    return rows


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        return _yaml_value(f.default)
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return "(defaults)" if dataclasses.is_dataclass(value) else _yaml_value(value)
    return "required"


def _yaml_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if not value or value != value.strip() else value
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        from krmfn._model.config import _shape

        fields = _shape(type(value))[1]
        return _yaml_value({name: getattr(value, f.name) for name, f in fields.items()})
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(_type_name(a) for a in args)}]" if args else name
    if tp is type(None):
        return "null"
    if tp is typing.Any:
        return "any"
    return str(getattr(tp, "__name__", tp))


def _line_comments(cls: type) -> dict[str, str]:
    """Field name -> the comment ending the line that declares it, from the source (none
    when the source cannot be read: a class made at run time, a frozen application)."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    out: dict[str, str] = {}
    names = {f.name for f in dataclasses.fields(cls)}
    line_name: dict[int, str] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError):
        return {}
    for i, tok in enumerate(tokens):
        if (tok.type == tokenize.NAME and tok.string in names and i + 1 < len(tokens)
                and tokens[i + 1].string == ":" and tok.start[1] > 0
                and tok.start[0] not in line_name):
            line_name[tok.start[0]] = tok.string
        elif tok.type == tokenize.COMMENT and tok.start[0] in line_name:
            out.setdefault(line_name[tok.start[0]], tok.string.lstrip("#").strip())
    return out
