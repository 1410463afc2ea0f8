"""KubeObject: one Kubernetes resource, read and edited through field paths.

Reads build Python values only for the fields asked for; writes are spliced into the
resource's original text, so whatever a function does not touch stays byte for byte.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from krmfn._comments import edit, head_comment, line_comment
from krmfn._document import Doc, to_node
from krmfn._errors import FieldError, InputError, kind_of
from krmfn._lazy import Facts, LazyList, identity
from krmfn._lazy_item import LazyItem
from krmfn._nodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    construct,
    line_end,
    line_start,
)
from krmfn._package_paths import check_file_path
from krmfn._parse import check_tree, compose, normalized
from krmfn._parse_list import Chunk
from krmfn._path import Path, Segment, format_path, parse_path
from krmfn._render import key_text, render_block
from krmfn._text_ends import ended, without_document_end
from krmfn._view import SubObject, items_of

__all__ = ["KubeObject"]

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
                return [found for doc in docs for found in _comments_in(doc, containing)]
        return _comments_in(self._doc, containing)

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


def _comments_in(doc: Doc, containing: str) -> list[tuple[tuple[str | int, ...], str]]:
    """`KubeObject.line_comments` over one tree (a whole item, or one of its parts)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    text = doc.text
    # Only lines that hold a `#` (or what the comment must contain) can matter: find them
    # once, by line number (counted from the first node's own mark, so only this item's
    # text is scanned). The stand-ins that hold a part of an item at its place have no
    # marks and no comments: the walk starts below them, at the part's own tree.
    root = doc.root
    start: tuple[str | int, ...] = ()
    while root.start_mark is None and isinstance(root, (MappingNode, SequenceNode)) and (
            root.value):
        if isinstance(root, MappingNode):
            start, root = (*start, str(root.value[0][0].value)), root.value[0][1]
        else:
            start, root = (*start, len(root.value) - 1), root.value[-1]
    root_mark = root.start_mark
    needle = containing or "#"
    at = text.find(needle, doc.start, doc.end)
    if root_mark is None or at < 0:
        return out
    if (root.__class__ is MappingNode and len(root.value) == 1 and start
            and root.value[0][1].__class__ is ScalarNode
            and text.find("\n", doc.start, doc.end - 1) < 0):  # one `key: value` line
        key, value = root.value[0]
        comment = _line_comment(text, value, key)
        if comment is not None and containing in comment:
            out.append(((*start, str(key.value)), comment))
        return out
    pos, line = int(root_mark.index), int(root_mark.line)
    lines: set[int] = set()
    while at >= 0:
        line += text.count("\n", pos, at) if at >= pos else -text.count("\n", at, pos)
        pos = at
        lines.add(line)
        at = text.find(needle, at + 1, doc.end)
    ordered = sorted(lines)
    last = len(ordered)

    def touched(node: Node, key: Node | None) -> bool:
        """Some line of the subtree (its key's included) is one of `lines`."""
        if node.start_mark is None:
            return True
        first_line = node.start_mark.line
        if key is not None and key.start_mark is not None:
            first_line = min(first_line, key.start_mark.line)
        at = bisect.bisect_left(ordered, first_line)
        return at < last and ordered[at] <= node.end_mark.line

    stack: list[tuple[tuple[str | int, ...], Node, Node | None]] = [(start, root, None)]
    while stack:
        path, node, key = stack.pop()
        if path and node.start_mark is not None:
            key_mark = key.start_mark if key is not None else None
            if (node.end_mark.line in lines or node.start_mark.line in lines
                    or (key_mark is not None and key_mark.line in lines)):
                comment = _line_comment(text, node, key)
                if comment is not None and containing in comment:
                    out.append((path, comment))
        # only subtrees with a wanted line go on the stack (in reverse: document order)
        if isinstance(node, MappingNode):
            stack.extend(((*path, str(k.value)), v, k) for k, v in reversed(node.value)
                         if touched(v, k))
        elif isinstance(node, SequenceNode):
            stack.extend(((*path, i), v, None) for i, v in reversed(list(
                enumerate(node.value))) if touched(v, None))
    return out


def _line_comment(text: str, node: Node, key: Node | None) -> str | None:
    """The comment after a scalar or flow value on its line; for a block collection, the
    comment on the line of its key (`key` is None for list items)."""
    if node.start_mark is None:
        return None
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        start = int(node.start_mark.index)
        rest = text[start : line_end(text, start)]
    elif isinstance(node, ScalarNode) or getattr(node, "flow_style", False):
        end = int(node.end_mark.index)
        rest = text[end : line_end(text, end)]
    else:
        if key is None or key.start_mark is None:
            return None
        colon = text.find(":", int(key.end_mark.index))
        if colon < 0 or text[key.end_mark.index : colon].strip(" \t\"'"):
            return None
        rest = text[colon + 1 : line_end(text, colon)]
    hash_at = rest.find("#")
    if hash_at < 0 or rest[:hash_at].strip(" \t") not in ("", "|", ">", "|-", ">-", "|+"):
        return None
    return rest[hash_at + 1 :].strip()


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
