"""Properties of the splice editor over generated objects written in varied YAML styles.

Each generated object is a styled tree: the same value can be written block or flow, JSON
or YAML, quoted or plain, with comments, block scalars, compact or wide lists. From it we
derive both the Python value and the text, and check that

- parse -> serialize gives the text back byte for byte (as a document and as an item);
- a random sequence of set/delete/append gives text that parses to exactly the value the
  same operations give on plain Python data (key order included), leaves every other item
  of the ResourceList byte-identical, and re-applying idempotent operations changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from krmfn import FieldError, KubeObject, Match, ResourceList

# ------------------------------------------------------------------ styled trees


@dataclass
class Scalar:
    value: Any
    style: str  # "plain", "'", '"', "|", ">"
    comment: str = ""


@dataclass
class Map:
    pairs: list[tuple[str, Any]]
    flow: bool = False
    json: bool = False
    head: dict[int, str] = field(default_factory=dict)  # pair index -> head comment
    dash_comment: str = ""  # as a block list item: `- # comment` on its own line
    tail: str = ""  # a comment line after the last entry
    blank: frozenset[int] = frozenset()  # pair indexes with a blank line before them


@dataclass
class Seq:
    items: list[Any]
    flow: bool = False
    wide: bool = False
    head: dict[int, str] = field(default_factory=dict)  # item index -> head comment


Styled = Scalar | Map | Seq


def value_of(node: Styled) -> Any:
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Map):
        return {k: value_of(v) for k, v in node.pairs}
    return [value_of(v) for v in node.items]


def _loads_as(text: str, want: Any) -> bool:
    try:
        got = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return False
    return type(got) is type(want) and got == want


def _key_text(key: str, flow: bool, json_style: bool) -> str:
    if json_style:
        return json.dumps(key, ensure_ascii=False)
    probe = f"{{{key}: 1, z: 2}}" if flow else f"{key}: 1  # c\nz: 2\n"
    ok = key != "z" and _loads_as(probe, {key: 1, "z": 2})
    return key if ok else json.dumps(key, ensure_ascii=False)


def _scalar_text(node: Scalar, flow: bool, json_style: bool) -> str:
    v = node.value
    if not isinstance(v, str):
        return json.dumps(v)
    if json_style or node.style == '"':
        return json.dumps(v, ensure_ascii=False)
    if node.style == "'" and "\n" not in v:
        return "'" + v.replace("'", "''") + "'"
    if flow:
        ok = _loads_as(f"[{v}, 1]", [v, 1]) and _loads_as(f"{{k: {v}, z: 1}}", {"k": v, "z": 1})
    else:
        ok = _loads_as(f"k: {v}  # c\nz: 1\n", {"k": v, "z": 1}) and _loads_as(
            f"- {v}  # c\n- 1\n", [v, 1])
    if ok:
        return v
    return json.dumps(v, ensure_ascii=False)


def flow_text(node: Styled, json_style: bool) -> str:
    if isinstance(node, Scalar):
        return _scalar_text(node, True, json_style)
    if isinstance(node, Map):
        j = json_style or node.json
        inner = ", ".join(f"{_key_text(k, True, j)}: {flow_text(v, j)}" for k, v in node.pairs)
        return "{" + inner + "}"
    return "[" + ", ".join(flow_text(v, json_style) for v in node.items) + "]"


def inline_text(node: Styled) -> str:
    """A scalar or flow collection after `key: ` or `- ` in block context."""
    if isinstance(node, Scalar):
        return _scalar_text(node, False, False)
    return flow_text(node, isinstance(node, Map) and node.json)


def _block_scalar(node: Scalar, indent: int) -> tuple[str, list[str]] | None:
    """(header, body lines) for `|`/`>` when the string can be written that way."""
    v = node.value
    if node.style not in ("|", ">") or not isinstance(v, str) or not v.strip("\n"):
        return None
    body = v[:-1] if v.endswith("\n") else v
    lines = body.split("\n")
    if any(not ln or ln[0] in " \t" or ln != ln.rstrip() for ln in lines):
        return None
    if node.style == ">" and len(lines) > 1:
        return None
    chomp = "" if v.endswith("\n") and not v.endswith("\n\n") else "-"
    if v.endswith("\n\n"):
        return None
    pad = " " * indent
    return node.style + chomp, [pad + ln for ln in lines]


def _comment(text: str) -> str:
    return f"  # {text}" if text else ""


def block_lines(node: Map | Seq, indent: int) -> list[str]:
    """A non-empty block collection as lines starting at `indent`."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(node, Map):
        for i, (k, v) in enumerate(node.pairs):
            if i in node.blank and i > 0:
                out.append("")
            if i in node.head:
                out.append(f"{pad}# {node.head[i]}")
            key = _key_text(k, False, False)
            if isinstance(v, Map) and v.pairs and not v.flow:
                out.append(f"{pad}{key}:")
                out.extend(block_lines(v, indent + 2))
            elif isinstance(v, Seq) and v.items and not v.flow:
                out.append(f"{pad}{key}:")
                out.extend(block_lines(v, indent + 2 if v.wide else indent))
            elif isinstance(v, Scalar) and (blk := _block_scalar(v, indent + 2)):
                out.append(f"{pad}{key}: {blk[0]}{_comment(v.comment)}")
                out.extend(blk[1])
            else:
                text = inline_text(v)
                c = v.comment if isinstance(v, Scalar) else ""
                out.append(f"{pad}{key}: {text}{_comment(c)}")
        if node.tail:
            out.append(f"{pad}# {node.tail}")
        return out
    for i, v in enumerate(node.items):
        if i in node.head:
            out.append(f"{pad}# {node.head[i]}")
        if isinstance(v, (Map, Seq)) and (v.pairs if isinstance(v, Map) else v.items) and (
            not v.flow
        ):
            sub = block_lines(v, indent + 2)
            if isinstance(v, Map) and v.dash_comment:
                out.append(f"{pad}- # {v.dash_comment}")
                out.extend(sub)
            else:
                out.append(f"{pad}- {sub[0][indent + 2 :]}")
                out.extend(sub[1:])
        elif isinstance(v, Scalar) and (blk := _block_scalar(v, indent + 2)):
            out.append(f"{pad}- {blk[0]}{_comment(v.comment)}")
            out.extend(blk[1])
        else:
            c = v.comment if isinstance(v, Scalar) else ""
            out.append(f"{pad}- {inline_text(v)}{_comment(c)}")
    return out


