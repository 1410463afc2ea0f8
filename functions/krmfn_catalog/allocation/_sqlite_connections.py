"""Connections to ledger files, kept open between sessions of one process.

A connection per session would cost more than the session itself: in WAL mode with
`synchronous=FULL` the first commit of every new connection also syncs the directory,
and the last connection to close checkpoints the log and deletes it. The functions open
a `SqliteLedger` per run, so open connections are kept here, by file, not by ledger
object.

A session borrows a connection for its duration and gives it back when it ends: one
thread uses a connection at a time, whichever thread it is, so a process running many
jobs in threads of their own (a Dask worker) keeps as many connections as it runs
sessions at once, not one per thread it ever ran. A connection is never used across a
fork (connections are kept per process), and only while the path still names the file
it was opened on: a ledger deleted and created anew gets a new connection instead of
writes into the deleted file.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import NamedTuple

__all__ = ["Borrowed", "borrow", "drop", "give_back"]

_Key = tuple[int, str]  # process, absolute path


class Borrowed(NamedTuple):
    connection: sqlite3.Connection
    opened_on: tuple[int, int] | None  # the file's (device, inode)


_IDLE: dict[_Key, list[Borrowed]] = {}
_LOCK = threading.Lock()


def _key(path: Path) -> _Key:
    return os.getpid(), os.path.abspath(path)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def borrow(path: Path, connect: Callable[[], sqlite3.Connection]) -> Borrowed:
    """An idle connection of this process to the file at `path`, or a new one from
    `connect` (which must allow use from any thread); the caller alone uses it until it
    calls `give_back` (or closes it, after an error)."""
    identity = _identity(path)
    stale = []
    found = None
    with _LOCK:
        idle = _IDLE.get(_key(path), [])
        while idle and found is None:
            held = idle.pop()
            if held.opened_on == identity:
                found = held
            else:
                stale.append(held.connection)
    for old in stale:
        with suppress(sqlite3.Error):
            old.close()
    if found is not None:
        return found
    connection = connect()
    return Borrowed(connection, _identity(path))  # SQLite creates the file on opening it


def give_back(path: Path, borrowed: Borrowed) -> None:
    """Keep a borrowed connection for the next session of this process."""
    with _LOCK:
        _IDLE.setdefault(_key(path), []).append(borrowed)


def drop(path: Path) -> None:
    """Close this process's idle connections to `path` (on request, or after an error)."""
    with _LOCK:
        idle = _IDLE.pop(_key(path), [])
    for connection, _ in idle:
        with suppress(sqlite3.Error):
            connection.close()


@atexit.register
def _close_ours() -> None:
    """Close this process's connections, so the last one checkpoints and removes the log."""
    with _LOCK:
        ours = [key for key in _IDLE if key[0] == os.getpid()]
        idle = [held for key in ours for held in _IDLE.pop(key)]
    for connection, _ in idle:
        with suppress(sqlite3.Error):
            connection.close()
