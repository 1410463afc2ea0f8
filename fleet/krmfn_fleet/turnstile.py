"""The turnstile that orders allocation across local worker processes: the ledger hands
the lowest free block to whoever asks first, so jobs take their turn at the allocating
steps in the fleet's order, not the scheduler's (`krmfn_fleet.schedule` for PackageVariant
fleets, `krmfn_fleet.sites` for the one-blueprint shortcut)."""

from __future__ import annotations

from multiprocessing.context import BaseContext

from krmfn_fleet.package_job import LEDGER_FUNCTIONS

__all__ = ["LocalTurn", "Turnstile"]


class Turnstile:
    """The number of the job whose turn it is to allocate, shared by worker processes."""

    def __init__(self, context: BaseContext) -> None:
        self.changed = context.Condition()
        self.next = context.Value("q", 0, lock=False)


class LocalTurn:
    """Job `index`'s pass through the turnstile (a `krmfn_fleet.pipeline.Serial`):
    entering waits for its number, leaving passes the turn on; both at most once.

    The allocating steps (ipam-inject, vlan-assign) of job i run only after those of jobs
    0..i-1. Every job passes exactly once, in order, even one that fails or allocates
    nothing, so the next never waits for ever; steps before and after (site facts,
    namespaces, validation, writing files) still run side by side."""

    functions = LEDGER_FUNCTIONS

    def __init__(self, turnstile: Turnstile, index: int) -> None:
        self._turnstile, self._index = turnstile, index
        self._entered = self._left = False

    def enter(self) -> None:
        if not self._entered:
            turnstile = self._turnstile
            with turnstile.changed:
                turnstile.changed.wait_for(lambda: turnstile.next.value == self._index)
            self._entered = True

    def leave(self) -> None:
        if not self._left:
            self.enter()
            with self._turnstile.changed:
                self._turnstile.next.value = self._index + 1
                self._turnstile.changed.notify_all()
            self._left = True
