"""Field paths: `spec.containers[0].image`, `spec.containers[name=web].image`,
kustomize's `spec.containers.[name=web].image`, and `metadata.labels["app.kubernetes.io/name"]`
for keys that contain dots. Parsed once and cached, since functions reuse a few paths a lot.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from krmfn._errors import FieldError

__all__ = ["Match", "Path", "Segment", "format_path", "parse_path"]


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


def parse_path(path: Path) -> tuple[Segment, ...]:
    if isinstance(path, str):
        return _parse(path)
    return tuple(path)


@lru_cache(maxsize=1024)
def _parse(text: str) -> tuple[Segment, ...]:
    if not text:
        raise FieldError(text, "empty field path")
    segs: list[Segment] = []
    i, n = 0, len(text)
    expect_key = True
    while i < n:
        c = text[i]
        if c == "[":
            end = _closing_bracket(text, i)
            segs.append(_bracket(text, text[i + 1 : end]))
            i = end + 1
            expect_key = False
        elif c == ".":
            if expect_key or i + 1 >= n:
                raise FieldError(text, "malformed field path (empty segment)")
            i += 1
            if text[i] != "[":
                expect_key = True
        elif expect_key:
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            segs.append(text[i:j])
            i = j
            expect_key = False
        else:
            raise FieldError(text, f"malformed field path at {text[i:]!r}")
    if expect_key:
        raise FieldError(text, "malformed field path (trailing dot)")
    return tuple(segs)


def _closing_bracket(text: str, start: int) -> int:
    i = start + 1
    quote = text[i] if i < len(text) and text[i] in "\"'" else ""
    if quote:
        end = text.find(quote, i + 1)
        if end < 0 or end + 1 >= len(text) or text[end + 1] != "]":
            raise FieldError(text, "unterminated quoted key in field path")
        return end + 1
    end = text.find("]", i)
    if end < 0:
        raise FieldError(text, "unterminated '[' in field path")
    return end


def _bracket(path: str, inner: str) -> Segment:
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
        return inner[1:-1]
    if "=" in inner:
        key, _, value = inner.partition("=")
        if not key:
            raise FieldError(path, f"malformed selector [{inner}]")
        return Match(key.strip(), value.strip())
    try:
        return int(inner)
    except ValueError:
        raise FieldError(path, f"malformed index [{inner}]") from None


def format_path(segs: Sequence[Segment]) -> str:
    """The canonical text of a path, as results report it."""
    out: list[str] = []
    for s in segs:
        if isinstance(s, int):
            out.append(f"[{s}]")
        elif isinstance(s, Match):
            out.append(f"[{s.key}={s.value}]")
        elif "." in s or "[" in s or not s:
            out.append(f'["{s}"]')
        else:
            out.append(f".{s}" if out else s)
    return "".join(out)
