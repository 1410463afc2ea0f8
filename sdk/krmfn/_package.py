"""Reading a package of YAML files into a ResourceList, and writing it back.

Each file is cut into documents at `---` lines (YAML forbids that marker inside a
document, so the cut is exact); a document that holds a resource becomes an item, anything
else (comments only, empty) is kept as text so the file comes back as it was. Writes are
atomic: every file goes to a temporary file first, is fsynced, then renamed into place.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from krmfn._errors import InputError
from krmfn._object import INDEX_ANNOTATIONS, PATH_ANNOTATIONS, KubeObject
from krmfn._resource_list import ResourceList
from krmfn._text_ends import ended

__all__ = ["Package", "package_from_texts", "read_package", "read_texts"]

_SEPARATOR = re.compile(r"^---[ \t]*(?:#[^\n]*)?(?:\n|\Z)", re.M)
_SUFFIXES = (".yaml", ".yml")


class Package:
    """The files a ResourceList was read from, to write its items back into them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # file -> list of segments: a KubeObject or raw text (separators, comment-only docs)
        self.files: dict[str, list[KubeObject | str]] = {}
        # the resources whose document (after a `---`) began with a byte order mark: written
        # with one again
        self.bom: set[int] = set()

    def render_files(self, rl: ResourceList) -> dict[str, str]:
        """The new content of every file that exists after the run (changed or not)."""
        alive = {id(o) for o in rl.items}
        out: dict[str, list[str]] = {}
        for name, segments in self.files.items():
            out[name] = [seg if isinstance(seg, str) else (
                "\ufeff" if id(seg) in self.bom else "") + seg.to_yaml()
                         for seg in _without_removed(segments, alive)]
        known = {id(s) for segs in self.files.values() for s in segs if not isinstance(s, str)}
        for obj in rl.items:
            if id(obj) in known:
                continue
            name = obj.path or f"{obj.kind.lower()}_{obj.name}.yaml"
            removed = [obj.remove_annotation(key) for key in (*PATH_ANNOTATIONS,
                                                               *INDEX_ANNOTATIONS)]
            if any(removed) and obj.get("metadata.annotations") == {}:
                obj.delete("metadata.annotations")  # it held only what was just removed
            parts = out.setdefault(name, [])
            if parts and not _ends_with_separator(parts):
                parts[-1] = ended(parts[-1])
                parts.append("---\n")
            parts.append(obj.to_yaml())
        # A file is written as it reads (a missing final newline stays missing), so that an
        # unchanged file compares equal and is left alone.
        return {name: "".join(parts) for name, parts in out.items()
                if "".join(parts).lstrip("\ufeff").strip()}

    def write(self, rl: ResourceList, *, durable: bool = True) -> list[str]:
        """Write back every changed file atomically; the names written.

        Each file is written whole to a temporary file and renamed over the old one, so a
        crash leaves the old or the new content, never a mix. `durable` also fsyncs each
        file before the rename (for power loss); a caller writing many packages can pass
        False and sync once at the end. Files keep their permission bits."""
        contents = self.render_files(rl)
        # files whose every resource is gone go too (a comment-only file stays)
        gone = [self.root / name for name, segments in self.files.items()
                if name not in contents and any(isinstance(s, KubeObject) for s in segments)]
        pending: list[tuple[str, Path]] = []
        try:
            for name, text in contents.items():
                target = self.root / name
                before = _read_raw(target)
                if before is not None:
                    if before.replace("\r\n", "\n").replace("\r", "\n") == text:
                        continue  # (read as Python reads text: any line break is "\n")
                    if "\r\n" in before and before.count("\r\n") == before.count("\n"):
                        text = text.replace("\n", "\r\n")  # a CRLF file stays one
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
                os.fchmod(fd, _mode_for(target))
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    if durable:
                        fh.flush()
                        os.fsync(fh.fileno())
                pending.append((tmp, target))
        except OSError as exc:
            for tmp, _ in pending:
                os.unlink(tmp)
            raise InputError(f"cannot write {exc.filename}: {exc.strerror}") from None
        for tmp, target in pending:
            os.replace(tmp, target)
        for target in gone:
            target.unlink(missing_ok=True)
        return [str(t.relative_to(self.root)) for t in [*(t for _, t in pending), *gone]]


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


def _ends_with_separator(parts: list[str]) -> bool:
    return bool(parts) and parts[-1].rstrip().endswith("---")


def read_package(paths: Sequence[str]) -> tuple[ResourceList, Package]:
    """Read files and directories (recursively: *.yaml, *.yml, Kptfile)."""
    root, texts = read_texts(paths)
    return package_from_texts(root, texts)


def read_texts(paths: Sequence[str]) -> tuple[Path, list[tuple[str, str]]]:
    """The package's root and its files' texts, by name relative to the root, in kpt's
    order: what `package_from_texts` reads (the fleet reads a blueprint once)."""
    files = list(_collect(paths))
    root = Path(os.path.commonpath([str(p.parent if p.is_file() else p) for p, _ in files])
                if files else ".")
    texts = []
    for path, _ in files:
        name = str(path.relative_to(root))
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
            try:
                obj = KubeObject.from_yaml(doc[bom:])
            except InputError as exc:
                raise InputError(f"{name}: {str(exc).removeprefix('resource: ')}") from None
            if bom:
                pkg.bom.add(id(obj))
            obj._origin = (name, index)
            index += 1
            segments.append(obj)
            items.append(obj)
        pkg.files[name] = segments
    return ResourceList(items), pkg


def _collect(paths: Sequence[str]) -> Iterable[tuple[Path, None]]:
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            yield p, None
        elif p.is_dir():
            found = []
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                found += [Path(dirpath) / f for f in filenames
                          if f == "Kptfile" or (f.endswith(_SUFFIXES) and not f.startswith("."))]
            # kpt's order: a lexical walk, where `sub/x.yaml` comes before `two.yaml`
            yield from ((f, None) for f in sorted(found, key=lambda f: f.relative_to(p).parts))
        else:
            raise InputError(f"{raw}: no such file or directory")


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
