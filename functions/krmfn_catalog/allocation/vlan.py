"""VLAN ID allocation for VLANClaims: unique within a VLAN index, 1..4094.

Same order as for IPs: static requests, then valid statuses, then what the ledger
remembers for the owner, then the lowest free ID, claims taken by namespace/name; and, with
a known package (`owner`), what the ledger holds for it and no claim asks for is released.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from ._common import Holder, Rejected, Solver, in_claim_order, is_hard
from .ledger import IPRecord, Ledger, LedgerSession, VLANRecord
from .owner import PackageOwner
from .results import AllocationError, AllocationResult

__all__ = [
    "DEFAULT_RANGES",
    "VLAN_ID_MAX",
    "VLAN_ID_MIN",
    "VLANAllocation",
    "VLANClaimRequest",
    "VLANIndex",
    "allocate_vlans",
]

VLAN_ID_MIN, VLAN_ID_MAX = 1, 4094
# VLAN 1 is the default VLAN of most switches: only handed out when a range asks for it.
DEFAULT_RANGES: tuple[tuple[int, int], ...] = ((2, VLAN_ID_MAX),)


@dataclass(frozen=True)
class VLANIndex:
    """The IDs one index may hand out: inclusive ranges, minus reserved IDs."""

    ranges: tuple[tuple[int, int], ...] = DEFAULT_RANGES
    reserved: frozenset[int] = frozenset()


@dataclass(frozen=True)
class VLANClaimRequest:
    """One VLANClaim as the allocator needs it; `key` is its stable owner key
    (`owner.owner_key`), `cluster` and `package` who holds it, where known."""

    key: str
    namespace: str
    name: str
    index: str
    static_id: int | None = None
    current_id: int | None = None
    cluster: str | None = None
    package: str | None = None


@dataclass(frozen=True)
class VLANAllocation:
    """What goes into the claim's status: `vlanID`."""

    key: str
    vlan_id: int


def allocate_vlans(
    indexes: Mapping[str, VLANIndex],
    claims: Sequence[VLANClaimRequest],
    ledger: Ledger | None = None,
    *,
    owner: PackageOwner | None = None,
) -> AllocationResult[VLANAllocation]:
    """Answer every claim; record the answers in the ledger only when none failed.

    `owner`, when it names a package, is the package the claims are all of: its other
    records in the ledger are released."""
    run = _Run(indexes, claims)
    run.owner = owner
    return run.answer(ledger, lambda session, records: session.put_vlan(records))


class _Allowed:
    """What an index may hand out, as ascending inclusive runs of IDs."""

    def __init__(self, runs: Sequence[tuple[int, int]], ids: frozenset[int] | None = None):
        self.runs = tuple(runs)
        self._starts = [low for low, _ in self.runs]
        if ids is not None:
            self.ids = ids

    @cached_property
    def ids(self) -> frozenset[int]:
        return frozenset(i for low, high in self.runs for i in range(low, high + 1))

    def __contains__(self, value: object) -> bool:
        if type(value) is not int:
            return value in self.ids  # compared as a set compares (5.0 is 5)
        at = bisect.bisect_right(self._starts, value) - 1
        return at >= 0 and value <= self.runs[at][1]


class _Claim:
    """One request being served (a plain class: defining a dataclass costs time at start)."""

    __slots__ = ("allocation", "allowed", "failed", "position", "request")

    def __init__(self, position: int, request: VLANClaimRequest, allowed: _Allowed) -> None:
        self.position, self.request, self.allowed = position, request, allowed
        self.allocation: VLANAllocation | None = None
        self.failed = False

    @property
    def label(self) -> str:
        return f"{self.request.namespace}/{self.request.name}"

    @property
    def pending(self) -> bool:
        return self.allocation is None and not self.failed


def _is_id(value: object) -> bool:
    return type(value) is int


def _allowed_ids(name: str, index: VLANIndex) -> _Allowed:
    spans: list[tuple[int, int]] = []
    for bounds in index.ranges:
        low, high = bounds if isinstance(bounds, tuple | list) and len(bounds) == 2 else (0, 0)
        if not (_is_id(low) and _is_id(high) and VLAN_ID_MIN <= low <= high <= VLAN_ID_MAX):
            raise Rejected(f"VLAN index {name!r} has a bad range {bounds!r}", True)
        spans.append((low, high))
    reserved = set(index.reserved)
    if any(type(value) is not int for value in reserved):  # odd values: compare as a set
        allowed = {i for low, high in spans for i in range(low, high + 1)}
        ids = frozenset(allowed - reserved)
        return _Allowed(_runs([(i, i) for i in sorted(ids)], []), ids)
    return _Allowed(_runs(spans, sorted(reserved)))


