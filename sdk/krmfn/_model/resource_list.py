"""ResourceList: the items, the functionConfig and the results a function works on."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from krmfn._errors import InputError
from krmfn._large.lazy_list import (
    LayoutChanged,
    LazyList,
    LazySplit,
    shape_problem,
    split_items,
)
from krmfn._model.object import PATH_ANNOTATIONS, KubeObject, SubObject
from krmfn._model.package_paths import default_file
from krmfn._model.results import Field, Result, Severity
from krmfn._model.scope import Scope
from krmfn._text.ends import ended, split_at_document_end
from krmfn._text.nodes import MappingNode, construct
from krmfn._text.parse import (
    check_tree,
    compose,
    long_prefix,
    may_have_anchors,
    may_have_tags,
    nesting_bounded,
    normalized,
)
from krmfn._text.parse_list import from_header, parse_resource_list
from krmfn._text.path import Path
from krmfn._text.render import render_block

if TYPE_CHECKING:
    from krmfn._large.check_worker import CheckWorker

__all__ = ["Items", "ResourceList"]


class Items(list[KubeObject]):
    """The items, in input order; a list with a few queries."""

    def where(self, predicate: Callable[[KubeObject], bool]) -> list[KubeObject]:
        """The items `predicate` accepts (a `Selector` is one)."""
        return [o for o in self if predicate(o)]

    def of_kind(self, kind: str, group: str | None = None) -> list[KubeObject]:
        """The items of `kind` (and of `group`, when given)."""
        return [o for o in self if o.kind == kind and (group is None or o.group == group)]

    def find(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None:
        """The first item of that kind and name (and namespace, when given), or None."""
        for o in self:
            if o.kind == kind and o.name == name and (namespace is None
                                                       or o.namespace == namespace):
                return o
        return None


class ResourceList:
    """What a function reads and writes. `items` is a plain list: reorder, append, remove."""

    def __init__(self, items: Iterable[KubeObject] = (), function_config: KubeObject | None = None,
                 *, api_version: str = "config.kubernetes.io/v1") -> None:
        self.items = Items(items)
        self.function_config = function_config
        self.results: list[Result] = []
        self.api_version = api_version
        self._header = ""
        self._items_at = -1
        self._wide = False
        self._old_results: list[Any] = []
        self._scope: Scope | None = None
        self.input_errors: list[Result] = []
        self._parsed_fc: KubeObject | None = None
        self._worker: CheckWorker | None = None
        self._crlf = False  # the input's line breaks were all CRLF: so are the output's

    # ------------------------------------------------------------ reading
    @classmethod
    def parse(cls, text: str, *, lazy: bool = True, _worker: bool = False,
              _early: tuple[LazySplit, LazyList] | None = None) -> ResourceList:
        """Read a ResourceList (YAML or JSON). Raises InputError for unreadable input;
        items of the wrong shape become error results (see `input_errors`).

        Large lists are read lazily (see `krmfn._large.lazy_list`): then a `LayoutChanged` error can
        surface while a function reads items, and `verify()` must run after it; the
        function runner does both, falling back to `lazy=False`. The runner also has the
        items nobody reads checked by a worker process meanwhile (`_large.check_worker`); a
        console script starts it before this module loads (`_early`: the cut and the list
        it checks). A byte order mark is dropped, and CRLF line breaks are read as LF
        (see `normalized`): `to_text` writes CRLF again when every line break was one."""
        text, crlf = normalized(text)
        rl = cls._parse(text, lazy, _worker, _early)
        rl._crlf = crlf
        return rl

    @classmethod
    def _parse(cls, text: str, lazy: bool, _worker: bool,
               _early: tuple[LazySplit, LazyList] | None) -> ResourceList:
        if _early is not None:
            return cls._parse_lazy(*_early, _worker)
        split = split_items(text) if lazy else None
        if split is not None:
            return cls._parse_lazy(split, None, _worker)
        parsed = parse_resource_list(text)
        objects = []
        problems: list[Result] = []
        tags, aliases = may_have_tags(text), may_have_anchors(text)
        long_lines = long_prefix(text)
        for i, chunk in enumerate(parsed.items):
            deep = not nesting_bounded(chunk.text, chunk.start, chunk.end, long_lines=long_lines)
            aliased = check_tree(chunk.root, f"items[{i}]", tags=tags, aliases=aliases,
                                 deep=deep)
            chunk.aliased = chunk.aliased or aliased  # within the item, or shared with others
            obj = KubeObject._from_chunk(chunk)
            problem = shape_problem(chunk.root)
            if problem:
                problems.append(Result(f"items[{i}]: {problem[1]}", Severity.ERROR,
                                       field=Field(problem[0])))
            elif obj.get_annotation("internal.config.kubernetes.io/seqindent") == "wide":
                obj._doc.wide_lists = True
            objects.append(obj)
        fc = None
        if parsed.function_config is not None:
            fc = KubeObject._from_chunk(parsed.function_config)
            if not isinstance(parsed.function_config.root, MappingNode):
                raise InputError("functionConfig is not a mapping")
        rl = cls(objects, fc, api_version=parsed.api_version)
        rl._header, rl._items_at, rl._wide = parsed.header_text, parsed.items_at, parsed.wide
        rl._old_results = parsed.old_results
        rl._parsed_fc = fc
        rl.input_errors = problems
        return rl

    @classmethod
    def _parse_lazy(cls, split: LazySplit, lazy_list: LazyList | None,
                    worker: bool) -> ResourceList:
        try:
            head = compose(split.header, "ResourceList")
            if not isinstance(head, MappingNode):
                raise LayoutChanged("ResourceList header is not a mapping")
            parsed = from_header(head, split.header, "ResourceList")
            if parsed.function_config is not None and not isinstance(
                    parsed.function_config.root, MappingNode):
                raise LayoutChanged("functionConfig is not a mapping")
        except InputError as exc:  # reported from the whole text, with its line numbers
            if lazy_list is not None and lazy_list.worker is not None:
                lazy_list.worker.stop()
            raise LayoutChanged(str(exc)) from None
        text, bounds, wide = split.text, split.bounds, split.wide
        started = lazy_list is not None  # with its worker (or none) by the console script
        if lazy_list is None:
            lazy_list = LazyList(text, len(bounds) - 1, wide)
        objects = [KubeObject._lazy((text, bounds[i], bounds[i + 1]), i, lazy_list)
                   for i in range(len(bounds) - 1)]
        fc = None
        if parsed.function_config is not None:
            fc = KubeObject._from_chunk(parsed.function_config)
        rl = cls(objects, fc, api_version=parsed.api_version)
        rl._header, rl._items_at, rl._wide = split.header, split.items_at, split.wide
        rl._parsed_fc = fc
        if started:
            rl._worker = lazy_list.worker
        elif worker:
            from krmfn._large.check_worker import CheckWorker

            rl._worker = lazy_list.worker = CheckWorker.start(lazy_list, text, bounds)
        return rl

    def verify(self) -> None:
        """Check the items no one read (lazily parsed lists); raises LayoutChanged. With a
        check worker, from the front here while it goes on from the back, until they meet."""
        worker = self._worker
        if worker is not None:
            unread = sorted((o for o in self.items if o._unverified), key=lambda o: o._index)
            for obj in unread:
                if obj._index >= worker.frontier():
                    break
                obj._verify()
        checked_from = self.stop_worker()
        for obj in self.items:
            if obj._index < checked_from:
                obj._verify()
            else:
                obj._verify(checked=True)

    def stop_worker(self) -> int:
        """Stop the check worker, if any: items from the returned index on were checked."""
        worker, self._worker = self._worker, None
        return worker.stop() if worker is not None else sys.maxsize

    # ------------------------------------------------------------ scope
    def is_namespaced(self, obj: KubeObject) -> bool | None:
        """Built-in table plus the CRDs in this list; None for unknown custom kinds."""
        if self._scope is None:
            self._scope = Scope(self.items)
        return self._scope.is_namespaced(obj)

    # ------------------------------------------------------------ results
    def result(self, message: str, obj: KubeObject | SubObject | None = None, *,
               severity: Severity | str = Severity.ERROR, field: Path | Field | None = None,
               tags: dict[str, str] | None = None) -> Result:
        """Add a result of any severity about `obj` (see `Result.about`) and return it."""
        res = Result.about(message, obj, severity=severity, field=field, tags=tags)
        self.results.append(res)
        return res

    def error(self, message: str, obj: KubeObject | SubObject | None = None, *,
              field: Path | Field | None = None) -> Result:
        """Add a result of severity error about `obj` and return it."""
        return self.result(message, obj, severity=Severity.ERROR, field=field)

    def warning(self, message: str, obj: KubeObject | SubObject | None = None, *,
                field: Path | Field | None = None) -> Result:
        """Add a result of severity warning about `obj` and return it."""
        return self.result(message, obj, severity=Severity.WARNING, field=field)

    def info(self, message: str, obj: KubeObject | SubObject | None = None, *,
             field: Path | Field | None = None) -> Result:
        """Add a result of severity info about `obj` and return it."""
        return self.result(message, obj, severity=Severity.INFO, field=field)

    @property
    def has_errors(self) -> bool:
        """True when a result of severity error was added: the run exits 1."""
        return any(r.is_error for r in self.results)

    # ------------------------------------------------------------ writing
    def to_text(self) -> str:
        """The ResourceList as YAML: untouched items byte for byte as they came in."""
        text = self._text()
        return text.replace("\n", "\r\n") if self._crlf else text

    def _text(self) -> str:
        parts: list[str] = []
        taken: set[str] | None = None
        for obj in self.items:
            if obj._form == "new" and not obj.path:
                if taken is None:
                    taken = {o.path.casefold() for o in self.items if o.path}
                _annotate_path(obj, taken)
            parts.append(obj._item_text(self._wide))
        results = [*self._old_results, *(r.to_dict() for r in self.results)]
        tail = ""
        if results:
            tail = "results:\n" + "\n".join(render_block(results, 0)) + "\n"
        if self._header and self._items_at >= 0 and self.function_config is self._parsed_fc:
            head, rest = self._header[: self._items_at], self._header[self._items_at :]
            # results go before a document end marker
            rest, after = split_at_document_end(rest) if tail else (rest, "")
            rest = ended(rest)
            if not parts:
                head = re.sub(r"^items:[ \t]*(#[^\n]*)?\n?\Z", "items: []\n", head, flags=re.M)
            return head + "".join(parts) + rest + tail + after
        out = [f"apiVersion: {self.api_version}\n", "kind: ResourceList\n"]
        out.append("items:\n" if parts else "items: []\n")
        out.extend(parts)
        if self.function_config is not None:
            out.append(_config_text(self.function_config))
        out.append(tail)
        return "".join(out)


def _config_text(fc: KubeObject) -> str:
    """`functionConfig:` and the config: as its own text where it has one (read from a
    file: a golden case's config.yaml, `--config FILE`), so that the function sees it as
    written, flow style and comments included; rendered from its data otherwise."""
    if fc._form == "doc" and fc._doc.spliceable:
        lines = fc.to_yaml().split("\n")
        while lines and (not lines[0].strip() or lines[0].rstrip() == "---"):
            lines.pop(0)
        text = "functionConfig:\n" + "\n".join(
            f"  {ln}" if ln.strip() else ln for ln in lines).rstrip(" \n") + "\n"
        if not any(ln.startswith(("---", "...", "%")) for ln in lines):
            try:  # the same data, read back: else rendered (a config that is odd YAML)
                root = compose(text, "functionConfig")
                if isinstance(root, MappingNode) and construct(root) == {
                        "functionConfig": fc.to_dict()}:
                    return text
            except InputError:
                pass
    data = fc.to_dict()
    return ("functionConfig:\n" + "\n".join(render_block(data, 2)) + "\n"
            if data else "functionConfig: {}\n")


def _annotate_path(obj: KubeObject, taken: set[str]) -> None:
    """New items need a file: `<kind>_<name>.yaml` as kpt names them, made a safe name
    that no other item has (see `krmfn._model.package_paths`)."""
    name = default_file(obj.kind, obj.name, lambda n: n.casefold() in taken)
    taken.add(name.casefold())
    for key in PATH_ANNOTATIONS:
        obj.set_annotation(key, name)
