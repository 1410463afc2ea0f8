"""Rendering a fleet of PackageVariantSets: place, order by dependency, specialize, render,
write `OUT/<cluster>/<package>/`.

Each package is rendered afresh from its blueprint, as Porch clones a new package
revision: injection and package context first, then the Configs of its dependencies
(their rendered output, which is why dependencies render first), then the package's own
Kptfile pipeline in process. A package is written whole or not at all (a new directory
renamed into place); a package whose dependency failed is not rendered. A package whose
inputs are those of the last render (the lock, see `krmfn_fleet.plan`) is skipped; one no
longer placed is removed and its allocations released. Nothing is written outside OUT:
cluster and package names are DNS-1123 labels, and a cluster or package directory that
leads elsewhere (a symbolic link) fails that package.

The render of one package is a job (`krmfn_fleet.package_job`) that runs here, on local
worker processes or on a Dask cluster (`krmfn_fleet.schedule`); wherever it runs, this
module writes the result (`_write`), the lock and the removals.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from krmfn import KubeObject
from krmfn._errors import InputError
from krmfn._run.package import package_from_texts, read_package, read_texts

from krmfn_fleet.dependencies import Wanted, dependencies_of, render_order
from krmfn_fleet.drift import drift_of, file_ids, package_files, remove_base, store_base
from krmfn_fleet.errors import FleetError
from krmfn_fleet.injection import check_blueprint
from krmfn_fleet.inputs import load_fleet
from krmfn_fleet.ledger_location import ledger_location
from krmfn_fleet.package_job import LEDGER_FUNCTIONS, PackageJob, offered_texts
from krmfn_fleet.placement import LABEL, place
from krmfn_fleet.plan import fleet_inputs, read_lock, write_lock
from krmfn_fleet.schedule import InProcess, ProcessPool, Runner, run_in_order
from krmfn_fleet.update import keep_local_edits
from krmfn_fleet.upstreams import git_cache

__all__ = ["PackageOutcome", "render_variant_fleet"]

_SKIP = (".git", ".expected")


@dataclass
class PackageOutcome:
    """What became of one placed package."""

    cluster: str
    package: str
    variant_set: str
    ok: bool
    messages: list[str] = field(default_factory=list)
    injected: list[tuple[str, str]] = field(default_factory=list)  # (Config, from package)
    written: list[str] = field(default_factory=list)
    removed: bool = False  # no longer placed: its directory was removed
    skipped: bool = False  # its inputs are those of the last render: left as it is
    files: dict[str, str] = field(default_factory=dict)  # file -> id, as rendered now
    kept: list[str] = field(default_factory=list)  # files edited by hand, edits kept
    conflicts: list[str] = field(default_factory=list)  # left as it was, one line each

    @property
    def key(self) -> str:
        return f"{self.cluster}/{self.package}"


def render_variant_fleet(fleet_dir: str | Path, out: str | Path, *,
                         ledger: str | Path | None = None,
                         force: bool = False, jobs: int = 1,
                         scheduler: str | None = None, allow_exec: bool = False,
                         discard_drift: bool = False) -> list[PackageOutcome]:
    """Render every package the fleet's PackageVariantSets place, in dependency order
    (the order of the outcomes). A FleetError about the inputs means nothing was
    written; one while rendering (a worker lost for good) leaves the packages written so
    far and the lock as it was, so the next render renders them again.

    `jobs` worker processes render packages side by side (`krmfn_fleet.schedule`), or
    the workers of the dask.distributed cluster whose scheduler is at `scheduler`
    (`krmfn_fleet.dask_runner`); either way the tree is the one `jobs=1` writes, since
    allocations are made in the fleet's order. Workers return rendered texts and this
    process writes them: workers need no access to OUT. The ledger is found by
    `krmfn_fleet.ledger_location` (a database URL is handed to the functions as it is).

    A package rendered again keeps what was edited in it by hand (`krmfn_fleet.update`;
    a conflict leaves it as it was); `discard_drift` writes the render over hand edits,
    and renders again every package that has drift, also one whose inputs did not change.

    Each blueprint is read and parsed once; a package is parsed from its blueprint's
    texts when its turn comes and dropped once written, and of a package that others
    depend on only the objects their injectors take are kept: memory follows the
    blueprints and the dependency edges, not the number of sites. A step no installed
    package registers runs as kpt runs it (`krmfn_fleet.external`): an exec, from the
    blueprint's directory, only with `allow_exec`."""
    fleet = load_fleet(fleet_dir, exclude=out)
    base = Path(out)
    with git_cache(base) as fleet.cache:  # git upstreams are fetched under OUT
        placements = place(fleet)
    previous = read_lock(base)
    objects = fleet.named()
    texts: dict[Path, list[tuple[str, str]]] = {}
    items: dict[Path, list[KubeObject]] = {}
    wanted: dict[str, list[Wanted]] = {}
    takers: dict[str, list[Wanted]] = {}
    consumers: dict[str, set[str]] = {}
    for p in placements:  # everything that can fail on the inputs, before writing
        if p.blueprint not in texts:
            try:
                root, texts[p.blueprint] = read_texts([str(p.blueprint)])
                items[p.blueprint] = package_from_texts(root, texts[p.blueprint])[0].items
            except InputError as exc:
                raise FleetError(f"{p.blueprint}: {exc}") from None
        check_blueprint(items[p.blueprint], p)
        wanted[p.key] = dependencies_of(p, items[p.blueprint], placements)
        for w in wanted[p.key]:
            for provider in w.providers:
                takers.setdefault(provider, []).append(w)
                consumers.setdefault(provider, set()).add(p.key)
    needs = {k: [d for w in v for d in w.providers] for k, v in wanted.items()}
    order = render_order(placements, needs)
    inputs = fleet_inputs(fleet, placements, wanted)
    unchanged = set() if force else {
        k for k, v in inputs.items() if previous.get(k, {}).get("digest") == v.digest
        and (base / k / "Kptfile").is_file()}
    if discard_drift:
        unchanged -= {d.key for d in drift_of(base, previous, unchanged)}
    remover = ThreadPoolExecutor(max_workers=1)  # replaced packages go while others render
    day2 = _Day2(base, previous, discard_drift,
                 lambda path: remover.submit(shutil.rmtree, path, True))
    ledger_ref = ledger_location(ledger)
    overrides = {fn: {"ledger": ledger_ref} for fn in LEDGER_FUNCTIONS} if ledger_ref else {}
    by_key = {p.key: p for p in order}
    types = frozenset((o.api_version, o.kind) for objs in objects.values() for o in objs)
    rendered: dict[str, tuple[str, ...]] = {}  # what each rendered package offers (YAML)
    outcomes = {p.key: PackageOutcome(p.cluster, p.package, p.variant_set.name, False)
                for p in order}

    def start(key: str) -> PackageJob | None:
        """The package's job, or None when it is settled here (skipped, or failed)."""
        p, outcome = by_key[key], outcomes[key]
        failed = [d for d in needs[key] if d not in rendered]
        if failed:
            outcome.messages.append(f"not rendered: its dependency {failed[0]} failed")
            return None
        target = base / p.cluster / p.package
        if key in unchanged:
            outcome.ok = outcome.skipped = True
            if consumers.get(key, set()) - unchanged:  # someone will take from it
                try:
                    done = read_package([str(target)])[0].items
                except InputError as exc:
                    outcome.ok = outcome.skipped = False
                    outcome.messages.append(f"cannot read the last render: {exc}")
                    return None
                rendered[key] = offered_texts(done, tuple(takers[key]))
            else:
                rendered[key] = ()
            return None
        if _escapes(base, target):
            outcome.messages.append(f"{target}: a symbolic link leads outside {base}; "
                                    "nothing written")
            return None
        names = {inj["name"] for inj in p.injectors}
        return PackageJob(p, str(target), {n: objects[n] for n in names if n in objects},
                          tuple(wanted[key]), {d: rendered[d] for d in needs[key]},
                          tuple(takers.get(key, ())), overrides, allow_exec, types)

    blueprints = {str(bp): tuple(t) for bp, t in texts.items()}
    with _runner(blueprints, jobs, scheduler, len(order) - len(unchanged)) as runner:
        base.mkdir(parents=True, exist_ok=True)  # (once the workers are there)
        for result in run_in_order([p.key for p in order], needs, start, runner):
            p, outcome = by_key[result.key], outcomes[result.key]
            outcome.injected, outcome.messages = result.injected, result.messages
            if not result.ok:
                continue
            outcome.written = _write(p.blueprint, base / p.cluster / p.package,
                                     result.contents, texts[p.blueprint], day2=day2,
                                     outcome=outcome)
            outcome.ok = not outcome.conflicts
            if outcome.ok:  # (a package left as it was offers its dependents nothing new:
                rendered[p.key] = result.offered  # they are left as they were too)
    remover.shutdown(wait=True)
    done = list(outcomes.values())
    for key in sorted(set(previous) - set(inputs)):  # lost its target: remove it
        cluster, _, package = key.partition("/")
        if (LABEL.match(cluster) and LABEL.match(package)
                and not _escapes(base, base / cluster / package)):
            shutil.rmtree(base / cluster / package, ignore_errors=True)
            remove_base(base, key)
            gone = PackageOutcome(cluster, package, "", True, removed=True)
            if ledger_ref:
                gone.messages.append(_release(ledger_ref, cluster, package))
            done.append(gone)
            if (base / cluster).is_dir() and not any((base / cluster).iterdir()):
                (base / cluster).rmdir()
    write_lock(base, inputs, [o.key for o in done if o.ok and not o.removed],
               previous, files={o.key: o.files for o in done if o.ok and o.files})
    return done


