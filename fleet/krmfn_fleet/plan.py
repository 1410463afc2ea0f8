"""What a render would change, without rendering: `krmfn fleet plan FLEET --out OUT`.

Every render records, in `OUT/.krmfn-fleet.lock`, the digests of each package's inputs:
its blueprint (every file), its site facts (the selected WorkloadCluster and every fleet
object its injectors name), its variant (package name, package context, injectors,
labels, annotations, template functions), the functions installed (names and package
versions), what its steps that no installed package registers would run (the program of
an `exec:`, the local image of an `image:`, see `krmfn_fleet.programs`) and, for each
package it depends on, that package's own digest (so a change anywhere upstream reaches
its dependents). Render skips a package whose digest is
unchanged and whose directory is there; a git blueprint's digest includes its commit,
which its Kptfile records. The plan computes the same digests for the fleet as it is now
(fetching git upstreams into OUT's cache, removed again if the plan made it) and
compares: a package is created (not in the lock, or its directory is gone), removed (no
longer placed), changed (with every reason) or unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from krmfn import KubeObject
from krmfn._errors import InputError
from krmfn._run.package import package_from_texts, read_texts

from krmfn_fleet.dependencies import Wanted, dependencies_of, render_order
from krmfn_fleet.errors import FleetError
from krmfn_fleet.functions import GROUP
from krmfn_fleet.inputs import Fleet, FleetObject, load_fleet
from krmfn_fleet.placement import Placement, place
from krmfn_fleet.programs import Programs
from krmfn_fleet.upstreams import git_cache

__all__ = ["LOCK", "Change", "Inputs", "fleet_inputs", "plan", "read_lock", "write_lock"]

LOCK = ".krmfn-fleet.lock"
_SKIP = (".git", ".expected")


@dataclass(frozen=True)
class Inputs:
    """The digests one package was (or would be) rendered from."""

    blueprint: str
    site: str
    variant: str
    functions: str
    dependencies: Mapping[str, str]
    digest: str
    upstream: Mapping[str, str] | None = None  # a git blueprint's repo, ref and commit
    programs: str = ""  # external steps' programs and images ("" when there is none)

    def to_json(self) -> dict[str, Any]:
        out = {"blueprint": self.blueprint, "site": self.site, "variant": self.variant,
               "functions": self.functions,
               "dependencies": dict(sorted(self.dependencies.items())),
               "digest": self.digest}
        out |= {"programs": self.programs} if self.programs else {}
        return out | ({"upstream": dict(self.upstream)} if self.upstream else {})


@dataclass
class Change:
    key: str
    action: str  # created, changed, removed, unchanged
    reasons: list[str] = field(default_factory=list)


def _sha(value: Any) -> str:
    text = value if isinstance(value, bytes) else json.dumps(
        value, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    return hashlib.sha256(text).hexdigest()


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP)
        for f in sorted(filenames):
            if f in _SKIP:
                continue
            path = Path(dirpath) / f
            h.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _site(p: Placement, objects: Mapping[str, list[FleetObject]]) -> str:
    names = {inj["name"] for inj in p.injectors}
    named = sorted(([o.api_version, o.kind, o.name, o.data] for n in names
                    for o in objects.get(n, ())), key=lambda e: (e[0], e[1], e[2]))
    return _sha({"target": p.target.data if p.target is not None else None,
                 "injectable": named})


def _variant(p: Placement) -> str:
    return _sha({"package": p.package, "context": p.context, "removeKeys": p.remove_keys,
                 "injectors": p.injectors, "labels": p.labels,
                 "annotations": p.annotations, "pipeline": p.pipeline,
                 "variantSet": p.variant_set.name})


def _functions() -> str:
    """The functions a pipeline can find and the versions of the packages that ship them:
    a new catalog release is a reason to render again."""
    found = []
    for ep in entry_points(group=GROUP):
        dist = getattr(ep, "dist", None)
        found.append([ep.name, ep.value, dist.name if dist else "", dist.version if dist else ""])
    return _sha(sorted(found))


def fleet_inputs(fleet: Fleet, placements: Sequence[Placement],
                 wanted: Mapping[str, Sequence[Wanted]]) -> dict[str, Inputs]:
    """The Inputs of every placed package, dependencies digested before dependents."""
    functions = _functions()
    blueprints: dict[Path, str] = {}
    steps: dict[Path, list[Any]] = {}
    programs = Programs()
    objects = fleet.named()
    out: dict[str, Inputs] = {}
    order = render_order(placements, {k: [d for w in v for d in w.providers]
                                      for k, v in wanted.items()})
    for p in order:
        if p.blueprint not in blueprints:
            blueprints[p.blueprint] = _tree_digest(p.blueprint)
            if p.upstream is not None:  # the Kptfile records the commit: it is an input
                blueprints[p.blueprint] = _sha([blueprints[p.blueprint],
                                                p.upstream.to_json()])
            steps[p.blueprint] = _pipeline(p.blueprint)
        deps = {d: out[d].digest for w in wanted[p.key] for d in w.providers}
        site, variant = _site(p, objects), _variant(p)
        external = programs.of([*p.pipeline[0], *p.pipeline[1], *steps[p.blueprint]],
                               p.blueprint)
        run = _sha(external) if external else ""
        digest = _sha([blueprints[p.blueprint], site, variant, functions,
                       sorted(deps.items()), *([run] if run else [])])
        out[p.key] = Inputs(blueprints[p.blueprint], site, variant, functions, deps, digest,
                            p.upstream.to_json() if p.upstream is not None else None, run)
    return out


def _pipeline(blueprint: Path) -> list[Any]:
    """The steps of a blueprint's Kptfile (none when it cannot be read: the render says
    why)."""
    try:
        pipeline = KubeObject.from_yaml((blueprint / "Kptfile").read_text("utf-8")).get(
            "pipeline")
    except (OSError, UnicodeDecodeError, InputError):
        return []
    if not isinstance(pipeline, Mapping):
        return []
    return [step for part in ("mutators", "validators")
            for step in (pipeline.get(part) or []) if isinstance(step, Mapping)]


def blueprint_dependencies(placements: Sequence[Placement]) -> dict[str, list[Wanted]]:
    """Every placement's Dependencies and who satisfies them (blueprints read once)."""
    items: dict[Path, Any] = {}
    out = {}
    for p in placements:
        if p.blueprint not in items:
            try:
                root, texts = read_texts([str(p.blueprint)])
                items[p.blueprint] = package_from_texts(root, texts)[0].items
            except InputError as exc:
                raise FleetError(f"{p.blueprint}: {exc}") from None
        out[p.key] = dependencies_of(p, items[p.blueprint], placements)
    return out


