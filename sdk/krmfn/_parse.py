"""Turning input text into per-item node trees, safely and fast.

The fast path cuts a block-style ResourceList into one chunk per item at the `- ` lines of
`items:` and composes each chunk on its own with libyaml's C composer, garbage collector
off. A cut can only be wrong inside a multi-line scalar or flow collection, and then the
chunk before it cannot parse: any chunk error (or anchors, JSON, odd layouts) falls back to
composing the whole document, which also gives the real error position.

Every tree is then walked once: nesting depth, tags (none may construct objects), duplicate
keys, and alias expansion (a YAML bomb) are all checked before a function sees anything.
"""

from __future__ import annotations

import functools
import gc
import operator
import re

import yaml
from yaml import CSafeLoader
from yaml.resolver import Resolver

from krmfn._errors import InputError
from krmfn._nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["MAX_DEPTH", "Chunk", "ParsedList", "check_tree", "compose", "long_prefix",
           "nesting_bounded", "parse_resource_list"]

MAX_DEPTH = 500
MAX_EXPANDED_NODES = 2_000_000
_SAFE_DEPTH_BOUND = 5_000
_ALLOWED_TAGS = frozenset(
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "bool", "null", "float", "map", "seq", "timestamp", "binary",
              "merge", "omap", "set", "pairs", "value")
)
_DEEP_PREFIX = re.compile(rf"[ \t?:-]{{{_SAFE_DEPTH_BOUND}}}")
_DEEP_LINE = re.compile(rf"\n[ \t?:-]{{{_SAFE_DEPTH_BOUND}}}")  # a literal first: scanned in C


class Chunk:
    """One item: its node tree, the text its marks refer to, and the span it occupies.
    (Plain classes here, not dataclasses: this module loads before the check worker
    forks, and `dataclasses` would bring `inspect` and `ast` into that wait.)"""

    __slots__ = ("aliased", "end", "form", "root", "shared", "start", "text")

    def __init__(self, text: str, root: Node, start: int, end: int, form: str) -> None:
        self.text, self.root, self.start, self.end = text, root, start, end
        self.form = form  # "chunk": span holds `- ` and indentation; "inline": the bare node
        self.aliased = False  # holds nodes reached twice (aliases): edits rewrite it whole
        self.shared = False  # shares nodes with other items: its text cannot stand alone


class ParsedList:
    __slots__ = ("api_version", "function_config", "header_text", "items", "items_at",
                 "old_results", "wide")

    def __init__(self, api_version: str, header_text: str, items_at: int, wide: bool,
                 items: list[Chunk], function_config: Chunk | None,
                 old_results: list[object] | None = None) -> None:
        self.api_version = api_version
        self.header_text = header_text  # the ResourceList text around the items block
        self.items_at = items_at  # where item text goes inside header_text (-1: rebuild it)
        self.wide = wide  # items written `  - ` under `items:` (kpt's "wide" seqindent)
        self.items = items
        self.function_config = function_config
        self.old_results = [] if old_results is None else old_results


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_RESOLVER = Resolver()


