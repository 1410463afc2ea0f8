"""Which kinds are namespaced: Kubernetes' built-in kinds (`_model.builtin_scope`, generated from
Kubernetes' own API types), plus the scope that CustomResourceDefinitions in the same
ResourceList declare. Any other kind's scope is unknown: a group ending in `.k8s.io` says
nothing (Gateway API's GatewayClass is cluster-scoped, kustomize's Kustomization is not
a resource at all)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from krmfn._model.builtin_scope import CLUSTER_SCOPED, NAMESPACED

if TYPE_CHECKING:
    from krmfn._model.object import KubeObject

__all__ = ["CLUSTER_SCOPED", "NAMESPACED", "Scope"]

_CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
_CRD_FIELDS = (("spec", "group"), ("spec", "names", "kind"), ("spec", "scope"))


class Scope:
    """Answers `is_namespaced` for a ResourceList; CRDs found in it override the table."""

    def __init__(self, objects: Iterable[KubeObject] = ()) -> None:
        self._crds: dict[tuple[str, str], bool] = {}
        for obj in objects:
            if obj.kind == _CRD[1] and obj.group == _CRD[0]:
                # three scalars of a CRD whose schema may be megabytes: read as parts
                group, kind, scope = (obj.get(path) for path in _CRD_FIELDS)
                if isinstance(group, str) and isinstance(kind, str) and isinstance(scope, str):
                    self._crds[(group, kind)] = scope.lower() == "namespaced"

    def is_namespaced(self, obj: KubeObject) -> bool | None:
        """True/False when known; None for a kind neither Kubernetes' own nor declared by a
        CRD in sight."""
        key = (obj.group, obj.kind)
        if key in self._crds:
            return self._crds[key]
        if key in NAMESPACED:
            return True
        if key in CLUSTER_SCOPED:
            return False
        return None
