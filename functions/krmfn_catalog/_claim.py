"""What the ipam-inject and vlan-assign claims share: they are read from a resource."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from krmfn import KubeObject

__all__ = ["ObjectClaim"]


class ObjectClaim:
    """A claim read from a resource: its name and namespace are the resource's (a
    KubeObject keeps its identity once read, so asking again costs nothing)."""

    obj: KubeObject

    @property
    def name(self) -> str:
        return self.obj.name

    @property
    def namespace(self) -> str:
        return self.obj.namespace
