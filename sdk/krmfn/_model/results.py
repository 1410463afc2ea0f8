"""Structured results, in the shape kpt's function specification gives them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from krmfn._model.object import KubeObject, SubObject
    from krmfn._text.path import Path

__all__ = ["Field", "File", "Result", "Severity"]


class Severity(StrEnum):
    """How bad a result is: only `ERROR` makes a run exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Field:
    """The field a result is about; `path` as `spec.containers[0].image`, or a tuple of
    segments (`("spec", "containers", 0, "image")`), kept as its canonical text."""

    path: str
    current_value: Any = None
    proposed_value: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, str):  # segments, despite the annotation
            object.__setattr__(self, "path", _text(self.path))

    def to_dict(self) -> dict[str, Any]:
        """The field as a result writes it (kpt's `field` shape)."""
        out: dict[str, Any] = {"path": self.path}
        if self.current_value is not None:
            out["currentValue"] = self.current_value
        if self.proposed_value is not None:
            out["proposedValue"] = self.proposed_value
        return out


@dataclass(frozen=True)
class File:
    """The file a result is about: its path in the package and the resource's index there."""

    path: str
    index: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The file as a result writes it."""
        return {"path": self.path, "index": self.index}


@dataclass
class Result:
    """One finding. `severity` is always written, so readers never have to guess."""

    message: str
    severity: Severity = Severity.ERROR
    resource_ref: dict[str, str] | None = None
    field: Field | None = None
    file: File | None = None
    tags: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def about(cls, message: str, obj: KubeObject | SubObject | None = None, *,
              severity: Severity | str = Severity.ERROR, field: Path | Field | None = None,
              tags: dict[str, str] | None = None) -> Result:
        """A result on `obj`, with its resourceRef and file filled in; `field` is a path
        (text or a tuple of segments) or a Field. `obj` may be a view (`obj.at(path)`):
        the result is then on its resource, and `field` is relative to the view (the
        view's own path when not given)."""
        from krmfn._model.object import SubObject

        if isinstance(obj, SubObject):
            view, obj = obj, obj.resource
            if field is None:
                field = view.path
            elif not isinstance(field, Field):
                field = view.field(field)
        ref = obj.ref() if obj is not None else None
        file = File(obj.path, obj.index) if obj is not None and obj.path else None
        fld = field if field is None or isinstance(field, Field) else Field(_text(field))
        return cls(message, Severity(severity), ref, fld, file, dict(tags or {}))

    @property
    def is_error(self) -> bool:
        """True for severity error."""
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        """The result as a ResourceList writes it (kpt's `results` item)."""
        out: dict[str, Any] = {"message": self.message, "severity": self.severity.value}
        if self.resource_ref:
            out["resourceRef"] = dict(self.resource_ref)
        if self.field is not None:
            out["field"] = self.field.to_dict()
        if self.file is not None:
            out["file"] = self.file.to_dict()
        if self.tags:
            out["tags"] = dict(self.tags)
        return out

    def summary(self) -> str:
        """One line for stderr."""
        where = ""
        if self.resource_ref:
            r = self.resource_ref
            ns = f"{r['namespace']}/" if r.get("namespace") else ""
            where = f"{r.get('kind', '')} {ns}{r.get('name', '')}"
        if self.field is not None and not self.message.startswith(f"{self.field.path}:"):
            where = f"{where} {self.field.path}".strip()  # unless the message names it
        return f"{where}: {self.message}" if where else self.message


def _text(path: Path) -> str:
    """A path given as text stays as the function wrote it; segments become their text."""
    if isinstance(path, str):
        return path
    from krmfn._text.path import format_path, parse_path

    return format_path(parse_path(path))