def read_lock(out: Path) -> dict[str, dict[str, Any]]:
    path = out / LOCK
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FleetError(f"{path}: not a fleet lock file ({exc})") from None
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, dict):
        raise FleetError(f"{path}: packages: expected a map")
    return packages


def write_lock(out: Path, inputs: Mapping[str, Inputs], rendered: Sequence[str],
               previous: Mapping[str, dict[str, Any]], *,
               files: Mapping[str, Mapping[str, str]] | None = None) -> None:
    """Record the packages rendered now; a package that failed keeps its old entry (its
    old directory is still there), one no longer placed (and removed) is dropped.
    `files` holds, per package written now, the id of every file rendered (see
    `krmfn_fleet.drift`); a package skipped keeps the ids and any other field its old
    entry has."""
    packages = {k: v for k, v in previous.items() if k in inputs}
    for k in rendered:
        entry = {**previous.get(k, {}), **inputs[k].to_json()}
        if files is not None and k in files:
            entry["files"] = dict(sorted(files[k].items()))
        packages[k] = entry
    tmp = out / f"{LOCK}.tmp"
    tmp.write_text(json.dumps({"packages": dict(sorted(packages.items()))}, indent=1,
                              sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, out / LOCK)


def plan(fleet_dir: str | Path, out: str | Path) -> list[Change]:
    """Every package placed now or recorded in OUT's lock, sorted by key."""
    base = Path(out)
    fleet = load_fleet(fleet_dir, exclude=base)
    with git_cache(base, keep=False) as fleet.cache:  # git upstreams
        placements = place(fleet)
        now = fleet_inputs(fleet, placements, blueprint_dependencies(placements))
    before = read_lock(base)
    changes = []
    for key in sorted(set(now) | set(before)):
        if key not in now:
            changes.append(Change(key, "removed", ["no longer placed"]))
        elif key not in before:
            changes.append(Change(key, "created", ["newly placed"]))
        elif not (base / key / "Kptfile").is_file():
            changes.append(Change(key, "created", ["missing from the output"]))
        else:
            changes.append(_compare(key, now[key], before[key]))
    return changes


def _compare(key: str, now: Inputs, before: Mapping[str, Any]) -> Change:
    reasons = []
    if before.get("blueprint") != now.blueprint:
        old_commit = (before.get("upstream") or {}).get("commit")
        new_commit = (now.upstream or {}).get("commit")
        moved_to = (f" (commit {old_commit[:12]} -> {new_commit[:12]})"
                    if old_commit and new_commit and old_commit != new_commit else "")
        reasons.append(f"blueprint changed{moved_to}")
    if before.get("site") != now.site:
        reasons.append("site facts changed")
    if before.get("variant") != now.variant:
        reasons.append("variant changed")
    if before.get("functions") != now.functions:
        reasons.append("functions changed")
    if (before.get("programs") or "") != now.programs:
        reasons.append("external functions changed (an exec program or image)")
    old = before.get("dependencies") or {}
    added = sorted(set(now.dependencies) - set(old))
    gone = sorted(set(old) - set(now.dependencies))
    moved = sorted(k for k in set(old) & set(now.dependencies)
                   if old[k] != now.dependencies[k])
    if added:
        reasons.append(f"new dependency {', '.join(added)}")
    if gone:
        reasons.append(f"dependency gone {', '.join(gone)}")
    if moved:
        reasons.append(f"injected dependency changed {', '.join(moved)}")
    if not reasons and before.get("digest") != now.digest:
        reasons.append("inputs changed")
    return Change(key, "changed" if reasons else "unchanged", reasons)
