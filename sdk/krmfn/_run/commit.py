"""Replacing a package's files all at once: every file new, or every file as it was.

One file is replaced atomically by renaming a complete temporary copy over it; many files
cannot be, so a commit runs in phases:

1. every new content goes to a temporary file next to its target (fsynced when durable);
   a failure here removes them all, and no file has changed;
2. every file about to be replaced or deleted gets a backup: a hard link to its current
   content (a copy where links are not possible), and a journal listing each target, its
   backup and its temporary file is written and fsynced at the package's root;
3. the temporary files are renamed over their targets and deleted files unlinked; if one
   step fails, everything done so far is undone from the backups and the error names the
   file;
4. the journal is removed, then the backups.

A process killed in phase 1 or 2 leaves the files as they were; killed in phase 3, it
leaves each file whole, old or new, and the journal: the next run that repairs the
package (`--in-place`, `read_package(..., repair=True)`) first puts back every old file
from the backups, then removes the temporary and backup files of earlier runs (hidden,
named `.krmfn.<file>.<random>.tmp|bak`, never read as part of a package). A read that
does not repair refuses a package with a journal rather than read a half-written one.
Commits to one package are serialised by a lock on its root directory.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from krmfn._errors import InputError

__all__ = ["JOURNAL", "Change", "commit", "is_ours", "recover"]

JOURNAL = ".krmfn-commit"
_OURS = re.compile(r"\A\.krmfn\..+\.[0-9a-f]{12}\.(?:tmp|bak)\Z", re.S)


def is_ours(name: str) -> bool:
    """Whether a file name is one of our temporary or backup files."""
    return _OURS.match(name) is not None


@dataclass
class Change:
    """One file to write (`text`) or delete (`text is None`); `target` is where the bytes
    go (through a symbolic link: its target), `name` how errors call it."""

    name: str
    target: Path
    text: str | None
    mode: int = 0o644
    _tmp: Path | None = None
    _backup: Path | None = None
    _done: bool = False  # renamed into place, or deleted


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def commit(root: Path, changes: list[Change], *, durable: bool = True) -> None:
    """Apply every change or none (see the module's docstring); InputError naming the
    file when one cannot be written."""
    if not changes:
        return
    with _locked(root):
        _recover(root)
        made_dirs: list[Path] = []
        current = changes[0]
        try:
            for current in changes:
                if current.text is not None:
                    _write_temporary(current, made_dirs, durable)
            for current in changes:
                if current.target.exists():
                    current._backup = _backup(current.target)
            current = Change(JOURNAL, root / JOURNAL, "")
            _write_journal(root, changes, durable)
            for current in changes:
                if current.text is None:
                    os.unlink(current.target)
                else:
                    assert current._tmp is not None
                    os.replace(current._tmp, current.target)
                current._done = True
            if durable:
                for d in {ch.target.parent for ch in changes}:
                    _fsync_dir(d)
            current = Change(JOURNAL, root / JOURNAL, "")
            (root / JOURNAL).unlink()  # the commit point: from here on the files are new
        except OSError as exc:
            reason = exc.strerror or str(exc)
            try:
                _undo(root, changes, made_dirs)
            except OSError as again:
                raise InputError(
                    f"cannot write {current.name}: {reason}; undoing the other files failed "
                    f"too ({again.strerror}): the next --in-place run restores them") from None
            raise InputError(f"cannot write {current.name}: {reason}") from None
        if durable:
            _fsync_dir(root)
        for ch in changes:  # (one left behind is removed by the next run)
            if ch._backup is not None:
                with contextlib.suppress(OSError):
                    ch._backup.unlink(missing_ok=True)


def recover(root: Path, dirs: Iterable[Path]) -> None:
    """Undo a commit that was killed before it finished, and remove the temporary and
    backup files earlier runs left in `dirs`."""
    with _locked(root):
        _recover(root)
        for directory in dirs:
            with contextlib.suppress(OSError), os.scandir(directory) as entries:
                for entry in entries:
                    if is_ours(entry.name) and not entry.is_dir(follow_symlinks=False):
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(entry.path)


def _recover(root: Path) -> None:
    """Put back the files of the commit a journal describes. A journal is trusted only
    as far as it could have been written by `commit`: paths inside the package, backups
    and temporary files of ours beside their targets, and a file deleted as new only when
    it is the very file (same inode) the temporary file was."""
    journal = root / JOURNAL
    if not journal.exists():
        return
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entries = []  # torn while written: no file was replaced yet
    if not isinstance(entries, list) or not all(_entry_ok(root, e) for e in entries):
        raise InputError(f"{journal}: not a journal of an --in-place run; remove it")
    for target, backup, tmp, inode in reversed(entries):
        where = root / target
        # a new file's temporary file is gone once it was renamed into place
        done = (backup is None and tmp is not None and not (root / tmp).exists()
                and _inode(where) == inode)
        _restore(where, root / backup if backup else None, root / tmp if tmp else None,
                 done)
    journal.unlink()
    _fsync_dir(root)


def _entry_ok(root: Path, entry: object) -> bool:
    if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[0], str)
            and (entry[3] is None or isinstance(entry[3], int))):
        return False
    target = os.path.normpath(entry[0])
    if os.path.isabs(target) or target == ".." or target.startswith("../"):
        return False
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(root / os.path.dirname(target))]) \
            != real_root:
        return False
    return all(side is None or (isinstance(side, str) and is_ours(os.path.basename(side))
                                and os.path.dirname(side) == os.path.dirname(entry[0]))
               for side in entry[1:3])


def _inode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_ino
    except OSError:
        return None


def _temporary(target: Path, suffix: str) -> Path:
    return target.with_name(f".krmfn.{target.name}.{secrets.token_hex(6)}.{suffix}")


def _write_temporary(ch: Change, made_dirs: list[Path], durable: bool) -> None:
    missing = [p for p in (ch.target.parent, *ch.target.parent.parents) if not p.exists()]
    for p in reversed(missing):
        p.mkdir()
        made_dirs.append(p)
    tmp = _temporary(ch.target, "tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    ch._tmp = tmp
    try:
        os.fchmod(fd, ch.mode)
        data = (ch.text or "").encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _backup(target: Path) -> Path:
    backup = _temporary(target, "bak")
    try:
        os.link(target, backup)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        shutil.copy2(target, backup)
    return backup


def _write_journal(root: Path, changes: list[Change], durable: bool) -> None:
    def rel(p: Path | None) -> str | None:
        return None if p is None else os.path.relpath(p, root)

    entries = [[rel(ch.target), rel(ch._backup), rel(ch._tmp),
                None if ch._tmp is None else os.lstat(ch._tmp).st_ino] for ch in changes]
    fd = os.open(root / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(entries).encode("utf-8"))
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    if durable:
        for d in {root, *(ch.target.parent for ch in changes)}:
            _fsync_dir(d)


def _undo(root: Path, changes: list[Change], made_dirs: list[Path]) -> None:
    for ch in reversed(changes):
        _restore(ch.target, ch._backup, ch._tmp, ch._done)
    for d in reversed(made_dirs):
        with contextlib.suppress(OSError):
            d.rmdir()
    (root / JOURNAL).unlink(missing_ok=True)


def _restore(target: Path, backup: Path | None, tmp: Path | None, done: bool) -> None:
    """Put one file back as it was before the commit began."""
    if tmp is not None:
        tmp.unlink(missing_ok=True)
    if backup is not None:
        if backup.exists():
            os.replace(backup, target)  # (a no-op when both still name the same file)
            backup.unlink(missing_ok=True)
    elif done:
        target.unlink(missing_ok=True)  # a file this commit created


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
