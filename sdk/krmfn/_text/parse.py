"""YAML text into node trees, safely and fast: libyaml's C composer, garbage collector
off, with a memoized resolver (one document here; items of a large list one by one in
`_large.lazy_list`, the eager split of a ResourceList into items in `_text.parse_list`).

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
from krmfn._text.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["MAX_DEPTH", "check_keys_unique", "check_tree", "compose", "long_prefix",
           "may_have_anchors", "may_have_tags", "nesting_bounded", "normalized"]

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


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"
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


def normalized(text: str) -> tuple[str, bool]:
    """The text as it is edited: without a leading byte order mark (libyaml's marks do
    not count it: every edit would land one character early), with CRLF line breaks read
    as LF (a line break in YAML is one either way); and whether every line break was CRLF,
    so that what is written from it uses them too."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" not in text:
        return text, False
    crlf = text.count("\r\n")
    return text.replace("\r\n", "\n"), crlf == text.count("\n")


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
_MERGE_KEY = re.compile(r"[\s\[{,?]<<[ \t]*:")


def may_have_tags(text: str) -> bool:
    return "!" in text and (text.startswith("!") or _TAG_TOKEN.search(text) is not None)


def may_have_anchors(text: str) -> bool:
    """True unless the text shows that its trees share no nodes: no anchor, and no merge
    key (`<<: {...}` takes in another mapping's keys as an alias does)."""
    return ("&" in text and (text.startswith("&") or _ANCHOR_TOKEN.search(text) is not None)
            ) or ("<<" in text and (text.startswith("<<") or _MERGE_KEY.search(text) is not None))


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
    """Reject what a function must never see; True if the tree shares nodes (aliases) or
    merges keys (`<<`): its text does not say which node holds what, so it is edited as
    data and written whole.

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
            check_keys_unique(pairs, what)
    elif pairs and pairs[0][0].__class__ is not ScalarNode:
        check_keys_unique(pairs, what)


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
            check_keys_unique(node.value, what)
            for k, v in node.value:
                if k.tag not in _ALLOWED_TAGS:
                    raise InputError(f"{what}: YAML tag {k.tag!r} is not allowed")
                if k.tag == _MERGE_TAG:
                    aliased = True
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
    from krmfn._text.nodes import construct

    if node.tag == _resolve(ScalarNode, node.value, (True, False)):
        return  # its text is what that tag's pattern reads: no need to build the value
    try:
        construct(node)
    except (yaml.YAMLError, ValueError, KeyError, TypeError, IndexError, OverflowError):
        kind = node.tag.rsplit(":", 1)[-1]
        raise InputError(f"{what}: {node.value[:40]!r} is not a valid !!{kind} "
                         f"(line {node.start_mark.line + 1})") from None


def check_keys_unique(pairs: list[tuple[Node, Node]], what: str) -> None:
    """One mapping's keys are scalars, each once; else an InputError naming the line."""
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
