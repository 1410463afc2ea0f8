"""ResourceLists with YAML anchors, aliases and merge keys in every position, generated
as text (see `test_sdk_aliases`): a small model of YAML text and its writer (block and
flow style, comments, block scalars), and hypothesis strategies over it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st

NAMESPACE = "x-ns"
CLUSTER, SITE = "edge-7", "s7"
SITE_LABELS = {"nephio.org/cluster-name": CLUSTER, "nephio.org/site": SITE}
# (apiVersion, kind, namespaced): None for a custom kind the list defines no CRD of, which
# set-namespace moves only if it has a namespace already
KINDS: list[tuple[str, str, bool | None]] = [
    ("v1", "ConfigMap", True), ("apps/v1", "Deployment", True), ("v1", "Service", True),
    ("v1", "Secret", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", False),
    ("vlan.resource.nephio.org/v1alpha1", "VLANClaim", None)]


# ---------------------------------------------------------------- a YAML text model
@dataclass
class Scalar:
    text: str  # as written ("" : nothing after `key:`)
    anchor: str | None = None


@dataclass
class Block:
    """A literal or folded block scalar."""

    lines: list[str]
    style: str = "|"  # with its chomping indicator
    anchor: str | None = None


@dataclass
class Alias:
    name: str


@dataclass
class Map:
    pairs: list[tuple[str, Node]]
    flow: bool = False
    anchor: str | None = None
    comment: str = ""  # on the line of its key (block maps)
    trailing: list[tuple[int, str]] = field(default_factory=list)  # (extra indent, comment)


@dataclass
class Seq:
    items: list[Node]
    flow: bool = False
    anchor: str | None = None


Node = Scalar | Block | Alias | Map | Seq


def _props(node: Node) -> str:
    anchor = getattr(node, "anchor", None)
    return f"&{anchor} " if anchor else ""


def flow(node: Node) -> str:
    if isinstance(node, Block):  # in flow context: the same string, double-quoted
        return _props(node) + json.dumps(block_text(node), ensure_ascii=False)
    if isinstance(node, Alias):
        return f"*{node.name}"
    if isinstance(node, Scalar):
        return _props(node) + (node.text or "null")
    if isinstance(node, Map):
        return _props(node) + "{" + ", ".join(f"{k}: {flow(v)}" for k, v in node.pairs) + "}"
    if isinstance(node, Seq):
        return _props(node) + "[" + ", ".join(flow(v) for v in node.items) + "]"
    raise AssertionError(node)


def block_text(node: Block) -> str:
    """The string a block scalar holds (its lines are words, blank lines between)."""
    if node.style.startswith(">"):
        text = "\n".join(ln for ln in node.lines if ln)
    else:
        text = "\n".join(node.lines)
    return text if node.style.endswith("-") else text + "\n"


def _is_block(node: Node) -> bool:
    return (isinstance(node, Map) and not node.flow and bool(node.pairs)) or (
        isinstance(node, Seq) and not node.flow and bool(node.items))


def block_value(head: str, node: Node, indent: int) -> list[str]:
    """`head` (`key:` or `-`) and the value after it."""
    if isinstance(node, Map) and _is_block(node):
        comment = f" # {node.comment}" if node.comment else ""
        first = (head + " " + _props(node)).rstrip() + comment
        return [first, *block_map(node, indent + 2)]
    if isinstance(node, Seq) and _is_block(node):
        deeper = indent + (2 if node.anchor or head.endswith("-") else 0)
        return [(head + " " + _props(node)).rstrip(), *block_seq(node, deeper)]
    if isinstance(node, Block):
        pad = " " * (indent + 2)
        lines = [pad + ln if ln else "" for ln in node.lines]
        return [f"{head} {_props(node)}{node.style}", *lines]
    if isinstance(node, Scalar) and not node.text and not node.anchor:
        return [head]
    return [f"{head} {flow(node)}"]


def block_map(node: Map, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in node.pairs:
        lines += block_value(f"{pad}{key}:", value, indent)
    lines += [" " * (indent + extra) + "# " + text for extra, text in node.trailing]
    return lines


def block_seq(node: Seq, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in node.items:
        if isinstance(item, Map) and _is_block(item) and not item.anchor:
            sub = block_map(item, indent + 2)
            lines += [f"{pad}- {sub[0][indent + 2:]}", *sub[1:]]
        else:
            lines += block_value(f"{pad}-", item, indent)
    return lines


# ---------------------------------------------------------------- generated lists
WORDS = st.sampled_from(["web", "db", "a1", "blue", "x_y", "v-2", "'quoted # not a comment'",
                         '"dq: text"', "two words", "café", "😀"])
KEYS = st.sampled_from(["app", "tier", "role", "zone", "k1", "k2", "k3", "owner"])


class Anchors:
    """Anchors written so far, by what they hold: an alias may only follow its anchor."""

    def __init__(self) -> None:
        self.count = 0
        self.kinds: dict[str, list[str]] = {"strmap": [], "str": [], "any": [], "seq": [],
                                             "map": [], "index": []}

    def new(self, draw: st.DrawFn, enabled: bool) -> str | None:
        if not enabled or not draw(st.booleans()):
            return None
        self.count += 1
        return f"a{self.count}"

    def add(self, name: str | None, *kinds: str) -> None:
        if name:
            for kind in (*kinds, "any"):
                self.kinds[kind].append(name)

    def alias(self, draw: st.DrawFn, kind: str, enabled: bool) -> Alias | None:
        names = self.kinds[kind]
        if not enabled or not names or not draw(st.booleans()):
            return None
        return Alias(draw(st.sampled_from(names)))


@st.composite
def str_scalar(draw: st.DrawFn, anchors: Anchors, on: bool) -> Node:
    alias = anchors.alias(draw, "str", on)
    if alias is not None:
        return alias
    if draw(st.integers(0, 8)) == 0:
        return Scalar("")  # `key:` and nothing: null
    if draw(st.integers(0, 6)) == 0:
        return Block([draw(WORDS), "", draw(WORDS)], draw(st.sampled_from(["|", "|-", ">"])))
    node = Scalar(draw(WORDS), anchors.new(draw, on))
    anchors.add(node.anchor, "str")
    return node


@st.composite
def str_map(draw: st.DrawFn, anchors: Anchors, on: bool) -> Node:
    """Labels, annotations, data, a selector: string values only."""
    alias = anchors.alias(draw, "strmap", on)
    if alias is not None:
        return alias
    keys = draw(st.lists(KEYS, min_size=1, max_size=3, unique=True))
    pairs: list[tuple[str, Node]] = [(k, draw(str_scalar(anchors, on))) for k in keys]
    flow_style = draw(st.booleans())
    if flow_style:
        pairs = [(k, Scalar(draw(WORDS)) if isinstance(v, Block) else v) for k, v in pairs]
    merge = anchors.alias(draw, "strmap", on)
    if merge is not None:  # a merge key: first, last or in between
        pairs.insert(draw(st.integers(0, len(pairs))), ("<<", merge))
    node = Map(pairs, flow_style, anchors.new(draw, on))
    if not flow_style and draw(st.booleans()):
        node.trailing = [(draw(st.sampled_from([0, 2])), "after the last key")]
    if not flow_style and draw(st.booleans()):
        node.comment = "on the key's line"
    anchors.add(node.anchor, "strmap")
    return node


@st.composite
def nested(draw: st.DrawFn, anchors: Anchors, on: bool, depth: int = 0) -> Node:
    alias = anchors.alias(draw, "any", on)
    if alias is not None:
        return alias
    shape = draw(st.sampled_from(["scalar", "map", "seq"] if depth < 2 else ["scalar"]))
    if shape == "scalar":
        return draw(str_scalar(anchors, on))
    flow_style = draw(st.booleans())
    node: Node
    if shape == "map":
        keys = draw(st.lists(KEYS, min_size=1, max_size=3, unique=True))
        node = Map([(k, draw(nested(anchors, on, depth + 1))) for k in keys], flow_style,
                   anchors.new(draw, on))
    else:
        node = Seq([draw(nested(anchors, on, depth + 1))
                    for _ in range(draw(st.integers(1, 3)))], flow_style, anchors.new(draw, on))
    if flow_style and _has_block_scalar(node):
        node.flow = False
    anchors.add(node.anchor, "seq" if isinstance(node, Seq) else "map")
    return node


def _has_block_scalar(node: Node) -> bool:
    if isinstance(node, Block):
        return True
    if isinstance(node, Map):
        return any(_has_block_scalar(v) for _, v in node.pairs)
    if isinstance(node, Seq):
        return any(_has_block_scalar(v) for v in node.items)
    return False


@st.composite
def resource(draw: st.DrawFn, index: int, anchors: Anchors, on: bool) -> Map:
    api, kind, _ = draw(st.sampled_from(KINDS))
    meta: list[tuple[str, Node]] = [("name", Scalar(f"r{index}"))]
    if draw(st.booleans()):
        meta.append(("namespace", Scalar(draw(st.sampled_from(["old", "other"])))))
    for key in draw(st.lists(st.sampled_from(["labels", "annotations"]), unique=True)):
        meta.append((key, draw(str_map(anchors, on))))
    if all(k != "annotations" for k, _ in meta) and draw(st.integers(0, 5)) == 0:
        meta.append(("annotations", Map([("config.kubernetes.io/local-config",
                                          Scalar('"true"'))])))
    labels = next((v for k, v in meta if k == "labels"), None)
    # values are drawn in the order they are written: an alias only follows its anchor
    makers: dict[str, Callable[[], Node]] = {}
    if kind == "Deployment":
        def spec() -> Node:
            parts: dict[str, Callable[[], Node]] = {
                "replicas": lambda: Scalar("2"),
                "template": lambda: Map([
                    ("metadata", Map([("labels", draw(str_map(anchors, on)))])),
                    ("spec", Map([("containers", draw(containers(anchors, on)))]))]),
                "selector": lambda: Map([("matchLabels", selector())], draw(st.booleans()))}
            return Map([(k, parts[k]()) for k in draw(st.permutations(sorted(parts)))])

        def selector() -> Node:
            if isinstance(labels, Map) and labels.anchor:
                return Alias(labels.anchor)
            return labels if isinstance(labels, Alias) else draw(str_map(anchors, on))

        makers["spec"] = spec
    elif kind == "VLANClaim":
        def claim() -> Node:
            index = anchors.alias(draw, "index", on) or Map(
                [("name", Scalar("edge-01"))], draw(st.booleans()), anchors.new(draw, on))
            if isinstance(index, Map):
                anchors.add(index.anchor, "index")
            return Map([("vlanIndex", index)])

        makers["spec"] = claim
    elif kind == "ClusterRole":
        makers["rules"] = lambda: draw(nested(anchors, on, 1))
    else:
        makers["data" if kind == "ConfigMap" else "spec"] = lambda: draw(str_map(anchors, on))
    if draw(st.booleans()):
        makers["extra"] = lambda: draw(nested(anchors, on))
    body = [(k, makers[k]()) for k in draw(st.permutations(sorted(makers)))]
    metadata = Map(meta, draw(st.integers(0, 4)) == 0 and not any(
        _has_block_scalar(v) for _, v in meta))
    item = Map([("apiVersion", Scalar(api)), ("kind", Scalar(kind)), ("metadata", metadata),
                *body])
    if draw(st.booleans()):
        item.trailing = [(draw(st.sampled_from([0, 2, 4])), "after the item")]
    return item


@st.composite
def containers(draw: st.DrawFn, anchors: Anchors, on: bool) -> Node:
    alias = anchors.alias(draw, "seq", on)
    if alias is not None:
        return alias
    entries: list[Node] = []
    for i in range(draw(st.integers(1, 2))):
        entry = Map([("name", Scalar(f"c{i}")), ("image", draw(str_scalar(anchors, on)))],
                    draw(st.booleans()), anchors.new(draw, on))
        if entry.flow and _has_block_scalar(entry):
            entry.flow = False
        anchors.add(entry.anchor, "map")
        entries.append(entry)
    node = Seq(entries, draw(st.booleans()), anchors.new(draw, on))
    if node.flow and _has_block_scalar(node):
        node.flow = False
    anchors.add(node.anchor, "seq")
    return node


def config_for(function: str, anchors: Anchors, on: bool, draw: st.DrawFn | None) -> Map:
    data = {"set-namespace": [("namespace", Scalar(NAMESPACE))],
            "site-specialize": [("clusterName", Scalar(CLUSTER)), ("siteCode", Scalar(SITE))]
            }.get(function, [])
    meta: list[tuple[str, Node]] = [("name", Scalar("fn-config"))]
    alias = anchors.alias(draw, "strmap", on) if draw is not None else None
    if alias is not None:  # the functionConfig leans on an item's anchor
        meta.append(("annotations", alias))
    elif on and draw is not None and draw(st.booleans()):
        labels = Map([("from", Scalar("config"))], draw(st.booleans()), anchors.new(draw, on))
        anchors.add(labels.anchor, "strmap")
        meta.append(("labels", labels))
    pairs: list[tuple[str, Node]] = [("apiVersion", Scalar("v1")), ("kind", Scalar("ConfigMap")),
                                     ("metadata", Map(meta))]
    if data:
        pairs.append(("data", Map(list(data))))
    return Map(pairs)


@dataclass
class Case:
    function: str
    text: str
    aliases: bool


@st.composite
def cases(draw: st.DrawFn, functions: list[str]) -> Case:
    function = draw(st.sampled_from(functions))
    on = draw(st.integers(0, 4)) > 0
    anchors = Anchors()
    wide = draw(st.booleans())
    config_first = draw(st.booleans())
    head = ["# a package", "apiVersion: config.kubernetes.io/v1", "kind: ResourceList"]
    config = None
    if config_first:
        config = config_for(function, anchors, on, draw)
        head += block_value("functionConfig:", config, 0)
    items = [draw(resource(i, anchors, on)) for i in range(draw(st.integers(3, 6)))]
    lines = [*head, "items:"]
    for item in items:
        body = block_map(item, 4 if wide else 2)
        first = ("  - " if wide else "- ") + body[0].lstrip(" ")
        lines += [first, *body[1:]]
    if draw(st.booleans()):
        lines.append("# after the items")
    if not config_first:
        config = config_for(function, anchors, on, draw)
        lines += block_value("functionConfig:", config, 0)
    text = "\n".join(lines)
    if draw(st.booleans()):
        text += "\n"
    return Case(function, text, on)
