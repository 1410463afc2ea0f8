"""Running a package's Kptfile pipeline in process, with kpt's semantics.

Mutators run in order, then validators (whose item changes are discarded); each step gets
its functionConfig from `configPath` (a resource of the package) or `configMap` (inline
data, as a ConfigMap), and sees only the items its `selectors` pick and its `exclude` does
not. Items pass from step to step as objects: nothing is serialized between functions,
which is what makes rendering thousands of packages in one process cheap. Files are
written back only when every step succeeded, atomically. A step's function is the one an
installed package registers under the step's name in the `krmfn.functions` entry-point
group (`krmfn_fleet.functions`): the catalog's, or anyone's; any other step runs as kpt
runs it, as a subprocess or a container (`krmfn_fleet.external`), with the same
selectors, configs and merge of what it returns.
"""

from __future__ import annotations

import posixpath
import traceback
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from krmfn._errors import ConfigError, InputError, KrmfnError
from krmfn._model.object import KubeObject
from krmfn._model.resource_list import ResourceList
from krmfn._model.results import Field, Result
from krmfn._model.selector import Selector
from krmfn._run.function import Function, _results_for
from krmfn._run.package import Package, read_package

from krmfn_fleet.external import External, external_step
from krmfn_fleet.functions import find_function

__all__ = ["RenderResult", "Serial", "StepResult", "render_package", "resolve_function"]

Resolver = Callable[[str], Function | None]


class Serial(Protocol):
    """A turn some steps must take before they run (the fleet's allocation order).

    `enter` is called before the first step whose function is one of `functions`, `leave`
    once the last of them is done (or the render stops); the caller makes both idempotent."""

    @property
    def functions(self) -> Collection[str]: ...

    def enter(self) -> None: ...

    def leave(self) -> None: ...


@dataclass
class StepResult:
    name: str
    results: list[Result]
    ok: bool


@dataclass
class RenderResult:
    package: Path
    steps: list[StepResult] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and all(s.ok for s in self.steps)


def resolve_function(ref: str) -> Function | None:
    """The function an image or exec reference names (`ghcr.io/krmfn/ipam-inject:v0.1.0`,
    `/usr/bin/ipam-inject`, `ipam-inject`), as registered in the `krmfn.functions`
    entry-point group (see `krmfn_fleet.functions`)."""
    return find_function(ref)


def render_package(path: str | Path, *, overrides: Mapping[str, Mapping[str, Any]] | None = None,
                   resolver: Resolver = resolve_function, write: bool = True,
                   durable: bool = True, package_name: str | None = None,
                   read: tuple[ResourceList, Package] | None = None,
                   serial: Serial | None = None, allow_exec: bool = False,
                   exec_dir: str | Path | None = None) -> RenderResult:
    """Render one package. `overrides` maps a function name to config fields merged into
    that step's functionConfig (the fleet uses it for site facts and the shared ledger);
    `package_name` names the package first, in its Kptfile and package context, as
    `kpt pkg get` does for a new copy; `durable=False` skips the per-file fsync; `read`
    is the package when the caller read it already (`package_from_texts`); `serial` is a
    turn the steps it names wait for (see `Serial`). A step no installed package registers
    runs outside the process (`krmfn_fleet.external`): an image with the container
    runtime, an exec only with `allow_exec`, a relative one from `exec_dir` (the package's
    own directory by default; the fleet gives the blueprint's)."""
    root = Path(path)
    out = RenderResult(root)
    try:
        rl, pkg = read if read is not None else read_package([str(root)])
    except InputError as exc:
        out.error = str(exc)
        return out
    kptfile = next((o for o in rl.items if o.kind == "Kptfile" and o.path == "Kptfile"), None)
    if kptfile is None:
        out.error = f"{root}: no Kptfile"
        return out
    if package_name:
        _name_package(rl, kptfile, package_name)
    pipeline = kptfile.get("pipeline") or {}
    steps = [(s, False) for s in pipeline.get("mutators") or []] + [
        (s, True) for s in pipeline.get("validators") or []]
    functions = [_resolve(step, resolver) for step, _ in steps]
    runs: list[Function | External | str | None] = [
        fn if fn is not None or not (step.get("exec") or step.get("image")) else
        external_step(step, package_dir=Path(exec_dir) if exec_dir else root,
                      allow_exec=allow_exec)
        for fn, (step, _) in zip(functions, steps, strict=True)]
    turns = [i for i, fn in enumerate(functions)
             if serial is not None and fn is not None and fn.name in serial.functions]
    try:
        for i, ((step, validator), fn) in enumerate(zip(steps, runs, strict=True)):
            if serial is not None and turns and i == turns[0]:
                serial.enter()
            result = _run_step(rl, pkg, step, validator, fn, overrides or {})
            if serial is not None and turns and i == turns[-1]:
                serial.leave()
            out.steps.append(result)
            if not result.ok:
                return out
    finally:
        if serial is not None and turns:
            serial.leave()
    if write:
        try:
            out.written = pkg.write(rl, durable=durable)
        except InputError as exc:
            out.error = str(exc)
    return out


