"""Running package jobs on a dask.distributed cluster (`krmfn fleet render ... --scheduler`).

The client (the process running `krmfn fleet render`) places the fleet, hands out jobs in
render order (`krmfn_fleet.schedule.run_in_order`) and writes every rendered package
under OUT itself: workers return texts. So workers need no shared filesystem and nothing
is ever written outside OUT, whatever the workers' machines are; the price is that every
rendered package travels back to the client (tens of kilobytes each). The blueprints'
texts are sent once, each as the result of a task the jobs depend on (so Dask copies it
to the workers that need it, and computes it again if every worker holding it is lost,
which scattered data would not survive); a job carries the rest of its inputs.

The turnstile that keeps allocations in the fleet's order is a chain of Dask events, one
per job: a job waits for its own before its allocating steps (seceding from the worker's
thread pool meanwhile, so a waiting job never keeps another from running) and sets the
next once they are done. A worker lost mid-run only delays the run: the scheduler gives
its jobs to another worker, and a job run again gets the answers it got the first time
(the ledger answers an owner key with what it holds). Workers must share the ledger: a
SQLite file works for workers on this machine only, a PostgreSQL ledger for any.
Workers must run the krmfn (and functions) the client runs: this is checked when the run
starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any

from krmfn_fleet.errors import FleetError
from krmfn_fleet.functions import registered
from krmfn_fleet.package_job import LEDGER_FUNCTIONS, JobResult, PackageJob, Texts, render_job

__all__ = ["DaskRunner"]

_WAIT = 2.0  # seconds between looks at whether the run was stopped, while waiting a turn


def installed() -> tuple[str, list[tuple[str, str]]]:
    """The krmfn version and the functions a pipeline finds, here (or on a worker)."""
    try:
        krmfn = version("krmfn")
    except PackageNotFoundError:
        krmfn = ""
    return krmfn, sorted(registered().items())


class _Stopped(Exception):
    """The client stopped the run while this job waited for its turn."""


class _DaskTurn:
    """Job `index`'s pass (a `krmfn_fleet.pipeline.Serial`): wait for event `<run>/<index>`,
    then set `<run>/<index + 1>`; each at most once per attempt."""

    functions = LEDGER_FUNCTIONS

    def __init__(self, run: str, index: int) -> None:
        self._run, self._index = run, index
        self._entered = self._left = False

    def enter(self) -> None:
        if self._entered:
            return
        from distributed import Event, rejoin, secede

        mine = Event(_event(self._run, self._index))
        if not mine.is_set():
            secede()  # the worker may run other jobs while this one waits
            try:
                while not mine.wait(timeout=_WAIT):
                    if Event(_stop(self._run)).is_set():
                        raise _Stopped(f"stopped waiting for turn {self._index}")
            finally:
                rejoin()
        self._entered = True

    def leave(self) -> None:
        if self._left:
            return
        from distributed import Event

        self.enter()
        Event(_event(self._run, self._index + 1)).set()
        self._left = True


def _event(run: str, index: int) -> str:
    return f"krmfn-fleet-{run}-turn-{index}"


def _stop(run: str) -> str:
    return f"krmfn-fleet-{run}-stop"


def _blueprint(texts: Texts) -> Texts:
    """A blueprint's texts, as a task's result (see `DaskRunner`)."""
    return texts


def _run_job(job: PackageJob, texts: Texts, run: str, turn: int) -> JobResult:
    """What a worker runs (a module-level function: workers import it by name)."""
    return render_job(job, texts, _DaskTurn(run, turn))


class DaskRunner:
    """Jobs on the cluster whose scheduler is at `address` (`tcp://host:port`)."""

    def __init__(self, address: str, blueprints: Mapping[str, Texts]) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise FleetError("--scheduler needs dask.distributed: "
                             "pip install 'krmfn[dask]'") from None
        from distributed.comm import parse_address, parse_host_port

        try:
            parse_host_port(parse_address(address)[1])
        except ValueError as exc:
            raise FleetError(f"--scheduler {address}: expected tcp://HOST:PORT ({exc})") from None
        try:
            self._client: Any = Client(address, set_as_default=False, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            why = str(exc.args[0]) if exc.args else type(exc).__name__
            raise FleetError(f"--scheduler {address}: cannot connect: "
                             f"{why.splitlines()[0] if why else type(exc).__name__}") from None
        try:
            self._start(address, blueprints)
        except BaseException:
            self._client.close()
            raise

    def _start(self, address: str, blueprints: Mapping[str, Texts]) -> None:
        from distributed import Event, as_completed

        client = self._client
        here = installed()
        workers = client.run(installed)
        if not workers:
            raise FleetError(f"--scheduler {address}: the cluster has no workers")
        for worker, theirs in sorted(workers.items()):
            if theirs != here:
                raise FleetError(f"--scheduler {address}: worker {worker} runs krmfn "
                                 f"{theirs[0] or '?'} with other functions than this "
                                 f"krmfn {here[0] or '?'}: install the same on every worker")
        self.capacity = 2 * max(sum(client.nthreads().values()), 1)
        self._run = uuid.uuid4().hex[:12]
        # a blueprint is the result of a task of its own, not scattered data: should every
        # worker holding it die, the scheduler computes it again from the task
        self._texts = {bp: client.submit(_blueprint, texts, key=f"krmfn-fleet-{self._run}-"
                                         f"blueprint-{i}", pure=False)
                       for i, (bp, texts) in enumerate(sorted(blueprints.items()))}
        self._futures = as_completed(loop=client.loop)
        self._turns: dict[str, int] = {}
        self._last = 0
        Event(_event(self._run, 0), client=client).set()

    def submit(self, job: PackageJob, turn: int) -> None:
        key = f"krmfn-fleet-{self._run}-{turn}"
        self._turns[key] = turn
        self._last = turn + 1
        self._futures.add(self._client.submit(
            _run_job, job, self._texts[str(job.placement.blueprint)], self._run, turn,
            key=key, pure=False))

    def done(self) -> list[JobResult]:
        from distributed import Event, KilledWorker

        out = []
        for future in self._futures.next_batch(block=True):
            try:
                result: JobResult = future.result()
            except KilledWorker as exc:
                raise FleetError(f"the workers rendering a package died too often: {exc}; "
                                 "nothing more was rendered") from None
            Event(_event(self._run, self._turns.pop(future.key)), client=self._client).clear()
            out.append(result)
        return out

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        from distributed import Event

        client = self._client
        try:
            if self._turns:  # stopped early: waiting jobs give up, the rest is cancelled
                Event(_stop(self._run), client=client).set()
                client.cancel(list(self._futures.futures))
            for name in [_event(self._run, t) for t in [*self._turns.values(), self._last]]:
                Event(name, client=client).clear()
            Event(_stop(self._run), client=client).clear()
        finally:
            client.close()
