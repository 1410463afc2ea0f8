"""`{{ request.object.metadata.name }}` variables, limited to what needs no JMESPath engine.

Understood: `request.object` followed by plain fields, `"quoted.fields"` and `[0]`
indexes, `request.operation` (CREATE, as `kyverno apply` assumes), `request.name`,
`request.namespace`, each optionally followed by `|| 'default'` or ``|| `json` ``.
Anything else (functions, filters, projections, context entries) raises
`UnsupportedFeature` so that the rule is reported as not evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from .kyverno_errors import UnsupportedFeature, VariableNotFound

__all__ = ["has_variables", "resolve", "substitute_text", "substitute_tree"]

_VARIABLE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_SEGMENT = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\."((?:[^"\\]|\\.)*)"|\[(\d+)\]')
_DEFAULT = re.compile(r"(.*?)\s*\|\|\s*('(?:[^'\\]|\\.)*'|`[^`]*`)")
_OPERATION: Final = "CREATE"


class _NotFound:
    pass


_NOT_FOUND: Final = _NotFound()


def has_variables(data: object) -> bool:
    if isinstance(data, str):
        return _VARIABLE.search(data) is not None
    if isinstance(data, Mapping):
        return any(has_variables(k) or has_variables(v) for k, v in data.items())
    if isinstance(data, list):
        return any(has_variables(item) for item in data)
    return False


def resolve(expression: str, resource: Mapping[str, Any]) -> object:
    """The value of one variable expression (the text between `{{` and `}}`)."""
    expression = expression.strip()
    fallback: object = _NOT_FOUND
    with_default = _DEFAULT.fullmatch(expression)
    if with_default:
        expression, literal = with_default[1].strip(), with_default[2]
        fallback = literal[1:-1] if literal.startswith("'") else _json_literal(literal[1:-1])
    value = _lookup(expression, resource)
    if value is _NOT_FOUND or value is None:
        if fallback is _NOT_FOUND:
            raise VariableNotFound(expression)
        return fallback
    return value


def substitute_text(text: str, resource: Mapping[str, Any]) -> object:
    """Replace variables in `text`; a text that is one whole variable keeps the value's type."""
    whole = _VARIABLE.fullmatch(text.strip())
    if whole:
        return resolve(whole[1], resource)
    return _VARIABLE.sub(lambda found: _render(resolve(found[1], resource)), text)


def substitute_tree(data: object, resource: Mapping[str, Any]) -> object:
    """Substitute variables in every string value of a pattern or condition."""
    if isinstance(data, str):
        return substitute_text(data, resource) if _VARIABLE.search(data) else data
    if isinstance(data, Mapping):
        return {key: substitute_tree(value, resource) for key, value in data.items()}
    if isinstance(data, list):
        return [substitute_tree(item, resource) for item in data]
    return data


def _lookup(expression: str, resource: Mapping[str, Any]) -> object:
    metadata = resource.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    if expression == "request.operation":
        return _OPERATION
    if expression in ("request.name", "request.namespace"):
        return metadata.get(expression.removeprefix("request."), _NOT_FOUND)
    if expression == "request.object":
        return resource
    if not expression.startswith("request.object") or not _is_path(expression[14:]):
        raise UnsupportedFeature("JMESPath expression", f"{{{{ {expression} }}}}")
    current: object = resource
    for field_name, quoted, index in _SEGMENT.findall(expression[14:]):
        if index:
            if not isinstance(current, list) or int(index) >= len(current):
                return _NOT_FOUND
            current = current[int(index)]
            continue
        key = field_name or json.loads(f'"{quoted}"')
        if not isinstance(current, Mapping) or key not in current:
            return _NOT_FOUND
        current = current[key]
    return current


def _is_path(text: str) -> bool:
    return "".join(found[0] for found in _SEGMENT.finditer(text)) == text


def _json_literal(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise UnsupportedFeature("JMESPath literal", f"`{text}`") from None


def _render(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
