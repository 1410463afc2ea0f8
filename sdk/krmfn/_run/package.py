"""Reading a package of YAML files into a ResourceList, and writing it back.

Each file is cut into documents at `---` lines (YAML forbids that marker inside a
document, so the cut is exact); a document that holds a resource becomes an item, anything
else (comments only, empty) is kept as text so the file comes back as it was. A document
that is not a resource (a Helm `values.yaml`, a `kind: List`) is an error naming its file,
as kpt makes it one: `.krmignore` leaves such files out (see `krmfn._run.krmignore`).

Writing follows the rules of `krmfn._model.package_paths` (where a file may be) and commits all
files at once (`krmfn._run.commit`). A resource goes to the file its path annotation names
when a function set one (moved there if it came from another file), else back to its own
file; new resources without one get a file of their own. kpt's path, index and id
annotations are never written into a file.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from krmfn._errors import InputError
from krmfn._large.lazy_list import shape_problem
from krmfn._model.object import INDEX_ANNOTATIONS, PATH_ANNOTATIONS, KubeObject
from krmfn._model.package_paths import check_file_path, default_file, is_reserved
from krmfn._model.resource_list import ResourceList
from krmfn._run.commit import JOURNAL, Change, commit, recover
from krmfn._run.package_walk import collect, package_root, scratch_dirs
from krmfn._text.ends import ended

__all__ = ["Package", "package_from_texts", "read_package", "read_texts"]

_SEPARATOR = re.compile(r"^---[ \t]*(?:#[^\n]*)?(?:\n|\Z)", re.M)
_LAST = 1 << 62  # the place of a resource added to a file without an index


class Package:
    """The files a ResourceList was read from, to write its items back into them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # file -> list of segments: a KubeObject or raw text (separators, comment-only docs)
        self.files: dict[str, list[KubeObject | str]] = {}
        # kpt's annotations a resource held in its file (they stay as they were), and
        # the resources whose file gave them an annotations map
        self._held: dict[int, dict[str, str]] = {}
        self._mapped: set[int] = set()
        self._placed: dict[int, tuple[str | None, int | None]] = {}
        # the resources whose document (after a `---`) began with a byte order mark: written
        # with one again
        self.bom: set[int] = set()

    def _remember(self, obj: KubeObject) -> None:
        annotations = obj.get("metadata.annotations")
        if annotations is not None:
            self._mapped.add(id(obj))
        if isinstance(annotations, dict):
            held = {k: v for k, v in annotations.items() if is_reserved(k)}
            if held:
                self._held[id(obj)] = held

    def layout(self, rl: ResourceList, exists: Callable[[str], bool] | None = None
               ) -> dict[str, list[KubeObject | str]]:
        """Every file's segments after the run, and takes kpt's annotations off the items.

        Raises InputError naming the resource whose path is not allowed. `exists` tells
        whether a file is on disk, so that a new resource's own file is a new one."""
        alive = {id(o) for o in rl.items}
        origin = {id(s): name for name, segs in self.files.items() for s in segs
                  if not isinstance(s, str)}
        taken = {name.casefold() for name in self.files}
        arrivals: dict[str, list[tuple[int, int, KubeObject]]] = {}
        for order, obj in enumerate(rl.items):
            placed = self._placed.get(id(obj))
            if placed is None:
                placed = self._placed[id(obj)] = self._placement(obj)
            path, index = placed
            home = origin.get(id(obj))
            if home is not None and path in (None, home):
                continue
            if path is None:
                path = default_file(obj.kind, obj.name, lambda n: n.casefold() in taken
                                    or bool(exists and exists(n)))
            taken.add(path.casefold())
            alive.discard(id(obj))  # it leaves the file it came from
            arrivals.setdefault(path, []).append((_LAST if index is None else index, order, obj))
        out = {name: _without_removed(segments, alive) for name, segments in self.files.items()}
        for name, group in arrivals.items():
            parts = out.setdefault(name, [])
            for _, _, obj in sorted(group, key=lambda g: g[:2]):
                if parts and not _ends_with_separator(parts):
                    parts.append("---\n")
                parts.append(obj)
        for obj in rl.items:
            self._unannotate(obj)
        return out

    def render_files(self, rl: ResourceList,
                     exists: Callable[[str], bool] | None = None) -> dict[str, str]:
        """The new content of every file that exists after the run (changed or not)."""
        out: dict[str, str] = {}
        for name, segments in self.layout(rl, exists).items():
            parts: list[str] = []
            for seg in segments:
                text = seg if isinstance(seg, str) else (
                    "\ufeff" if id(seg) in self.bom else "") + seg.to_yaml()
                if parts and parts[-1] != "\ufeff":  # (only a file's last document can
                    # lack a final line break; the byte order mark stands before the first)
                    parts[-1] = ended(parts[-1])
                parts.append(text)
            # A file is written as it reads (a missing final newline stays missing), so
            # that an unchanged file compares equal and is left alone.
            if "".join(parts).lstrip("\ufeff").strip():
                out[name] = "".join(parts)
        return out

    def write(self, rl: ResourceList, *, durable: bool = True) -> list[str]:
        """Write back every changed file, all of them or none (see `krmfn._run.commit`); the
        names written. `durable` fsyncs each file before it replaces the old one (for
        power loss); a caller writing many packages can pass False and sync once at the
        end. Files keep their permission bits; a file read through a symbolic link is
        written through it when its target lies inside the package."""
        real_root = Path(os.path.realpath(self.root))
        contents = self.render_files(rl, lambda n: os.path.lexists(self.root / n))
        # files whose every resource is gone go too (a comment-only file stays)
        gone = [name for name, segments in self.files.items()
                if name not in contents and any(isinstance(s, KubeObject) for s in segments)]
        changes: list[Change] = []
        seen: dict[Path, str] = {}
        for name, text in contents.items():
            before = _read_raw(self.root / name)
            if before is not None:
                if before.replace("\r\n", "\n").replace("\r", "\n") == text:
                    continue  # (read as Python reads text: any line break is "\n")
                if "\r\n" in before and before.count("\r\n") == before.count("\n"):
                    text = text.replace("\n", "\r\n")  # a CRLF file stays one
            target = self._target(name, real_root)
            if target in seen:
                raise InputError(f"{name}: the same file as {seen[target]} (through a "
                                 "symbolic link): not written")
            seen[target] = name
            changes.append(Change(name, target, text, _mode_for(target)))
        for name in gone:  # (a link is deleted, never what it points to)
            if not (self.root / name).is_symlink():
                self._target(name, real_root)
            changes.append(Change(name, self.root / name, None))
        commit(self.root, changes, durable=durable)
        return [ch.name for ch in changes]

    def _target(self, name: str, real_root: Path) -> Path:
        """Where a file's bytes go: through a symbolic link when it stays inside the
        package; InputError for anything outside, a directory, or a file not read."""
        path = self.root / name
        parent = Path(os.path.realpath(path.parent))
        if not _inside(parent, real_root):
            raise InputError(f"{name}: its directory is a symbolic link out of the package: "
                             "not written")
        if path.is_symlink():
            real = Path(os.path.realpath(path))
            if not _inside(real, real_root):
                raise InputError(f"{name}: a symbolic link to {os.readlink(path)}, outside "
                                 "the package: not written through")
            return real
        if path.is_dir():
            raise InputError(f"{name}: {_about(name, self)}is a directory: not written")
        if name not in self.files and os.path.lexists(path):
            raise InputError(f"{name}: a file the package did not read (.krmignore, or not "
                             "YAML): not replaced")
        return parent / path.name

    def _placement(self, obj: KubeObject) -> tuple[str | None, int | None]:
        """The file and index a function gave a resource (None: it did not)."""
        held = self._held.get(id(obj), {})
        given = {key: value for key in (*PATH_ANNOTATIONS, *INDEX_ANNOTATIONS)
                 if (value := obj.get_annotation(key)) is not None and held.get(key) != value}
        paths = {given[k] for k in PATH_ANNOTATIONS if given.get(k)}
        indexes = {given[k] for k in INDEX_ANNOTATIONS if given.get(k)}
        who = _who(obj)
        if len(paths) > 1 or len(indexes) > 1:
            raise InputError(f"{who}: its path or index annotations disagree "
                             f"({', '.join(sorted(paths | indexes))})")
        path = index = None
        if paths:
            try:
                path = check_file_path(paths.pop())
            except ValueError as exc:
                raise InputError(f"{who}: config.kubernetes.io/path {exc}: nothing "
                                 "written") from None
        if indexes:
            value = indexes.pop()
            if not value.isdigit():
                raise InputError(f"{who}: config.kubernetes.io/index {value!r} is not a "
                                 "number")
            index = int(value)
        return path, index

    def _unannotate(self, obj: KubeObject) -> None:
        """Take off the annotations kpt uses on the wire, leaving those the file held."""
        annotations = obj.get("metadata.annotations")
        if not isinstance(annotations, dict):
            return
        held = self._held.get(id(obj), {})
        removed = False
        for key, value in annotations.items():
            if is_reserved(key) and held.get(key) != value:
                if key in held:
                    obj.set_annotation(key, held[key])
                else:
                    obj.remove_annotation(key)
                    removed = True
        if removed and obj.get("metadata.annotations") == {} and id(obj) not in self._mapped:
            obj.delete("metadata.annotations")  # it held only what was just removed


