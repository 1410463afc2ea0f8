"""One placed package's render, as a function of its inputs alone.

`render_job(job, texts, turn)` is what a worker runs, in this process, a process of a
local pool or a Dask worker on another machine: it reads nothing from disk and writes
nothing, so a worker needs neither the fleet nor the output directory. Its inputs are the
job (the placement, the fleet objects its injectors name, what its dependencies offered,
as YAML texts, the ledger overrides) and the blueprint's file texts, sent once per worker;
it returns the rendered files' texts, for the caller to write (`krmfn_fleet.render`), and
what the package offers its dependents. Everything in and out pickles.

The only state a job touches is the allocation ledger, through ipam-inject and
vlan-assign. `turn`, when given, orders those steps across jobs (`krmfn_fleet.schedule`):
the ledger hands out the lowest free block to whoever asks first, so the fleet's order,
not the scheduler's, must decide who asks first. A job run twice (a worker lost and the
job retried) gets the same answers: the ledger files each claim under its owner key and
answers that key with what it holds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from krmfn import KubeObject
from krmfn._errors import InputError
from krmfn._run.package import package_from_texts

from krmfn_fleet.dependencies import Wanted, inject_configs, offered
from krmfn_fleet.errors import FleetError
from krmfn_fleet.functions import find_function
from krmfn_fleet.injection import apply_variant
from krmfn_fleet.inputs import FleetObject
from krmfn_fleet.pipeline import render_package
from krmfn_fleet.placement import Placement

__all__ = ["LEDGER_FUNCTIONS", "JobResult", "PackageJob", "Turn", "render_job"]

# the steps that allocate from the shared ledger, and so take their turn
LEDGER_FUNCTIONS = ("ipam-inject", "vlan-assign")

Texts = tuple[tuple[str, str], ...]  # a blueprint's package files: (name, text)


class Turn(Protocol):
    """A job's place in the fleet's allocation order (`krmfn_fleet.pipeline.Serial`)."""

    @property
    def functions(self) -> Collection[str]: ...

    def enter(self) -> None: ...

    def leave(self) -> None: ...


@dataclass(frozen=True)
class PackageJob:
    """Everything one package's render needs, but its blueprint's texts."""

    placement: Placement
    target: str  # OUT/<cluster>/<package> as the caller names it (for messages)
    injectable: Mapping[str, list[FleetObject]]  # the fleet objects its injectors name
    wanted: tuple[Wanted, ...]  # its Dependencies and their providers
    provided: Mapping[str, tuple[str, ...]]  # provider key -> offered objects (YAML)
    takers: tuple[Wanted, ...]  # the Dependencies of others that take from it
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    allow_exec: bool = False  # run `exec:` steps no installed package registers
    types: frozenset[tuple[str, str]] | None = None  # (apiVersion, kind) of all the fleet's
    # objects, for a point that finds none of its type (`injectable` holds only the named)

    @property
    def key(self) -> str:
        return self.placement.key


@dataclass
class JobResult:
    """What became of a job: the rendered files (name -> text) when it succeeded, and
    the objects its dependents take from it (YAML texts)."""

    key: str
    ok: bool
    messages: list[str] = field(default_factory=list)
    injected: list[tuple[str, str]] = field(default_factory=list)  # (Config, from package)
    contents: dict[str, str] = field(default_factory=dict)
    offered: tuple[str, ...] = ()


def offered_texts(items: list[KubeObject], takers: tuple[Wanted, ...]) -> tuple[str, ...]:
    """The objects of a rendered package that its dependents take, as YAML texts."""
    return tuple(o.to_yaml() for o in items if offered(o, takers)) if takers else ()


def render_job(job: PackageJob, texts: Texts, turn: Turn | None = None) -> JobResult:
    """Specialize the blueprint for the placement, inject its dependencies' Configs, run
    its pipeline; every package passes its turn once, whatever happens to it."""
    try:
        return _render(job, texts, turn)
    finally:
        if turn is not None:
            turn.leave()


def _render(job: PackageJob, texts: Texts, turn: Turn | None) -> JobResult:
    p = job.placement
    out = JobResult(job.key, False)
    rl, pkg = package_from_texts(Path(job.target), texts)
    try:
        apply_variant(rl, p, job.injectable, job.types)
    except FleetError as exc:
        out.messages.append(str(exc))
        return out
    provided = {key: [KubeObject.from_yaml(t) for t in objs]
                for key, objs in job.provided.items()}
    out.injected = inject_configs(rl.items, p, provided, list(job.wanted))
    result = render_package(pkg.root, overrides=job.overrides, write=False,
                            package_name=p.package, read=(rl, pkg),
                            resolver=find_function, serial=turn,
                            allow_exec=job.allow_exec, exec_dir=p.blueprint)
    if result.error:
        out.messages.append(result.error)
    for step in result.steps:
        out.messages += [f"{step.name}: {r.summary()}" for r in step.results if r.is_error]
    if not result.ok:
        return out
    out.offered = offered_texts(rl.items, job.takers)
    try:
        out.contents = pkg.render_files(rl)
    except InputError as exc:
        out.messages.append(str(exc))
        return out
    out.ok = True
    return out
