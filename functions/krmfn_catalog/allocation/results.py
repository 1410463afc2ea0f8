"""The answer shape shared by the IP and VLAN allocators.

Bad user data never raises: each claim either gets an allocation or an error, so a
function can report every problem of a package at once and then decide to write nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .ledger import IPRecord, VLANRecord

__all__ = ["AllocationError", "AllocationResult"]

T = TypeVar("T")


@dataclass(frozen=True)
class AllocationError:
    """Why one claim (by its owner key) got nothing."""

    key: str
    message: str


@dataclass(frozen=True)
class AllocationResult(Generic[T]):
    """Allocations by owner key, plus per-claim errors, and what the ledger released.

    When `errors` is not empty the ledger was left untouched, so the caller should write
    nothing back either: the allocations present are answers, not reservations.
    `released` holds the records of the run's package that no claim of the run asked for
    any more (and subnets left without a host), now free.
    """

    allocations: dict[str, T] = field(default_factory=dict)
    errors: list[AllocationError] = field(default_factory=list)
    released: list[IPRecord | VLANRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