def document(node: Map) -> str:
    if node.flow:
        return flow_text(node, node.json) + "\n"
    return "\n".join(block_lines(node, 0)) + "\n"


def as_item(doc: str, wide: bool) -> str:
    dash, pad = ("  - ", "    ") if wide else ("- ", "  ")
    lines = doc.rstrip("\n").split("\n")
    return "\n".join([dash + lines[0], *(pad + ln if ln else ln for ln in lines[1:])]) + "\n"


# ------------------------------------------------------------------ strategies

TRICKY = ["yes", "on", "no", "off", "y", "0755", "1e3", "null", "~", "", "-x", ":x", "#x",
          "a: b", "a #b", "héllo", "日本", "true", "12", "1.5", "2024-01-01", "@x", "*", "&a",
          "!t", "%x", "[x]", "{x}", "a,b", "<<", "'q'", '"q"', " lead", "trail "]
WORDS = ["web", "db", "prod", "edge", "ran", "core", "x", "name", "value", "a.b/c", "app"]
KEYS = ["a", "b", "c", "name", "image", "ports", "items", "x.y", "on", "1"]

words = st.sampled_from(WORDS)
strings = st.one_of(words, st.sampled_from(TRICKY),
                    st.text(alphabet="abc xyz-:#'\"é\n", max_size=12))
