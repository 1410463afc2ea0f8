"""Selectors as data: which resources a function (or a pipeline step) applies to.
Each field narrows the match; a selector with no fields matches everything."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from krmfn._errors import ConfigError, kind_of
from krmfn._model.object import KubeObject

__all__ = ["Selector"]

_KNOWN = ("apiVersion", "kind", "name", "namespace", "labels", "annotations")


@dataclass(frozen=True)
class Selector:
    """Which resources a step or a function acts on, as kpt's `selectors` say: every
    field given must match (names by shell wildcard); a callable, so `rl.items.where(sel)`."""

    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Selector:
        """kpt's selector shape (`apiVersion`, `kind`, `name`, `namespace`, `labels`,
        `annotations`); names may use shell wildcards. Any other key, or a value of the
        wrong type, is a ConfigError naming it: a misspelt field ignored would widen the
        selector to everything, and a function would then edit (or delete) every resource."""
        if not isinstance(data, Mapping):
            raise ConfigError([("", f"a selector must be a map, got {kind_of(data)}")])
        problems: list[tuple[str, str]] = []
        for key in data:
            if key not in _KNOWN:
                problems.append((str(key), "unknown selector field (known: "
                                 + ", ".join(_KNOWN) + ")"))
        scalars = {k: _scalar(data.get(k), k, problems) for k in _KNOWN[:4]}
        maps = {k: _string_map(data.get(k), k, problems) for k in _KNOWN[4:]}
        if problems:
            raise ConfigError(problems)
        return cls(scalars["apiVersion"], scalars["kind"], scalars["name"],
                   scalars["namespace"], maps["labels"], maps["annotations"])

    def __call__(self, obj: KubeObject) -> bool:
        return self.matches(obj)

    def matches(self, obj: KubeObject) -> bool:
        """True when `obj` matches every field given (an empty selector matches all)."""
        if self.api_version and obj.api_version != self.api_version:
            return False
        if self.kind and not fnmatch.fnmatchcase(obj.kind, self.kind):
            return False
        if self.name and not fnmatch.fnmatchcase(obj.name, self.name):
            return False
        if self.namespace and not fnmatch.fnmatchcase(obj.namespace, self.namespace):
            return False
        if self.labels:
            have = obj.labels
            if any(have.get(k) != v for k, v in self.labels.items()):
                return False
        if self.annotations:
            have = obj.annotations
            if any(have.get(k) != v for k, v in self.annotations.items()):
                return False
        return True


def _scalar(value: Any, key: str, problems: list[tuple[str, str]]) -> str:
    """A name-like field: a string (a YAML number is read as its text; null is unset)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    problems.append((key, f"expected a string, got {kind_of(value)}"))
    return ""


def _string_map(value: Any, key: str, problems: list[tuple[str, str]]) -> dict[str, str]:
    """`labels` / `annotations`: a map of strings (`true` and numbers as Kubernetes
    writes them)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append((key, f"expected a map, got {kind_of(value)}"))
        return {}
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, bool):
            out[str(k)] = "true" if v else "false"
        elif isinstance(v, (str, int, float)):
            out[str(k)] = str(v)
        else:
            problems.append((f"{key}.{k}", f"expected a string, got {kind_of(v)}"))
    return out


def any_of(*selectors: Callable[[KubeObject], bool]) -> Callable[[KubeObject], bool]:
    return lambda obj: any(s(obj) for s in selectors)


def all_of(*selectors: Callable[[KubeObject], bool]) -> Callable[[KubeObject], bool]:
    return lambda obj: all(s(obj) for s in selectors)
