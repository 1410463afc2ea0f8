"""Typed functionConfig: a ConfigMap's `data` or a `fn.kpt.dev/v1alpha1` kind, decoded into
a dataclass. Loading goes parse -> default -> validate and reports every problem at once,
each naming its field, so a user fixes a config in one round.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar, Union

from krmfn._errors import ConfigError
from krmfn._model.config_kind import split_config_kind
from krmfn._text.nodes import MappingNode, Node, ScalarNode, SequenceNode

if typing.TYPE_CHECKING:
    from krmfn._model.object import KubeObject

__all__ = ["CONFIG_GROUP", "decode", "load_config"]

T = TypeVar("T")
CONFIG_GROUP = "fn.kpt.dev"
_META_KEYS = frozenset({"apiVersion", "kind", "metadata"})


def load_config(fc: KubeObject | None, cls: type[T], kind: str) -> T:
    """Decode `fc` into `cls`. A ConfigMap's string values are converted to the field types
    (kpt's `-- key=value` arguments arrive that way); a typed kind is checked as it is.
    `kind` is `Kind` (of fn.kpt.dev, any version) or `group/version/Kind` (exactly that
    apiVersion)."""
    api_version, kind = split_config_kind(kind)
    problems: list[tuple[str, str]] = []
    node: Node | None = None
    if fc is None:
        data: dict[str, Any] = {}
        strings = False
    elif fc.kind == "ConfigMap" and fc.api_version == "v1":
        raw = fc.get("data") or {}
        if not isinstance(raw, dict):
            raise ConfigError([("data", "expected a map")])
        data, strings = raw, True
    elif fc.kind == kind and (fc.api_version == api_version if api_version
                              else fc.group == CONFIG_GROUP):
        raw = fc.to_dict()
        data = {k: v for k, v in raw.items() if k not in _META_KEYS}
        strings = False
        node = fc._doc.root  # the YAML nodes: a number for a str field keeps its text
    else:
        wanted = api_version or f"{CONFIG_GROUP}/v1alpha1"
        raise ConfigError([("", f"{fc.api_version}/{fc.kind} is not supported: "
                                f"use a v1 ConfigMap or {wanted} {kind}")])
    value = decode(cls, data, "data" if strings else "", problems, strings=strings, node=node)
    if not problems:
        validate = getattr(value, "validate", None)
        if callable(validate):
            # validate() names its dataclass's fields; a ConfigMap holds them under data
            base = "data" if strings else ""
            for name, message in validate() or []:
                problems.append((_join(base, name) if name else base, message))
    if problems:
        raise ConfigError(problems)
    return typing.cast(T, value)


def _yaml_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def decode(tp: Any, value: Any, path: str, problems: list[tuple[str, str]], *,
           strings: bool = False, node: Node | None = None) -> Any:
    """Check `value` against the annotation `tp`, collecting (field, message) problems.
    `node` is the YAML node `value` came from, when known: a number given for a `str`
    field (`cpu: 1`, a Kubernetes quantity) becomes its text as written (`1.0` stays
    "1.0"). Booleans are not taken for a `str` field: YAML 1.1 reads `on`, `yes` and
    `true` as booleans, and a string was meant to be quoted; the error says so."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if type(None) in args and (value is None or (strings and value == ""
                                                      and str not in args)):
            return None  # a ConfigMap cannot hold null: an empty string stands for it
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return decode(inner[0], value, path, problems, strings=strings, node=node)
        # `str` last: a number goes to `int | str`'s int, and to `str | float`'s float
        for a in sorted(inner, key=lambda a: a is str):
            trial: list[tuple[str, str]] = []
            out = decode(a, value, path, trial, strings=strings, node=node)
            if not trial:
                return out
        problems.append((path, f"expected one of {', '.join(_name(a) for a in inner)}"))
        return None
    if strings and isinstance(value, str) and tp is not str:
        before = len(problems)
        value = _from_string(tp, value, path, problems)
        if len(problems) > before:
            return None
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_dataclass(tp, value, path, problems, strings=strings, node=node)
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        if not isinstance(value, list):
            problems.append((path, f"expected a list, got {_kind(value)}"))
            return []
        (item_tp,) = typing.get_args(tp)[:1] or (Any,)
        nodes = node.value if isinstance(node, SequenceNode) and (
            len(node.value) == len(value)) else [None] * len(value)
        items = [decode(item_tp, v, f"{path}[{i}]", problems, strings=strings, node=n)
                 for i, (v, n) in enumerate(zip(value, nodes, strict=True))]
        return origin(items) if origin in (tuple, set, frozenset) else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            problems.append((path, f"expected a map, got {_kind(value)}"))
            return {}
        args = typing.get_args(tp)
        val_tp = args[1] if len(args) == 2 else Any
        return {str(k): decode(val_tp, v, _join(path, str(k)), problems, strings=strings,
                               node=_child(node, str(k)))
                for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is str and isinstance(value, (int, float)):
        if isinstance(value, bool):
            word = "true" if value else "false"
            problems.append((path, f"expected a string, got a boolean (quote it if the "
                                   f"text was meant: \"{_text(node, word)}\")"))
            return None
        return _text(node, repr(value) if isinstance(value, float) else str(value))
    if (isinstance(tp, type) and not isinstance(value, tp)) or (
        tp is int and isinstance(value, bool)
    ):
        problems.append((path, f"expected {_name(tp)}, got {_kind(value)}"))
        return None
    return value


@functools.cache
def _shape(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """A config class's field types and fields by YAML name: evaluating the annotations
    compiles them, once per class rather than once per run (a fleet runs thousands)."""
    fields = {(f.metadata.get("name") or _yaml_name(f.name)): f
              for f in dataclasses.fields(cls) if f.init}
    return typing.get_type_hints(cls), fields


def _decode_dataclass(cls: type, value: Any, path: str, problems: list[tuple[str, str]], *,
                      strings: bool, node: Node | None = None) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        problems.append((path, f"expected a map, got {_kind(value)}"))
        return None
    hints, fields = _shape(cls)
    kwargs: dict[str, Any] = {}
    for key, v in value.items():
        f = fields.get(str(key))
        if f is None:
            known = ", ".join(sorted(fields))
            problems.append((_join(path, str(key)), f"unknown field (known: {known})"))
            continue
        kwargs[f.name] = decode(hints[f.name], v, _join(path, str(key)), problems,
                                strings=strings, node=_child(node, str(key)))
    for key, f in fields.items():
        if f.name not in kwargs and f.default is dataclasses.MISSING and (
            f.default_factory is dataclasses.MISSING
        ):
            problems.append((_join(path, key), "is required"))
    if problems:
        return None
    return cls(**kwargs)


def _from_string(tp: Any, value: str, path: str, problems: list[tuple[str, str]]) -> Any:
    """ConfigMap data are strings: read numbers, booleans and YAML lists/maps out of them."""
    if tp is bool:
        low = value.strip().lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off", ""):
            return False
        problems.append((path, f"expected true or false, got {value!r}"))
        return None
    if tp in (int, float):
        try:
            return tp(value.strip())
        except ValueError:
            problems.append((path, f"expected {_name(tp)}, got {value!r}"))
            return None
    import yaml

    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        problems.append((path, "is not valid YAML"))
        return None
    origin = typing.get_origin(tp) or tp
    if origin in (list, tuple, set, frozenset) and isinstance(parsed, (str, int, float)):
        return [p.strip() for p in value.split(",") if p.strip()]  # `a, b` or a single item
    if parsed is None and origin in (list, tuple, set, frozenset, dict):
        return {} if origin is dict else []  # "" (kpt's `key=`): an empty collection
    return parsed


def _child(node: Node | None, key: str) -> Node | None:
    """The value node under `key` of a mapping node (None when unknown)."""
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key:
                return v  # type: ignore[no-any-return]
    return None


def _text(node: Node | None, fallback: str) -> str:
    """A scalar as the user wrote it (`1.0`, `0x1F`, `5e3`), else as Python writes it."""
    return str(node.value) if isinstance(node, ScalarNode) else fallback


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _name(tp: Any) -> str:
    return {str: "a string", int: "an integer", bool: "a boolean", float: "a number",
            list: "a list", dict: "a map"}.get(tp, getattr(tp, "__name__", str(tp)))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return _name(type(value))