multiline = st.lists(st.text(alphabet="abcdefg ", min_size=1, max_size=8).map(str.strip)
                     .filter(bool), min_size=1, max_size=3).flatmap(
    lambda ls: st.sampled_from(["\n".join(ls), "\n".join(ls) + "\n"]))
scalar_values = st.one_of(strings, multiline, st.integers(-5, 70000), st.booleans(),
                          st.none(), st.sampled_from([0.5, -2.25]))
comments = st.one_of(st.just(""), st.sampled_from(["note", "kpt-set: ${x}", "é # x"]))


@st.composite
def scalars(draw: st.DrawFn) -> Scalar:
    v = draw(scalar_values)
    styles = ["plain"]
    if isinstance(v, str):
        styles += ["'", '"']
        if v.strip("\n"):
            styles += ["|", ">"]
    return Scalar(v, draw(st.sampled_from(styles)), draw(comments))


rarely = st.sampled_from([False, False, False, True])


def collections(children: st.SearchStrategy[Styled]) -> st.SearchStrategy[Styled]:
    maps = st.builds(
        lambda pairs, flow, js, head, dash, tail, blank: Map(pairs, flow, js and flow, head,
                                                             dash, tail, blank),
        st.lists(st.tuples(st.sampled_from(KEYS), children), max_size=4,
                 unique_by=lambda p: p[0]),
        rarely, st.booleans(),
        st.dictionaries(st.integers(0, 3), st.sampled_from(["head", "section: x"]),
                        max_size=2),
        st.sampled_from(["", "first line"]),
        st.sampled_from(["", "", "tail: end"]),
        st.frozensets(st.integers(1, 3), max_size=2),
    )
    seqs = st.builds(Seq, st.lists(children, max_size=3), rarely, st.booleans(),
                     st.dictionaries(st.integers(0, 2), st.just("item"), max_size=1))
    return st.one_of(maps, seqs)


nested = st.recursive(scalars(), collections, max_leaves=10)


@st.composite
def objects(draw: st.DrawFn, *, flow_ok: bool = True) -> Map:
    name = draw(words.filter(lambda w: "/" not in w))
    labels = Map(draw(st.lists(st.tuples(st.sampled_from(["app", "tier", "x.io/y"]),
                                         st.builds(Scalar, strings,
                                                   st.sampled_from(["plain", '"', "'"]))),
                               max_size=3, unique_by=lambda p: p[0])),
                 flow=draw(st.booleans()))
    meta_pairs: list[tuple[str, Any]] = [("name", Scalar(name, "plain", draw(comments)))]
    if draw(st.booleans()):
        meta_pairs.append(("namespace", Scalar("default", "plain")))
    if labels.pairs or draw(st.booleans()):
        meta_pairs.append(("labels", labels))
    meta = Map(meta_pairs, head=draw(st.sampled_from([{}, {0: "identity"}])))
    spec = draw(nested.filter(lambda n: isinstance(n, Map)))
    if draw(st.booleans()):  # a list of named maps, as containers are (for `[name=...]`)
        names = draw(st.lists(words.filter(lambda w: "." not in w and "/" not in w),
                              min_size=1, max_size=3, unique=True))
        entries = [Map([("name", Scalar(n, "plain")),
                        *draw(st.lists(st.tuples(st.sampled_from(["image", "ports"]), nested),
                                       max_size=2, unique_by=lambda p: p[0]))],
                       dash_comment=draw(st.sampled_from(["", "", "entry"])),
                       tail=draw(st.sampled_from(["", "", "tail: entry"])))
                   for n in names]
        spec = Map([*(p for p in spec.pairs if p[0] != "containers"),
                    ("containers", Seq(entries, wide=draw(st.booleans())))],
                   spec.flow, spec.json, spec.head, spec.dash_comment, spec.tail, spec.blank)
    top = Map([("apiVersion", Scalar(draw(st.sampled_from(["v1", "apps/v1", "x.io/v1"])),
                                     "plain")),
               ("kind", Scalar("Thing", "plain")), ("metadata", meta), ("spec", spec)],
              head=draw(st.sampled_from([{}, {0: "top of file"}])))
    if flow_ok and draw(st.integers(0, 9)) == 0:
        top = Map(top.pairs, flow=True, json=draw(st.booleans()))
    return top


