"""The rules both allocators share: the order of sources, and when a clash is an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# A claim is served from the first of these that fits, then gets something new.
SOURCES = ("static", "status", "ledger")


class Discard(Exception):
    """Leaves a ledger session so that it records nothing (a claim of the run failed)."""


class Rejected(Exception):
    """A candidate does not fit a claim; `hard` ones become the claim's error."""

    def __init__(self, message: str, hard: bool) -> None:
        super().__init__(message)
        self.hard = hard


@dataclass(frozen=True)
class Holder:
    """Who holds a value, for messages; `in_package` when it is another claim of this run."""

    label: str
    in_package: bool


def is_hard(source: str, holder: Holder) -> bool:
    """Whether a clash with `holder` is an error rather than a reason to move.

    Statics and new allocations always fail; an old status only when another claim of the
    same package holds the value (two claims carry one answer: the package is wrong). A
    status clashing with another owner in the ledger is moved, e.g. a package copied
    from another site.
    """
    return source in ("static", "new") or (source == "status" and holder.in_package)


class _Named(Protocol):
    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def key(self) -> str: ...


def claim_order(claim: _Named) -> tuple[str, str, str, str]:
    """Claims are served by namespace/name; the rest only breaks ties deterministically.

    `str()` keeps a missing namespace from making the sort itself fail.
    """
    return (str(claim.namespace), str(claim.name), str(claim.key), repr(claim))
