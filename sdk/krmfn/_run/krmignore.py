"""`.krmignore`: the files and directories a package leaves out, matched as kpt matches them.

kpt reads a package's `.krmignore` (at its root, and at the root of every subpackage: a
directory holding a Kptfile) with a gitignore-like matcher that differs from git's in ways
a package author can see, so we follow kpt rather than git:

- a line is trimmed of spaces at both ends; empty lines and `#` lines are skipped, `\\#`
  starts a pattern with `#`;
- `!pattern` re-includes what it matches whatever the order of the lines (any matching
  `!` pattern wins), though not inside a directory already left out;
- a pattern with a leading `/` matches the whole path from the package's root; any other
  pattern matches the LAST components of a path, as many as the pattern has (`ign` and
  `ign/` match `ign` at any depth, `a/b` matches `x/a/b` too); a trailing `/` matches
  directories only; `**` has no special meaning;
- `*`, `?` and `[...]` (`[^...]` negates) never match `/`; `\\` escapes;
- a package's patterns apply to its own files only: never inside a subpackage, which has
  its own `.krmignore`; a parent's pattern can leave a whole subpackage out.

(kpt compares a subpackage's directory with later paths as strings, so the patterns of a
subpackage `sub` also cover a sibling `sub2`; we follow the directory tree instead.)
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["IGNORE_FILE", "Ignore"]

IGNORE_FILE = ".krmignore"


class _Pattern:
    __slots__ = ("anchored", "depth", "dir_only", "regex")

    def __init__(self, line: str) -> None:
        self.anchored = line.startswith("/")
        self.dir_only = line.endswith("/")
        body = line.strip("/")
        self.depth = body.count("/") + 1
        self.regex = _glob(body) if any(c in line for c in "*?[") else re.escape(body)

    def matches(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if self.anchored:
            if len(parts) != self.depth:
                return False
            tail = parts
        else:
            if len(parts) < self.depth:
                return False
            tail = parts[len(parts) - self.depth:]
        return re.fullmatch(self.regex, "/".join(tail)) is not None


class Ignore:
    """The patterns of one `.krmignore`; `ignores(relative_parts, is_dir)`."""

    def __init__(self, text: str = "") -> None:
        self._ignore: list[_Pattern] = []
        self._accept: list[_Pattern] = []
        for raw in text.split("\n"):
            line = raw.removesuffix("\r").strip(" ")
            if not line or line.startswith("#"):
                continue
            if line.startswith("\\#"):
                line = line[1:]
            accept = line.startswith("!")
            line = line.removeprefix("!")
            if line:
                (self._accept if accept else self._ignore).append(_Pattern(line))

    @classmethod
    def of(cls, directory: Path) -> Ignore:
        """The `.krmignore` of a package directory (none: nothing is left out)."""
        try:
            return cls((directory / IGNORE_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return cls()

    def ignores(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if not parts or not self._ignore:
            return False
        if any(p.matches(parts, is_dir) for p in self._accept):
            return False
        return any(p.matches(parts, is_dir) for p in self._ignore)


def _glob(pattern: str) -> str:
    """A regular expression for a shell pattern as Go's `filepath.Match` reads it (no
    match for `/` but a literal one); a malformed pattern matches nothing."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            if i == n:
                return r"(?!)"
            out.append(re.escape(pattern[i]))
            i += 1
        elif c == "[":
            negate = i < n and pattern[i] == "^"
            i += negate
            items: list[str] = []
            while True:
                if i >= n:
                    return r"(?!)"
                c = pattern[i]
                if c == "]" and items:
                    i += 1
                    break
                lo, i = _class_char(pattern, i)
                if lo is None:
                    return r"(?!)"
                if i < n and pattern[i] == "-":
                    hi, i = _class_char(pattern, i + 1)
                    if hi is None or hi < lo:
                        return r"(?!)"
                    items.append(f"{re.escape(lo)}-{re.escape(hi)}")
                else:
                    items.append(re.escape(lo))
            out.append(f"(?!/)[{'^' if negate else ''}{''.join(items)}]")
        else:
            out.append(re.escape(c))
    return "".join(out)


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    """One character of a `[...]` class (escapes read), and where the next one starts."""
    if i >= len(pattern) or pattern[i] in "-]":
        return None, i
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return None, i
    return pattern[i], i + 1