# ------------------------------------------------------------------ the model

Seg = str | int | Match


def _model_child(node: Any, seg: Seg) -> tuple[bool, Any]:
    if isinstance(node, dict) and isinstance(seg, str):
        return (seg in node, node.get(seg))
    if isinstance(node, list):
        idx = _model_index(node, seg)
        return (idx is not None, node[idx] if idx is not None else None)
    return False, None


def _model_index(node: list[Any], seg: Seg) -> int | None:
    if isinstance(seg, int):
        return seg if 0 <= seg < len(node) else (seg + len(node) if -len(node) <= seg < 0
                                                  else None)
    if isinstance(seg, Match):
        for i, item in enumerate(node):
            if isinstance(item, dict) and seg.key in item and item[seg.key] == seg.value:
                return i
    return None


def model_set(root: dict[str, Any], segs: tuple[Seg, ...], value: Any) -> None:
    parent: Any = root
    for i, seg in enumerate(segs):
        found, child = _model_child(parent, seg)
        if not found:
            if not isinstance(seg, str) or not isinstance(parent, dict):
                raise FieldError("", "no such field")
            if not all(isinstance(s, str) for s in segs[i + 1 :]):
                raise FieldError("", "cannot create list elements")
            nested_value = value
            for s in reversed(segs[i + 1 :]):
                nested_value = {s: nested_value}
            parent[seg] = _copy(nested_value)
            return
        if i == len(segs) - 1:
            slot = seg if isinstance(parent, dict) else _model_index(parent, seg)
            parent[slot] = _merged(parent[slot], value)
            return
        parent = child


def _merged(old: Any, new: Any) -> Any:
    """What `set` documents: maps are merged key by key (existing keys keep their place,
    missing ones go, new ones come last), lists element by element."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = {k: _merged(v, new[k]) for k, v in old.items() if k in new}
        out.update((k, _copy(v)) for k, v in new.items() if k not in old)
        return out
    if isinstance(old, list) and isinstance(new, list):
        return [_merged(o, n) for o, n in zip(old, new, strict=False)] + _copy(
            new[len(old) :])
    return _copy(new)


def model_delete(root: dict[str, Any], segs: tuple[Seg, ...]) -> bool:
    parent: Any = root
    for seg in segs[:-1]:
        found, parent = _model_child(parent, seg)
        if not found:
            return False
    seg = segs[-1]
    if isinstance(parent, dict) and isinstance(seg, str):
        return parent.pop(seg, _GONE) is not _GONE
    if isinstance(parent, list):
        idx = _model_index(parent, seg)
        if idx is None:
            return False
        del parent[idx]
        return True
    return False


_GONE = object()


def model_append(root: dict[str, Any], segs: tuple[Seg, ...], value: Any) -> None:
    parent: Any = root
    for seg in segs:
        found, parent = _model_child(parent, seg)
        if not found:
            model_set(root, segs, [value])
            return
    if not isinstance(parent, list):
        raise FieldError("", "is not a list")
    parent.append(_copy(value))


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def ordered(value: Any) -> Any:
    """A value with key order made visible to ==."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return (type(value).__name__, value)


# ------------------------------------------------------------------ operations


@dataclass(frozen=True)
class Op:
    kind: str  # "set", "delete", "append"
    path: tuple[Seg, ...]
    value: Any = None

    def apply_model(self, root: dict[str, Any]) -> Any:
        if self.kind == "set":
            return model_set(root, self.path, self.value)
        if self.kind == "delete":
            return model_delete(root, self.path)
        return model_append(root, self.path, self.value)

    def apply(self, obj: KubeObject) -> Any:
        path: Any = self.path
        if all(isinstance(s, str) and s.isidentifier() for s in self.path):
            path = ".".join(str(s) for s in self.path)
        if self.kind == "set":
            return obj.set(path, self.value)
        if self.kind == "delete":
            return obj.delete(path)
        return obj.append(path, self.value)

    @property
    def idempotent(self) -> bool:
        return self.kind == "set" or (self.kind == "delete" and isinstance(self.path[-1], str))


