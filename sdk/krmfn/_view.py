"""SubObject: a live view of one node inside a resource, with the resource's reading and
editing API relative to that node.

`obj.get(path)` returns a copy: editing it changes nothing. A view reads and edits the
resource itself, so nested work reads as it is meant:

    for c in obj.at("spec.template.spec").items("containers"):
        c.set("resources.limits.cpu", "1")

A view is the path of its node from the resource's root, not the node: every read and
edit goes through the resource (and so keeps its bytes, comments and lazy reading as
any edit does). A view of a list item holds its index: remove or insert items before it
and the view points at another item, as `spec.containers[0]` would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from krmfn._errors import FieldError, kind_of
from krmfn._path import Path, Segment, format_path, parse_path

if TYPE_CHECKING:
    from krmfn._object import KubeObject

__all__ = ["SubObject"]

_UNSET: Any = object()


class SubObject:
    """The node at `path` of `obj` (which need not exist yet: reads give defaults, and
    `set` creates the maps on the way, as on the resource)."""

    __slots__ = ("_base", "_obj")

    def __init__(self, obj: KubeObject, base: tuple[Segment, ...]) -> None:
        self._obj = obj
        self._base = base

    # ------------------------------------------------------------ where
    @property
    def resource(self) -> KubeObject:
        """The resource this view is part of (for results: `rl.error(m, c.resource, ...)`)."""
        return self._obj

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The path of the node from the resource's root."""
        return self._base

    @property
    def path(self) -> str:
        """That path as text, as results report it."""
        return format_path(self._base)

    def field(self, path: Path) -> str:
        """The text of `path` under this node, from the resource's root (for `field=`)."""
        return format_path(self._full(path))

    def _full(self, path: Path) -> tuple[Segment, ...]:
        try:
            return self._base + parse_path(path)
        except FieldError as exc:
            if exc.resource is None:
                exc.resource = self._obj
            raise

    @property
    def exists(self) -> bool:
        """Whether the node is there (a view may be made before its node)."""
        return self._obj.has(self._base)

    def value(self) -> Any:
        """A copy of the whole node as plain data (None where it is missing)."""
        return self._obj.get(self._base)

    # ------------------------------------------------------------ reading
    def get(self, path: Path, default: Any = None) -> Any:
        """A copy of the plain value at `path`, or `default` (edit it through `set`, or
        take a view with `at`)."""
        return self._obj.get(self._full(path), default)

    def has(self, path: Path) -> bool:
        """True when the field at `path`, relative to this node, exists."""
        return self._obj.has(self._full(path))

    def get_str(self, path: Path, default: Any = _UNSET) -> str:
        """As `KubeObject.get_str`, relative to this node."""
        full = self._full(path)
        return self._obj.get_str(full) if default is _UNSET else self._obj.get_str(full, default)

    def get_int(self, path: Path, default: Any = _UNSET) -> int:
        """As `KubeObject.get_int`, relative to this node."""
        full = self._full(path)
        return self._obj.get_int(full) if default is _UNSET else self._obj.get_int(full, default)

    def get_bool(self, path: Path, default: Any = _UNSET) -> bool:
        """As `KubeObject.get_bool`, relative to this node."""
        full = self._full(path)
        return (self._obj.get_bool(full) if default is _UNSET
                else self._obj.get_bool(full, default))

    def get_map(self, path: Path, default: Any = _UNSET) -> dict[str, Any]:
        """As `KubeObject.get_map`, relative to this node."""
        full = self._full(path)
        return self._obj.get_map(full) if default is _UNSET else self._obj.get_map(full, default)

    def get_list(self, path: Path, default: Any = _UNSET) -> list[Any]:
        """As `KubeObject.get_list`, relative to this node."""
        full = self._full(path)
        return (self._obj.get_list(full) if default is _UNSET
                else self._obj.get_list(full, default))

    def line_comment(self, path: Path) -> str | None:
        """As `KubeObject.line_comment`, relative to this node."""
        return self._obj.line_comment(self._full(path))

    def head_comment(self, path: Path) -> str | None:
        """As `KubeObject.head_comment`, relative to this node."""
        return self._obj.head_comment(self._full(path))

    # ------------------------------------------------------------ editing
    def set(self, path: Path, value: Any) -> None:
        """As `KubeObject.set`, relative to this node."""
        self._obj.set(self._full(path), value)

    def delete(self, path: Path) -> bool:
        """As `KubeObject.delete`, relative to this node."""
        return self._obj.delete(self._full(path))

    def append(self, path: Path, value: Any) -> None:
        """As `KubeObject.append`, relative to this node."""
        self._obj.append(self._full(path), value)

    def rename_key(self, path: Path, new: str) -> bool:
        """As `KubeObject.rename_key`, relative to this node."""
        return self._obj.rename_key(self._full(path), new)

    def set_line_comment(self, path: Path, comment: str | None) -> None:
        """As `KubeObject.set_line_comment`, relative to this node."""
        self._obj.set_line_comment(self._full(path), comment)

    def set_head_comment(self, path: Path, comment: str | None) -> None:
        """As `KubeObject.set_head_comment`, relative to this node."""
        self._obj.set_head_comment(self._full(path), comment)

    # ------------------------------------------------------------ views
    def at(self, path: Path) -> SubObject:
        """A view of the node at `path` under this one."""
        return SubObject(self._obj, self._full(path))

    def items(self, path: Path) -> list[SubObject]:
        """Views of the items of the list at `path` (none where it is missing or null);
        a FieldError if it is not a list of maps."""
        return items_of(self._obj, self._full(path))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SubObject) and other._obj is self._obj
                and other._base == self._base)

    def __hash__(self) -> int:
        return hash((id(self._obj), self._base))

    def __repr__(self) -> str:
        return f"<SubObject {self.path} of {self._obj!r}>"


def items_of(obj: KubeObject, segs: tuple[Segment, ...]) -> list[SubObject]:
    """`SubObject.items` and `KubeObject.items`: one view per item, by index."""
    value = obj.get_list(segs, None)
    if value is None:
        return []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise FieldError(format_path((*segs, i)), f"expected a map (a list item to view), "
                             f"got {kind_of(item)}", resource=obj)
    return [SubObject(obj, (*segs, i)) for i in range(len(value))]
