"""KubeObject: one Kubernetes resource, read and edited through field paths; SubObject: a
live view of one node inside it, with the same reading and editing API relative to that node.

Reads build Python values only for the fields asked for; writes are spliced into the
resource's original text, so whatever a function does not touch stays byte for byte.

`obj.get(path)` returns a copy: editing it changes nothing. A view reads and edits the
resource itself, so nested work reads as it is meant:

    for c in obj.at("spec.template.spec").items("containers"):
        c.set("resources.limits.cpu", "1")

A view is the path of its node from the resource's root, not the node: every read and
edit goes through the resource (and so keeps its bytes, comments and lazy reading as
any edit does). A view of a list item holds its index: remove or insert items before it
and the view points at another item, as `spec.containers[0]` would. (The two classes
share a module because each names the other: `at` makes views, a view's `resource`
is the KubeObject.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from krmfn._errors import FieldError, InputError, kind_of
from krmfn._large.lazy_item import LazyItem
from krmfn._large.lazy_list import Facts, LazyList, identity
from krmfn._model.package_paths import check_file_path
from krmfn._text.comments import edit, head_comment, line_comment
from krmfn._text.document import Doc, to_node
from krmfn._text.ends import ended, without_document_end
from krmfn._text.line_comments import comments_in
from krmfn._text.nodes import (
    MappingNode,
    Node,
    ScalarNode,
    construct,
    line_start,
)
from krmfn._text.parse import check_tree, compose, normalized
from krmfn._text.parse_list import Chunk
from krmfn._text.path import Path, Segment, format_path, parse_path
from krmfn._text.render import key_text, render_block

__all__ = ["KubeObject", "SubObject"]

T = TypeVar("T")
_MISSING: Any = object()
_METADATA: tuple[Segment, ...] = ("metadata",)
PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")


class KubeObject(LazyItem):
    """A resource; build one with `from_dict` / `from_yaml`, or get it from a ResourceList."""

    __slots__ = ("_form", "_origin")

    def __init__(self, doc: Doc | None, form: str) -> None:
        super().__init__(doc)
        self._form = form  # "chunk", "inline", "doc" (column-0 document) or "new"
        self._origin: tuple[str, int] | None = None  # (file, index) when read from files

    @classmethod
    def _lazy(cls, chunk: tuple[str, int, int], index: int, lazy_list: LazyList) -> KubeObject:
        obj = cls(None, "chunk")
        obj._chunk, obj._index, obj._list = chunk, index, lazy_list
        obj._checked = False
        return obj

    # ------------------------------------------------------------ creation
    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> KubeObject:
        """A new resource from plain data (rendered in block style when written)."""
        return cls(Doc("", to_node(dict(value))), "new")

    @classmethod
    def from_yaml(cls, text: str) -> KubeObject:
        """A resource from one YAML document; its text is kept for byte-exact output (but
        a byte order mark, and CRLF line breaks, which are read as LF)."""
        text = normalized(text)[0]
        root = compose(text, "resource")
        if not isinstance(root, MappingNode):
            raise InputError("resource: the document is not a mapping")
        if check_tree(root, "resource"):
            return cls(Doc(text, _unshared(root), rewrite=True), "doc")
        return cls(Doc(text, root), "doc")

    @classmethod
    def _from_chunk(cls, chunk: Chunk) -> KubeObject:
        root = _unshared(chunk.root) if chunk.aliased else chunk.root
        doc = Doc(chunk.text, root, start=chunk.start, end=chunk.end, rewrite=chunk.aliased,
                  keep_source=not chunk.shared)
        return cls(doc, chunk.form)

    def copy(self) -> KubeObject:
        """An independent new resource with the same content."""
        return KubeObject.from_dict(self.to_dict())

    # ------------------------------------------------------------ generic fields
    def get(self, path: Path, default: Any = None) -> Any:
        """A copy of the value at `path` as plain data (dict/list/str/int/float/bool/None),
        or `default`. Editing the copy changes nothing: edit through `set`, `append` and
        `delete`, or take a live view of the node with `at(path)`."""
        segs = parse_path(path)
        if self._absent(segs):
            return default
        node = self._doc_at(segs).lookup(segs)
        return default if node is None else construct(node)

    def at(self, path: Path) -> SubObject:
        """A live view of the node at `path`: the same reading and editing API, relative to
        that node (`obj.at("spec.template.spec").set("hostNetwork", True)`)."""
        try:
            return SubObject(self, parse_path(path))
        except FieldError as exc:
            raise _located(exc, self) from None

    def items(self, path: Path) -> list[SubObject]:
        """Live views of the items of the list of maps at `path` (none where it is missing):
        `for c in obj.items("spec.containers"): c.set("imagePullPolicy", "Always")`."""
        try:
            segs = parse_path(path)
        except FieldError as exc:
            raise _located(exc, self) from None
        return items_of(self, segs)

    def has(self, path: Path) -> bool:
        """True when the field at `path` exists (a null value counts)."""
        segs = parse_path(path)
        return not self._absent(segs) and self._doc_at(segs).lookup(segs) is not None

    def _typed(self, path: Path, types: type | tuple[type, ...], name: str, default: Any) -> Any:
        """The value at `path` if it has the type asked for; `default` where the field is
        missing or null (`key:` with nothing after it, as blueprints leave fields to fill,
        means unset in Kubernetes too), a FieldError naming the path otherwise."""
        try:
            segs = parse_path(path)
        except FieldError as exc:
            raise _located(exc, self) from None
        node = None if self._absent(segs) else self._doc_at(segs).lookup(segs)
        value = None if node is None else construct(node)
        if value is None:
            if default is _MISSING:
                raise FieldError(format_path(segs), "is required but "
                                 + ("missing" if node is None else "null"), resource=self)
            return default
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in (
                types if isinstance(types, tuple) else (types,))):
            raise FieldError(format_path(segs), f"expected {name}, got {kind_of(value)}",
                             resource=self)
        return value

    def get_str(self, path: Path, default: Any = _MISSING) -> str:
        """The string at `path`; `default` where missing or null, else a FieldError naming it."""
        return cast(str, self._typed(path, str, "a string", default))

    def get_int(self, path: Path, default: Any = _MISSING) -> int:
        """The integer at `path` (not a boolean); `default` where missing or null."""
        return cast(int, self._typed(path, int, "an integer", default))

    def get_bool(self, path: Path, default: Any = _MISSING) -> bool:
        """The boolean at `path`; `default` where missing or null."""
        return cast(bool, self._typed(path, bool, "a boolean", default))

    def get_map(self, path: Path, default: Any = _MISSING) -> dict[str, Any]:
        """A copy of the map at `path`; `default` where missing or null."""
        return cast(dict[str, Any], self._typed(path, dict, "a map", default))

    def get_list(self, path: Path, default: Any = _MISSING) -> list[Any]:
        """A copy of the list at `path`; `default` where missing or null."""
        return cast(list[Any], self._typed(path, list, "a list", default))

    def set(self, path: Path, value: Any) -> None:
        """Set a field, creating missing maps; an equal value changes nothing at all."""
        if isinstance(value, KubeObject):
            value = value.to_dict()
        try:
            segs = parse_path(path)
            self._doc_at(segs, "set").set(segs, value)
        except FieldError as exc:
            raise _located(exc, self) from None
        self._logged("set", segs, value)
        self._edited(segs)

    def delete(self, path: Path) -> bool:
        """Remove a field (its lines); False if it was not there."""
        try:
            segs = parse_path(path)
            done = self._doc_at(segs, "delete").delete(segs)
        except FieldError as exc:
            raise _located(exc, self) from None
        self._logged("delete", segs)
        self._edited(segs)
        return done

    def append(self, path: Path, value: Any) -> None:
        """Append to the list at `path`, creating it if missing."""
        try:
            segs = parse_path(path)
            self._doc_at(segs, "append").append(segs, value)
        except FieldError as exc:
            raise _located(exc, self) from None
        self._logged("append", segs, value)
        self._edited(segs)

    def _edited(self, segs: tuple[Segment, ...]) -> None:
        """Forget the identity read before an edit that may change it (an item edited in
        parts reads it anew from them: reading its head would now mean reading it whole)."""
        if not segs or segs[0] in ("apiVersion", "kind") or (segs[0] == "metadata" and (
                len(segs) == 1 or segs[1] in ("name", "namespace", "annotations"))):
            old = self._facts
            self._facts = None
            if old is not None and self._meta_parts() and self._d is None and self._h is None:
                self._facts = self._facts_from_parts(old)

    def line_comment(self, path: Path) -> str | None:
        """The `# ...` comment on the line where a scalar field ends, or on the key line of a
        block list or map (`envs: # kpt-set: ${envs}`): where kpt's setters live."""
        return line_comment(self._doc, self._segs(path))

    def set_line_comment(self, path: Path, comment: str | None) -> None:
        """Write `# comment` at the end of that line (None or "" removes it); only that
        text changes. A FieldError for a field this run added, or one that shares its line
        with others (in a flow map)."""
        self._comment_edit("set_line_comment", self._segs(path), comment)

    def head_comment(self, path: Path) -> str | None:
        """The comment lines right above the field's key (a list item's dash), at its
        column, without their `#`, joined by line breaks; None when there are none."""
        return head_comment(self._doc, self._segs(path))

    def set_head_comment(self, path: Path, comment: str | None) -> None:
        """Write the comment lines above the field (several for a text holding line
        breaks; None or "" removes them), at its column."""
        self._comment_edit("set_head_comment", self._segs(path), comment)

    def rename_key(self, path: Path, new: str) -> bool:
        """Rename the map key at `path` to `new` where it stands: its value, its place and
        its comments stay. False when there is no such key; a FieldError when `new` is a
        key of that map already."""
        segs = self._segs(path)
        try:
            done = bool(edit(self._doc, "rename_key", segs, new))
        except FieldError as exc:
            raise _located(exc, self) from None
        if done and segs[-1] != new:
            self._logged("rename_key", segs, new)
            self._edited(segs)
            self._edited((*segs[:-1], new))
        return done

    def _comment_edit(self, op: str, segs: tuple[Segment, ...], comment: str | None) -> None:
        try:
            done = edit(self._doc, op, segs, comment)
        except FieldError as exc:
            raise _located(exc, self) from None
        if done:
            self._logged(op, segs, comment)

    def _segs(self, path: Path) -> tuple[Segment, ...]:
        try:
            return parse_path(path)
        except FieldError as exc:
            raise _located(exc, self) from None

    def line_comments(self, containing: str = "") -> list[tuple[tuple[str | int, ...], str]]:
        """Every (path, comment) that `line_comment` would find, in document order: one walk
        instead of a lookup per field, for functions that scan whole objects for setters.
        With `containing` (`"kpt-set:"`), only the comments holding it: the text is searched
        for it first, so a resource without it costs no walk (and an item not read yet is
        read only in the parts that hold it)."""
        if containing and self._d is None and self._chunk is not None:
            if not self._holds(containing):
                return []
            docs = self._parts_holding(containing)
            if docs is not None:
                return [found for doc in docs for found in comments_in(doc, containing)]
        return comments_in(self._doc, containing)

    # ------------------------------------------------------------ identity
    @property
    def api_version(self) -> str:
        """`apiVersion`, "" when not set."""
        return (self._facts or self._identity())[0]

    @property
    def kind(self) -> str:
        """`kind`, "" when not set."""
        return (self._facts or self._identity())[1]

    @property
    def name(self) -> str:
        """`metadata.name`, "" when not set; assigning sets it."""
        return (self._facts or self._identity())[2]

    @name.setter
    def name(self, value: str) -> None:
        self.set(("metadata", "name"), value)

    @property
    def namespace(self) -> str:
        """The namespace, "" when not set."""
        return (self._facts or self._identity())[3]

    @namespace.setter
    def namespace(self, value: str) -> None:
        self.set(("metadata", "namespace"), value)

    @property
    def group(self) -> str:
        """The API group of `apiVersion`, "" for the core group (`v1`)."""
        api = self.api_version
        return api.rpartition("/")[0] if "/" in api else ""

    @property
    def version(self) -> str:
        """The version part of `apiVersion` (`v1` of `apps/v1`)."""
        return self.api_version.rpartition("/")[2]

    def is_gvk(self, group: str | None = None, version: str | None = None,
               kind: str | None = None) -> bool:
        """True when every given part matches; omitted parts match anything."""
        return ((group is None or self.group == group)
                and (version is None or self.version == version)
                and (kind is None or self.kind == kind))

    def _identity(self) -> Facts:
        """(apiVersion, kind, name, namespace, local-config), read once and kept until an
        edit to one of them: functions ask for them over and over, for every item. An item
        not read yet gives them from its text when it can (checked when it is read)."""
        chunk = self._chunk
        if (self._d is None and self._h is None and not self._parts and self._text is None
                and not self._checked and chunk is not None):
            assert self._list is not None
            guess = self._list.guess(*chunk)
            if guess is not None:
                self._facts = self._guess = guess
                return guess
        root = self._doc_at(_METADATA).root
        facts = identity(root) if isinstance(root, MappingNode) else ("", "", "", "", False)
        self._facts = facts
        return facts

    # ------------------------------------------------------------ metadata maps
    @property
    def labels(self) -> dict[str, str]:
        """A copy of `metadata.labels` (edit with `set_label`)."""
        return _str_map(self.get(("metadata", "labels")))

    @property
    def annotations(self) -> dict[str, str]:
        """A copy of `metadata.annotations` (edit with `set_annotation`)."""
        return _str_map(self.get(("metadata", "annotations")))

    def get_annotation(self, key: str, default: str | None = None) -> str | None:
        """The annotation `key` as text, or `default`."""
        segs = ("metadata", "annotations", key)
        node = None if self._absent(segs) else self._doc_at(segs).lookup(segs)
        return default if not isinstance(node, ScalarNode) else _as_str(construct(node))

    def get_label(self, key: str, default: str | None = None) -> str | None:
        """The label `key` as text, or `default`."""
        segs = ("metadata", "labels", key)
        node = None if self._absent(segs) else self._doc_at(segs).lookup(segs)
        return default if not isinstance(node, ScalarNode) else _as_str(construct(node))

    def set_label(self, key: str, value: str) -> None:
        """Set a label (a key with dots or slashes is one key)."""
        self.set(("metadata", "labels", key), str(value))

    def set_annotation(self, key: str, value: str) -> None:
        """Set an annotation (a key with dots or slashes is one key)."""
        self.set(("metadata", "annotations", key), str(value))

    def remove_label(self, key: str) -> bool:
        """Remove a label; False when there was none."""
        return self.delete(("metadata", "labels", key))

    def remove_annotation(self, key: str) -> bool:
        """Remove an annotation; False when there was none."""
        return self.delete(("metadata", "annotations", key))

    @property
    def is_local_config(self) -> bool:
        """kpt's `config.kubernetes.io/local-config: "true"`: never applied to a cluster."""
        local = (self._facts or self._identity())[4]
        if local is None:  # a lazily read item whose text did not say for sure: read it
            root = self._doc_at(_METADATA).root
            local = isinstance(root, MappingNode) and identity(root)[4]
        return bool(local)

    @property
    def path(self) -> str:
        """The file this resource lives in (kpt's path annotation), "" if unknown."""
        for key in PATH_ANNOTATIONS:
            value = self.get_annotation(key)
            if value:
                return value
        return self._origin[0] if self._origin else ""

    @property
    def index(self) -> int:
        """The place of this resource in its file (kpt's index annotation), 0 if unknown."""
        for key in INDEX_ANNOTATIONS:
            value = self.get_annotation(key)
            if value is not None and value.isdigit():
                return int(value)
        return self._origin[1] if self._origin else 0

    def set_file(self, path: str, index: int | None = None) -> None:
        """Put this resource in the file `path` (relative to the package, a .yaml or .yml
        file), at place `index` among the resources a run adds to that file.

        Sets kpt's path and index annotations, current and legacy, together (kpt moves a
        resource whose path changes; so does standalone `--in-place`, which never writes
        these annotations into a file). Without a call a new resource gets a file of its
        own, `<kind>_<name>.yaml`, and a resource read from a file stays in it. A path
        outside the package is a FieldError."""
        try:
            path = check_file_path(path)
        except ValueError as exc:
            raise FieldError("metadata.annotations", f"file {exc}") from None
        if index is not None and index < 0:
            raise FieldError("metadata.annotations", f"file index {index} is negative")
        for key in PATH_ANNOTATIONS:
            self.set_annotation(key, path)
        for key in INDEX_ANNOTATIONS:
            if index is None:
                self.remove_annotation(key)
            else:
                self.set_annotation(key, str(index))

    def ref(self) -> dict[str, str]:
        """A results `resourceRef` for this resource."""
        out = {"apiVersion": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            out["namespace"] = self.namespace
        return out

    def __repr__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"<KubeObject {self.api_version} {self.kind} {ns}{self.name}>"

    # ------------------------------------------------------------ whole object
    @property
    def changed(self) -> bool:
        """True once anything in this resource was edited (or it is new)."""
        if self._d is None and self._chunk is not None:
            return self._dirty or (self._h is not None and self._h.changed) or (
                self._parts_changed())
        return self._form == "new" or self._dirty or self._doc.changed

    def to_dict(self) -> dict[str, Any]:
        """A copy of the whole resource as plain data."""
        return cast(dict[str, Any], construct(self._doc.root))

    def to_yaml(self) -> str:
        """This resource as one YAML document at column 0 (what goes into a file)."""
        if self._form == "doc" and self._doc.spliceable:
            return self._doc.render()
        if self._form == "chunk" and self._doc.spliceable:
            return _dedent_item(self._doc.render())
        if self._form == "inline" and self._doc.spliceable:
            return self._inline_text()
        return _block(self.to_dict())

    def _inline_text(self) -> str:
        """An inline item (its text starts at the node, past a `- ` or in a flow list)
        moved to column 0: later lines keep their indentation relative to the first."""
        doc = self._doc
        column = doc.start - line_start(doc.text, doc.start)
        lines = doc.render().split("\n")
        out = [lines[0]]
        out.extend(ln[column:] if not ln[:column].strip() else ln.lstrip() for ln in lines[1:])
        return ended("\n".join(out))

    def _item_text(self, wide: bool) -> str:
        """This resource as an entry under a ResourceList's `items:`."""
        if self._d is None and self._chunk is not None:
            return ended(self._current_text())
        if self._form == "chunk" and self._doc.spliceable:
            return ended(self._doc.render())
        if self._form == "inline" and self._doc.spliceable:
            text = self._inline_text()
        elif self._form == "doc" and self._doc.spliceable:
            text = without_document_end(self._doc.render())
        else:
            text = _block(self.to_dict())
        return _indent_item(ended(text), wide)


def _located(exc: FieldError, obj: KubeObject) -> FieldError:
    """`exc`, naming the resource it is about (for its result's resourceRef and file)."""
    if exc.resource is None:
        exc.resource = obj
    return exc


def _unshared(root: Node) -> Node:
    """A fresh tree of the same value, aliases expanded: YAML aliases share nodes, and an
    edit through one path must not show up at the others (or in another item)."""
    return to_node(construct(root))


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): _as_str(v) for k, v in value.items()}


