"""Placement: each PackageVariantSet target and each object it selects gives one package.

As Porch's PackageVariantSet controller unrolls its targets: an `objectSelector` target
selects the fleet's objects of its apiVersion and kind whose labels match
(`matchLabels`, `matchExpressions`; and `name` when given), a `repositories` target names
downstream repositories directly. The downstream repository is the selected object's name
(`repoDefault`), the package the upstream package's name (`packageDefault`), and the
template may override both, literally or by CEL expression. Offline, the downstream
repository is a directory: the package lands in `OUT/<repo>/<package>/`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from krmfn_fleet.errors import FleetError
from krmfn_fleet.expressions import evaluate
from krmfn_fleet.inputs import Fleet, FleetObject
from krmfn_fleet.upstreams import GitUpstream, resolve_upstream

__all__ = ["LABEL", "Placement", "labels_match", "place"]

LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_TEMPLATE_KEYS = {"downstream", "labels", "labelExprs", "annotations", "annotationExprs",
                  "packageContext", "injectors", "pipeline", "adoptionPolicy",
                  "deletionPolicy"}
_FUNCTION_KEYS = {"image", "exec", "name", "configMap", "configMapExprs", "configPath",
                  "selectors", "exclude"}


@dataclass
class Placement:
    """One package to render: where it comes from, where it goes, what it is given."""

    variant_set: FleetObject
    cluster: str  # the downstream repository: OUT/<cluster>
    package: str
    blueprint: Path
    target: FleetObject | None
    context: dict[str, str] = field(default_factory=dict)
    remove_keys: list[str] = field(default_factory=list)
    injectors: list[dict[str, str]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    # the template's functions, run before the blueprint's own: (mutators, validators)
    pipeline: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    upstream: GitUpstream | None = None  # where a git blueprint came from (its Kptfile's)

    @property
    def key(self) -> str:
        return f"{self.cluster}/{self.package}"

    @property
    def cluster_labels(self) -> dict[str, str]:
        return self.target.labels if self.target is not None else {}


def place(fleet: Fleet) -> list[Placement]:
    """Every package of the fleet, in a defined order: by PackageVariantSet (files in
    path order), target, then selected object by name. Two variant sets placing the same
    package on the same cluster is an error naming both."""
    out: list[Placement] = []
    seen: dict[str, Placement] = {}
    objects = fleet.cluster_objects
    for pvs in fleet.variant_sets:
        for p in _unroll(fleet, pvs, objects):
            if p.key in seen:
                other = seen[p.key].variant_set
                raise FleetError(f"{pvs.where('spec.targets')}: places package {p.key}, as "
                                 f"PackageVariantSet {other.name} ({other.file}) does")
            seen[p.key] = p
            out.append(p)
    return out


def _map(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FleetError(f"{where}: expected a map")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FleetError(f"{where}: expected a list")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise FleetError(f"{where}: expected a non-empty string")
    return value


def _object_input(obj: FleetObject) -> dict[str, Any]:
    meta = _map(obj.data.get("metadata"), "metadata")
    return {"name": obj.name, "namespace": str(meta.get("namespace") or ""),
            "labels": obj.labels, "annotations": obj.annotations}


def _unroll(fleet: Fleet, pvs: FleetObject, objects: list[FleetObject]) -> list[Placement]:
    spec = _map(pvs.data.get("spec"), pvs.where("spec"))
    upstream = _map(spec.get("upstream"), pvs.where("spec.upstream"))
    repo = _string(upstream.get("repo"), pvs.where("spec.upstream.repo"))
    package = _string(upstream.get("package"), pvs.where("spec.upstream.package"))
    for value, name in ((repo, "repo"), (package, "package")):
        if value.startswith("/") or ".." in value.split("/") or "\\" in value:
            raise FleetError(f"{pvs.where(f'spec.upstream.{name}')}: {value!r} must name a "
                             "directory under repositories/ (no '..', not absolute)")
    blueprint, source = resolve_upstream(fleet, pvs, upstream)
    out: list[Placement] = []
    for i, target in enumerate(_list(spec.get("targets"), pvs.where("spec.targets"))):
        where = f"spec.targets[{i}]"
        target = _map(target, pvs.where(where))
        template = _map(target.get("template"), pvs.where(f"{where}.template"))
        unknown = sorted(set(template) - _TEMPLATE_KEYS)
        if unknown:
            raise FleetError(f"{pvs.where(f'{where}.template.{unknown[0]}')}: not supported "
                             "offline")
        if "repositorySelector" in target:
            raise FleetError(f"{pvs.where(f'{where}.repositorySelector')}: not supported "
                             "offline (select WorkloadClusters with objectSelector)")
        contexts: list[tuple[str, str, FleetObject | None]] = []
        if "repositories" in target:
            for j, rt in enumerate(_list(target["repositories"],
                                         pvs.where(f"{where}.repositories"))):
                rt = _map(rt, pvs.where(f"{where}.repositories[{j}]"))
                name = _string(rt.get("name"), pvs.where(f"{where}.repositories[{j}].name"))
                names = _list(rt.get("packageNames"),
                              pvs.where(f"{where}.repositories[{j}].packageNames")) or [package]
                contexts += [(name, str(pn), None) for pn in names]
        elif "objectSelector" in target:
            sel = _map(target["objectSelector"], pvs.where(f"{where}.objectSelector"))
            for selected in _select(sel, objects, pvs, f"{where}.objectSelector"):
                contexts.append((selected.name, package, selected))
        else:
            raise FleetError(f"{pvs.where(where)}: needs repositories or objectSelector")
        for repo_default, package_default, found in contexts:
            placed = _render_template(pvs, template, f"{where}.template", blueprint,
                                      {"repo": repo, "package": package},
                                      repo_default, package_default, found)
            placed.upstream = source
            out.append(placed)
    return out


def labels_match(labels: Mapping[str, str], selector: Mapping[str, Any], where: str) -> bool:
    """A Kubernetes label selector (`matchLabels`, `matchExpressions` with In, NotIn,
    Exists, DoesNotExist); a malformed one is an error naming `where`'s field."""
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        raise FleetError(f"{where}.matchLabels: expected a map")
    if any(labels.get(str(k)) != str(v) for k, v in match_labels.items()):
        return False
    for i, expr in enumerate(_list(selector.get("matchExpressions"),
                                   f"{where}.matchExpressions")):
        here = f"{where}.matchExpressions[{i}]"
        expr = _map(expr, here)
        key = _string(expr.get("key"), f"{here}.key")
        op = expr.get("operator")
        values = [str(v) for v in _list(expr.get("values"), f"{here}.values")]
        if op in ("In", "NotIn") and not values:
            raise FleetError(f"{here}.values: {op} needs at least one value")
        if op in ("Exists", "DoesNotExist") and values:
            raise FleetError(f"{here}.values: {op} takes no values")
        if op == "In":
            ok = key in labels and labels[key] in values
        elif op == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif op == "Exists":
            ok = key in labels
        elif op == "DoesNotExist":
            ok = key not in labels
        else:
            raise FleetError(f"{here}.operator: {op!r} is not In, NotIn, Exists or "
                             "DoesNotExist")
        if not ok:
            return False
    return True


