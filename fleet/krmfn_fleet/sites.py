"""Rendering one blueprint for every site of an inventory, in process and in parallel.

Each site gets its own copy of the blueprint (`OUT/<site>`), named after the site so the
package context (and with it set-namespace) follows; then the package's own Kptfile
pipeline runs in process with the site's facts and one shared allocation ledger. Worker
processes share nothing but the ledger, whose transactions keep allocations unique, and a
turnstile that keeps them in the inventory's order: a site's allocating steps start only
once every site before it is done with its own (see `LocalTurn`), so any number of jobs
gives the tree one job gives.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, NamedTuple

from krmfn._errors import InputError
from krmfn._model.object import KubeObject
from krmfn._model.resource_list import ResourceList
from krmfn._run.package import package_from_texts, read_package, read_texts

from krmfn_fleet.ledger_location import is_database, ledger_location
from krmfn_fleet.package_job import LEDGER_FUNCTIONS
from krmfn_fleet.pipeline import RenderResult, render_package
from krmfn_fleet.site_inventory import FleetError, FleetSite, check_site_names, load_sites
from krmfn_fleet.turnstile import LocalTurn, Turnstile

__all__ = ["FleetError", "FleetSite", "SiteOutcome", "load_sites", "render_fleet"]

_SITE_FUNCTION = "site-specialize"


@dataclass
class SiteOutcome:
    site: str
    ok: bool
    seconds: float
    messages: list[str] = field(default_factory=list)
    written: int = 0


@dataclass
class _Blueprint:
    """A blueprint as read once per worker process: its package files' texts, and every
    file of the copy (less `.git` and `.expected`) with its permission bits."""

    texts: list[tuple[str, str]]
    files: dict[str, tuple[bytes, int]]
    dirs: list[str]


_BLUEPRINTS: dict[str, _Blueprint] = {}
_SKIP = (".git", ".expected")


def _blueprint(path: str) -> _Blueprint:
    found = _BLUEPRINTS.get(path)
    if found is None:
        root = Path(path)
        files: dict[str, tuple[bytes, int]] = {}
        dirs: list[str] = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP)
            here = Path(dirpath)
            dirs += [str((here / d).relative_to(root)) for d in dirnames]
            for f in filenames:
                if f not in _SKIP:
                    file = here / f
                    files[str(file.relative_to(root))] = (file.read_bytes(),
                                                          stat.S_IMODE(file.stat().st_mode))
        _, texts = read_texts([path])
        found = _BLUEPRINTS[path] = _Blueprint(texts, files, dirs)
    return found


_TURNSTILE: Turnstile | None = None  # set in the parent before the workers fork


def _render_site(args: tuple[int, str, str, str, dict[str, Any], dict[str, Any], str, bool]
                 ) -> SiteOutcome:
    index, blueprint, out, name, facts, values, ledger, allow_exec = args
    turn = LocalTurn(_TURNSTILE, index) if _TURNSTILE is not None else None
    try:
        return _render_site_in_turn(blueprint, out, name, facts, values, ledger, turn,
                                    allow_exec)
    finally:
        if turn is not None:
            turn.leave()


def _render_site_in_turn(blueprint: str, out: str, name: str, facts: dict[str, Any],
                         values: dict[str, Any], ledger: str, turn: LocalTurn | None,
                         allow_exec: bool = False) -> SiteOutcome:
    start = time.perf_counter()
    target = Path(out) / name
    site: dict[str, Any] = {"kind": "SiteSpecialize", "site": facts}
    if values:
        site["values"] = values
    overrides: dict[str, dict[str, Any]] = {_SITE_FUNCTION: site}
    if ledger:
        for fn in LEDGER_FUNCTIONS:
            overrides[fn] = {"ledger": ledger}
    try:
        _check_target(Path(out), target)
        run = _Run(turn, allow_exec, blueprint)
        if target.exists():  # rendered before: render it again, in place
            result = _render_again(target, overrides, name, run)
        else:
            result = _render_new(_blueprint(blueprint), target, overrides, name, run)
    except (OSError, InputError) as exc:  # one broken site must not stop the fleet
        return SiteOutcome(name, False, time.perf_counter() - start, [f"write failed: {exc}"])
    messages = [result.error] if result.error else []
    for step in result.steps:
        messages += [f"{step.name}: {r.summary()}" for r in step.results if r.is_error]
    return SiteOutcome(name, result.ok, time.perf_counter() - start, messages,
                       len(result.written))


def _check_target(out: Path, target: Path) -> None:
    """A site's directory is a direct child of OUT, and a directory of its own (not a
    link to somewhere else, not a file): what the fleet writes stays under OUT."""
    if target.parent != out or target.name in ("", ".", ".."):
        raise InputError(f"{target}: not a directory directly under {out}")
    if target.is_symlink():
        raise InputError(f"{target}: is a symbolic link; the fleet writes only under {out}")
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a directory")


def _outside(root: Path, names: Iterable[str]) -> str | None:
    """The first file name that would be written outside `root`, if any: absolute, climbing
    out with `..`, or through a link in an existing directory."""
    top = root.resolve() if root.exists() else None
    for name in names:
        path = Path(name)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            return name
        if top is not None and not (root / path).resolve().is_relative_to(top):
            return name
    return None


def _new_paths(rl: ResourceList) -> dict[str, KubeObject]:
    """The files the run's new resources ask for (read before writing drops the request),
    to name the resource when one leads outside the package."""
    return {o.path: o for o in rl.items if o._origin is None and o.path}


def _escape_error(holders: dict[str, KubeObject], name: str) -> str:
    holder = holders.get(name)
    who = f"{holder.kind} {holder.name}: " if holder is not None else ""
    return f"{who}path {name!r} (config.kubernetes.io/path) is outside the package: " \
           "nothing written"


class _Run(NamedTuple):
    """How a site's pipeline runs: its turn at the ledger, and whether `exec:` steps no
    installed package registers may run (from the blueprint's directory, as the fleet of
    PackageVariantSets runs them)."""

    turn: LocalTurn | None
    allow_exec: bool
    blueprint: str


def _render_again(target: Path, overrides: dict[str, dict[str, Any]], name: str,
                  run: _Run) -> RenderResult:
    """Render a site rendered before, in place; its files are written back only if every
    one of them stays inside the site's directory."""
    try:
        rl, pkg = read_package([str(target)])
    except InputError as exc:
        return RenderResult(target, error=str(exc))
    result = render_package(target, overrides=overrides, write=False, package_name=name,
                            read=(rl, pkg), serial=run.turn, allow_exec=run.allow_exec,
                            exec_dir=run.blueprint)
    if result.ok:
        holders = _new_paths(rl)
        escaped = _outside(target, pkg.render_files(rl))
        if escaped is not None:
            result.error = _escape_error(holders, escaped)
        else:
            result.written = pkg.write(rl, durable=False)
    return result


