"""kpt setters: a `# kpt-set: <pattern>` line comment says which setters a field is made of.

The comment stays, so the result can be specialized again for the next site. Patterns are
the catalog apply-setters' ones: `${tag}` (the whole value), `nginx:${tag}` or
`${image}:${tag}` (setters inside a string; the parts whose setter has no value are read
back from the current value), and `${envs}` on the key line of a list (the value is a list).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from krmfn import KrmfnError, KubeObject, ResourceList

from krmfn_catalog.site_specialize.plain import FieldPath, format_path, same

__all__ = ["SetterOutcome", "apply_setters"]

MARKER = "kpt-set:"
_REF = re.compile(r"\$\{([^${}\s]+)\}")
_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")
_SKIP: Any = object()  # a field the setters leave as it is


@dataclass
class SetterOutcome:
    changed: int = 0  # fields given a new value
    used: set[str] = field(default_factory=set)  # setters with a value and a field
    changed_by: set[str] = field(default_factory=set)  # setters of the changed fields


def apply_setters(rl: ResourceList, objects: Iterable[KubeObject],
                  values: Mapping[str, Any]) -> SetterOutcome:
    """Give every field with a setter comment the value its setters spell."""
    outcome = SetterOutcome()
    for obj in objects:
        for path, comment in obj.line_comments():
            if comment.startswith(MARKER):
                _apply(rl, obj, path, comment[len(MARKER):].strip(), values, outcome)
    return outcome


def _apply(rl: ResourceList, obj: KubeObject, path: FieldPath, pattern: str,
           values: Mapping[str, Any], outcome: SetterOutcome) -> None:
    names = _REF.findall(pattern)
    given = [n for n in names if n in values]
    if not given:
        return
    current = obj.get(list(path))
    where = format_path(path)
    if isinstance(current, dict):
        rl.warning(f"setter comment {pattern!r} is on a map, which setters cannot set",
                   obj, field=where)
        return
    if isinstance(current, list):
        new: Any = _list_value(rl, obj, where, pattern, values)
        if new is None:
            return
    else:
        new = _scalar_value(rl, obj, where, pattern, current, values)
        if new is _SKIP:
            return
    outcome.used.update(given)
    if not same(current, new):
        obj.set(list(path), new)
        outcome.changed += 1
        outcome.changed_by.update(given)


def _list_value(rl: ResourceList, obj: KubeObject, where: str, pattern: str,
                values: Mapping[str, Any]) -> list[Any] | None:
    match = _REF.fullmatch(pattern)
    if match is None:
        rl.warning(f"setter comment {pattern!r} is on a list: only a whole `${{name}}` can "
                   "set a list", obj, field=where)
        return None
    value = values[match.group(1)]
    if isinstance(value, list):
        return value
    parsed = _read_list(str(value))
    if parsed is None:
        rl.error(f"setter {match.group(1)!r}: {value!r} is not a list", obj, field=where)
    return parsed


def _read_list(text: str) -> list[Any] | None:
    """A ConfigMap value for a list setter: YAML (`- a` lines, `[a, b]`) or `a, b`."""
    if text.lstrip().startswith(("-", "[")):
        indented = "\n".join("  " + line for line in text.splitlines())
        try:
            parsed = KubeObject.from_yaml("value:\n" + indented).get("value")
        except KrmfnError:
            return None
        return parsed if isinstance(parsed, list) else None
    return [part.strip() for part in text.split(",") if part.strip()]


def _scalar_value(rl: ResourceList, obj: KubeObject, where: str, pattern: str, current: Any,
                  values: Mapping[str, Any]) -> Any:
    whole = _REF.fullmatch(pattern)
    if whole is not None:
        value = values[whole.group(1)]
        if isinstance(value, list):
            rl.warning(f"setter {whole.group(1)!r} has a list value but the field is not a "
                       "list", obj, field=where)
            return _SKIP
        return _typed_like(value, current)
    parts = _current_parts(pattern, _text(current))
    text = []
    for literal, name in _split(pattern):
        text.append(literal)
        if name is None:
            continue
        if name in values:
            value = values[name]
            if isinstance(value, list):
                rl.warning(f"setter {name!r} has a list value, which cannot go inside "
                           f"{pattern!r}", obj, field=where)
                return _SKIP
            text.append(_text(value))
        elif parts is not None:
            text.append(parts[name])
        else:
            rl.warning(f"the value {_text(current)!r} does not match the setter pattern "
                       f"{pattern!r}, and setter {name!r} has no value to rebuild it",
                       obj, field=where)
            return _SKIP
    return _typed_like("".join(text), current)


def _split(pattern: str) -> list[tuple[str, str | None]]:
    """[(literal text, setter name after it)], the last name None."""
    out: list[tuple[str, str | None]] = []
    pos = 0
    for m in _REF.finditer(pattern):
        out.append((pattern[pos : m.start()], m.group(1)))
        pos = m.end()
    out.append((pattern[pos:], None))
    return out


def _current_parts(pattern: str, current: str) -> dict[str, str] | None:
    """What each setter of `pattern` holds in `current` (greedy: `${image}:${tag}` splits
    `registry:5000/nginx:1.25` at its last colon), or None when the value does not fit."""
    regex: list[str] = []
    groups: dict[str, str] = {}  # setter name -> group name (`app-tag` is no identifier)
    for literal, name in _split(pattern):
        regex.append(re.escape(literal))
        if name is None:
            continue
        if name in groups:
            regex.append(f"(?P={groups[name]})")
        else:
            groups[name] = f"s{len(groups)}"
            regex.append(f"(?P<{groups[name]}>.*)")
    m = re.fullmatch("".join(regex), current, re.S)
    if m is None:
        return None
    return {name: m.group(group) for name, group in groups.items()}


def _typed_like(value: Any, current: Any) -> Any:
    """A setter value takes the type of the field it lands on: a number or boolean field
    stays one when the value reads as such, and a string field stays a string."""
    if isinstance(value, str):
        if isinstance(current, bool) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if isinstance(current, (int, float)) and not isinstance(current, bool):
            text = value.strip()
            if _INT.fullmatch(text):
                return int(text)
            if _FLOAT.fullmatch(text):
                return float(text)
        return value
    if isinstance(current, str):
        return _text(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
