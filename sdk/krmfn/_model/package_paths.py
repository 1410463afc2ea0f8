"""Where a resource's file may be: the rules every path written into a package obeys.

A path a function gives (`config.kubernetes.io/path`) is relative to the package, stays
inside it once `.` and `..` are resolved, and names a `.yaml`/`.yml` file (or a Kptfile),
so that the next read finds the resource again. A file name made from a resource's kind
and name is one safe path component: separators, control characters and other unusual
characters become `_`, runs of dots become one, and it is at most `_STEM` characters long;
it never lands in a file that exists or that another resource was given, so two new
resources never share a file unless a function put them in one on purpose.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

__all__ = ["RESERVED", "check_file_path", "default_file", "is_reserved"]

# The annotations kpt uses to carry a resource's file and place on the wire; a run reads
# them, never writes them into a user's file.
RESERVED = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path",
            "internal.config.kubernetes.io/index", "config.kubernetes.io/index",
            "config.k8s.io/id")
_INTERNAL = "internal.config.kubernetes.io/"
_SUFFIXES = (".yaml", ".yml")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STEM = 100  # characters, so that a name with its suffix stays far below NAME_MAX bytes


def is_reserved(key: str) -> bool:
    return key in RESERVED or key.startswith(_INTERNAL)


def check_file_path(path: str) -> str:
    """The normalised package-relative form of `path`; ValueError saying what is wrong."""
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ValueError(f"{path!r} holds a control character")
    if path.startswith("/"):
        raise ValueError(f"{path!r} is absolute")
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../"):
        raise ValueError(f"{path!r} is outside the package")
    if norm == "." or path.endswith("/"):
        raise ValueError(f"{path!r} names a directory")
    base = posixpath.basename(norm)
    if not (base.endswith(_SUFFIXES) or base == "Kptfile"):
        raise ValueError(f"{path!r} is not a .yaml or .yml file (it would not be read again)")
    return norm


def default_file(kind: str, name: str, taken: Callable[[str], bool]) -> str:
    """`<kind>_<name>.yaml` made safe, with `-2`, `-3`... added while `taken` says the
    name is (a caller compares without case, for file systems that ignore it)."""
    stem = _UNSAFE.sub("_", f"{kind.lower()}_{name}")
    stem = re.sub(r"\.{2,}", ".", stem).strip(".") or "resource"
    stem = stem[:_STEM]
    candidate, n = f"{stem}.yaml", 1
    while taken(candidate):
        n += 1
        candidate = f"{stem}-{n}.yaml"
    return candidate
