"""The turnstile inside one Dask task (`krmfn_fleet.dask_runner._Block`): its jobs, each
in a thread, pass in turn order once the task has the fleet's turn, whatever order they
arrive in; a task that stops (the run stopped, or its wait failed) releases every job
still waiting instead of leaving it blocked for ever."""

from __future__ import annotations

import contextlib
import random
import threading
import time

import pytest
from krmfn_fleet.dask_runner import _Block, _BlockTurn, _Stopped


def _jobs(block: _Block, first: int, count: int, seed: int
          ) -> tuple[list[threading.Thread], list[int], list[BaseException]]:
    rng = random.Random(seed)
    delays = [rng.uniform(0, 0.01) for _ in range(count)]
    passed: list[int] = []
    failures: list[BaseException] = []

    def job(i: int) -> None:
        turn = _BlockTurn(block, first + i)
        try:
            time.sleep(delays[i])  # the steps before the allocating ones
            turn.enter()
            passed.append(first + i)
        except BaseException as exc:
            failures.append(exc)
        finally:
            with contextlib.suppress(_Stopped):
                turn.leave()

    threads = [threading.Thread(target=job, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    return threads, passed, failures


@pytest.mark.parametrize("seed", range(20))
def test_jobs_pass_in_turn_order_once_the_task_has_its_turn(seed: int) -> None:
    block = _Block(40)
    threads, passed, failures = _jobs(block, 40, 8, seed)
    time.sleep(0.005)
    assert passed == []  # nobody passes before the task has the fleet's turn
    block.open()
    for t in threads:
        t.join(timeout=10)
    assert not failures and passed == list(range(40, 48))
    assert block.next == 48


def test_a_stopped_task_releases_every_waiting_job() -> None:
    block = _Block(0)
    threads, passed, failures = _jobs(block, 0, 8, 1)
    block.stop()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert passed == [] and len(failures) == 8
    assert all(isinstance(f, _Stopped) for f in failures)
