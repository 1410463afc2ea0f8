"""Field paths, the one grammar every method that takes a `path` reads.

A path is a string or a sequence of segments (`("metadata", "labels", "a.b/c")`: a `str`
is a map key, an `int` a list index, a `Match` a list item by field). As a string:

    metadata.name                          keys, separated by dots
    spec.containers[0].image               a list index (negative counts from the end)
    spec.containers[name=web].image        the list item whose `name` is `web`
    spec.containers.[name=web].image       the same, as kustomize writes it
    metadata.labels["app.kubernetes.io/name"]   a key holding `.`, `[`, `]` or quotes
    metadata.labels."app.kubernetes.io/name"    the same, after a dot
    metadata.labels['app.kubernetes.io/name']   single quotes work alike
    spec.ports[name="http.alt"]            a quoted value in a match

A bare key is any run of characters other than `.`, `[`, `]`, `"` and `'` (spaces, `/`,
`-`, `=` and digits included: `data.0` is the key "0"). Inside quotes every character is
taken as it is, except that a backslash takes the next character literally (`\"`, `\\`).
In brackets, spaces around an index, a match's field or an unquoted value are ignored.
Anything else is a `PathError` (a `FieldError` and a `ValueError`) giving the position
of the first character that does not fit: a path that silently meant something else
would edit the wrong field. `format_path` writes the canonical text that parses back to
the same segments (what results report).

Parsed once and cached, since functions reuse a few paths a lot.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from krmfn._errors import FieldError

__all__ = ["Match", "Path", "PathError", "Segment", "format_path", "parse_path"]


class PathError(FieldError, ValueError):
    """A field path that does not follow the grammar; `position` is the 0-based index of
    the first character that does not fit (the length of the text when it ends early)."""

    def __init__(self, path: str, position: int, message: str) -> None:
        self.position = position
        super().__init__(path, f"malformed field path at position {position}: {message}")


class Match:
    """Selects the list element whose `key` field equals `value` (`[name=web]`). Immutable
    and compared by value. (Not a dataclass: this module loads before the check worker
    forks, and `dataclasses` would bring `inspect` and `ast` into that wait.)"""

    __slots__ = ("key", "value")
    key: str
    value: str

    def __init__(self, key: str, value: str) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Match is immutable: cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Match) and (self.key, self.value) == (other.key, other.value)

    def __hash__(self) -> int:
        return hash((Match, self.key, self.value))

    def __repr__(self) -> str:
        return f"Match(key={self.key!r}, value={self.value!r})"


Segment = str | int | Match
Path = str | Sequence[Segment]

_SPECIAL = frozenset('.[]"\'')


def parse_path(path: Path) -> tuple[Segment, ...]:
    """The segments of `path` (see the module's grammar); a sequence is checked, not parsed."""
    if isinstance(path, str):
        return _parse(path)
    segs = tuple(path)
    for seg in segs:
        if not isinstance(seg, (str, int, Match)) or isinstance(seg, bool):
            raise FieldError(repr(path), f"a path segment must be a str, int or Match, "
                                         f"got {type(seg).__name__}")
    return segs


@lru_cache(maxsize=1024)
def _parse(text: str) -> tuple[Segment, ...]:
    if not text:
        raise PathError(text, 0, "empty field path")
    segs: list[Segment] = []
    i, n = 0, len(text)
    while True:
        # a segment: a bare key, a quoted key, or a bracket
        c = text[i] if i < n else ""
        if c == "[":
            seg, i = _bracket(text, i)
        elif c in ("\"", "'"):
            seg, i = _quoted(text, i)
        elif c and c not in _SPECIAL:
            j = i
            while j < n and text[j] not in _SPECIAL:
                j += 1
            seg, i = text[i:j], j
        elif c in (".", ""):
            raise PathError(text, i, "empty segment")
        else:
            raise PathError(text, i, f"expected a key, a quoted key or '[', found {c!r}")
        segs.append(seg)
        # after a segment: the end, a bracket, or a dot and the next segment
        while i < n and text[i] == "[":
            seg, i = _bracket(text, i)
            segs.append(seg)
        if i >= n:
            return tuple(segs)
        if text[i] != ".":
            raise PathError(text, i, f"expected '.' or '[' after a segment, found {text[i:]!r}")
        i += 1


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The key in quotes at `start` and the index past its closing quote."""
    quote, out, i, n = text[start], [], start + 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
        elif c == quote:
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise PathError(text, start, "unterminated quoted key")


def _bracket(text: str, start: int) -> tuple[Segment, int]:
    """The index, quoted key or match in brackets at `start`, and the index past `]`."""
    i = _skip_spaces(text, start + 1)
    n = len(text)
    if i < n and text[i] in ("\"", "'"):
        key, i = _quoted(text, i)
        return key, _close(text, _skip_spaces(text, i), start)
    end = i
    while end < n and text[end] not in "=]\"'[":
        end += 1
    if end >= n:
        raise PathError(text, start, "unterminated '['")
    if text[end] == "=":
        name = text[i:end].strip()
        if not name:
            raise PathError(text, i, f"malformed selector: no field before '=' in "
                                     f"{text[start:]!r}")
        j = _skip_spaces(text, end + 1)
        if j < n and text[j] in ("\"", "'"):
            value, j = _quoted(text, j)
            return Match(name, value), _close(text, _skip_spaces(text, j), start)
        close = j
        while close < n and text[close] not in "]\"'[":
            close += 1
        return Match(name, text[j:close].strip()), _close(text, close, start)
    if text[end] != "]":
        raise PathError(text, end, f"unexpected {text[end]!r} in brackets")
    inner = text[i:end].strip()
    digits = inner[1:] if inner.startswith("-") else inner
    if not digits.isascii() or not digits.isdigit():
        raise PathError(text, i, f"malformed index [{text[start + 1:end]}] (an integer, "
                                 "a quoted key or field=value)")
    return int(inner), end + 1


def _close(text: str, i: int, start: int) -> int:
    if i >= len(text):
        raise PathError(text, start, "unterminated '['")
    if text[i] != "]":
        raise PathError(text, i, f"expected ']' to close the '[' at position {start}")
    return i + 1


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def format_path(segs: Sequence[Segment]) -> str:
    """The canonical text of a path, as results report it; `parse_path` reads it back to
    the same segments."""
    out: list[str] = []
    for s in segs:
        if isinstance(s, int):
            out.append(f"[{s}]")
        elif isinstance(s, Match):
            value = s.value
            if not value or value != value.strip() or any(c in value for c in ']"\'[\\'):
                value = _quote(value)
            out.append(f"[{s.key}={value}]")
        elif not s or any(c in _SPECIAL for c in s) or "\\" in s:
            out.append(f"[{_quote(s)}]")
        else:
            out.append(f".{s}" if out else s)
    return "".join(out)


def _quote(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