@contextmanager
def _runner(blueprints: Mapping[str, tuple[tuple[str, str], ...]], jobs: int,
            scheduler: str | None, work: int) -> Iterator[Runner]:
    """Where the jobs run: a Dask cluster when a scheduler is named, worker processes
    when there is work for more than one, else this process."""
    if scheduler:
        from krmfn_fleet.dask_runner import DaskRunner

        with DaskRunner(scheduler, blueprints) as dask:
            yield dask
    elif min(jobs, work) > 1:
        pool = ProcessPool(blueprints, min(jobs, work))
        try:
            yield pool
        finally:
            pool.close()
    else:
        yield InProcess(blueprints)


def _escapes(base: Path, target: Path) -> bool:
    """Whether writing `target` (OUT/<cluster>/<package>) would land outside OUT."""
    root = base.resolve()
    for path in (target.parent, target):
        if path.is_symlink() or (path.exists() and not path.resolve().is_relative_to(root)):
            return True
    return False


def _release(ledger: str, cluster: str, package: str) -> str:
    """Give back in the ledger what a removed package held, through the `ledger` command
    an installed package registers (the catalog's `krmfn ledger release`)."""
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group="krmfn.commands") if ep.name == "ledger"]
    if not found:
        return "its allocations are kept: no ledger command is installed"
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = found[0].load()(["release", "--ledger", ledger, "--cluster", cluster,
                                "--package", package])
    lines = out.getvalue().splitlines()
    return (lines[0] if code == 0 and lines else
            f"its allocations are kept: {lines[-1] if lines else f'exit {code}'}")


