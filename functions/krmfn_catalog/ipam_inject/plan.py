"""Edits decided before anything is written, so that a run with any error writes nothing.

Every change to an existing resource is recorded here and applied at the end, in order,
only when the whole run succeeded; resources to create wait here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from krmfn import KubeObject, ResourceList

__all__ = ["FieldPath", "Plan"]

FieldPath = str | Sequence[str | int]


class Plan:
    def __init__(self) -> None:
        self.created: list[KubeObject] = []
        self._edits: list[Callable[[], object]] = []
        self._notes: list[tuple[str, KubeObject]] = []

    @property
    def notes(self) -> list[str]:
        """What the plan will change, one line per change, for the results."""
        return [message for message, _ in self._notes]

    def create(self, obj: KubeObject, note: str) -> None:
        self.created.append(obj)
        self._notes.append((note, obj))

    def set(self, obj: KubeObject, path: FieldPath, value: Any) -> bool:
        """Set a field later; False (and nothing recorded) when it already holds `value`."""
        if obj.has(path) and obj.get(path) == value:
            return False
        self._edits.append(lambda: obj.set(path, value))
        return True

    def delete(self, obj: KubeObject, path: FieldPath) -> bool:
        if not obj.has(path):
            return False
        self._edits.append(lambda: obj.delete(path))
        return True

    def later(self, edit: Callable[[], object]) -> None:
        self._edits.append(edit)

    def note(self, message: str, obj: KubeObject) -> None:
        self._notes.append((message, obj))

    def apply(self, rl: ResourceList) -> None:
        for edit in self._edits:
            edit()
        rl.items.extend(self.created)
        for message, obj in self._notes:
            rl.info(message, obj)
