"""CEL `*Expr` fields of a PackageVariantSet, evaluated as Porch evaluates them.

The variables are Porch's: `repoDefault` and `packageDefault` (strings), `upstream`,
`repository` and `target` (each with `name`, `namespace`, `labels`, `annotations`; a
`repositories` target is `{repo, package}`). An expression must give a string. CEL
comes from cel-python (`pip install 'krmfn[cel]'`); without it an expression is an error
naming its field, never silently skipped.

A fleet evaluates the same few expressions for every site, so two shortcuts keep that
cheap, neither changing an answer: a plain field selection (`target.name`,
`target.labels['nephio.org/region']`) is looked up directly, with CEL's own errors for a
missing key; and a result is remembered for the values of the variables the expression
names (CEL has no other way to reach a variable), so `'free5gc-' + packageDefault` is
computed once for all sites.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from krmfn_fleet.errors import FleetError

__all__ = ["VARIABLES", "evaluate"]

VARIABLES = ("repoDefault", "packageDefault", "upstream", "repository", "target")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_SELECTION = re.compile(
    rf"^\s*({_IDENT})((?:\s*\.\s*{_IDENT}|\s*\[\s*'[^'\\]*'\s*\]|\s*\[\s*\"[^\"\\]*\"\s*\])*)\s*$")
_STEP = re.compile(rf"\.\s*({_IDENT})|\[\s*'([^'\\]*)'\s*\]|\[\s*\"([^\"\\]*)\"\s*\]")
_MEMO: dict[tuple[str, str], str | FleetError] = {}


@lru_cache(maxsize=1)
def _environment() -> Any:
    """One CEL environment for the process (making one also raises the recursion limit,
    which cel-python needs)."""
    import celpy

    return celpy.Environment()


@lru_cache(maxsize=512)
def _program(expr: str) -> Any:
    env = _environment()
    return env.program(env.compile(expr))


@lru_cache(maxsize=512)
def _names(expr: str) -> tuple[str, ...]:
    """The variables the expression's text names (a string literal may add one too many,
    which only costs a remembered answer)."""
    return tuple(v for v in VARIABLES if re.search(rf"(?<![\w.]){v}\b", expr))


def evaluate(expr: str, inputs: Mapping[str, Any], where: str) -> str:
    """The string `expr` gives with `inputs`; `where` names the field for errors."""
    try:
        from celpy.celparser import CELParseError
    except ImportError:
        raise FleetError(f"{where}: a CEL expression needs cel-python "
                         "(pip install 'krmfn[cel]')") from None
    selection = _SELECTION.match(expr)
    if selection and selection.group(1) in VARIABLES:
        return _select(expr, selection, inputs, where)
    key = (expr, json.dumps({n: inputs.get(n) for n in _names(expr)}, sort_keys=True))
    if key not in _MEMO:
        try:
            _MEMO[key] = _evaluate(expr, inputs)
        except CELParseError:
            raise FleetError(f"{where}: cannot parse {expr!r}") from None
    found = _MEMO[key]
    if isinstance(found, FleetError):
        raise FleetError(f"{where}: {found}")
    return found


def _evaluate(expr: str, inputs: Mapping[str, Any]) -> str | FleetError:
    from celpy.adapter import json_to_cel
    from celpy.evaluation import CELEvalError

    program = _program(expr)
    activation = {k: json_to_cel(v) for k, v in inputs.items()}
    try:
        value = program.evaluate(activation)
    except CELEvalError as exc:
        return FleetError(f"{expr!r}: {_one_line(exc)}")
    if isinstance(value, CELEvalError):
        return FleetError(f"{expr!r}: {_one_line(value)}")
    if not isinstance(value, str):
        return FleetError(f"{expr!r} does not give a string")
    return str(value)


def _select(expr: str, selection: re.Match[str], inputs: Mapping[str, Any],
            where: str) -> str:
    """A plain field selection, with CEL's answers: a missing variable is an undeclared
    reference, a missing key `no such key`, anything but a string not a string."""
    name = selection.group(1)
    if name not in inputs:
        raise FleetError(f"{where}: {expr!r}: undeclared reference to {name!r}")
    value = inputs[name]
    for step in _STEP.finditer(selection.group(2)):
        field = next(g for g in step.groups() if g is not None)
        if not isinstance(value, Mapping):
            raise FleetError(f"{where}: {expr!r}: no such key: {field!r}")
        if field not in value:
            raise FleetError(f"{where}: {expr!r}: no such key: {field!r}")
        value = value[field]
    if not isinstance(value, str):
        raise FleetError(f"{where}: {expr!r} does not give a string")
    return value


def _one_line(exc: BaseException) -> str:
    """celpy's message without its dump of the activation: `no such key: 'zz'`."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    message = str(args[0]).split(" (in activation", 1)[0] if args else str(exc)
    detail = args[2] if len(args) > 2 and isinstance(args[2], tuple) else ()
    if detail and message == "no such key":
        message += ": " + ", ".join(repr(str(d)) for d in detail)
    return " ".join(message.split()) or type(exc).__name__