def _render_new(bp: _Blueprint, target: Path, overrides: dict[str, dict[str, Any]],
                name: str, run: _Run) -> RenderResult:
    """Render a site's first copy from the blueprint in memory, and write the copy as a
    new directory renamed into place: no per-file temporary files, nothing read back. A
    render that fails leaves the blueprint's copy, as a re-render in place expects."""
    files = {n: content for n, (content, _) in bp.files.items()}
    try:
        rl, pkg = package_from_texts(target, bp.texts)
    except InputError as exc:
        result = RenderResult(target, error=str(exc))
    else:
        result = render_package(target, overrides=overrides, write=False, package_name=name,
                                read=(rl, pkg), serial=run.turn, allow_exec=run.allow_exec,
                                exec_dir=run.blueprint)
    holders = _new_paths(rl) if result.ok else {}
    contents = pkg.render_files(rl) if result.ok else {}
    escaped = _outside(target, contents)
    if escaped is not None:
        result.error = _escape_error(holders, escaped)
    elif result.ok:
        rendered = {n for n, _ in bp.texts}
        for n in rendered - set(contents):  # every resource of the file is gone
            files.pop(n, None)
        for n, text in contents.items():
            data = text.encode("utf-8")
            if files.get(n) != data:
                files[n] = data
                result.written.append(n)
        result.written += sorted(rendered - set(contents))
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for d in bp.dirs:
        (tmp / d).mkdir(exist_ok=True)
    for n, data in files.items():
        path = tmp / n
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        mode = bp.files[n][1] if n in bp.files else None
        if mode is not None and mode != _NEW_MODE:
            os.chmod(path, mode)
    os.replace(tmp, target)
    return result