@functools.lru_cache(maxsize=1 << 16)
def _resolve(kind: type, value: str | None, implicit: tuple[bool, bool]) -> str:
    if kind is ScalarNode:
        if not implicit[0]:
            return _STR_TAG
        return str(_RESOLVER.resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
    return _SEQ_TAG if kind is SequenceNode else _MAP_TAG


class _Loader(CSafeLoader):
    """libyaml's composer with a memoized implicit-tag resolver. The stock resolver runs
    Python regexes for every scalar, while real inputs repeat the same few thousand values;
    the memo is a C-level cache, so the composer calls no Python code per scalar.

    No path-based resolvers are registered, so the hooks the composer calls around every
    node have nothing to track: they are C builtins that take the same arguments."""

    resolve = staticmethod(_resolve)
    descend_resolver = staticmethod(operator.is_)  # type: ignore[assignment]  # (parent, index)
    ascend_resolver = staticmethod(tuple)  # type: ignore[assignment]  # ()


class GcPaused:
    """Node trees are acyclic; collecting while building them is most of the cost. (A
    class, not a generator: it is entered for every item of a large list.)"""

    __slots__ = ("_was",)

    def __enter__(self) -> None:
        self._was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was:
            gc.freeze()  # what was built is long-lived: keep later collections from rescanning it
            gc.enable()


def compose(text: str, what: str = "input") -> Node | None:
    """One YAML document as a node tree, with a one-line error on bad input."""
    _guard_breaks(text, what)
    _guard_depth(text, what)
    try:
        with GcPaused():
            return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise InputError(f"{what}: {_one_line(exc)}") from None
    except RecursionError:
        raise InputError(f"{what}: nesting too deep") from None


_LONE_CR = re.compile(r"\r(?!\n)")


def _guard_breaks(text: str, what: str) -> None:
    """Line breaks that edits by line would miss are refused: a carriage return without a
    line feed, and NEL, LS and PS, which end a line for libyaml (YAML 1.1) but not for kpt
    or JSON (YAML 1.2), so that the same text would mean two things."""
    found = [(at, char) for char in ("\x85", "\u2028", "\u2029") if (at := text.find(char)) >= 0]
    if "\r" in text and (cr := _LONE_CR.search(text)):
        found.append((cr.start(), "\r"))
    if not found:
        return
    at, char = min(found)
    line = text.count("\n", 0, at) + 1
    if char == "\r":
        raise InputError(f"{what}: line {line}: a carriage return without a line feed "
                         "(use \\n or \\r\\n line endings)")
    raise InputError(f"{what}: line {line}: character U+{ord(char):04X} is a line break to "
                     "YAML 1.1 but not to YAML 1.2; write it escaped in a double-quoted string")


def _guard_depth(text: str, what: str) -> None:
    """libyaml's composer recurses in C: check depth by events before it can overflow."""
    if (text.count("[") + text.count("{") < _SAFE_DEPTH_BOUND and not _DEEP_PREFIX.match(text)
            and not _DEEP_LINE.search(text)):
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=CSafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(f"{what}: nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        raise InputError(f"{what}: {_one_line(exc)}") from None


def _one_line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    text = f"{context}: {problem}" if context else str(problem)
    return f"invalid YAML{where}: {text}".replace("\n", " ")


# A tag or an anchor is a token of its own: it starts a line or follows a space or a flow
# indicator. A `!` or `&` inside a scalar ("!*:latest", "a&b") is neither, and finding no
# such token lets the node checks below skip the per-node tag and alias bookkeeping.
# The patterns start with a character class, not an alternation with `^`: the regex
# engine then scans for candidates in C instead of trying every position.
_TAG_TOKEN = re.compile(r"[\s\[{,]!")
_ANCHOR_TOKEN = re.compile(r"[\s\[{,]&")


def may_have_tags(text: str) -> bool:
    return "!" in text and (text.startswith("!") or _TAG_TOKEN.search(text) is not None)


def may_have_anchors(text: str) -> bool:
    return "&" in text and (text.startswith("&") or _ANCHOR_TOKEN.search(text) is not None)


_LONG_PREFIX = re.compile(rf"\n[ \t?:-]{{{MAX_DEPTH // 2}}}")


def long_prefix(text: str) -> bool:
    """True if a line's indentation and indicators reach MAX_DEPTH // 2 characters."""
    half = MAX_DEPTH // 2
    return _LONG_PREFIX.search(text) is not None or (
        len(text) >= half and text[:half].strip(" \t?:-") == "")


def nesting_bounded(text: str, start: int = 0, end: int | None = None, *,
                    long_lines: bool | None = None) -> bool:
    """True when the text of a node (`text[start:end]`) shows that nothing in it nests
    deeper than MAX_DEPTH: each level of block nesting takes one more character of a
    line's prefix (indentation, or a `- `, `? `, `: ` indicator), and each flow level a
    bracket within the node. `long_lines`: `long_prefix` of the whole text, if known."""
    end = len(text) if end is None else end
    if text.count("[", start, end) + text.count("{", start, end) >= MAX_DEPTH // 2 - 1:
        return False
    return not (long_prefix(text) if long_lines is None else long_lines)


def check_tree(root: Node, what: str, *, tags: bool = True, aliases: bool = True,
               deep: bool = True) -> bool:
    """Reject what a function must never see; True if the tree shares nodes (aliases).

    `tags=False` / `aliases=False` / `deep=False` skip checks the caller has ruled out
    from the text (no `!` means no explicit tags, no `&` means no anchors, and see
    `nesting_bounded`). This walk touches every mapping, so its inner loops stay in C: a
    key set both finds duplicates and, failing to hash a collection, keys that are not
    scalars.
    """
    if tags or aliases:
        return _check_slow(root, what)
    if root.__class__ is ScalarNode:  # an item that is a bare scalar: nothing to walk
        return False
    if not deep:
        _check_keys(root, what)
        return False
    stack: list[tuple[Node, int]] = [(root, 1)]
    pop, extend = stack.pop, stack.extend
    while stack:
        node, depth = pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{what}: nesting deeper than {MAX_DEPTH} levels")
        pairs = node.value
        if node.__class__ is MappingNode:
            _check_pairs(pairs, what)
            depth += 1
            extend((v, depth) for _, v in pairs if v.__class__ is not ScalarNode)
        else:
            depth += 1
            extend((v, depth) for v in pairs if v.__class__ is not ScalarNode)
    return False


def _check_pairs(pairs: list[tuple[Node, Node]], what: str) -> None:
    """A mapping's keys: a key set both finds duplicates and, failing to hash a
    collection, keys that are not scalars (`_duplicate` then says which)."""
    if len(pairs) > 1:
        try:
            unique = len({k.value for k, _ in pairs})
        except TypeError:
            unique = -1
        if unique != len(pairs):
            _duplicate(pairs, what)
    elif pairs and pairs[0][0].__class__ is not ScalarNode:
        _duplicate(pairs, what)


def _check_keys(root: Node, what: str) -> None:
    """check_tree's walk for trees known to be shallow: duplicate and collection keys."""
    stack = [root]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        pairs = node.value
        if node.__class__ is MappingNode:
            _check_pairs(pairs, what)
            extend([v for _, v in pairs if v.__class__ is not ScalarNode])
        else:
            extend([v for v in pairs if v.__class__ is not ScalarNode])


def _check_slow(root: Node, what: str) -> bool:
    """The full walk, for text that may hold tags or anchors."""
    seen: set[int] = set()
    aliased = False
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            aliased = True
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise InputError(f"{what}: nesting deeper than {MAX_DEPTH} levels")
        if node.tag not in _ALLOWED_TAGS:
            raise InputError(f"{what}: YAML tag {node.tag!r} is not allowed")
        if isinstance(node, ScalarNode) and node.tag in _CONSTRUCTED:
            _check_scalar(node, what)
        if isinstance(node, MappingNode):
            _duplicate(node.value, what)
            for k, v in node.value:
                if k.tag not in _ALLOWED_TAGS:
                    raise InputError(f"{what}: YAML tag {k.tag!r} is not allowed")
                stack.append((v, depth + 1))
        elif isinstance(node, SequenceNode):
            stack.extend((v, depth + 1) for v in node.value)
    if aliased and _expanded_size(root, {}) > MAX_EXPANDED_NODES:
        raise InputError(f"{what}: YAML aliases expand to more than "
                         f"{MAX_EXPANDED_NODES:,} nodes")
    return aliased


_CONSTRUCTED = frozenset("tag:yaml.org,2002:" + t for t in ("int", "float", "bool", "binary"))


def _check_scalar(node: ScalarNode, what: str) -> None:
    """An explicit tag can ask for a value its text is not (`!!int abc`): say so now, not
    when a function first reads it. Implicitly resolved scalars always fit their tag."""
    from krmfn._nodes import construct

    try:
        construct(node)
    except (yaml.YAMLError, ValueError, KeyError, TypeError, IndexError, OverflowError):
        kind = node.tag.rsplit(":", 1)[-1]
        raise InputError(f"{what}: {node.value[:40]!r} is not a valid !!{kind} "
                         f"(line {node.start_mark.line + 1})") from None


def _duplicate(pairs: list[tuple[Node, Node]], what: str) -> None:
    keys: set[object] = set()
    for k, _ in pairs:
        if not isinstance(k, ScalarNode):
            raise InputError(f"{what}: a mapping key must be a scalar "
                             f"(line {k.start_mark.line + 1})")
        if k.value in keys:
            raise InputError(f"{what}: duplicate key {k.value!r} at line {k.start_mark.line + 1}")
        keys.add(k.value)


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    if id(node) in memo:
        return memo[id(node)]
    size = 1
    if isinstance(node, MappingNode):
        size += sum(_expanded_size(v, memo) + 1 for _, v in node.value)
    elif isinstance(node, SequenceNode):
        size += sum(_expanded_size(v, memo) for v in node.value)
    memo[id(node)] = size
    return size


def parse_resource_list(text: str) -> ParsedList:
    """Compose a ResourceList and find each item's span; raises InputError (one line)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError("input is empty: expected a ResourceList")
    root = compose(text)
    if root is None:
        raise InputError("input is empty: expected a ResourceList")
    if not isinstance(root, MappingNode):
        raise InputError("input is not a ResourceList: the document is not a mapping")
    parsed = _from_header(root, text, "input")
    items_node = next((v for k, v in root.value if k.value == "items"), None)
    if items_node is None or items_node.tag == "tag:yaml.org,2002:null":
        return parsed
    if not isinstance(items_node, SequenceNode):
        raise InputError("ResourceList.items is not a list")
    nodes = items_node.value
    for i, node in enumerate(nodes):
        parsed.items.append(_whole_chunk(text, node, nodes[i + 1] if i + 1 < len(nodes)
                                         else None))
    items = parsed.items
    chunks = [c for c in items if c.form == "chunk"]
    parsed.wide = bool(chunks) and text[chunks[0].start : chunks[0].start + 4] == "  - "
    shared_with_header = _mark_shared(root, items) if may_have_anchors(text) else False
    if items and len(chunks) == len(items) and not shared_with_header:
        # Keep the ResourceList's own text around the items: output differs from input
        # only where a function changed something. Old results are cut out of it (they
        # are written again, with the new ones, at the end).
        first, last = items[0].start, items[-1].end
        cut = _results_span(root, text) or (first, first)
        if first < cut[1] and cut[0] < last:
            return parsed
        rest = text[: cut[0]] + text[cut[1] :]
        shift = cut[1] - cut[0] if cut[1] <= first else 0
        parsed.header_text = rest[: first - shift] + rest[last - shift :]
        parsed.items_at = first - shift
    return parsed


def _results_span(root: MappingNode, text: str) -> tuple[int, int] | None:
    """The lines of the ResourceList's own `results:` field, if it has one."""
    from krmfn._document import Doc
    from krmfn._nodes import line_end, line_start

    for k, v in root.value:
        if k.value == "results":
            end = line_end(text, Doc(text, v)._end_of(v))
            return line_start(text, int(k.start_mark.index)), min(end + 1, len(text))
    return None


def _mark_shared(root: MappingNode, items: list[Chunk]) -> bool:
    """Mark items whose nodes an alias shares with another item or with the rest of the
    ResourceList (they are written out whole, aliases expanded); True if the rest of the
    ResourceList is involved: its text cannot be kept then either."""
    owner: dict[int, int] = {}
    seen: set[int] = set()
    involved: set[int] = set()
    trees: list[tuple[int, Node]] = [(i, c.root) for i, c in enumerate(items)]
    trees += [(-1, v) for k, v in root.value if k.value != "items"]
    for who, tree in trees:
        stack = [tree]
        while stack:
            node = stack.pop()
            first = owner.setdefault(id(node), who)
            if first != who:
                involved.update((first, who))
                continue
            if id(node) in seen:  # an alias within the same tree: walked already
                continue
            seen.add(id(node))
            if isinstance(node, MappingNode):
                stack.extend(v for _, v in node.value)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)
    for i in involved - {-1}:
        items[i].aliased = items[i].shared = True
    return -1 in involved


def _whole_chunk(text: str, node: Node, nxt: Node | None) -> Chunk:
    """An item of a document composed whole: an item with its own `- ` line keeps that
    line and everything up to the next item (chunk form: comments stay, the header is
    kept); items of a flow sequence (JSON) are taken as the bare node."""
    from krmfn._document import Doc
    from krmfn._nodes import line_end

    start, end = int(node.start_mark.index), int(node.end_mark.index)
    if isinstance(node, MappingNode) and node.value:
        ls = _dash_line(text, start)
        if ls >= 0:
            if nxt is not None:
                stop = _dash_line(text, int(nxt.start_mark.index))
            else:
                stop = min(line_end(text, Doc(text, node)._end_of(node)) + 1, len(text))
                dash_line = text[ls : line_end(text, ls)]
                stop = _indented_comments_end(text, stop,
                                              len(dash_line) - len(dash_line.lstrip(" ")))
            if stop > ls:
                return Chunk(text, node, ls, stop, "chunk")
    return Chunk(text, node, start, end, "inline")


def _indented_comments_end(text: str, pos: int, column: int) -> int:
    """Past the comment lines at `pos` indented deeper than `column`: they belong to the
    item above them, not to what follows at the item's own column."""
    from krmfn._nodes import line_end

    while pos < len(text):
        nl = line_end(text, pos)
        stripped = text[pos:nl].lstrip(" ")
        if not stripped.startswith("#") or nl - pos - len(stripped) <= column:
            break
        pos = min(nl + 1, len(text))
    return pos


def _dash_line(text: str, start: int) -> int:
    """Start of the line holding the `- ` that opens the item at `start` (-1 if unusual).
    Only blank and comment lines may stand between the dash and the item's first key."""
    from krmfn._nodes import line_start

    ls = line_start(text, start)
    prefix = text[ls:start]
    while True:
        stripped = prefix.lstrip(" ")
        if stripped.startswith("-"):
            col = len(prefix) - len(stripped)
            rest = stripped[1:].strip()
            return ls if col in (0, 2) and (not rest or rest.startswith("#")) else -1
        if stripped.strip() and not stripped.startswith("#"):
            return -1
        if ls == 0:
            return -1
        end = ls - 1
        ls = line_start(text, end)
        prefix = text[ls:end]


_STR = "tag:yaml.org,2002:str"  # `kind: !!null ResourceList` is not a ResourceList


def _from_header(head: MappingNode, text: str, what: str) -> ParsedList:
    # The items are checked one by one by their reader; here only the rest of the list.
    tags, aliases = may_have_tags(text), may_have_anchors(text)
    long_lines = long_prefix(text)
    _duplicate(head.value, what)
    for k, v in head.value:
        if k.value != "items":
            deep = v.start_mark is None or not nesting_bounded(
                text, int(v.start_mark.index), int(v.end_mark.index), long_lines=long_lines)
            check_tree(v, f"{what}.{k.value}", tags=tags, aliases=aliases, deep=deep)
    fields = {k.value: v for k, v in head.value}
    kind = fields.get("kind")
    api = fields.get("apiVersion")
    if not isinstance(kind, ScalarNode) or kind.value != "ResourceList" or kind.tag != _STR:
        raise InputError("input is not a ResourceList: kind is "
                         f"{kind.value if isinstance(kind, ScalarNode) else 'missing'}")
    if not isinstance(api, ScalarNode) or api.tag != _STR or api.value not in (
        "config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"
    ):
        raise InputError("input is not a ResourceList: apiVersion must be "
                         "config.kubernetes.io/v1 (or v1beta1)")
    fc = fields.get("functionConfig")
    fc_chunk = None
    if fc is not None and fc.tag != "tag:yaml.org,2002:null":
        fc_chunk = Chunk(text, fc, int(fc.start_mark.index), int(fc.end_mark.index), "inline")
    old: list[object] = []
    results = fields.get("results")
    if results is not None and results.tag != "tag:yaml.org,2002:null":
        from krmfn._nodes import construct

        value = construct(results)
        old = value if isinstance(value, list) else [value]
    return ParsedList(str(api.value), "", -1, False, [], fc_chunk, old)
