"""Running package jobs in the fleet's order, here or on worker processes.

The jobs of a fleet render are handed out in render order (dependencies first), each once
every package it depends on is done, and each with a turn number: its place among the
jobs handed out. A job's allocating steps (`krmfn_fleet.package_job.LEDGER_FUNCTIONS`)
wait until every job of a lower number has passed its own, so allocations are made in
the fleet's order and the tree is the same at any parallelism; the rest of a job (site
facts, injection, validation) runs side by side with other jobs.

Jobs are handed out strictly in order and workers take them first come, first served, so
the lowest job that has not passed its turn is always running, never queued behind a job
waiting for it: the turnstile cannot deadlock. A runner (`Runner`) says where jobs run:
`InProcess` (one job at a time, no turns needed), `ProcessPool` (local worker processes
sharing a turnstile) or `krmfn_fleet.dask_runner.DaskRunner` (a dask.distributed cluster).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, Protocol

from krmfn_fleet.errors import FleetError
from krmfn_fleet.functions import find_function, registered
from krmfn_fleet.package_job import JobResult, PackageJob, Texts, render_job
from krmfn_fleet.turnstile import LocalTurn, Turnstile

__all__ = ["InProcess", "ProcessPool", "Runner", "default_jobs", "run_in_order"]


def default_jobs() -> int:
    """The CPUs this process may run on (its affinity, e.g. a container's CPU set)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


class Runner(Protocol):
    """Where jobs run. `submit` hands over a job with its turn number, `done` blocks until
    at least one submitted job has finished and returns the finished ones."""

    @property
    def capacity(self) -> int:
        """How many jobs may be in flight at once."""

    def submit(self, job: PackageJob, turn: int) -> None: ...

    def done(self) -> list[JobResult]: ...


def run_in_order(order: Sequence[str], needs: Mapping[str, Collection[str]],
                 start: Callable[[str], PackageJob | None], runner: Runner
                 ) -> Iterator[JobResult]:
    """Hand out the packages of `order` (render order) strictly in that order, each once
    every package it `needs` is finished; `start(key)` gives its job, or None when the
    caller settled it without one (skipped, failed before rendering: finished at once).
    Yields each job's result as it comes back; a job's dependents are started only after
    its result was yielded (the caller records what it offers them)."""
    pending = deque(order)
    finished: set[str] = set()
    in_flight: set[str] = set()
    turn = 0
    while pending or in_flight:
        while pending and len(in_flight) < runner.capacity and all(
                d in finished for d in needs.get(pending[0], ())):
            key = pending.popleft()
            job = start(key)
            if job is None:
                finished.add(key)
                continue
            runner.submit(job, turn)
            turn += 1
            in_flight.add(key)
        if not in_flight:
            if pending:  # (cannot happen: a dependency is always earlier in the order)
                raise RuntimeError(f"{pending[0]} waits for a package never handed out")
            break
        for result in runner.done():
            in_flight.discard(result.key)
            yield result
            finished.add(result.key)


class InProcess:
    """Each job rendered in this process as it is submitted."""

    capacity = 1

    def __init__(self, blueprints: Mapping[str, Texts]) -> None:
        self._blueprints = blueprints
        self._done: list[JobResult] = []

    def submit(self, job: PackageJob, turn: int) -> None:
        self._done.append(render_job(job, self._blueprints[str(job.placement.blueprint)]))

    def done(self) -> list[JobResult]:
        out, self._done = self._done, []
        return out


# what a worker process of the pool holds: set by the pool's initializer
_WORKER: dict[str, Any] = {}


def _start_worker(blueprints: Mapping[str, Texts], turnstile: Turnstile) -> None:
    _WORKER["blueprints"], _WORKER["turnstile"] = blueprints, turnstile


def _run(job: PackageJob, turn: int) -> JobResult:
    return render_job(job, _WORKER["blueprints"][str(job.placement.blueprint)],
                      LocalTurn(_WORKER["turnstile"], turn))


class ProcessPool:
    """`jobs` worker processes of this machine; each gets the blueprints once, when it
    starts (forked where the platform allows: nothing to pickle)."""

    def __init__(self, blueprints: Mapping[str, Texts], jobs: int) -> None:
        methods = ("fork", "spawn")
        method = next(m for m in methods if m in _start_methods())
        context = get_context(method)
        if method == "fork":  # import the functions once, here, rather than in each worker
            for name in registered():
                find_function(name)
        self.capacity = 2 * jobs  # a job waiting to start on each worker, no more
        self._pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                                         initargs=(dict(blueprints), Turnstile(context)))
        self._futures: set[Future[JobResult]] = set()

    def submit(self, job: PackageJob, turn: int) -> None:
        try:
            self._futures.add(self._pool.submit(_run, job, turn))
        except BrokenProcessPool as exc:
            raise _died(exc) from None

    def done(self) -> list[JobResult]:
        finished, self._futures = wait(self._futures, return_when=FIRST_COMPLETED)
        try:  # (in the order they finished: the caller's order does not depend on it)
            return [f.result() for f in finished]
        except BrokenProcessPool as exc:
            raise _died(exc) from None

    def close(self) -> None:
        for f in self._futures:
            f.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _died(exc: BrokenProcessPool) -> FleetError:
    """A worker killed from outside (out of memory, a signal), found by `submit` or `done`."""
    return FleetError(f"a worker process died ({exc}); the packages rendered so far are "
                      "written, the lock is not updated")


def _start_methods() -> list[str]:
    from multiprocessing import get_all_start_methods

    return get_all_start_methods()
