"""Selectors as data: which resources a function (or a pipeline step) applies to.
Each field narrows the match; a selector with no fields matches everything."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from krmfn._object import KubeObject

__all__ = ["Selector"]


@dataclass(frozen=True)
class Selector:
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Selector:
        """kpt's selector shape (`apiVersion`, `kind`, `name`, `namespace`, `labels`,
        `annotations`); names may use shell wildcards."""
        return cls(str(data.get("apiVersion", "")), str(data.get("kind", "")),
                   str(data.get("name", "")), str(data.get("namespace", "")),
                   dict(data.get("labels") or {}), dict(data.get("annotations") or {}))

    def __call__(self, obj: KubeObject) -> bool:
        return self.matches(obj)

    def matches(self, obj: KubeObject) -> bool:
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


def any_of(*selectors: Callable[[KubeObject], bool]) -> Callable[[KubeObject], bool]:
    return lambda obj: any(s(obj) for s in selectors)


def all_of(*selectors: Callable[[KubeObject], bool]) -> Callable[[KubeObject], bool]:
    return lambda obj: all(s(obj) for s in selectors)
