"""Pipeline steps no installed package registers: an `exec:` run as a subprocess, an
`image:` run with the container runtime, as `kpt fn render` runs them.

The step reads a ResourceList on stdin and writes one on stdout. As kpt does, each item it
is given carries kpt's annotations (`config.kubernetes.io/path` and `index`, their
`internal.` twins, and an id, `config.k8s.io/id`, by which what comes back is matched to
what went out), `functionConfig` is the step's configPath resource or configMap, and only
the items its selectors pick (less those excluded) go out (`krmfn_fleet.pipeline`). A
step that exits non-zero fails, with the last line of its stderr as the message; the
`results` it wrote are the step's results either way. An item that comes back is the one
that went out, with only what the step changed set on it, field by field: what the step
left alone keeps its text, comments included, and the item its file and place (kpt
writes the step's text as it is, and a step that parses and dumps YAML loses every
comment). A new item goes to the file its path annotation names. An item moved into a
file that has resources of its own goes after them (kpt sorts the file by index: the same
resources, maybe in another order); two items given one file and index fail the step, as
kpt refuses them.

`exec:` is split as kpt splits it (shell words: the program, then its arguments). A
program given as a path is resolved against the package's directory, where kpt resolves
it against its working directory (the same, run as `cd PKG && kpt fn render`), and runs
there; a bare name is looked up on PATH. kpt refuses no path (`../fn.sh` runs), but runs
executables only with `--allow-exec`: so does the fleet. Images run as kpt runs them:
`RUNTIME run --rm -i --network none --user nobody --security-opt no-new-privileges IMAGE`,
with podman when it is installed, else docker; an image named without a registry is
kpt's catalog's (`apply-setters:v0.2` is `gcr.io/kpt-fn/apply-setters:v0.2`), as kpt
names it.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from krmfn._errors import InputError, KrmfnError
from krmfn._model.object import INDEX_ANNOTATIONS, PATH_ANNOTATIONS, KubeObject
from krmfn._model.package_paths import is_reserved
from krmfn._model.resource_list import ResourceList
from krmfn._model.results import Field, File, Result, Severity
from krmfn._run.function import _results_for

__all__ = ["KPT_CATALOG", "External", "container_runtime", "external_step"]

_IDS = ("config.k8s.io/id", "internal.config.kubernetes.io/id")
_MISSING = object()
KPT_CATALOG = "gcr.io/kpt-fn"


def container_runtime() -> str | None:
    """podman when installed (it needs no daemon), else docker, else None."""
    for name in ("podman", "docker"):
        if shutil.which(name):
            return name
    return None


@dataclass(frozen=True)
class External:
    """A step run outside the process: the command line and where it runs."""

    argv: tuple[str, ...]
    cwd: Path | None

    def run(self, items: Sequence[KubeObject], config: KubeObject | None, *,
            apply: bool = True) -> tuple[list[KubeObject], list[Result], bool]:
        """The items the step gives back (those it was given are the objects given, with
        its changes set on them when `apply`: a validator's are not), its results, and
        whether it succeeded."""
        sent = [o.copy() for o in items]
        for i, (obj, given) in enumerate(zip(sent, items, strict=True)):
            path, index = given.path, given.index  # a copy no longer knows its file
            if path:
                for key in PATH_ANNOTATIONS:
                    obj.set_annotation(key, path)
                for key in INDEX_ANNOTATIONS:
                    obj.set_annotation(key, str(index))
            for key in _IDS:
                obj.set_annotation(key, str(i))
        text = ResourceList(sent, config).to_text()
        try:
            done = subprocess.run(list(self.argv), input=text.encode("utf-8"),
                                  capture_output=True, cwd=self.cwd, check=False)
        except OSError as exc:
            return [], [Result(f"cannot run {shlex.join(self.argv)}: {exc.strerror or exc}")], \
                False
        try:
            out = ResourceList.parse(done.stdout.decode("utf-8"), lazy=False)
            if out.input_errors:
                raise InputError(out.input_errors[0].message)
        except (InputError, UnicodeDecodeError) as exc:
            if done.returncode == 0:
                return [], [Result(f"its output is not a ResourceList: {exc}")], False
            out = None
        results = [_result(r) for r in (out._old_results if out is not None else ())
                   if isinstance(r, Mapping)]
        if done.returncode != 0 or out is None:
            message = _last_line(done.stderr) or f"exit status {done.returncode}"
            return [], [*results, Result(message)], False
        clash = _same_place(out.items)
        if clash:
            return [], [*results, Result(clash)], False
        try:
            returned = [_matched(o, items, sent, apply) for o in out.items]
        except KrmfnError as exc:  # e.g. a path annotation leading out of the package
            return [], [*results, *_results_for(exc)], False
        return returned, results, True


def _same_place(objs: Sequence[KubeObject]) -> str:
    """kpt's refusal of a step's output where two resources name one file and index (a
    resource moved onto another's place): the message, or "" when every place is one's."""
    seen: set[tuple[str, str]] = set()
    for obj in objs:
        path = next((v for v in (obj.get_annotation(k) for k in PATH_ANNOTATIONS) if v), None)
        index = next((v for v in (obj.get_annotation(k) for k in INDEX_ANNOTATIONS)
                      if v is not None), None)
        if path is None or index is None:
            continue
        if (path, index) in seen:
            return f'resource at path "{path}" and index "{index}" already exists'
        seen.add((path, index))
    return ""


def _matched(obj: KubeObject, given: Sequence[KubeObject],
             sent: Sequence[KubeObject], apply: bool) -> KubeObject:
    """The object given, when `obj` is what became of it (its id says so): with `apply`,
    what the step changed is set on it field by field, so that it keeps its file, its
    place there and the text of every field the step left alone. Else `obj`, a new
    resource, without the ids (its path and index say where it goes)."""
    ident = next((v for v in (obj.get_annotation(k) for k in _IDS) if v is not None), None)
    if ident is not None and ident.isdigit() and int(ident) < len(given):
        i = int(ident)
        before, after = _data(sent[i]), _data(obj)
        if before != after and apply:
            _apply(given[i], before, after, ())
        moved = [p for p in (obj.get_annotation(k) for k in PATH_ANNOTATIONS)
                 if p and p != given[i].path]
        if apply and moved:  # the step moved it to another file (kpt reads either key)
            index = next((v for v in (obj.get_annotation(k) for k in INDEX_ANNOTATIONS)
                          if v is not None and v.isdigit()), None)
            given[i].set_file(moved[0], int(index) if index is not None else None)
        return given[i]
    for key in _IDS:
        obj.remove_annotation(key)
    obj.remove_annotation("internal.config.kubernetes.io/annotations-migration-resource-id")
    return obj


def _apply(obj: KubeObject, before: Mapping[str, Any], after: Mapping[str, Any],
           at: tuple[str, ...]) -> None:
    """Make the map at `at` go from `before` to `after`, touching only what differs."""
    for key in before:
        if key not in after:
            obj.delete((*at, key))
    for key, value in after.items():
        old = before.get(key, _MISSING)
        if old == value:
            continue
        if isinstance(old, dict) and isinstance(value, dict) and old and value:
            _apply(obj, old, value, (*at, key))
        else:
            obj.set((*at, key), value)


def _data(obj: KubeObject) -> dict[str, Any]:
    """The resource without kpt's annotations (an emptied annotations map dropped)."""
    data = obj.to_dict()
    meta = data.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        kept = {k: v for k, v in meta["annotations"].items() if not is_reserved(k)}
        if kept:
            meta["annotations"] = kept
        else:
            del meta["annotations"]
    return data


def _last_line(raw: bytes) -> str:
    lines = [ln.strip() for ln in raw.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _result(data: Mapping[str, Any]) -> Result:
    """A result as the step wrote it (kpt's shape)."""
    try:
        severity = Severity(str(data.get("severity") or "error"))
    except ValueError:
        severity = Severity.ERROR
    ref = data.get("resourceRef")
    fld = data.get("field")
    file = data.get("file")
    tags = data.get("tags")
    return Result(
        str(data.get("message") or ""), severity,
        {str(k): str(v) for k, v in ref.items()} if isinstance(ref, Mapping) else None,
        Field(str(fld.get("path") or ""), fld.get("currentValue"), fld.get("proposedValue"))
        if isinstance(fld, Mapping) else None,
        File(str(file.get("path") or ""), int(file.get("index") or 0))
        if isinstance(file, Mapping) and str(file.get("index") or 0).isdigit() else None,
        {str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {})


def external_step(step: Mapping[str, Any], *, package_dir: Path | None, allow_exec: bool,
                  runtime: str | None = None) -> External | str:
    """How to run a step no package registers, or why it cannot run (one line)."""
    if step.get("exec"):
        ref = str(step["exec"])
        if not allow_exec:
            return (f"exec {ref!r}: no installed package registers it, and running "
                    "executables needs --allow-exec (as kpt fn render does)")
        try:
            argv = shlex.split(ref)
        except ValueError as exc:
            return f"exec {ref!r}: not a command line: {exc}"
        if not argv:
            return "exec: empty"
        if "/" in argv[0] and package_dir is not None and not Path(argv[0]).is_absolute():
            argv[0] = str(package_dir.resolve() / argv[0])
        return External(tuple(argv), package_dir)
    image = str(step.get("image") or "")
    if "/" not in image:  # kpt's short names are its catalog's
        image = f"{KPT_CATALOG}/{image}"
    runtime = runtime or container_runtime()
    if runtime is None:
        return (f"image {image!r}: no installed package registers it, and there is no "
                "container runtime (podman or docker) to run it")
    return External((runtime, "run", "--rm", "-i", "--network", "none", "--user", "nobody",
                     "--security-opt", "no-new-privileges", image), None)
