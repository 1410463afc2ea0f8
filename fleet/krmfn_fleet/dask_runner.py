"""Running package jobs on a dask.distributed cluster (`krmfn fleet render ... --scheduler`).

The client (the process running `krmfn fleet render`) places the fleet, hands out jobs in
render order (`krmfn_fleet.schedule.run_in_order`) and writes every rendered package
under OUT itself: workers return texts. So workers need no shared filesystem and nothing
is ever written outside OUT, whatever the workers' machines are; the price is that every
rendered package travels back to the client (tens of kilobytes each). The blueprints'
texts are sent once, each as the result of a task the jobs depend on (so Dask copies it
to the workers that need it, and computes it again if every worker holding it is lost,
which scattered data would not survive); a job carries the rest of its inputs.

Jobs travel in tasks of up to `BLOCK` (16) consecutive jobs: a task costs the client and the
scheduler several milliseconds of CPU (messages, futures, bookkeeping), about what a
package's render costs, so one task per job would spend as much on Dask as on the work.
A task runs each of its jobs in a thread of its own and leaves the worker's thread pool
at once, so a task waiting for its turn never keeps an earlier one from running. Since
tasks leave the pool, the scheduler would count every worker idle; the client therefore
places each task on the worker with the fewest tasks in flight per thread (another
worker takes it should that one die).

The turnstile that keeps allocations in the fleet's order has two levels: a chain of Dask
events, one per task (a task waits for its own before its first job allocates and sets
the next once its last job is done), and inside a task a lock its jobs pass in turn
order. A worker lost mid-run only delays the run: the scheduler gives its tasks to
another worker, and a job run again gets the answers it got the first time (the ledger
answers an owner key with what it holds). Workers must share the ledger: a SQLite file
works for workers on this machine only, a PostgreSQL ledger for any. Jobs of one worker
run in threads, so the ledger's connections are shared by the threads of a process, one
session at a time (`krmfn_catalog.allocation`).
Workers must run the krmfn (and functions) the client runs: this is checked when the run
starts.
"""

from __future__ import annotations

import threading
import time
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
BLOCK = 16  # jobs per task: a task costs the client and the scheduler far more than a job


def installed() -> tuple[str, list[tuple[str, str]]]:
    """The krmfn version and the functions a pipeline finds, here (or on a worker)."""
    try:
        krmfn = version("krmfn")
    except PackageNotFoundError:
        krmfn = ""
    return krmfn, sorted(registered().items())


class _Stopped(Exception):
    """The client stopped the run while this job waited for its turn."""


class _Block:
    """The turnstile inside one task: its jobs (threads of the task, consecutive turns
    `first`..) pass in order, once the task has the fleet's turn (`open`)."""

    def __init__(self, first: int) -> None:
        self.changed = threading.Condition()
        self.next = first
        self.opened = self.stopped = False

    def open(self) -> None:
        with self.changed:
            self.opened = True
            self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopped = True
            self.changed.notify_all()


class _BlockTurn:
    """Job `index`'s pass (a `krmfn_fleet.pipeline.Serial`) through its task's `_Block`;
    entering and leaving each at most once, as `krmfn_fleet.turnstile.LocalTurn`."""

    functions = LEDGER_FUNCTIONS

    def __init__(self, block: _Block, index: int) -> None:
        self._block, self._index = block, index
        self._entered = self._left = False

    def enter(self) -> None:
        if self._entered:
            return
        block = self._block
        with block.changed:
            block.changed.wait_for(
                lambda: block.stopped or (block.opened and block.next == self._index))
            if block.stopped:
                raise _Stopped(f"stopped waiting for turn {self._index}")
        self._entered = True

    def leave(self) -> None:
        if self._left:
            return
        self.enter()
        with self._block.changed:
            self._block.next = self._index + 1
            self._block.changed.notify_all()
        self._left = True


def _event(run: str, index: int) -> str:
    return f"krmfn-fleet-{run}-turn-{index}"


def _stop(run: str) -> str:
    return f"krmfn-fleet-{run}-stop"


def _blueprint(texts: Texts) -> Texts:
    """A blueprint's texts, as a task's result (see `DaskRunner`)."""
    return texts


