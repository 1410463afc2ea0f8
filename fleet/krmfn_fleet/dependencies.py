"""Interconnection as Nephio's dependency controller does it, offline.

A package holding a `req.nephio.org/v1alpha1 Dependency` depends on every package of the
fleet whose downstream name is the Dependency's `spec.packageName`. The annotation
`fleet.krmfn.io/dependency-scope: <label key>` on the Dependency narrows that to packages
on clusters whose WorkloadCluster carries the same value of that label (an SMF depends on
the UPFs of its own region with `nephio.org/region`). Packages render in dependency order;
what a dependent receives is its dependencies' rendered output: each object an injector
names (`apiVersion`, `kind`, and `name` when given) becomes a `ref.nephio.org/v1alpha1
Config` holding it in `spec.config`, named `<dependency>-<cluster>` (plus `-<object>` when
one package offers several), in the file `dependency-<config name>.yaml`, and the
Dependency's `status.injected` lists them.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from krmfn import KubeObject

from krmfn_fleet.errors import FleetError
from krmfn_fleet.placement import Placement

__all__ = ["DEPENDENCY_SCOPE", "INJECTED_FROM", "Wanted", "dependencies_of", "inject_configs",
           "offered", "render_order"]

DEPENDENCY_SCOPE = "fleet.krmfn.io/dependency-scope"
INJECTED_FROM = "fleet.krmfn.io/injected-from"
_INTERNAL = ("internal.config.kubernetes.io/", "config.kubernetes.io/path",
             "config.kubernetes.io/index", "config.k8s.io/id")


@dataclass(frozen=True)
class Wanted:
    """One Dependency of a package and the packages that satisfy it."""

    name: str
    providers: tuple[str, ...]  # placement keys
    injectors: tuple[dict[str, Any], ...] = ()  # what it takes from each provider


def _is_dependency(obj: KubeObject) -> bool:
    return obj.api_version == "req.nephio.org/v1alpha1" and obj.kind == "Dependency"


def dependencies_of(placement: Placement, items: Sequence[KubeObject],
                    placements: Sequence[Placement]) -> list[Wanted]:
    """The Dependencies among `items` (the package before rendering) and who satisfies
    each, in placement order."""
    out = []
    for dep in [o for o in items if _is_dependency(o)]:
        where = f"{placement.blueprint / dep.path}: Dependency {dep.name}"
        name = dep.get("spec.packageName")
        if not isinstance(name, str) or not name:
            raise FleetError(f"{where}: spec.packageName: expected a package name")
        scope = dep.get_annotation(DEPENDENCY_SCOPE)
        own = placement.cluster_labels.get(scope) if scope else None
        if scope and own is None:
            raise FleetError(f"{where}: metadata.annotations[{DEPENDENCY_SCOPE}]: cluster "
                             f"{placement.cluster} has no label {scope!r}")
        providers = tuple(p.key for p in placements
                          if p.package == name and p.key != placement.key
                          and (not scope or p.cluster_labels.get(scope) == own))
        injectors = dep.get("spec.injectors") or []
        if not isinstance(injectors, list) or not all(isinstance(i, dict) for i in injectors):
            raise FleetError(f"{where}: spec.injectors: expected a list of maps")
        out.append(Wanted(dep.name, providers, tuple(injectors)))
    return out


def offered(obj: KubeObject, wanted: Sequence[Wanted]) -> bool:
    """Whether any of these Dependencies takes `obj` from its provider."""
    return any(_wanted(obj, list(w.injectors)) for w in wanted)


def render_order(placements: Sequence[Placement],
                 edges: Mapping[str, Sequence[str]]) -> list[Placement]:
    """Every package after the packages it depends on; among packages free to go, the
    placement order. A cycle is an error naming it."""
    index = {p.key: i for i, p in enumerate(placements)}
    waiting = {k: set(edges.get(k, ())) for k in index}
    users: dict[str, list[str]] = {k: [] for k in index}
    for k, deps in waiting.items():
        for d in deps:
            users[d].append(k)
    ready = [index[k] for k, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    out = []
    while ready:
        p = placements[heapq.heappop(ready)]
        out.append(p)
        for u in users[p.key]:
            waiting[u].discard(p.key)
            if not waiting[u]:
                heapq.heappush(ready, index[u])
    if len(out) < len(placements):
        raise FleetError(f"dependency cycle: {' -> '.join(_cycle(waiting, index))}")
    return out


def _cycle(waiting: Mapping[str, set[str]], index: Mapping[str, int]) -> list[str]:
    """One cycle among the packages left waiting, from the first of them in fleet order."""
    start = min((k for k, deps in waiting.items() if deps), key=lambda k: index[k])
    path, seen = [start], {start: 0}
    node = start
    while True:
        node = min((d for d in waiting[node] if waiting[d]), key=lambda k: index[k])
        if node in seen:
            return [*path[seen[node]:], node]
        seen[node] = len(path)
        path.append(node)


def inject_configs(items: list[KubeObject], placement: Placement,
                   rendered: Mapping[str, Sequence[KubeObject]],
                   wanted: Sequence[Wanted]) -> list[tuple[str, str]]:
    """Add a Config per injected object to `items` and list them in each Dependency's
    status; the (config name, provider key) pairs, in order."""
    by_name = {w.name: w for w in wanted}
    out: list[tuple[str, str]] = []
    for dep in [o for o in list(items) if _is_dependency(o)]:
        w = by_name[dep.name]
        injectors = list(w.injectors)
        namespace = dep.get_annotation("specializer.nephio.org/namespace") or dep.namespace
        injected: list[dict[str, str]] = []
        for key in w.providers:
            offered = [o for o in rendered[key] if _wanted(o, injectors)]
            cluster = key.split("/", 1)[0]
            for obj in offered:
                name = f"{dep.name}-{cluster}" + (f"-{obj.name}" if len(offered) > 1 else "")
                config = KubeObject.from_dict(_config(name, namespace, key, obj))
                config.set_file(f"dependency-{name}.yaml")
                items.append(config)
                ref = {"name": name}
                if namespace:
                    ref["namespace"] = namespace
                injected.append(ref | {"apiVersion": "ref.nephio.org/v1alpha1",
                                       "kind": "Config"})
                out.append((name, key))
        dep.set("status.injected", injected)
    return out


def _wanted(obj: KubeObject, injectors: Any) -> bool:
    if not isinstance(injectors, list):
        return False
    for inj in injectors:
        if not isinstance(inj, dict):
            continue
        if (inj.get("apiVersion") in (None, obj.api_version)
                and inj.get("kind") in (None, obj.kind)
                and inj.get("name") in (None, obj.name)):
            return True
    return False


def _config(name: str, namespace: str, source: str, obj: KubeObject) -> dict[str, Any]:
    body = obj.to_dict()
    meta = body.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        kept = {k: v for k, v in meta["annotations"].items() if not k.startswith(_INTERNAL)}
        if kept:
            meta["annotations"] = kept
        else:
            del meta["annotations"]
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["annotations"] = {INJECTED_FROM: source}
    return {"apiVersion": "ref.nephio.org/v1alpha1", "kind": "Config", "metadata": metadata,
            "spec": {"config": body}}
