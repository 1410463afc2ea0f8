"""Anchors in pattern keys: `(k)`, `<(k)`, `=(k)`, `X(k)`, `^(k)` and mutate's `+(k)`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = ["Anchor", "AnchorKind", "parse_key"]

_ANCHORED = re.compile(r"(?P<modifier>[<=X^+]?)\((?P<key>.+)\)")


class AnchorKind(Enum):
    NONE = ""
    CONDITION = "()"
    GLOBAL = "<()"
    EQUALITY = "=()"
    NEGATION = "X()"
    EXISTENCE = "^()"
    ADD_IF_MISSING = "+()"


_BY_MODIFIER = {
    "": AnchorKind.CONDITION,
    "<": AnchorKind.GLOBAL,
    "=": AnchorKind.EQUALITY,
    "X": AnchorKind.NEGATION,
    "^": AnchorKind.EXISTENCE,
    "+": AnchorKind.ADD_IF_MISSING,
}


@dataclass(frozen=True)
class Anchor:
    """A pattern key split into its anchor and the resource field it names."""

    kind: AnchorKind
    key: str
    raw: str

    @property
    def is_condition(self) -> bool:
        """Conditions decide whether the pattern applies at all; they never fail it."""
        return self.kind in (AnchorKind.CONDITION, AnchorKind.GLOBAL)


def parse_key(raw: str) -> Anchor:
    found = _ANCHORED.fullmatch(raw)
    if found is None:
        return Anchor(AnchorKind.NONE, raw, raw)
    return Anchor(_BY_MODIFIER[found["modifier"]], found["key"], raw)