@dataclass(frozen=True)
class _Day2:
    """What writing a package needs to keep hand edits: OUT, the last lock, the switch."""

    out: Path
    previous: Mapping[str, Mapping[str, Any]]
    discard_drift: bool
    remove: Callable[[Path], object]  # a replaced package directory, on another thread


def _write(blueprint: Path, target: Path, contents: Mapping[str, str],
           texts: list[tuple[str, str]], *, day2: _Day2 | None = None,
           outcome: PackageOutcome | None = None) -> list[str]:
    """The blueprint's files (those the render does not own, README included) and the
    rendered ones, as a new directory renamed over the old package.

    With `day2`, what was edited by hand in the package since the last render is merged
    into the new render (a conflict leaves the package as it was, `outcome.conflicts`),
    the render is kept as the base of the next merge and its file ids go to
    `outcome.files`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    owned = {n for n, _ in texts}
    for dirpath, dirnames, filenames in os.walk(blueprint):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP)
        here = Path(dirpath)
        rel = here.relative_to(blueprint)
        (tmp / rel).mkdir(parents=True, exist_ok=True)
        for f in filenames:
            if f not in _SKIP and str(rel / f) not in owned and os.path.normpath(
                    str(rel / f)) not in owned:
                shutil.copy2(here / f, tmp / rel / f)
    for name, text in contents.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if day2 is not None and outcome is not None:
        rendered = package_files(tmp)
        recorded = day2.previous.get(outcome.key, {}).get("files")
        merged = (None if day2.discard_drift else keep_local_edits(
            target, day2.out, outcome.key, rendered,
            recorded if isinstance(recorded, dict) else None))
        if merged is not None and merged.conflicts:
            shutil.rmtree(tmp, ignore_errors=True)
            outcome.conflicts = merged.conflicts
            return []
        if merged is not None and merged.files != rendered:
            shutil.rmtree(tmp)
            for name, data in merged.files.items():
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / name).write_bytes(data)
            tmp.mkdir(parents=True, exist_ok=True)
            outcome.kept = merged.kept
        store_base(day2.out, outcome.key, rendered)
        outcome.files = file_ids(rendered)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    if day2 is not None:
        day2.remove(old)  # (removing files is slow on some filesystems: not on this path)
    else:
        shutil.rmtree(old, ignore_errors=True)
    return sorted(contents)
