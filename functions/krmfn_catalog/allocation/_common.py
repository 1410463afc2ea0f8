"""The rules both allocators share: the order of sources, and when a clash is an error."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from .ledger import IPRecord, Ledger, LedgerSession, PackageLedger, VLANRecord
from .results import AllocationError, AllocationResult

# A claim is served from the first of these that fits, then gets something new.
SOURCES = ("static", "status", "ledger")


class Discard(Exception):
    """Leaves a ledger session so that it records nothing (a claim of the run failed)."""


class Rejected(Exception):
    """A candidate does not fit a claim; `hard` ones become the claim's error."""

    def __init__(self, message: str, hard: bool) -> None:
        super().__init__(message)
        self.hard = hard


class Holder(NamedTuple):
    """Who holds a value, for messages; `in_package` when it is another claim of this run.

    (A named tuple: a dataclass costs a third of a millisecond to define, at every start.)
    """

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


N = TypeVar("N", bound=_Named)


def in_claim_order(claims: Iterable[N]) -> list[N]:
    """Claims are served by namespace/name; the owner key, then the whole request (its
    repr, worked out only for such ties) break ties deterministically.

    `str()` keeps a missing namespace from making the sort itself fail.
    """
    ordered = sorted(claims, key=_name_order)
    start = 0
    while start < len(ordered):
        first, end = _name_order(ordered[start]), start + 1
        while end < len(ordered) and _name_order(ordered[end]) == first:
            end += 1
        if end - start > 1:
            ordered[start:end] = sorted(ordered[start:end], key=repr)
        start = end
    return ordered


def _name_order(claim: _Named) -> tuple[str, str, str]:
    return (str(claim.namespace), str(claim.name), str(claim.key))


class _Solvable(Protocol):
    position: int
    request: Any
    allocation: Any
    failed: bool

    @property
    def label(self) -> str: ...

    @property
    def pending(self) -> bool: ...


C = TypeVar("C", bound=_Solvable)
V = TypeVar("V")
A = TypeVar("A")


class Solver(Generic[C, V, A]):
    """The serving order both allocators share: each claim from the first source whose
    value still fits (static, status, its own ledger record), then something new; a
    rejection is an error only where `is_hard` says so."""

    claims: list[C]
    errors: list[tuple[int, AllocationError]]
    released: list[IPRecord | VLANRecord]

    def answer(self, ledger: Ledger | None,
               put: Callable[[LedgerSession, list[Any]], None]) -> AllocationResult[A]:
        """Answer every claim; record the answers in the ledger (with `put`) only when none
        failed. Without a ledger the package's claims are the only record: nothing is
        written. What `load` released is released only when the answers are recorded."""
        self.released = []
        with suppress(Discard), (ledger or PackageLedger()).session() as session:
            self.load(session)
            result = self.solve()
            if not result.ok:
                raise Discard  # and with it the records load() took out
            if ledger is not None:
                put(session, self.records())
                return dataclasses.replace(result, released=list(self.released))
        return result

    def load(self, session: LedgerSession) -> None:
        """Take this run's records out of the ledger session (each allocator's own), and
        release its package's records no claim of the run asks for (into `released`)."""
        raise NotImplementedError

    def records(self) -> list[Any]:
        """What to record for the answers (each allocator's own)."""
        raise NotImplementedError

    def solve(self) -> AllocationResult[A]:
        for source in SOURCES:
            for claim in [c for c in self.claims if c.pending]:
                value = self._candidate(claim, source)
                if value is not None:
                    self._attempt(claim, value, source)
        for claim in [c for c in self.claims if c.pending]:
            self._attempt(claim, None, "new")
        allocations = {c.request.key: c.allocation for c in self.claims if c.allocation}
        errors = [error for _, error in sorted(self.errors, key=lambda pair: pair[0])]
        return AllocationResult(allocations, errors)

    def _attempt(self, claim: C, value: V | None, source: str) -> None:
        try:
            claim.allocation = self._fit(claim, value, source)
        except Rejected as rejected:
            if source == "ledger":
                return  # our own earlier answer no longer fits: allocate afresh
            if rejected.hard or source in ("static", "new"):
                claim.failed = True
                error = AllocationError(claim.request.key, f"{claim.label}: {rejected}")
                self.errors.append((claim.position, error))

    def _candidate(self, claim: C, source: str) -> V | None:
        raise NotImplementedError

    def _fit(self, claim: C, value: V | None, source: str) -> A:
        raise NotImplementedError
