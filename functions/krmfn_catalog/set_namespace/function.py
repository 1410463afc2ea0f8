"""set-namespace, a drop-in for kpt's catalog function (v0.4.1) with its known bugs fixed:
service references are changed only where they exist, depends-on references follow only
resources that really moved, and the result names what changed in a stable order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from krmfn import ConfigError, FunctionError, KubeObject, ResourceList, function, load_config

__all__ = ["SetNamespaceConfig", "set_namespace"]

PACKAGE_CONTEXT = "kptfile.kpt.dev"
DEPENDS_ON = "config.kubernetes.io/depends-on"
RBAC = "rbac.authorization.k8s.io"
BINDINGS = frozenset({"RoleBinding", "ClusterRoleBinding"})
# (group, kind) -> where a service namespace lives; changed only where it already exists
SERVICE_REFS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apiregistration.k8s.io", "APIService"): ("spec", "service", "namespace"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"):
        ("spec", "conversion", "webhook", "clientConfig", "service", "namespace"),
}
MISSING_CONFIG = ("functionConfig is missing: expected a v1 ConfigMap (data.namespace) or "
                  "fn.kpt.dev/v1alpha1 SetNamespace (namespace)")

Key = tuple[str, str, str, str]  # group, kind, namespace, name: what depends-on names


@dataclass
class SetNamespaceConfig:
    """`namespace` is the target; with `namespaceMatcher` only resources now in that
    namespace move."""

    namespace: str = ""
    namespace_matcher: str = ""

    def validate(self) -> list[tuple[str, str]]:
        if not self.namespace:
            return [("namespace", "is required and must not be empty")]
        return []


@dataclass
class _Move:
    """One run's decisions and what it changed, for the summary."""

    target: str
    matcher: str
    old: set[str] = field(default_factory=set)  # namespaces replaced
    added: int = 0  # resources that had no namespace and got one
    changed: set[int] = field(default_factory=set)  # ids of the objects touched
    moved: set[Key] = field(default_factory=set)  # old identities of moved resources

    def wants(self, current: str) -> bool:
        """Whether a namespace value (or "" for none) becomes the target."""
        return current != self.target and (not self.matcher or current == self.matcher)

    def note(self, obj: KubeObject, old: str) -> None:
        self.changed.add(id(obj))
        if old:
            self.old.add(old)


def _config(rl: ResourceList) -> SetNamespaceConfig:
    fc = rl.function_config
    if fc is None:
        raise FunctionError(MISSING_CONFIG)
    if fc.api_version == "v1" and fc.kind == "ConfigMap" and fc.name == PACKAGE_CONTEXT:
        return _from_package_context(fc)
    return load_config(fc, SetNamespaceConfig, "SetNamespace")


def _from_package_context(fc: KubeObject) -> SetNamespaceConfig:
    """kpt's package context names the package in `data.name`: packages instantiated from
    one blueprint each land in a namespace named after themselves. Other keys kpt may add
    to the context are not ours to reject."""
    values = {}
    for key in ("namespace", "namespaceMatcher", "name"):
        value = fc.get(["data", key])
        if value is not None and not isinstance(value, str):
            raise ConfigError([(f"data.{key}", "expected a string")])
        values[key] = value or ""
    namespace = values["namespace"] or values["name"]
    if not namespace:
        raise ConfigError([("data.name", "the package context names no package "
                                         "(and data.namespace is empty)")])
    return SetNamespaceConfig(namespace, values["namespaceMatcher"])


@function(name="set-namespace")
def set_namespace(rl: ResourceList) -> None:
    """Set the namespace of every namespaced resource, and of what refers to it."""
    cfg = _config(rl)
    move = _Move(cfg.namespace, cfg.namespace_matcher)
    reported = len(rl.results)
    referring: list[KubeObject] = []
    for obj in rl.items:  # one pass: a large list is parsed item by item, once
        if obj.is_local_config:
            continue
        _move_object(rl, obj, move)
        _move_service_ref(rl, obj, move)
        _move_subjects(rl, obj, move)
        if obj.get_annotation(DEPENDS_ON):
            referring.append(obj)
    for obj in referring:  # after every move, so references know what moved
        _follow_depends_on(obj, move)
    if len(rl.results) == reported:  # errors replace the summary
        rl.info(_summary(move))