def _select(sel: dict[str, Any], objects: list[FleetObject], pvs: FleetObject,
            where: str) -> list[FleetObject]:
    api_version = _string(sel.get("apiVersion"), pvs.where(f"{where}.apiVersion"))
    kind = _string(sel.get("kind"), pvs.where(f"{where}.kind"))
    name = sel.get("name")
    found = [o for o in objects if o.api_version == api_version and o.kind == kind
             and (name is None or o.name == name)
             and labels_match(o.labels, sel, pvs.where(where))]
    return sorted(found, key=lambda o: o.name)


def _render_template(pvs: FleetObject, template: dict[str, Any], where: str, blueprint: Path,
                     upstream: dict[str, str], repo_default: str, package_default: str,
                     obj: FleetObject | None) -> Placement:
    inputs: dict[str, Any] = {
        "repoDefault": repo_default, "packageDefault": package_default,
        "upstream": {"name": upstream["package"], "namespace": "", "labels": {},
                     "annotations": {}},
        "target": _object_input(obj) if obj is not None else {"repo": repo_default,
                                                              "package": package_default},
    }
    down = _map(template.get("downstream"), pvs.where(f"{where}.downstream"))
    repo = str(down.get("repo") or repo_default)
    if down.get("repoExpr"):
        repo = evaluate(str(down["repoExpr"]), inputs,
                        pvs.where(f"{where}.downstream.repoExpr"))
    inputs["repository"] = {"name": repo, "namespace": "", "labels": {}, "annotations": {}}
    package = str(down.get("package") or package_default)
    if down.get("packageExpr"):
        package = evaluate(str(down["packageExpr"]), inputs,
                           pvs.where(f"{where}.downstream.packageExpr"))
    for value, field_name in ((repo, "downstream.repo"), (package, "downstream.package")):
        if not LABEL.match(value):
            raise FleetError(f"{pvs.where(f'{where}.{field_name}')}: {value!r} is not a "
                             "DNS-1123 label (lower-case letters, digits and '-', at most 63)")
    ctx = _map(template.get("packageContext"), pvs.where(f"{where}.packageContext"))
    data = _overlay(pvs, ctx.get("data"), ctx.get("dataExprs"), inputs,
                    f"{where}.packageContext")
    if "name" in data:
        raise FleetError(f"{pvs.where(f'{where}.packageContext.data')}: the key 'name' is "
                         "the package's own name and cannot be set")
    remove = [str(k) for k in _list(ctx.get("removeKeys"),
                                    pvs.where(f"{where}.packageContext.removeKeys"))]
    injectors = []
    for i, inj in enumerate(_list(template.get("injectors"), pvs.where(f"{where}.injectors"))):
        here = f"{where}.injectors[{i}]"
        inj = _map(inj, pvs.where(here))
        name = str(inj.get("name") or "")
        if inj.get("nameExpr"):
            name = evaluate(str(inj["nameExpr"]), inputs, pvs.where(f"{here}.nameExpr"))
        if not name:
            raise FleetError(f"{pvs.where(here)}: needs name or nameExpr")
        # a filter given is a filter, an empty group too: it is the core group's
        injectors.append({k: str(inj[k]) for k in ("group", "version", "kind")
                          if inj.get(k) is not None} | {"name": name})
    labels = _overlay(pvs, template.get("labels"), template.get("labelExprs"), inputs, where,
                      "labels", "labelExprs")
    annotations = _overlay(pvs, template.get("annotations"), template.get("annotationExprs"),
                           inputs, where, "annotations", "annotationExprs")
    pipe = _map(template.get("pipeline"), pvs.where(f"{where}.pipeline"))
    unknown = sorted(set(pipe) - {"mutators", "validators"})
    if unknown:
        raise FleetError(f"{pvs.where(f'{where}.pipeline.{unknown[0]}')}: not a pipeline field")
    steps = tuple([_function(pvs, f, inputs, f"{where}.pipeline.{part}[{i}]")
                   for i, f in enumerate(_list(pipe.get(part),
                                               pvs.where(f"{where}.pipeline.{part}")))]
                  for part in ("mutators", "validators"))
    return Placement(pvs, repo, package, blueprint, obj, data, remove, injectors, labels,
                     annotations, (steps[0], steps[1]))


