"""Timing and peak memory of whole processes, the way a user runs them."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_mb: float
    exit_code: int
    cpu_seconds: float = 0.0  # user + system, with the processes it started and waited for


def run(cmd: list[str], *, stdin: Path | None = None, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> Sample:
    """One run: wall time, CPU time and the child's peak RSS (from wait4: this child and
    what it waited for)."""
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    finally:
        if stdin:
            fin.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(elapsed, usage.ru_maxrss / 1024, proc.returncode,
                  usage.ru_utime + usage.ru_stime)


def best(cmd: list[str], *, repeat: int = 5, **kw: object) -> Sample:
    """The fastest of `repeat` runs (the least disturbed by the rest of the machine)."""
    return _fastest([run(cmd, **kw) for _ in range(repeat)])  # type: ignore[arg-type]


def best_alternating(first: list[str], second: list[str], *, repeat: int = 7,
                     **kw: object) -> tuple[Sample, Sample]:
    """The fastest of `repeat` runs of each, run in turns: the machine's speed drifts by a
    tenth over seconds, and two commands measured one after the other would carry it into
    their ratio."""
    a: list[Sample] = []
    b: list[Sample] = []
    for _ in range(repeat):
        a.append(run(first, **kw))  # type: ignore[arg-type]
        b.append(run(second, **kw))  # type: ignore[arg-type]
    return _fastest(a), _fastest(b)


def _fastest(samples: list[Sample]) -> Sample:
    fastest = min(samples, key=lambda s: s.seconds)
    return Sample(fastest.seconds, max(s.peak_rss_mb for s in samples), fastest.exit_code,
                  fastest.cpu_seconds)


def median(cmd: list[str], *, repeat: int = 5, **kw: object) -> float:
    return statistics.median(run(cmd, **kw).seconds for _ in range(repeat))  # type: ignore[arg-type]