def _paths(value: Any, prefix: tuple[Seg, ...] = ()) -> list[tuple[tuple[Seg, ...], Any]]:
    out = [(prefix, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            seg: Seg = i
            if isinstance(v, dict) and isinstance(v.get("name"), str) and v["name"] in WORDS \
                    and "." not in v["name"] and [
                        x.get("name") for x in value if isinstance(x, dict)].count(v["name"]) == 1:
                seg = Match("name", v["name"])
            out += _paths(v, (*prefix, seg))
    return out


new_values = st.one_of(
    scalar_values,
    st.dictionaries(st.sampled_from(KEYS), scalar_values, max_size=3),
    st.lists(scalar_values, max_size=3),
    st.lists(st.dictionaries(st.sampled_from(KEYS), scalar_values, min_size=1, max_size=2),
             max_size=2),
)


@st.composite
def operation(draw: st.DrawFn, model: dict[str, Any], idempotent_only: bool) -> Op:
    editable = [(p, v) for p, v in _paths(model)
                if (len(p) >= 2 and p[0] in ("metadata", "spec")) or p == ("spec",)]
    kinds = ["set", "set", "delete"] + ([] if idempotent_only else ["append"])
    kind = draw(st.sampled_from(kinds))
    path, current = draw(st.sampled_from(editable)) if editable else (("spec",), None)
    if kind == "set" and draw(st.booleans()):
        if isinstance(current, dict):
            path = (*path, draw(st.sampled_from(KEYS)))
        elif draw(st.booleans()):
            path = ("metadata", "annotations", draw(st.sampled_from(["a", "b.io/c"])))
    if kind == "delete" and idempotent_only and not isinstance(path[-1], str):
        kind = "set"
    if kind == "append":
        lists = [p for p, v in _paths(model) if isinstance(v, list) and p and p[0] == "spec"]
        path = draw(st.sampled_from(lists)) if lists and draw(st.booleans()) else (
            "spec", "new", draw(st.sampled_from(["l", "m"])))
    value = draw(new_values) if kind != "delete" else None
    if kind == "set" and draw(st.integers(0, 3)) == 0:
        value = _copy(current) if current is not None else value  # an equal value
    return Op(kind, path, value)


@st.composite
def op_sequences(draw: st.DrawFn, start: dict[str, Any],
                 idempotent_only: bool) -> tuple[list[Op], dict[str, Any]]:
    model = _copy(start)
    ops: list[Op] = []
    for _ in range(draw(st.integers(1, 6))):
        op = draw(operation(model, idempotent_only))
        with contextlib.suppress(FieldError):
            op.apply_model(model)
        ops.append(op)
    return ops, model


def run_ops(obj: KubeObject, ops: list[Op]) -> None:
    for op in ops:
        model = obj.to_dict()
        try:
            op.apply_model(model)
            expect_error = False
        except FieldError:
            expect_error = True
        if expect_error:
            with pytest.raises(FieldError):
                op.apply(obj)
        else:
            op.apply(obj)
        assert ordered(obj.to_dict()) == ordered(model), op


# ------------------------------------------------------------------ properties

# KRMFN_PROPERTY_EXAMPLES=5000 for a deeper search than the default run's
EXAMPLES = int(os.environ.get("KRMFN_PROPERTY_EXAMPLES", "200"))
COMMON = settings(max_examples=EXAMPLES, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
FOOTER = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: fc\n"


def resource_list(docs: list[str], wide: bool) -> tuple[str, list[str]]:
    items = [as_item(d, wide) for d in docs]
    return HEADER + "".join(items) + FOOTER, items


@COMMON
@given(objects())
def test_generated_text_is_what_it_says(node: Map) -> None:
    """The generator itself: its text loads as its value under a plain YAML 1.1 reader."""
    text = document(node)
    assert yaml.load(text, Loader=yaml.CSafeLoader) == value_of(node), text


@COMMON
@given(objects())
def test_document_round_trip_is_byte_identical(node: Map) -> None:
    text = document(node)
    obj = KubeObject.from_yaml(text)
    assert obj.to_yaml() == text
    assert ordered(obj.to_dict()) == ordered(value_of(node))


@COMMON
@given(st.lists(objects(), min_size=1, max_size=3), st.booleans())
def test_resource_list_round_trip_is_byte_identical(nodes: list[Map], wide: bool) -> None:
    text, _ = resource_list([document(n) for n in nodes], wide)
    rl = ResourceList.parse(text)
    assert rl.to_text() == text
    assert [ordered(o.to_dict()) for o in rl.items] == [ordered(value_of(n)) for n in nodes]


@COMMON
@given(st.data(), st.lists(objects(), min_size=3, max_size=3), st.integers(0, 2),
       st.booleans())
def test_edits_match_the_model_and_touch_only_their_item(
        data: st.DataObject, nodes: list[Map], target: int, wide: bool) -> None:
    docs = [document(n) for n in nodes]
    text, items = resource_list(docs, wide)
    ops, model = data.draw(op_sequences(value_of(nodes[target]), idempotent_only=False))
    rl = ResourceList.parse(text)
    run_ops(rl.items[target], ops)
    out = rl.to_text()

    again = ResourceList.parse(out)  # (a) it parses
    assert not again.input_errors or target_lost_identity(model)
    # (b) exactly the model's value, key order included
    assert ordered(again.items[target].to_dict()) == ordered(model), out
    # (c) everything else byte-identical
    head = HEADER + "".join(items[:target])
    tail = "".join(items[target + 1 :]) + FOOTER
    assert out.startswith(head) and out.endswith(tail), out
    for i, n in enumerate(nodes):
        if i != target:
            assert ordered(again.items[i].to_dict()) == ordered(value_of(n))


def target_lost_identity(model: dict[str, Any]) -> bool:
    meta = model.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return not ((isinstance(name, str) and name) or type(name) is int)


@COMMON
@given(st.data(), objects())
def test_document_edits_match_the_model(data: st.DataObject, node: Map) -> None:
    text = document(node)
    ops, model = data.draw(op_sequences(value_of(node), idempotent_only=False))
    obj = KubeObject.from_yaml(text)
    run_ops(obj, ops)
    out = obj.to_yaml()
    assert ordered(KubeObject.from_yaml(out).to_dict()) == ordered(model), out
    assert ordered(yaml.load(out, Loader=yaml.CSafeLoader)) == ordered(model), out


@COMMON
@given(st.data(), objects(), st.booleans())
def test_reapplying_idempotent_edits_changes_nothing(data: st.DataObject, node: Map,
                                                     wide: bool) -> None:
    """Sets and key deletes, applied again to their own output, change no byte: unless
    applying them again to plain data changes it too (a key deleted and set again in one
    sequence moves to the end of its map, there as here)."""
    text, _ = resource_list([document(node)], wide)
    ops, model = data.draw(op_sequences(value_of(node), idempotent_only=True))
    twice = _copy(model)
    for op in ops:
        with contextlib.suppress(FieldError):
            op.apply_model(twice)
    stable = ordered(twice) == ordered(model)
    rl = ResourceList.parse(text)
    run_ops(rl.items[0], ops)
    once = rl.to_text()
    rl2 = ResourceList.parse(once)
    run_ops(rl2.items[0], ops)
    assert rl2.to_text() == once or not stable
    obj = KubeObject.from_yaml(document(node))
    run_ops(obj, ops)
    single = obj.to_yaml()
    obj2 = KubeObject.from_yaml(single)
    run_ops(obj2, ops)
    assert obj2.to_yaml() == single or not stable