def _new_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_NEW_MODE = _new_mode()


def render_fleet(blueprint: str | Path, sites: list[FleetSite], out: str | Path, *,
                 ledger: str | Path | None = None, jobs: int = 1, allow_exec: bool = False,
                 progress: Callable[[Iterator[SiteOutcome], int], Iterator[SiteOutcome]]
                 | None = None) -> list[SiteOutcome]:
    """Render every site; outcomes in inventory order.

    Raises `FleetError` before anything is written when a site's name is unusable, the
    blueprint is not a package, or `out` cannot be a directory."""
    check_site_names(sites)
    _check_blueprint(Path(blueprint))
    ledger_path = ledger_location(ledger)
    if ledger_path and not is_database(ledger_path):
        _check_ledger(Path(ledger or ledger_path), Path(out))
    out = _output_directory(Path(out))
    global _TURNSTILE
    _BLUEPRINTS.clear()  # read afresh by each run (and each worker)
    work = [(i, str(Path(blueprint).resolve()), str(out.resolve()), s.name, dict(s.facts),
             dict(s.values), ledger_path, allow_exec) for i, s in enumerate(sites)]
    if jobs <= 1:
        stream: Iterator[SiteOutcome] = map(_render_site, work)
        results = list(progress(stream, len(work)) if progress else stream)
    else:
        context = get_context("fork")
        _TURNSTILE = Turnstile(context) if ledger_path else None
        try:
            with context.Pool(jobs) as pool:
                # one site at a time, handed out in order: the turnstile relies on it
                stream = pool.imap_unordered(_render_site, work, chunksize=1)
                results = list(progress(stream, len(work)) if progress else stream)
        finally:
            _TURNSTILE = None
    if ledger_path and not is_database(ledger_path):
        _checkpoint(ledger_path)
    os.sync()  # the packages were written without a sync per file: one for all of them
    order = {s.name: i for i, s in enumerate(sites)}
    return sorted(results, key=lambda r: order[r.site])


def _output_directory(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise FleetError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FleetError(f"--out {out}: cannot create the directory: "
                         f"{exc.strerror or exc}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise FleetError(f"--out {out}: the directory is not writable")
    return out


def _check_blueprint(blueprint: Path) -> None:
    if not blueprint.is_dir():
        what = "is not a directory" if blueprint.exists() else "no such directory"
        raise FleetError(f"blueprint {blueprint}: {what}")
    if not (blueprint / "Kptfile").is_file():
        raise FleetError(f"blueprint {blueprint}: no Kptfile (a blueprint is a kpt package)")


def _check_ledger(ledger: Path, out: Path) -> None:
    """What can be known of the ledger file without opening it (the functions open it);
    its directory may be `out`, which the run creates."""
    if ledger.is_dir():
        raise FleetError(f"--ledger {ledger}: is a directory")
    if not ledger.parent.is_dir() and ledger.parent.absolute() != out.absolute():
        raise FleetError(f"--ledger {ledger}: directory {ledger.parent} does not exist")


def _checkpoint(path: str) -> None:
    """Fold the ledger's write-ahead log back into the file, so that the one file is the
    whole record again (to copy, back up or hand to the next fleet run)."""
    if not Path(path).is_file():
        return
    import sqlite3

    try:
        with sqlite3.connect(path, timeout=30) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    except sqlite3.Error:
        pass  # a busy or foreign file: the functions already reported what was wrong
