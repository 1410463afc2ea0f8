"""Connections to ledger files, kept open between sessions of one process and thread.

A connection per session would cost more than the session itself: in WAL mode with
`synchronous=FULL` the first commit of every new connection also syncs the directory,
and the last connection to close checkpoints the log and deletes it. The functions open
a `SqliteLedger` per run, so the connection is kept here, by file, not by ledger object.

A connection is used only by the process and thread that opened it (never across a
fork), and only while the path still names the file it was opened on: a ledger deleted
and created anew gets a new connection instead of writes into the deleted file.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

__all__ = ["borrow", "drop"]

_Key = tuple[int, int, str]  # process, thread, absolute path
_OPEN: dict[_Key, tuple[sqlite3.Connection, tuple[int, int] | None]] = {}


def _key(path: Path) -> _Key:
    return os.getpid(), threading.get_ident(), os.path.abspath(path)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def borrow(path: Path, connect: Callable[[], sqlite3.Connection]) -> sqlite3.Connection:
    """This thread's open connection to the file at `path`, opened with `connect` if need be."""
    key = _key(path)
    held = _OPEN.get(key)
    if held is not None:
        if held[1] == _identity(path):
            return held[0]
        drop(path)
    connection = connect()
    _OPEN[key] = (connection, _identity(path))  # SQLite creates the file on opening it
    return connection


def drop(path: Path) -> None:
    """Close this thread's connection to `path`, if any (after an error, or on request)."""
    held = _OPEN.pop(_key(path), None)
    if held is not None:
        with suppress(sqlite3.Error):
            held[0].close()


@atexit.register
def _close_ours() -> None:
    """Close this process's connections, so the last one checkpoints and removes the log."""
    for key in [key for key in _OPEN if key[0] == os.getpid()]:
        with suppress(sqlite3.Error):
            _OPEN.pop(key)[0].close()