def _as_str(value: Any) -> str:
    """A label or annotation value as the string Kubernetes would hold: `true`, not
    Python's `True`; "" for null."""
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else key_text(value)


def _block(value: dict[str, Any]) -> str:
    if not value:
        return "{}\n"
    return "\n".join(render_block(value, 0)) + "\n"


def _indent_item(text: str, wide: bool) -> str:
    """Column-0 YAML (or a flow node) as a sequence entry: `- ` first, the rest indented.
    Shifting every line right keeps block scalars and multi-line flow text valid."""
    dash, pad = ("  - ", "    ") if wide else ("- ", "  ")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:  # an empty (null) item
        return dash.rstrip() + "\n"
    out = [dash + lines[0]]
    out.extend(pad + line if line else line for line in lines[1:])
    return "\n".join(out) + "\n"


def _dedent_item(text: str) -> str:
    lines = text.split("\n")
    first = lines[0]
    dash_at = first.index("-")
    width = dash_at + 2
    out = [first[width:] if len(first) > width else ""]
    if not out[0]:
        out = []
    out.extend(line[width:] if line[:width].strip() == "" else line.lstrip()
               for line in lines[1:])
    return ended("\n".join(out))


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

    def get_str(self, path: Path, default: Any = _MISSING) -> str:
        """As `KubeObject.get_str`, relative to this node."""
        return self._obj.get_str(self._full(path), default)

    def get_int(self, path: Path, default: Any = _MISSING) -> int:
        """As `KubeObject.get_int`, relative to this node."""
        return self._obj.get_int(self._full(path), default)

    def get_bool(self, path: Path, default: Any = _MISSING) -> bool:
        """As `KubeObject.get_bool`, relative to this node."""
        return self._obj.get_bool(self._full(path), default)

    def get_map(self, path: Path, default: Any = _MISSING) -> dict[str, Any]:
        """As `KubeObject.get_map`, relative to this node."""
        return self._obj.get_map(self._full(path), default)

    def get_list(self, path: Path, default: Any = _MISSING) -> list[Any]:
        """As `KubeObject.get_list`, relative to this node."""
        return self._obj.get_list(self._full(path), default)

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