def _runs(spans: list[tuple[int, int]], holes: list[int]) -> list[tuple[int, int]]:
    """The IDs of `spans` but `holes` (ascending), as maximal ascending runs."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    runs: list[tuple[int, int]] = []
    for low, high in merged:
        start = low
        for hole in holes[bisect.bisect_left(holes, low):bisect.bisect_right(holes, high)]:
            if hole > start:
                runs.append((start, hole - 1))
            start = hole + 1
        if start <= high:
            runs.append((start, high))
    return runs


class _Run(Solver[_Claim, int, VLANAllocation]):
    def __init__(
        self, indexes: Mapping[str, VLANIndex], requests: Sequence[VLANClaimRequest]
    ) -> None:
        self.indexes = indexes
        self.claims: list[_Claim] = []
        self.errors: list[tuple[int, AllocationError]] = []
        self.taken: dict[str, dict[int, Holder]] = {}  # what this run handed out
        self._cursor: dict[tuple[str, int], int] = {}  # where lowest-free searches resume
        self.own: dict[str, VLANRecord] = {}
        self.owner: PackageOwner | None = None
        self.released: list[IPRecord | VLANRecord] = []
        self.session: LedgerSession | None = None
        allowed: dict[str, _Allowed | Rejected] = {}
        owners: dict[str, str] = {}
        for position, r in enumerate(in_claim_order(requests)):
            label = f"{r.namespace}/{r.name}"
            try:
                if r.key in owners:
                    raise Rejected(f"owner key {r.key!r} is also {owners[r.key]}'s", True)
                owners[r.key] = label
                if r.index not in indexes:
                    raise Rejected(f"unknown VLAN index {r.index!r}", True)
                for what, value in (("static", r.static_id), ("status", r.current_id)):
                    if value is not None and not _is_id(value):
                        raise Rejected(f"{what} VLAN ID {value!r} is not an integer", True)
                if r.index not in allowed:
                    try:
                        allowed[r.index] = _allowed_ids(r.index, indexes[r.index])
                    except Rejected as rejected:
                        allowed[r.index] = rejected
                known = allowed[r.index]
                if isinstance(known, Rejected):
                    raise known
                self.claims.append(_Claim(position, r, known))
                self.taken.setdefault(r.index, {})
            except Rejected as rejected:
                self.errors.append((position, AllocationError(r.key, f"{label}: {rejected}")))

    def load(self, session: LedgerSession) -> None:
        """Take our own earlier answers out of the ledger, so they count as free.

        They go back with the new answers, or stay if the run fails (the session is then
        discarded); what others hold is asked for ID by ID while solving.
        """
        self.session = session
        keys = {claim.request.key for claim in self.claims}
        for record in session.pop_vlan(keys):
            self.own[record.key] = record
        owner = self.owner
        if owner is not None and owner.known:  # what the package no longer asks for
            held = session.vlan_owned(owner.cluster, owner.package)
            self.released = list(session.pop_vlan(r.key for r in held if r.key not in keys))

    def records(self) -> list[VLANRecord]:
        return [
            VLANRecord(c.request.key, c.request.index, c.allocation.vlan_id,
                       c.request.cluster or "", c.request.package or "",
                       f"{c.request.namespace}/{c.request.name}")
            for c in self.claims
            if c.allocation is not None
        ]

    def _candidate(self, claim: _Claim, source: str) -> int | None:
        if source == "static":
            return claim.request.static_id
        if source == "status":
            return claim.request.current_id
        record = self.own.get(claim.request.key)
        return None if record is None or record.index != claim.request.index else record.vlan_id

    def _fit(self, claim: _Claim, vlan_id: int | None, source: str) -> VLANAllocation:
        index = claim.request.index
        taken = self.taken[index]
        if vlan_id is None:
            vlan_id = self._lowest_free(claim)
            if vlan_id is None:
                raise Rejected(f"no free VLAN ID left in VLAN index {index!r}", True)
        what = f"{source} VLAN ID {vlan_id}"
        if not VLAN_ID_MIN <= vlan_id <= VLAN_ID_MAX:
            raise Rejected(f"{what} is out of range {VLAN_ID_MIN}-{VLAN_ID_MAX}", False)
        if vlan_id in self.indexes[index].reserved:
            raise Rejected(f"{what} is reserved in VLAN index {index!r}", False)
        if vlan_id not in claim.allowed:
            raise Rejected(f"{what} is outside the ranges of VLAN index {index!r}", False)
        holder = taken.get(vlan_id) or self._ledger_holder(index, vlan_id)
        if holder is not None:
            raise Rejected(f"{what} is held by {holder.label}", is_hard(source, holder))
        taken[vlan_id] = Holder(f"claim {claim.label}", in_package=True)
        return VLANAllocation(claim.request.key, vlan_id)

    def _lowest_free(self, claim: _Claim) -> int | None:
        assert self.session is not None, "load() first"
        index, taken = claim.request.index, self.taken[claim.request.index]
        for low, high in claim.allowed.runs:
            # Nothing is freed during a run: below the last answer for this range there is
            # nothing free, so each claim starts where the previous one stopped.
            start = max(low, self._cursor.get((index, low), low))
            value = self.session.vlan_lowest_free(index, start, high)
            while value is not None and value in taken:  # what this run handed out
                value = self.session.vlan_lowest_free(index, value + 1, high)
            if value is not None:
                self._cursor[(index, low)] = value
                return value
        return None

    def _ledger_holder(self, index: str, vlan_id: int) -> Holder | None:
        assert self.session is not None, "load() first"
        record = self.session.vlan_holder(index, vlan_id)
        return None if record is None else Holder(f"owner {record.key}", in_package=False)
