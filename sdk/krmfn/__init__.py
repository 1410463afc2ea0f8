"""krmfn: write KRM functions in Python that keep every byte they do not change.

    import krmfn

    @krmfn.function(name="add-team-label")
    def add_team_label(rl: krmfn.ResourceList) -> None:
        for obj in rl.items:
            if not obj.is_local_config:
                obj.set_label("team", "ran")

    main = add_team_label.main   # a console script: kpt exec, docker run, or standalone

Names are imported lazily so that `--help` and other light paths start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Field",
    "FieldError",
    "File",
    "Function",
    "FunctionError",
    "InputError",
    "Items",
    "KrmfnError",
    "KubeObject",
    "Match",
    "PathError",
    "ResourceList",
    "Result",
    "RunOutput",
    "Scope",
    "Selector",
    "Severity",
    "SubObject",
    "function",
    "load_config",
    "parse_path",
    "read_package",
    "same_value",
]

_WHERE = {
    "ConfigError": "_errors", "FieldError": "_errors", "FunctionError": "_errors",
    "InputError": "_errors", "KrmfnError": "_errors",
    "Match": "_text.path", "PathError": "_text.path", "parse_path": "_text.path",
    "Field": "_model.results", "File": "_model.results", "Result": "_model.results",
    "Severity": "_model.results",
    "Items": "_model.resource_list", "ResourceList": "_model.resource_list",
    "KubeObject": "_model.object", "SubObject": "_model.object",
    "Scope": "_model.scope", "Selector": "_model.selector", "load_config": "_model.config",
    "Function": "_run.function", "RunOutput": "_run.function", "function": "_run.function",
    "read_package": "_run.package",
    "same_value": "_model.values",
}

if TYPE_CHECKING:
    from krmfn._errors import ConfigError, FieldError, FunctionError, InputError, KrmfnError
    from krmfn._model.config import load_config
    from krmfn._model.object import KubeObject, SubObject
    from krmfn._model.resource_list import Items, ResourceList
    from krmfn._model.results import Field, File, Result, Severity
    from krmfn._model.scope import Scope
    from krmfn._model.selector import Selector
    from krmfn._model.values import same_value
    from krmfn._run.function import Function, RunOutput, function
    from krmfn._run.package import read_package
    from krmfn._text.path import Match, PathError, parse_path


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'krmfn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"krmfn.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