def _name_package(rl: ResourceList, kptfile: KubeObject, name: str) -> None:
    kptfile.set("metadata.name", name)
    for obj in rl.items:
        if obj.kind == "ConfigMap" and obj.name == "kptfile.kpt.dev" and obj.group == "":
            obj.set("data.name", name)


def _resolve(step: Mapping[str, Any], resolver: Resolver) -> Function | None:
    ref = str(step.get("image") or step.get("exec") or "")
    return resolver(ref) if ref else None


def _run_step(rl: ResourceList, pkg: Package, step: Mapping[str, Any], validator: bool,
              fn: Function | External | str | None,
              overrides: Mapping[str, Mapping[str, Any]]) -> StepResult:
    ref = str(step.get("image") or step.get("exec") or "")
    name = str(step.get("name") or ref)
    if fn is None or isinstance(fn, str):
        return StepResult(name, [Result(fn or f"unknown function {ref!r}: no installed "
                                        "package registers it (entry-point group "
                                        "krmfn.functions)")], False)
    try:
        config = _step_config(rl, step, None, "", "") if isinstance(fn, External) else \
            _step_config(rl, step, overrides.get(fn.name), fn.config_kind,
                         fn.config_api_version or "fn.kpt.dev/v1alpha1")
    except KrmfnError as exc:
        return StepResult(name, _results_for(exc), False)
    try:
        selected = _select(rl.items, step)
    except ConfigError as exc:  # a misspelt selector must not widen the step to everything
        return StepResult(name, [Result(f"{f}: {m}", field=Field(f)) for f, m in exc.problems],
                          False)
    if isinstance(fn, External):
        returned, results, ok = fn.run(selected, config, apply=not validator)
        if ok and not validator:
            _merge(rl, selected, returned)
        return StepResult(name, results, ok)
    sub = ResourceList([o.copy() for o in selected] if validator else selected, config)
    try:
        fn.process(sub)
    except KrmfnError as exc:
        return StepResult(name, [*sub.results, *_results_for(exc)], False)
    except Exception as exc:  # a bug in the function: fail this step, keep the package,
        traceback.print_exc()  # and show where the bug is, so it can be fixed
        return StepResult(name, [Result(f"internal error: {type(exc).__name__}: {exc}")], False)
    ok = not sub.has_errors
    if ok and not validator:
        _merge(rl, selected, sub.items)
    return StepResult(name, sub.results, ok)


def _step_config(rl: ResourceList, step: Mapping[str, Any],
                 override: Mapping[str, Any] | None, kind: str,
                 api_version: str) -> KubeObject | None:
    config: KubeObject | None = None
    if step.get("configPath"):
        wanted = posixpath.normpath(str(step["configPath"]))  # `./x.yaml` is `x.yaml`
        config = next((o for o in rl.items if o.path == wanted), None)
        if config is None:
            raise InputError(f"configPath {step['configPath']!r}: no such resource in the package")
    elif step.get("configMap"):
        data = {str(k): str(v) for k, v in dict(step["configMap"]).items()}
        config = KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": "function-input"}, "data": data})
    if not override:
        return config
    merged: dict[str, Any] = config.to_dict() if config is not None else {
        "apiVersion": api_version, "kind": kind, "metadata": {"name": "fleet"}}
    target: dict[str, Any] = merged.setdefault("data", {}) if merged.get("kind") == "ConfigMap" \
        else merged
    is_map = merged.get("kind") == "ConfigMap"
    for key, value in override.items():
        if key == "kind":
            merged["kind"] = merged.get("kind") or value
        elif is_map and isinstance(value, Mapping):
            # a ConfigMap carries the same facts as flat string keys
            target.update({str(k): _as_string(v) for k, v in value.items()
                           if not isinstance(v, Mapping)})
        elif isinstance(value, Mapping) and isinstance(target.get(key), Mapping):
            target[key] = {**target[key], **value}  # e.g. a site's setter values
        else:
            target[key] = _as_string(value) if is_map else value
    return KubeObject.from_dict(merged)


def _as_string(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _select(items: list[KubeObject], step: Mapping[str, Any]) -> list[KubeObject]:
    selectors = _selectors(step, "selectors")
    excludes = _selectors(step, "exclude")
    return [o for o in items
            if (not selectors or any(s.matches(o) for s in selectors))
            and not any(s.matches(o) for s in excludes)]


def _selectors(step: Mapping[str, Any], key: str) -> list[Selector]:
    """The step's `selectors` or `exclude`, every problem named by its place in the step."""
    out: list[Selector] = []
    problems: list[tuple[str, str]] = []
    for i, data in enumerate(step.get(key) or []):
        try:
            out.append(Selector.from_dict(data))
        except ConfigError as exc:
            problems += [(f"{key}[{i}].{f}" if f else f"{key}[{i}]", m) for f, m in exc.problems]
    if problems:
        raise ConfigError(problems)
    return out


def _merge(rl: ResourceList, selected: list[KubeObject], output: list[KubeObject]) -> None:
    """kpt's rule: items the step did not see stay where they were; what it returned
    replaces what it was given, in its order, with new items at the end."""
    if len(selected) == len(rl.items):
        rl.items[:] = output
        return
    chosen = {id(o) for o in selected}
    rl.items[:] = [o for o in rl.items if id(o) not in chosen] + list(output)