def _function(pvs: FleetObject, fn: Any, inputs: dict[str, Any], where: str) -> dict[str, Any]:
    """A template function as the Kptfile gets it: `configMapExprs` evaluated into
    `configMap`, as Porch renders it."""
    fn = _map(fn, pvs.where(where))
    unknown = sorted(set(fn) - _FUNCTION_KEYS)
    if unknown:
        raise FleetError(f"{pvs.where(f'{where}.{unknown[0]}')}: not a function field")
    if not fn.get("image") and not fn.get("exec"):
        raise FleetError(f"{pvs.where(where)}: needs image or exec")
    out = {k: v for k, v in fn.items() if k != "configMapExprs"}
    if fn.get("configMap") or fn.get("configMapExprs"):
        out["configMap"] = _overlay(pvs, fn.get("configMap"), fn.get("configMapExprs"), inputs,
                                    where, "configMap", "configMapExprs")
    return out


def _overlay(pvs: FleetObject, plain: Any, exprs: Any, inputs: dict[str, Any], where: str,
             plain_name: str = "data", exprs_name: str = "dataExprs") -> dict[str, str]:
    """Porch's map-with-expressions: the plain map, then each `{key|keyExpr,
    value|valueExpr}` in order over it."""
    out = {str(k): str(v) for k, v in _map(plain, pvs.where(f"{where}.{plain_name}")).items()}
    for i, me in enumerate(_list(exprs, pvs.where(f"{where}.{exprs_name}"))):
        here = f"{where}.{exprs_name}[{i}]"
        me = _map(me, pvs.where(here))
        key = str(me.get("key") or "")
        if me.get("keyExpr"):
            key = evaluate(str(me["keyExpr"]), inputs, pvs.where(f"{here}.keyExpr"))
        value = str(me.get("value") or "")
        if me.get("valueExpr"):
            value = evaluate(str(me["valueExpr"]), inputs, pvs.where(f"{here}.valueExpr"))
        if not key:
            raise FleetError(f"{pvs.where(here)}: needs key or keyExpr")
        out[key] = value
    return out