def _run_block(jobs: list[tuple[PackageJob, int]], run: str, *texts: Texts) -> list[JobResult]:
    """What a worker runs (a module-level function: workers import it by name): the jobs
    of consecutive turns, each in a thread of its own, `texts[i]` the blueprint of job i.

    The task leaves the worker's thread pool at once (a task waiting for its turn must
    never keep an earlier one from running), waits for event `<run>/<first>`, lets its
    jobs pass in order, then sets `<run>/<last + 1>`. Its jobs' other steps run meanwhile,
    so the next task's jobs prepare while this one allocates."""
    from distributed import Event, secede

    first, last = jobs[0][1], jobs[-1][1]
    secede()
    block = _Block(first)
    results: list[JobResult | None] = [None] * len(jobs)
    failures: list[BaseException] = []

    def one(i: int) -> None:
        job, turn = jobs[i]
        try:
            results[i] = render_job(job, texts[i], _BlockTurn(block, turn))
        except BaseException as exc:  # (handed to the task's thread, which raises it)
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    try:
        mine = Event(_event(run, first))
        while not mine.wait(timeout=_WAIT):
            if Event(_stop(run)).is_set():
                block.stop()
                break
        else:
            block.open()
            with block.changed:
                block.changed.wait_for(lambda: block.stopped or block.next > last)
            Event(_event(run, last + 1)).set()
    finally:
        if not block.opened:  # stopped, or this thread failed: nothing will open it now
            block.stop()
        for thread in threads:
            thread.join()
    stopped = [f for f in failures if isinstance(f, _Stopped)]
    if len(stopped) < len(failures):  # a bug in a job: its traceback, not a stop
        raise next(f for f in failures if not isinstance(f, _Stopped))
    if failures:
        raise failures[0]
    return [r for r in results if r is not None]


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
        self._threads: dict[str, int] = client.nthreads()
        self._checked = time.monotonic()
        self.capacity = 2 * BLOCK * max(sum(self._threads.values()), 1)
        self._run = uuid.uuid4().hex[:12]
        # a blueprint is the result of a task of its own, not scattered data: should every
        # worker holding it die, the scheduler computes it again from the task
        self._texts = {bp: client.submit(_blueprint, texts, key=f"krmfn-fleet-{self._run}-"
                                         f"blueprint-{i}", pure=False)
                       for i, (bp, texts) in enumerate(sorted(blueprints.items()))}
        self._futures = as_completed(loop=client.loop)
        self._pending: list[tuple[PackageJob, int]] = []
        self._blocks: dict[str, tuple[int, str]] = {}  # task key -> (first turn, worker)
        self._load: dict[str, int] = {}  # worker -> its tasks in flight
        self._last = 0
        Event(_event(self._run, 0), client=client).set()

    def submit(self, job: PackageJob, turn: int) -> None:
        self._pending.append((job, turn))
        self._last = turn + 1
        if len(self._pending) == BLOCK:
            self._send()

    def done(self) -> list[JobResult]:
        from distributed import KilledWorker

        if self._pending:  # nothing more comes before something finishes
            self._send()
        out = []
        for future in self._futures.next_batch(block=True):
            try:
                results: list[JobResult] = future.result()
            except KilledWorker as exc:
                raise FleetError(f"the workers rendering a package died too often: {exc}; "
                                 "nothing more was rendered") from None
            first, worker = self._blocks.pop(future.key)
            self._load[worker] = self._load.get(worker, 1) - 1
            # (sent by the client's event loop: the event is done with, nobody waits)
            self._client.loop.add_callback(self._client.scheduler.event_clear,
                                           name=_event(self._run, first))
            out += results
        return out

    def _send(self) -> None:
        """The pending jobs as one task, on the worker with the fewest tasks per thread
        (tasks leave the thread pool at once, so the scheduler would count every worker
        free and could give one all the work); another worker takes it if that one dies."""
        jobs, self._pending = self._pending, []
        worker = self._worker()
        key = f"krmfn-fleet-{self._run}-{jobs[0][1]}"
        self._blocks[key] = (jobs[0][1], worker)
        self._load[worker] = self._load.get(worker, 0) + 1
        texts = [self._texts[str(job.placement.blueprint)] for job, _ in jobs]
        self._futures.add(self._client.submit(
            _run_block, jobs, self._run, *texts, key=key, pure=False, workers=[worker],
            allow_other_workers=True))

    def _worker(self) -> str:
        now = time.monotonic()
        if now - self._checked > _WAIT:  # workers come and go
            self._threads = self._client.nthreads() or self._threads
            self._checked = now
        return min(sorted(self._threads),
                   key=lambda w: self._load.get(w, 0) / max(self._threads[w], 1))

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        from distributed import Event

        client = self._client
        try:
            if self._blocks:  # stopped early: waiting jobs give up, the rest is cancelled
                Event(_stop(self._run), client=client).set()
                client.cancel(list(self._futures.futures))
            turns = [first for first, _ in self._blocks.values()]
            for name in [_event(self._run, t) for t in [*turns, self._last]]:
                Event(name, client=client).clear()
            Event(_stop(self._run), client=client).clear()
        finally:
            client.close()
