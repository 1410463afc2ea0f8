"""CEL `*Expr` fields of a PackageVariantSet, evaluated as Porch evaluates them.

The variables are Porch's: `repoDefault` and `packageDefault` (strings), `upstream`,
`repository` and `target` (each with `name`, `namespace`, `labels`, `annotations`; a
`repositories` target is `{repo, package}`). An expression must give a string. CEL
comes from cel-python (`pip install 'krmfn[cel]'`); without it an expression is an error
naming its field, never silently skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from krmfn_fleet.errors import FleetError

__all__ = ["evaluate"]


@lru_cache(maxsize=512)
def _program(expr: str) -> Any:
    import celpy

    env = celpy.Environment()
    return env.program(env.compile(expr))


def evaluate(expr: str, inputs: Mapping[str, Any], where: str) -> str:
    """The string `expr` gives with `inputs`; `where` names the field for errors."""
    try:
        from celpy.adapter import json_to_cel
        from celpy.celparser import CELParseError
        from celpy.evaluation import CELEvalError
    except ImportError:
        raise FleetError(f"{where}: a CEL expression needs cel-python "
                         "(pip install 'krmfn[cel]')") from None
    try:
        program = _program(expr)
    except CELParseError:
        raise FleetError(f"{where}: cannot parse {expr!r}") from None
    activation = {k: json_to_cel(v) for k, v in inputs.items()}
    try:
        value = program.evaluate(activation)
    except CELEvalError as exc:
        raise FleetError(f"{where}: {expr!r}: {_one_line(exc)}") from None
    if isinstance(value, CELEvalError):
        raise FleetError(f"{where}: {expr!r}: {_one_line(value)}")
    if not isinstance(value, str):
        raise FleetError(f"{where}: {expr!r} does not give a string")
    return str(value)


def _one_line(exc: BaseException) -> str:
    """celpy's message without its dump of the activation: `no such key: 'zz'`."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    message = str(args[0]).split(" (in activation", 1)[0] if args else str(exc)
    detail = args[2] if len(args) > 2 and isinstance(args[2], tuple) else ()
    if detail and message == "no such key":
        message += ": " + ", ".join(repr(str(d)) for d in detail)
    return " ".join(message.split()) or type(exc).__name__
