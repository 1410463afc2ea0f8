"""The exception tree of krmfn.

    KrmfnError                 anything krmfn raises on purpose
    ├── InputError             the input is not a usable ResourceList (or file)
    ├── ConfigError            the functionConfig is missing, of the wrong kind or invalid
    ├── FieldError             a field path is malformed, missing or holds the wrong type
    │   └── PathError          a path's text breaks the grammar (also a ValueError; _path)
    └── FunctionError          a function gave up; its message becomes an error result

Exceptions mean "could not run"; findings about the user's resources are results.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConfigError", "FieldError", "FunctionError", "InputError", "KrmfnError", "kind_of"]


class KrmfnError(Exception):
    """Base class: every error krmfn raises deliberately."""


class InputError(KrmfnError):
    """The input cannot be read as a ResourceList: bad YAML, wrong shape, hostile content."""


class ConfigError(KrmfnError):
    """The functionConfig is unusable; `problems` lists every (field, message) found."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in problems))


class FieldError(KrmfnError):
    """A field path is malformed, absent where required, or holds an unexpected type.
    `resource` is the KubeObject it is about, when known: its error result then names
    the resource and file as well as the field."""

    def __init__(self, path: str, message: str, *, resource: Any = None) -> None:
        self.path = path
        self.resource = resource
        super().__init__(f"{path}: {message}" if path else message)


class FunctionError(KrmfnError):
    """Raised by a function that cannot go on; reported as an error result, exit 1."""


def kind_of(value: object) -> str:
    """What a value read from YAML is, as error messages name it ("expected a map, got a
    list"): one wording for every message that says so."""
    if value is None:
        return "null"
    return {dict: "a map", list: "a list", tuple: "a list", str: "a string",
            bool: "a boolean", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__)
