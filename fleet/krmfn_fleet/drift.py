"""What was rendered, and what has changed by hand since: the base store and drift.

Every render records, per package, the digest of every file it rendered (`files` in the
package's lock entry: path -> git blob id, the id `git hash-object` gives, so that the
files of a published repository compare without reading them) and keeps the rendered
text itself under `OUT/.krmfn-fleet/base/<cluster>/<package>/`. That copy is the base
of the three-way merge that keeps hand edits when a package is rendered again (see
`krmfn_fleet.update`), and the left side of the diff the plan shows. It lives outside
every cluster directory, so no GitOps agent syncing `OUT/<cluster>/` (or the published
repository, which never receives it) ever reads it.

Drift is a file whose content is not what the last render wrote: changed, deleted, or
added by hand in a package directory.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["BASE", "Directory", "Drift", "Source", "blob_id", "drift_of", "drifted",
           "file_ids", "package_files", "read_base", "remove_base", "store_base"]

BASE = Path(".krmfn-fleet") / "base"
_SKIP = (".git", ".expected")


@dataclass(frozen=True)
class Drift:
    """One file of one package that is not what the last render wrote."""

    key: str  # cluster/package
    file: str  # path inside the package
    state: str  # changed, deleted, added
    diff: str  # unified diff, rendered -> as it stands ("" for a binary file)


def blob_id(data: bytes) -> str:
    """The git blob id of `data` (SHA-1 object format), as `git hash-object` computes it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def package_files(root: Path) -> dict[str, bytes]:
    """Every file of a package directory (posix path inside it -> bytes), sorted; a
    symbolic link is not followed (render never writes one, and what it points at may
    lie outside OUT)."""
    out: dict[str, bytes] = {}
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP)
        here = Path(dirpath)
        for f in sorted(filenames):
            if f not in _SKIP and not (here / f).is_symlink():  # never read outside
                out[(here / f).relative_to(root).as_posix()] = (here / f).read_bytes()
    return out


def file_ids(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: blob_id(data) for name, data in sorted(files.items())}


def store_base(out: Path, key: str, files: Mapping[str, bytes]) -> None:
    """Keep `files` (what was just rendered for `key`) as its base, replacing the old.

    Files are overwritten in place and only those gone are removed (removing a file costs
    far more than rewriting one on common filesystems, and every package of an upgrade
    passes here). A base left half written (the render interrupted) no longer matches
    the lock's ids, and a merge then refuses to use it (`krmfn_fleet.update`)."""
    target = out / BASE / key
    old = package_files(target)
    for name in old.keys() - files.keys():
        (target / name).unlink()
    for name, data in files.items():
        if old.get(name) == data:
            continue
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    target.mkdir(parents=True, exist_ok=True)


def read_base(out: Path, key: str) -> dict[str, bytes]:
    return package_files(out / BASE / key)


def remove_base(out: Path, key: str) -> None:
    shutil.rmtree(out / BASE / key, ignore_errors=True)
    cluster = (out / BASE / key).parent
    if cluster.is_dir() and not any(cluster.iterdir()):
        cluster.rmdir()


def drifted(recorded: Mapping[str, str], current: Mapping[str, str]) -> list[tuple[str, str]]:
    """(file, state) for every file whose id differs from the recorded one."""
    out = []
    for name in sorted(set(recorded) | set(current)):
        if name not in current:
            out.append((name, "deleted"))
        elif name not in recorded:
            out.append((name, "added"))
        elif recorded[name] != current[name]:
            out.append((name, "changed"))
    return out


def _diff(key: str, name: str, before: bytes | None, after: bytes | None) -> str:
    try:
        old = (before or b"").decode("utf-8").splitlines(keepends=True)
        new = (after or b"").decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return ""
    lines = difflib.unified_diff(old, new, f"rendered/{key}/{name}", f"{key}/{name}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


class Source(Protocol):
    """Where packages stand: OUT (`Directory`) or a published repository."""

    def ids(self, key: str) -> dict[str, str] | None:
        """The id of every file of the package (None: the package is not there)."""

    def read(self, key: str, name: str) -> bytes | None: ...


class Directory:
    """Packages as they stand in OUT."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def ids(self, key: str) -> dict[str, str] | None:
        root = self.out / key
        return file_ids(package_files(root)) if root.is_dir() else None

    def read(self, key: str, name: str) -> bytes | None:
        path = self.out / key / name
        return path.read_bytes() if path.is_file() else None


def drift_of(out: Path, lock: Mapping[str, Mapping[str, Any]],
             keys: Iterable[str] | None = None,
             source: Source | None = None) -> list[Drift]:
    """The drift of every package of the lock that records its files (or of `keys`), as
    the package stands in `source` (OUT by default). A package that is not there at all
    is not drift: the plan calls it missing and render creates it again."""
    where = source if source is not None else Directory(out)
    found: list[Drift] = []
    for key in sorted(keys if keys is not None else lock):
        recorded = lock.get(key, {}).get("files")
        if not isinstance(recorded, dict):
            continue
        current = where.ids(key)
        if current is None:
            continue
        states = drifted(recorded, current)
        if not states:
            continue
        base = out / BASE / key
        for name, state in states:
            before = (base / name).read_bytes() if (base / name).is_file() else None
            found.append(Drift(key, name, state,
                               _diff(key, name, before, where.read(key, name))))
    return found
