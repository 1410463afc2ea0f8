"""kpt setters: a `# kpt-set: <pattern>` line comment says which setters a field is made of.

The comment stays, so the result can be specialized again for the next site. Patterns are
the catalog apply-setters' ones: `${tag}` (the whole value), `nginx:${tag}` or
`${image}:${tag}` (setters inside a string; the parts whose setter has no value are read
back from the current value), and `${envs}` on the key line of a list (the value is a list).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from krmfn import KrmfnError, KubeObject, ResourceList, same_value

from krmfn_catalog.site_specialize.plain import FieldPath, format_path

__all__ = ["SetterOutcome", "apply_setters"]

MARKER = "kpt-set:"
# A setter's name is anything up to the closing brace, as apply-setters reads it (its own
# tests name one `image-~!@#$%^&*()<>?"|`): a narrower rule skipped such setters silently.
_REF = re.compile(r"\$\{([^}]+)\}")
_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")
_SKIP: Any = object()  # a field the setters leave as it is


@dataclass
class SetterOutcome:
    changed: int = 0  # fields given a new value
    used: set[str] = field(default_factory=set)  # setters with a value and a field
    changed_by: set[str] = field(default_factory=set)  # setters of the changed fields


def apply_setters(rl: ResourceList, objects: Iterable[KubeObject],
                  values: Mapping[str, Any],
                  owned: Mapping[int, Iterable[FieldPath]] | None = None) -> SetterOutcome:
    """Give every field with a setter comment the value its setters spell, but the fields
    `owned` by something else (by object id: what the site's facts were written into).
    Those keep their value, or the next run would start from other facts."""
    outcome = SetterOutcome()
    for obj in objects:
        for path, comment in obj.line_comments(MARKER):
            if not comment.startswith(MARKER):
                continue
            pattern = _pattern(comment[len(MARKER):].strip())
            mine = owned.get(id(obj), ()) if owned else ()
            if any(path[: len(field)] == field for field in mine):
                rl.warning(f"setter comment {pattern.text!r} is on a field the site's facts "
                           "set: they keep it", obj, field=format_path(path))
                continue
            _apply(rl, obj, path, pattern, values, outcome)
    return outcome


@dataclass(frozen=True)
class _Pattern:
    """A setter pattern taken apart once: resources of a blueprint repeat most patterns.
    The regex that reads a value's parts back is built only when a setter lacks a value."""

    text: str
    names: tuple[str, ...]  # setter names in order of appearance
    whole: str | None  # the setter name when the pattern is a whole `${name}`
    parts: tuple[tuple[str, str | None], ...]  # see _split


@functools.lru_cache(maxsize=1024)
def _pattern(text: str) -> _Pattern:
    whole = _REF.fullmatch(text)
    return _Pattern(text, tuple(_REF.findall(text)), whole.group(1) if whole else None,
                    tuple(_split(text)))


def _apply(rl: ResourceList, obj: KubeObject, path: FieldPath, pattern: _Pattern,
           values: Mapping[str, Any], outcome: SetterOutcome) -> None:
    given = [n for n in pattern.names if n in values]
    if not given:
        return
    current = obj.get(path)
    if isinstance(current, dict):
        rl.warning(f"setter comment {pattern.text!r} is on a map, which setters cannot set",
                   obj, field=format_path(path))
        return
    if isinstance(current, list):
        new: Any = _list_value(rl, obj, path, pattern, values)
        if new is None:
            return
    else:
        new = _scalar_value(rl, obj, path, pattern, current, values)
        if new is _SKIP:
            return
    outcome.used.update(given)
    if not same_value(current, new):
        obj.set(path, new)
        outcome.changed += 1
        outcome.changed_by.update(given)


def _list_value(rl: ResourceList, obj: KubeObject, path: FieldPath, pattern: _Pattern,
                values: Mapping[str, Any]) -> list[Any] | None:
    name = pattern.whole
    if name is None:
        rl.warning(f"setter comment {pattern.text!r} is on a list: only a whole `${{name}}` "
                   "can set a list", obj, field=format_path(path))
        return None
    value = values[name]
    if isinstance(value, list):
        return value
    parsed = _read_list(str(value))
    if parsed is None:
        rl.error(f"setter {name!r}: {value!r} is not a list", obj, field=format_path(path))
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


def _scalar_value(rl: ResourceList, obj: KubeObject, path: FieldPath, pattern: _Pattern,
                  current: Any, values: Mapping[str, Any]) -> Any:
    if pattern.whole is not None:
        value = values[pattern.whole]
        if isinstance(value, list):
            rl.warning(f"setter {pattern.whole!r} has a list value but the field is not a "
                       "list", obj, field=format_path(path))
            return _SKIP
        return _typed_like(value, current)
    parts: dict[str, str] | None = None  # read from the current value when first needed
    text = []
    for literal, name in pattern.parts:
        text.append(literal)
        if name is None:
            continue
        if name in values:
            value = values[name]
            if isinstance(value, list):
                rl.warning(f"setter {name!r} has a list value, which cannot go inside "
                           f"{pattern.text!r}", obj, field=format_path(path))
                return _SKIP
            text.append(_text(value))
            continue
        if parts is None:
            parts = _current_parts(pattern, _text(current))
        if parts is not None:
            text.append(parts[name])
        else:
            rl.warning(f"the value {_text(current)!r} does not match the setter pattern "
                       f"{pattern.text!r}, and setter {name!r} has no value to rebuild it",
                       obj, field=format_path(path))
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


@functools.lru_cache(maxsize=1024)
def _parts_regex(pattern: str) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...]]:
    """A regex whose groups catch each setter's part of a value (greedy: `${image}:${tag}`
    splits `registry:5000/nginx:1.25` at its last colon), and [(setter name, group name)]
    (`app-tag` is no identifier)."""
    regex: list[str] = []
    groups: dict[str, str] = {}  # setter name -> group name
    for literal, name in _split(pattern):
        regex.append(re.escape(literal))
        if name is None:
            continue
        if name in groups:
            regex.append(f"(?P={groups[name]})")
        else:
            groups[name] = f"s{len(groups)}"
            regex.append(f"(?P<{groups[name]}>.*)")
    return re.compile("".join(regex), re.S), tuple(groups.items())


def _current_parts(pattern: _Pattern, current: str) -> dict[str, str] | None:
    """What each setter of `pattern` holds in `current`, or None when the value does not
    fit the pattern."""
    regex, groups = _parts_regex(pattern.text)
    m = regex.fullmatch(current)
    if m is None:
        return None
    return {name: m.group(group) for name, group in groups}


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
