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
]

_WHERE = {
    "ConfigError": "_errors", "FieldError": "_errors", "FunctionError": "_errors",
    "InputError": "_errors", "KrmfnError": "_errors",
    "Field": "_results", "File": "_results", "Result": "_results", "Severity": "_results",
    "Function": "_function", "RunOutput": "_function", "function": "_function",
    "Items": "_resource_list", "ResourceList": "_resource_list",
    "KubeObject": "_object", "Match": "_path", "PathError": "_path", "parse_path": "_path",
    "Scope": "_scope", "Selector": "_selector", "SubObject": "_view",
    "load_config": "_config", "read_package": "_package",
}

if TYPE_CHECKING:
    from krmfn._config import load_config
    from krmfn._errors import ConfigError, FieldError, FunctionError, InputError, KrmfnError
    from krmfn._function import Function, RunOutput, function
    from krmfn._object import KubeObject
    from krmfn._package import read_package
    from krmfn._path import Match, PathError, parse_path
    from krmfn._resource_list import Items, ResourceList
    from krmfn._results import Field, File, Result, Severity
    from krmfn._scope import Scope
    from krmfn._selector import Selector
    from krmfn._view import SubObject


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'krmfn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"krmfn.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
