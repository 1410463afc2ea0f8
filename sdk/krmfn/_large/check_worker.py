"""Checking the items a function never reads, on another core, while it runs.

Before anything is written, every item of a lazily read list must be shown to parse, to
be a resource, and to be what the text scan said it was (see `_large.lazy_list`).
Composing the items a function never read costs as much as reading the whole list would
have, so a forked worker does it meanwhile, from the last item backwards (functions tend
to read the front: the claims and the site come first in a package). When the function is
done, the process checks what is left from the front while the worker goes on from the
back, until they meet; the worker writes one byte per item it checked, so what it finished is
known exactly.

Nothing rides on the worker: a problem it finds, or a worker that dies, only sends the
run to the whole-document path, which gives the same answer and the real error message.
It is used for inputs large enough to pay for a fork, where `os.fork` exists, in a
process without other threads, and unless `KRMFN_CHECK_WORKER=0`.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
import threading
import time

from krmfn._large.lazy_list import (
    LayoutChanged,
    LazyList,
    agrees,
    identity,
    shape_problem,
)
from krmfn._large.parts import parts_genuine

__all__ = ["MIN_TEXT", "CheckWorker"]

MIN_TEXT = 256 * 1024  # below this, a fork costs more than the checks it would save
_OK, _BAD = b".", b"x"
_HEADLESS = b"h"  # checked, but not to be read in parts: see `_large.parts`


class CheckWorker:
    """A running worker: `stop()` tells from which item on everything was checked."""

    def __init__(self, pid: int, fd: int, count: int, shared: mmap.mmap) -> None:
        self._pid, self._fd, self._count = pid, fd, count
        self._shared = shared  # byte i set: the process checked item i itself
        self._done: int | None = None
        self._report = bytearray()
        self._read_at = 0.0
        os.set_blocking(fd, False)

    def frontier(self, index: int = -1) -> int:
        """The index from which on the worker has checked every item, so far (it goes on);
        raises LayoutChanged as soon as it has found a problem. Asked about item `index`
        (when known), the report is read again only if that may change the answer, and at
        most every tenth of a millisecond: a function asks before every item it reads."""
        if self._done is not None:
            return self._done
        known = self._count - len(self._report)
        now = time.monotonic()
        if index >= known or now - self._read_at < 1e-4:
            return known
        self._read_at = now
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._fd, 1 << 16):
                self._report += chunk
                if _BAD in chunk:
                    self._raise_if_bad()
        return self._count - len(self._report)

    def checked_here(self, index: int) -> None:
        """The process has checked item `index` (it read it whole): the worker skips it."""
        self._shared[index] = 1

    def headless(self, index: int) -> bool:
        """The worker found that item `index` must not be read by its head alone."""
        at = self._count - 1 - index
        return 0 <= at < len(self._report) and self._report[at] == _HEADLESS[0]

    def _raise_if_bad(self) -> None:
        if _BAD in self._report:
            self._done = self._count
            raise LayoutChanged(f"items[{self._count - len(self._report)}]: the check "
                                "worker found a problem")

    @classmethod
    def start(cls, items: LazyList, text: str, bounds: list[int]) -> CheckWorker | None:
        """Fork a worker over the chunks `text[bounds[i]:bounds[i + 1]]`, or None."""
        if (len(text) < MIN_TEXT or not hasattr(os, "fork") or threading.active_count() > 1
                or os.environ.get("KRMFN_CHECK_WORKER", "1") == "0"):
            return None
        read, write = os.pipe()
        shared = mmap.mmap(-1, len(bounds))
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # the worker: never returns
            os.close(read)
            try:
                _check_backwards(items, text, bounds, write, shared)
            finally:
                os._exit(0)
        os.close(write)
        return cls(pid, read, len(bounds) - 1, shared)

    def stop(self, *, wait: bool = False) -> int:
        """Stop the worker (`wait`: let it finish first): items from the returned index on
        are checked. Raises LayoutChanged if it found a problem (the whole-document path
        then tells which)."""
        if self._done is not None:
            return self._done
        if not wait:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        os.set_blocking(self._fd, True)
        while chunk := os.read(self._fd, 1 << 16):
            self._report += chunk
        os.close(self._fd)
        os.waitpid(self._pid, 0)
        self._raise_if_bad()
        self._done = self._count - len(self._report)
        return self._done


def _check_backwards(items: LazyList, text: str, bounds: list[int], out: int,
                     shared: mmap.mmap) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    with contextlib.suppress(OSError):
        os.nice(10)  # on a busy machine the function itself comes first: it may not need this
    for i in range(len(bounds) - 2, -1, -1):
        if shared[i]:  # the process read it whole, and checked it then
            os.write(out, _OK)
            continue
        start, end = bounds[i], bounds[i + 1]
        mark = _BAD
        try:
            root = items.compose(text[start:end], i)
            guess = items.guess(text, start, end)  # what the function may use
            if shape_problem(root) is None and (guess is None or agrees(identity(root), guess)):
                mark = _OK if parts_genuine(root, text, start, end, items.wide) else _HEADLESS
        except Exception:  # whatever it is, the whole-document path will say it properly
            pass
        os.write(out, mark)
        if mark == _BAD:
            return
