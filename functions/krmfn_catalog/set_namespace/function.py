"""set-namespace, a drop-in for kpt's catalog function (v0.4.1) with its known bugs fixed:
service references are changed only where they exist, and results are stable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from krmfn import ConfigError, KubeObject, ResourceList, function, load_config

__all__ = ["SetNamespaceConfig", "set_namespace"]

PACKAGE_CONTEXT = "kptfile.kpt.dev"
DEPENDS_ON = "config.kubernetes.io/depends-on"
# (group, kind) -> path of a service namespace that is changed only where it already exists
SERVICE_REFS = {
    ("apiregistration.k8s.io", "APIService"): "spec.service.namespace",
    ("apiextensions.k8s.io", "CustomResourceDefinition"):
        "spec.conversion.webhook.clientConfig.service.namespace",
}
BINDINGS = {"RoleBinding", "ClusterRoleBinding"}


@dataclass
class SetNamespaceConfig:
    """`namespace` is the target; with `namespaceMatcher` only resources now in that
    namespace move."""

    namespace: str = ""
    namespace_matcher: str = ""
    name: str = ""  # the package context ConfigMap's package name

    def validate(self) -> list[tuple[str, str]]:
        if not self.namespace:
            return [("namespace", "is required and must not be empty")]
        return []


def _config(rl: ResourceList) -> SetNamespaceConfig:
    fc = rl.function_config
    if fc is None:
        raise ConfigError([("", "functionConfig is missing: expected a v1 ConfigMap with "
                                "data.namespace or fn.kpt.dev/v1alpha1 SetNamespace")])
    if fc.kind == "ConfigMap" and fc.name == PACKAGE_CONTEXT and not fc.get("data.namespace"):
        name = fc.get("data.name")
        if not isinstance(name, str) or not name:
            raise ConfigError([("data.name", "the package context has no package name")])
        return SetNamespaceConfig(namespace=name)
    return load_config(fc, SetNamespaceConfig, "SetNamespace")


@function(name="set-namespace", readme=Path(__file__).with_name("README.md"))
def set_namespace(rl: ResourceList) -> None:
    """Set the namespace of every namespaced resource, and of what refers to it."""
    cfg = _config(rl)
    target, matcher = cfg.namespace, cfg.namespace_matcher
    moved: dict[str, int] = {}

    def moves(current: str) -> bool:
        return current != target and (not matcher or current == matcher)

    in_package = {(o.group, o.kind, o.namespace, o.name) for o in rl.items}
    changed = 0
    for obj in rl.items:
        if obj.is_local_config:
            continue
        before = obj.namespace
        touched = _set_own_namespace(rl, obj, target, moves)
        touched |= _set_references(obj, target, moves, in_package)
        if touched:
            changed += 1
            if before and before != target:
                moved[before] = moved.get(before, 0) + 1
    if changed:
        olds = ", ".join(f"{ns!r}" for ns in sorted(moved)) or "no namespace"
        rl.info(f"namespace {target!r} set on {changed} resource(s) (was: {olds})")
    else:
        rl.info(f"all resources already in namespace {target!r}: nothing to change")


def _set_own_namespace(rl: ResourceList, obj: KubeObject, target: str, moves: Callable[[str], bool]) -> bool:
    if obj.kind == "Namespace" and obj.group == "":
        if moves(obj.name):
            obj.name = target
            return True
        return False
    scoped = rl.is_namespaced(obj)
    current = obj.namespace
    if scoped is False:
        return False
    if current:
        if moves(current):
            obj.namespace = target
            return True
        return False
    if scoped is True and moves(""):
        obj.namespace = target
        return True
    return False


def _set_references(obj: KubeObject, target: str, moves: Callable[[str], bool],
                    in_package: set[tuple[str, str, str, str]]) -> bool:
    touched = False
    path = SERVICE_REFS.get((obj.group, obj.kind))
    if path:
        current = obj.get(path)
        if isinstance(current, str) and moves(current):
            obj.set(path, target)
            touched = True
    if obj.kind in BINDINGS and obj.group == "rbac.authorization.k8s.io":
        subjects = obj.get("subjects")
        for i, subject in enumerate(subjects if isinstance(subjects, list) else []):
            if (isinstance(subject, dict) and subject.get("kind") == "ServiceAccount"
                    and isinstance(subject.get("namespace"), str)
                    and moves(subject["namespace"])):
                obj.set(["subjects", i, "namespace"], target)
                touched = True
    deps = obj.get_annotation(DEPENDS_ON)
    if deps:
        new = _rewrite_depends_on(deps, target, moves, in_package)
        if new != deps:
            obj.set_annotation(DEPENDS_ON, new)
            touched = True
    return touched


def _rewrite_depends_on(value: str, target: str, moves: Callable[[str], bool],
                        in_package: set[tuple[str, str, str, str]]) -> str:
    """`<group>/namespaces/<ns>/<kind>/<name>` references follow their target, when the
    target is in this package (a reference to something outside stays as it is)."""
    out = []
    for ref in value.split(","):
        parts = ref.strip().split("/")
        if len(parts) == 5 and parts[1] == "namespaces":
            group, _, ns, kind, name = parts
            if moves(ns) and (group, kind, ns, name) in in_package:
                ref = "/".join([group, "namespaces", target, kind, name])
        out.append(ref)
    return ",".join(out)