def _who(obj: KubeObject) -> str:
    ns = f"{obj.namespace}/" if obj.namespace else ""
    return f"{obj.kind} {ns}{obj.name}"


def _about(name: str, pkg: Package) -> str:
    return "" if name in pkg.files else "the file of a new resource "


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _read_raw(target: Path) -> str | None:
    """A file's text with its line breaks as they are, or None if there is none."""
    try:
        with open(target, encoding="utf-8", newline="") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _without_removed(segments: list[KubeObject | str], alive: set[int]
                     ) -> list[KubeObject | str]:
    """The segments of a file without the resources no longer in the list, each taking one
    of its `---` separators along (the one before it, else the one after)."""
    drop: set[int] = set()
    for i, seg in enumerate(segments):
        if isinstance(seg, KubeObject) and id(seg) not in alive:
            drop.add(i)
            for j in (i - 1, i + 1):
                near = segments[j] if 0 <= j < len(segments) else None
                if j not in drop and isinstance(near, str) and _SEPARATOR.fullmatch(near):
                    drop.add(j)
                    break
    return [seg for i, seg in enumerate(segments) if i not in drop]


def _mode_for(target: Path) -> int:
    """The permission bits of the file being replaced; for a new file, 0666 less umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _ends_with_separator(parts: list[KubeObject | str]) -> bool:
    return bool(parts) and isinstance(parts[-1], str) and parts[-1].rstrip().endswith("---")


def read_package(paths: Sequence[str], *, repair: bool = False
                 ) -> tuple[ResourceList, Package]:
    """Read files and directories (recursively: *.yaml, *.yml and Kptfiles, hidden ones
    too, less what `.krmignore` leaves out, as kpt reads a package). Every document must
    be a resource. `repair` first finishes what an interrupted `--in-place` run left
    (see `krmfn._run.commit`); without it such a package is an error."""
    root = package_root(paths)
    if repair and root.is_dir():
        try:
            recover(root, scratch_dirs(paths))
        except OSError as exc:
            raise InputError(f"{root}: cannot restore the package: {exc.strerror}") from None
    elif (root / JOURNAL).exists():
        raise InputError(f"{root}: an --in-place run was interrupted while it wrote the "
                         "package: run --in-place again to restore it first")
    root, texts = read_texts(paths)
    return package_from_texts(root, texts)


def read_texts(paths: Sequence[str]) -> tuple[Path, list[tuple[str, str]]]:
    """The package's root and its files' texts, by name relative to the root, in kpt's
    order: what `package_from_texts` reads (the fleet reads a blueprint once)."""
    root = package_root(paths)
    texts = []
    for path in collect(paths):
        name = os.path.relpath(path, root)
        try:
            texts.append((name, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            raise InputError(f"{name}: not UTF-8 text") from None
        except OSError as exc:
            raise InputError(f"{name}: {exc.strerror}") from None
    return root, texts


def package_from_texts(root: Path, texts: Sequence[tuple[str, str]]
                       ) -> tuple[ResourceList, Package]:
    """The ResourceList of files already read, and the Package to write them back."""
    pkg = Package(root)
    items: list[KubeObject] = []
    for name, text in texts:
        segments: list[KubeObject | str] = []
        if text.startswith("\ufeff"):  # the file's byte order mark: kept as it is
            segments.append("\ufeff")
            text = text[1:]
        index = 0
        for doc in _documents(text):
            bom = doc.startswith("\ufeff")  # a document's own (see `bom`)
            if _is_blank(doc[bom:]):
                segments.append(doc)
                continue
            where = name if index == 0 else f"{name} (resource {index + 1})"
            try:
                obj = KubeObject.from_yaml(doc[bom:])
            except InputError as exc:
                raise InputError(f"{where}: {str(exc).removeprefix('resource: ')}") from None
            _check_resource(obj, where)
            if bom:
                pkg.bom.add(id(obj))
            if "config.k" in doc or "annotations" in doc:
                pkg._remember(obj)
            obj._origin = (name, index)
            index += 1
            segments.append(obj)
            items.append(obj)
        pkg.files[name] = segments
    return ResourceList(items), pkg


def _check_resource(obj: KubeObject, where: str) -> None:
    """What kpt checks of every document in a package, with the file named: a Helm values
    file or a `kind: List` is not a resource (kpt refuses both: a List's items would need
    a file of their own each)."""
    problem = shape_problem(obj._doc.root)
    if problem is None:
        return
    kind = obj.get("kind") if problem[0] != "kind" else None
    if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list):
        raise InputError(f"{where}: a List ({kind}) is not a resource: write its items as "
                         "documents of their own, or leave the file out in .krmignore")
    raise InputError(f"{where}: not a resource ({problem[1]}): leave the file out in "
                     ".krmignore if it is not one")


def _documents(text: str) -> list[str]:
    """Documents with their separators kept as separate raw pieces."""
    out: list[str] = []
    pos = 0
    for m in _SEPARATOR.finditer(text):
        if m.start() > pos or out:
            out.append(text[pos : m.start()])
        out.append(m.group(0))
        pos = m.end()
    out.append(text[pos:])
    return [d for d in out if d != ""]


def _is_blank(doc: str) -> bool:
    return all(not ln.strip() or ln.lstrip().startswith("#") or ln.startswith("---")
               for ln in doc.splitlines())
