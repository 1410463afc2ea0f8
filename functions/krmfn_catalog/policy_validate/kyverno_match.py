"""Which resources a rule is about: Kyverno's `match` and `exclude` blocks.

A block is either `any:`/`all:` lists of resource filters or the legacy single filter
written directly in the block (`resources:`, `subjects:`...). Inside a filter every given
criterion must hold; inside a list criterion (kinds, names, namespaces) one entry suffices.

Offline there is no admission request, so this follows `kyverno apply`: the operation is
CREATE, user criteria (`subjects`, `roles`, `clusterRoles`) are ignored in `match` and make
an `exclude` filter exclude nothing. `namespaceSelector` needs the labels of the resource's
namespace; without them it raises `UnsupportedFeature` rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .kyverno_errors import KyvernoPolicyError, UnsupportedFeature
from .kyverno_wildcard import has_wildcard, wildcard_match

__all__ = [
    "Block",
    "KindSelector",
    "NamespaceLabels",
    "ResourceFilter",
    "Selection",
    "is_excluded",
    "is_matched",
    "parse_block",
    "parse_filter",
    "parse_kind",
    "parse_selection",
    "selector_matches",
]

NamespaceLabels = Mapping[str, Mapping[str, str]]
"""Labels of the namespaces known to the caller, by namespace name."""

_VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d+)?|\*")
_USER_KEYS = ("subjects", "roles", "clusterRoles")
_DESCRIPTION_KEYS = (
    "kinds",
    "name",
    "names",
    "namespaces",
    "annotations",
    "selector",
    "namespaceSelector",
    "operations",
)
_OFFLINE_OPERATION = "CREATE"


@dataclass(frozen=True)
class KindSelector:
    """`Pod`, `v1/Pod`, `apps/v1/Deployment`, `Pod/status`; each part may hold wildcards."""

    group: str
    version: str
    kind: str
    subresource: str

    def matches(self, group: str, version: str, kind: str) -> bool:
        return (
            (self.group == "*" or wildcard_match(self.group, group))
            and (self.version == "*" or wildcard_match(self.version, version))
            and wildcard_match(self.kind, kind)
            and wildcard_match(self.subresource, "")
        )


def parse_kind(text: str) -> KindSelector:
    parts = text.split("/")
    if len(parts) == 1:
        return KindSelector("*", "*", parts[0], "")
    if len(parts) == 2:
        if parts == ["*", "*"]:
            return KindSelector("*", "*", "*", "*")
        if _VERSION.fullmatch(parts[0]) and not (parts[0] == "*" and parts[1].islower()):
            return KindSelector("*", parts[0], parts[1], "")
        return KindSelector("*", "*", parts[0], parts[1])
    if len(parts) == 3:
        if _VERSION.fullmatch(parts[0]):
            return KindSelector("*", parts[0], parts[1], parts[2])
        return KindSelector(parts[0], parts[1], parts[2], "")
    if len(parts) == 4:
        return KindSelector(*parts)
    raise KyvernoPolicyError(f"kind selector {text!r} has too many parts")


@dataclass(frozen=True)
class ResourceFilter:
    """One `ResourceFilter` of Kyverno: a resource description plus user criteria."""

    kinds: tuple[KindSelector, ...] = ()
    names: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    selector: Mapping[str, Any] | None = None
    namespace_selector: Mapping[str, Any] | None = None
    operations: tuple[str, ...] = ()
    has_user_criteria: bool = False
    has_resource_criteria: bool = False

    def matches_resource(
        self, resource: Mapping[str, Any], namespace_labels: NamespaceLabels | None
    ) -> bool:
        """Whether the resource criteria hold (user criteria are the caller's business).
        Criteria are checked in a fixed order, and only the fields they need are read."""
        group, version, kind = _gvk(resource)
        if self.kinds and not any(s.matches(group, version, kind) for s in self.kinds):
            return False
        metadata = _mapping(resource.get("metadata"))
        if self.names and not any(wildcard_match(n, _name(metadata)) for n in self.names):
            return False
        namespace = ""
        if self.namespaces or self.namespace_selector is not None:
            namespace = _name(metadata) if kind == "Namespace" else str(
                metadata.get("namespace") or "")
        if self.namespaces and not any(wildcard_match(n, namespace) for n in self.namespaces):
            return False
        if self.annotations and not _annotations_match(
                self.annotations, _mapping(metadata.get("annotations"))):
            return False
        if self.selector is not None and not selector_matches(
                self.selector, _mapping(metadata.get("labels"))):
            return False
        if self.operations and _OFFLINE_OPERATION not in self.operations:
            return False
        return self._namespace_selector_matches(kind, namespace, namespace_labels)

    def _namespace_selector_matches(
        self, kind: str, namespace: str, namespace_labels: NamespaceLabels | None
    ) -> bool:
        if self.namespace_selector is None or kind == "Namespace":
            return True
        if not namespace:
            return selector_matches(self.namespace_selector, {})
        if namespace_labels is None or namespace not in namespace_labels:
            raise UnsupportedFeature(
                "namespaceSelector", f"the labels of namespace {namespace!r} are unknown"
            )
        return selector_matches(self.namespace_selector, namespace_labels[namespace])


def parse_filter(data: object, where: str) -> ResourceFilter:
    """Read a filter (`{resources: {...}, subjects: [...]}`); `where` names it in errors."""
    block = _expect_mapping(data, where)
    description = _expect_mapping(block.get("resources") or {}, f"{where}.resources")
    unknown = sorted(set(description) - set(_DESCRIPTION_KEYS))
    if unknown:
        raise KyvernoPolicyError(f"{where}.resources has unknown fields: {', '.join(unknown)}")
    names = _strings(description.get("names"), f"{where}.resources.names")
    if description.get("name"):
        names = (*names, str(description["name"]))
    return ResourceFilter(
        kinds=tuple(parse_kind(k) for k in _strings(description.get("kinds"), f"{where}.kinds")),
        names=names,
        namespaces=_strings(description.get("namespaces"), f"{where}.resources.namespaces"),
        annotations={
            str(k): str(v)
            for k, v in _expect_mapping(
                description.get("annotations") or {}, f"{where}.resources.annotations"
            ).items()
        },
        selector=_optional_selector(description, "selector", where),
        namespace_selector=_optional_selector(description, "namespaceSelector", where),
        operations=_strings(description.get("operations"), f"{where}.resources.operations"),
        has_user_criteria=any(block.get(key) for key in _USER_KEYS),
        has_resource_criteria=any(
            description.get(key) not in (None, [], "") for key in _DESCRIPTION_KEYS
        ),
    )


@dataclass(frozen=True)
class Block:
    """A parsed `match` or `exclude` block."""

    mode: str
    filters: tuple[ResourceFilter, ...]

    def matches(
        self, resource: Mapping[str, Any], namespace_labels: NamespaceLabels | None
    ) -> bool:
        # Without an admission request user criteria are ignored, as `kyverno apply` does; a
        # filter made only of them selects nothing.
        outcomes = (
            one.has_resource_criteria and one.matches_resource(resource, namespace_labels)
            for one in self.filters
        )
        return any(outcomes) if self.mode == "any" else all(outcomes)

    def rejects_kind(self, group: str, version: str, kind: str) -> bool:
        """True when `matches` is False for every resource of this kind, without reading
        anything else and without raising: a filter without resource criteria, or whose
        kinds all differ, fails before it looks further (`all` stops at its first filter)."""
        fails = [
            not one.has_resource_criteria
            or (bool(one.kinds) and not any(s.matches(group, version, kind) for s in one.kinds))
            for one in self.filters
        ]
        return all(fails) if self.mode == "any" else fails[0]

    def excludes(
        self, resource: Mapping[str, Any], namespace_labels: NamespaceLabels | None
    ) -> bool:
        # No request, no user: a filter with user criteria excludes nothing.
        outcomes = (
            one.has_resource_criteria
            and not one.has_user_criteria
            and one.matches_resource(resource, namespace_labels)
            for one in self.filters
        )
        return any(outcomes) if self.mode == "any" else all(outcomes)


@dataclass(frozen=True)
class Selection:
    """A rule's `match` and `exclude`, read once and applied to many resources."""

    match: Block
    exclude: Block | None

    def selects(
        self, resource: Mapping[str, Any], namespace_labels: NamespaceLabels | None = None
    ) -> bool:
        if not self.match.matches(resource, namespace_labels):
            return False
        return self.exclude is None or not self.exclude.excludes(resource, namespace_labels)

    def rejects_kind(self, api_version: str, kind: str) -> bool:
        """True when `selects` is False for every resource with this apiVersion and kind
        (as `str(resource["apiVersion"] or "")` spells them), whatever else it holds."""
        group, _, version = api_version.rpartition("/")
        return self.match.rejects_kind(group, version, kind)


def parse_selection(match: object, exclude: object, where: str) -> Selection:
    excluded = None if exclude is None else parse_block(exclude, f"{where}: exclude")
    return Selection(parse_block(match, f"{where}: match", must_select=True), excluded)


def is_matched(
    block: object, resource: Mapping[str, Any], namespace_labels: NamespaceLabels | None = None
) -> bool:
    """Whether a rule's `match` block selects the resource."""
    return parse_block(block, "match", must_select=True).matches(resource, namespace_labels)


def is_excluded(
    block: object, resource: Mapping[str, Any], namespace_labels: NamespaceLabels | None = None
) -> bool:
    """Whether a rule's `exclude` block removes the resource (absent block: never)."""
    if block is None:
        return False
    return parse_block(block, "exclude").excludes(resource, namespace_labels)


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """A Kubernetes label selector; `matchLabels` may use wildcards as Kyverno allows."""
    for key, wanted in _expect_mapping(selector.get("matchLabels") or {}, "matchLabels").items():
        if not _label_matches(str(key), str(wanted), labels):
            return False
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise KyvernoPolicyError("matchExpressions must be a list")
    return all(
        _expression_matches(_expect_mapping(e, "matchExpressions"), labels) for e in expressions
    )


def _label_matches(key: str, wanted: str, labels: Mapping[str, Any]) -> bool:
    if not has_wildcard(key) and not has_wildcard(wanted):
        return key in labels and str(labels[key]) == wanted
    return any(
        wildcard_match(key, str(k)) and wildcard_match(wanted, str(v)) for k, v in labels.items()
    )


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    key = str(expression.get("key", ""))
    operator = expression.get("operator")
    values = {str(v) for v in _strings(expression.get("values"), "matchExpressions.values")}
    present = key in labels
    if operator == "In":
        return present and str(labels[key]) in values
    if operator == "NotIn":
        return not present or str(labels[key]) not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    raise KyvernoPolicyError(f"unknown matchExpressions operator {operator!r}")


def _annotations_match(wanted: Mapping[str, str], annotations: Mapping[str, Any]) -> bool:
    found = [(str(k), str(v)) for k, v in annotations.items()]
    return all(
        any(wildcard_match(k, k1) and wildcard_match(v, v1) for k1, v1 in found)
        for k, v in wanted.items()
    )


def parse_block(block: object, where: str, *, must_select: bool = False) -> Block:
    """Read a `match` or `exclude` block into its mode (`any` or `all`) and filters.

    `must_select` (for `match`) refuses an empty filter: it would select nothing, silently.
    """
    data = _expect_mapping(block, where)
    if data.get("any") and data.get("all"):
        raise KyvernoPolicyError(f"{where} cannot hold both any and all")
    mode, filters = "all", [parse_filter(data, where)]
    for candidate in ("any", "all"):
        entries = data.get(candidate)
        if entries:
            if not isinstance(entries, list):
                raise KyvernoPolicyError(f"{where}.{candidate} must be a list")
            mode = candidate
            filters = [parse_filter(e, f"{where}.{candidate}[{i}]") for i, e in enumerate(entries)]
            break
    for one in filters:
        if must_select and not one.has_resource_criteria and not one.has_user_criteria:
            raise KyvernoPolicyError(f"{where} has a filter that selects nothing")
    return Block(mode, tuple(filters))


def _gvk(resource: Mapping[str, Any]) -> tuple[str, str, str]:
    api_version = str(resource.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    return group, version, str(resource.get("kind") or "")


def _name(metadata: Mapping[str, Any]) -> str:
    return str(metadata.get("name") or metadata.get("generateName") or "")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _expect_mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise KyvernoPolicyError(f"{where} must be a map, found {type(value).__name__}")
    return value


def _optional_selector(
    description: Mapping[str, Any], key: str, where: str
) -> Mapping[str, Any] | None:
    value = description.get(key)
    return None if value is None else _expect_mapping(value, f"{where}.resources.{key}")


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise KyvernoPolicyError(f"{where} must be a list, found {type(value).__name__}")
    return tuple(str(item) for item in value)
