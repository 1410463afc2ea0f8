"""Rendering one blueprint for every site of an inventory, in process and in parallel.

Each site gets its own copy of the blueprint (`OUT/<site>`), named after the site so the
package context (and with it set-namespace) follows; then the package's own Kptfile
pipeline runs in process with the site's facts and one shared allocation ledger. Worker
processes share nothing but the ledger, whose transactions keep allocations unique.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from krmfn._errors import InputError
from krmfn._package import package_from_texts, read_texts
from krmfn._pipeline import RenderResult, render_package

__all__ = ["FleetSite", "SiteOutcome", "load_sites", "render_fleet"]

_LEDGER_FUNCTIONS = ("ipam-inject", "vlan-assign")
_SITE_FUNCTION = "site-specialize"


@dataclass(frozen=True)
class FleetSite:
    name: str
    facts: Mapping[str, Any]
    values: Mapping[str, Any] = field(default_factory=dict)  # setter values for this site


@dataclass
class SiteOutcome:
    site: str
    ok: bool
    seconds: float
    messages: list[str] = field(default_factory=list)
    written: int = 0


def load_sites(path: str | Path) -> list[FleetSite]:
    """An inventory: a YAML list of sites (or `{sites: [...]}`, or a SiteSpecialize-shaped
    list with a `site:` map per entry); each needs a `name` or a `clusterName`."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("sites", data.get("items"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of sites")
    sites = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: site {i} is not a map")
        values = entry.get("values") or {}
        if isinstance(entry.get("site"), dict):  # a SiteSpecialize config per site
            meta = entry.get("metadata")
            name = (meta.get("name") if isinstance(meta, dict) else None) or entry["site"].get(
                "clusterName")
            facts = dict(entry["site"])
        else:
            name = entry.get("name") or entry.get("clusterName")
            facts = {k: v for k, v in entry.items() if k not in ("name", "values")}
        if not isinstance(name, str) or not name:
            raise ValueError(f"{path}: site {i} has no name or clusterName")
        if not isinstance(values, dict):
            raise ValueError(f"{path}: site {name}: values must be a map")
        facts.setdefault("clusterName", name)
        sites.append(FleetSite(name, facts, values))
    names = [s.name for s in sites]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: site names must be unique")
    return sites


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


def _render_site(args: tuple[str, str, str, dict[str, Any], dict[str, Any], str]
                 ) -> SiteOutcome:
    blueprint, out, name, facts, values, ledger = args
    start = time.perf_counter()
    target = Path(out) / name
    site: dict[str, Any] = {"kind": "SiteSpecialize", "site": facts}
    if values:
        site["values"] = values
    overrides: dict[str, dict[str, Any]] = {_SITE_FUNCTION: site}
    if ledger:
        for fn in _LEDGER_FUNCTIONS:
            overrides[fn] = {"ledger": ledger}
    try:
        if target.exists():  # rendered before: render it again, in place
            result = render_package(target, overrides=overrides, durable=False,
                                    package_name=name)
        else:
            result = _render_new(_blueprint(blueprint), target, overrides, name)
    except (OSError, InputError) as exc:  # one broken site must not stop the fleet
        return SiteOutcome(name, False, time.perf_counter() - start, [f"write failed: {exc}"])
    messages = [result.error] if result.error else []
    for step in result.steps:
        messages += [f"{step.name}: {r.summary()}" for r in step.results if r.is_error]
    return SiteOutcome(name, result.ok, time.perf_counter() - start, messages,
                       len(result.written))


def _render_new(bp: _Blueprint, target: Path, overrides: dict[str, dict[str, Any]],
                name: str) -> RenderResult:
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
                                read=(rl, pkg))
    if result.ok:
        contents = pkg.render_files(rl)
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
                 ledger: str | Path | None = None, jobs: int = 1,
                 progress: Callable[[Iterator[SiteOutcome], int], Iterator[SiteOutcome]]
                 | None = None) -> list[SiteOutcome]:
    """Render every site; outcomes in inventory order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _BLUEPRINTS.clear()  # read afresh by each run (and each worker)
    ledger_path = str(Path(ledger).resolve()) if ledger else ""
    work = [(str(Path(blueprint).resolve()), str(out.resolve()), s.name, dict(s.facts),
             dict(s.values), ledger_path) for s in sites]
    if jobs <= 1:
        stream: Iterator[SiteOutcome] = map(_render_site, work)
        results = list(progress(stream, len(work)) if progress else stream)
    else:
        with get_context("fork").Pool(jobs) as pool:
            stream = pool.imap_unordered(_render_site, work, chunksize=4)
            results = list(progress(stream, len(work)) if progress else stream)
    if ledger_path:
        _checkpoint(ledger_path)
    os.sync()  # the packages were written without a sync per file: one for all of them
    order = {s.name: i for i, s in enumerate(sites)}
    return sorted(results, key=lambda r: order[r.site])


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