def _move_object(rl: ResourceList, obj: KubeObject, move: _Move) -> None:
    if obj.group == "" and obj.kind == "Namespace":
        name = _string(rl, obj, ("metadata", "name"))
        if name and move.wants(name):
            obj.name = move.target
            move.note(obj, name)
        return
    scoped = rl.is_namespaced(obj)
    if scoped is False:
        return
    current = _string(rl, obj, ("metadata", "namespace"))
    if current is None or not move.wants(current) or (not current and scoped is None):
        return  # a custom kind of unknown scope keeps a missing namespace missing
    move.moved.add((obj.group, obj.kind, current, obj.name))
    obj.namespace = move.target
    move.note(obj, current)
    if not current:
        move.added += 1


def _move_service_ref(rl: ResourceList, obj: KubeObject, move: _Move) -> None:
    path = SERVICE_REFS.get((obj.group, obj.kind))
    current = _string(rl, obj, path) if path else None
    if path and current and move.wants(current):
        obj.set(path, move.target)
        move.note(obj, current)


def _move_subjects(rl: ResourceList, obj: KubeObject, move: _Move) -> None:
    """ServiceAccount subjects name the account's namespace. One without a namespace in a
    RoleBinding means the binding's own namespace, so it follows without an edit."""
    if obj.group != RBAC or obj.kind not in BINDINGS:
        return
    subjects = obj.get("subjects")
    if subjects is None:
        return
    if not isinstance(subjects, list):
        rl.error("expected a list", obj, field="subjects")
        return
    for i, subject in enumerate(subjects):
        if not isinstance(subject, dict) or subject.get("kind") != "ServiceAccount":
            continue
        current = _string(rl, obj, ("subjects", i, "namespace"))
        if current and move.wants(current):
            obj.set(("subjects", i, "namespace"), move.target)
            move.note(obj, current)


def _follow_depends_on(obj: KubeObject, move: _Move) -> None:
    """`<group>/namespaces/<ns>/<kind>/<name>` references follow a resource of this package
    that moved; references to anything else (outside the package) stay as they are."""
    value = obj.get_annotation(DEPENDS_ON)
    if not value:
        return
    refs = value.split(",")
    for i, ref in enumerate(refs):
        parts = ref.strip().split("/")
        if len(parts) != 5 or parts[1] != "namespaces":
            continue
        group, _, namespace, kind, name = parts
        if (group, kind, namespace, name) in move.moved:
            new = "/".join([group, "namespaces", move.target, kind, name])
            refs[i] = ref.replace(ref.strip(), new)
    new_value = ",".join(refs)
    if new_value != value:
        obj.set_annotation(DEPENDS_ON, new_value)
        move.changed.add(id(obj))


def _string(rl: ResourceList, obj: KubeObject, path: tuple[Any, ...]) -> str | None:
    """The string at `path`, "" when absent or null. None when it holds something else:
    that is not a namespace, so an error result names the resource and field."""
    value = obj.get(path)
    if value is None or isinstance(value, str):
        return value or ""
    rl.error(f"expected a string, got {_describe(value)}", obj, field=_dotted(path))
    return None


def _describe(value: Any) -> str:
    kinds = {dict: "a map", list: "a list", bool: "a boolean", int: "an integer",
             float: "a number"}
    kind = kinds.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)):
        return kind
    return f"{kind} ({str(value).lower() if isinstance(value, bool) else value})"


def _dotted(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _summary(move: _Move) -> str:
    target = f'"{move.target}"'
    count = len(move.changed)
    if not count:
        if move.matcher:
            return f'nothing to change: no resource in namespace "{move.matcher}"'
        return f"nothing to change: every resource is already in namespace {target}"
    details = []
    if move.old:
        details.append("was " + ", ".join(f'"{ns}"' for ns in sorted(move.old)))
    if move.added:
        details.append(f"added where missing on {move.added}")
    plural = "resource" if count == 1 else "resources"
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"namespace {target} set on {count} {plural}{suffix}"
