"""Which files a package holds, found as kpt finds them.

A directory is walked with names in lexical order, a directory's files where its name
sorts (so that `sub/x.yaml` comes before `two.yaml`); `*.yaml`, `*.yml` and Kptfiles are
read, hidden ones included; links to files are followed and links to directories are
not; every package (the root, and each subpackage: a directory holding a Kptfile) leaves
out what its own `.krmignore` says (see `krmfn._run.krmignore`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from krmfn._errors import InputError
from krmfn._run.krmignore import Ignore

__all__ = ["collect", "package_root", "scratch_dirs"]

_SUFFIXES = (".yaml", ".yml")


def scratch_dirs(paths: Sequence[str]) -> Iterable[Path]:
    """Where a run on `paths` may have left files of ours: every directory of a package
    given, the directory of a file given."""
    for raw in paths:
        if os.path.isdir(raw):
            for dirpath, _, _ in os.walk(raw):
                yield Path(dirpath)
        else:
            yield Path(os.path.dirname(raw) or ".")


def package_root(paths: Sequence[str]) -> Path:
    """The directory the names of the files are relative to: the directory given, or
    the one holding everything given."""
    if not paths:
        return Path(".")
    dirs = [os.path.abspath(raw if os.path.isdir(raw) else os.path.dirname(raw) or ".")
            for raw in paths]
    common = os.path.commonpath(dirs)
    return Path(os.path.relpath(common) if not os.path.isabs(paths[0]) else common)


def collect(paths: Sequence[str]) -> Iterable[Path]:
    """The files to read: a file as given, a directory walked as kpt walks a package."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found: list[Path] = []
            _walk(p, p, Ignore.of(p), found)
            yield from found
        elif p.is_file() or p.is_symlink():
            yield p  # (a dangling link fails when read, named)
        else:
            raise InputError(f"{raw}: no such file or directory")


def _walk(directory: Path, package: Path, ignore: Ignore, found: list[Path]) -> None:
    """kpt's walk: names in lexical order, a directory's files where it sorts (so that
    `sub/x.yaml` comes before `two.yaml`), symbolic links to directories not followed,
    each subpackage with its own `.krmignore` only."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        raise InputError(f"{directory}: {exc.strerror}") from None
    for entry in entries:
        path = Path(entry.path)
        parts = path.relative_to(package).parts
        if entry.is_dir(follow_symlinks=False):
            if ignore.ignores(parts, True):
                continue
            if (path / "Kptfile").exists():
                _walk(path, path, Ignore.of(path), found)
            else:
                _walk(path, package, ignore, found)
        elif (entry.name == "Kptfile" or entry.name.endswith(_SUFFIXES)) and \
                not ignore.ignores(parts, False):
            found.append(path)
