"""Fuzzing every catalog function (and a no-op) in process, bounded for the normal run.

(a) Text and byte mutations of valid ResourceLists (characters inserted, deleted and
replaced, lines copied, dropped and re-indented, keys duplicated, tags, anchors, aliases,
document markers, truncation): nothing escapes, exit 0 or 1, stdout empty or a whole
ResourceList; see `fuzz/oracle.py` for the full rule. Every input is also read lazily (as
lists of thousands of items are), which must change nothing.
(b) Structurally valid lists of the kinds each function handles, with random values
(YAML 1.1 traps such as yes, on, 0755, ~ included, quoted or plain) and random comments:
exit 0 or 1, the same output for the same input, and a successful output run again
changes nothing.

`make fuzz` runs the same rules for longer under atheris (`fuzz/`).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fuzz"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus import resource_list  # noqa: E402
from oracle import (  # noqa: E402
    catalog_functions,
    check_console,
    check_everything,
    check_mutator_laws,
    load,
    seed_inputs,
)

FUNCTIONS = catalog_functions()
SEEDS = [*seed_inputs(), resource_list(9)]
FUZZ = settings(max_examples=int(os.environ.get("KRMFN_FUZZ_EXAMPLES", "80")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------ (a) text mutations

TOKENS = (":", ": ", "- ", "-", " ", "  ", "\n", "\n- ", "#", " # c", "'", '"', "{", "}", "[",
          "]", ",", "|", "|-", ">", "?", "\t", "\r", "\r\n", "%", "@", "`", "\\", "\x00", "\ufeff",
          "\u2028", "\x85", "é", "\U0001f600", "~", "null", "yes", "0755", "---", "...", "*a",
          "&a ", "<<: *a\n", "!!", "!")
TAGS = ("!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!binary ", "!!timestamp ",
        "!!map ", "!!seq ", "!!set ", "!!omap ", "!!pairs ", "!foo ", "!<tag:x.org,1:y> ",
        "!!python/object/apply:os.system ", "!!python/name:os.system ")
MARKERS = ("---\n", "--- |\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x.org,1:\n", "# c\n", "\n")
CHARS = st.characters(codec="utf-8")  # any character but lone surrogates
Mutation = Callable[[st.DrawFn, str], str]


def _at(draw: st.DrawFn, text: str) -> int:
    return draw(st.integers(0, len(text)))


def _insert(draw: st.DrawFn, text: str) -> str:
    pos = _at(draw, text)
    piece = draw(st.sampled_from(TOKENS) | st.text(CHARS, min_size=1, max_size=4))
    return text[:pos] + piece + text[pos:]


def _delete(draw: st.DrawFn, text: str) -> str:
    pos = _at(draw, text)
    return text[:pos] + text[pos + draw(st.integers(1, 12)):]


def _replace(draw: st.DrawFn, text: str) -> str:
    pos = _at(draw, text)
    return text[:pos] + draw(CHARS) + text[pos + 1:]


def _truncate(draw: st.DrawFn, text: str) -> str:
    return text[:_at(draw, text)]


def _lines(draw: st.DrawFn, text: str) -> tuple[list[str], int]:
    lines = text.splitlines(keepends=True) or [""]
    return lines, draw(st.integers(0, len(lines) - 1))


def _copy_line(draw: st.DrawFn, text: str) -> str:
    lines, i = _lines(draw, text)
    lines.insert(draw(st.integers(0, len(lines))), lines[i])
    return "".join(lines)


def _drop_line(draw: st.DrawFn, text: str) -> str:
    lines, i = _lines(draw, text)
    del lines[i]
    return "".join(lines)


def _reindent(draw: st.DrawFn, text: str) -> str:
    lines, i = _lines(draw, text)
    shift = draw(st.sampled_from([-2, -1, 1, 2]))
    lines[i] = " " * shift + lines[i] if shift > 0 else lines[i][-shift:]
    return "".join(lines)


def _marker(draw: st.DrawFn, text: str) -> str:
    lines, i = _lines(draw, text)
    lines.insert(i, draw(st.sampled_from(MARKERS)))
    return "".join(lines)


KEY_LINE = re.compile(r"^( *)(?:- )?([^\s:#][^:\n]*:.*\n?)", re.M)


def _duplicate_key(draw: st.DrawFn, text: str) -> str:
    """Repeat a `key: value` line at its own indentation, right below itself."""
    found = list(KEY_LINE.finditer(text))
    if not found:
        return text
    m = draw(st.sampled_from(found))
    indent = m.group(1) + ("  " if text[m.end(1):].startswith("- ") else "")
    line = indent + m.group(2)
    line = line if line.endswith("\n") else line + "\n"
    return text[:m.end()] + ("" if m.group(0).endswith("\n") else "\n") + line + text[m.end():]


def _values(text: str) -> list[int]:
    return [m.end() for m in re.finditer(r": ", text)]


def _tag(draw: st.DrawFn, text: str) -> str:
    spots = _values(text)
    if not spots:
        return text
    pos = draw(st.sampled_from(spots))
    return text[:pos] + draw(st.sampled_from(TAGS)) + text[pos:]


def _alias(draw: st.DrawFn, text: str) -> str:
    """Anchor one value and make a later value (to the end of its line) an alias of it."""
    spots = _values(text)
    if len(spots) < 2:
        return text
    first, second = sorted(draw(st.lists(st.sampled_from(spots), min_size=2, max_size=2,
                                         unique=True)))
    end = text.find("\n", second)
    end = len(text) if end < 0 else end
    text = text[:second] + "*a" + text[end:]
    return text[:first] + "&a " + text[first:]


MUTATIONS: tuple[Mutation, ...] = (_insert, _delete, _replace, _truncate, _copy_line,
                                   _drop_line, _reindent, _marker, _duplicate_key, _tag, _alias)


@st.composite
def mutated_lists(draw: st.DrawFn) -> str:
    text: str = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@FUZZ
@given(text=mutated_lists())
def test_mutated_text_never_breaks_a_function(name: str, text: str) -> None:
    check_everything(FUNCTIONS[name], text)


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(mutated_lists()).encode("utf-8"))
    for _ in range(draw(st.integers(0, 3))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - {"noop"}))
@FUZZ
@given(data=mutated_bytes())
def test_mutated_bytes_through_the_console_script(name: str, data: bytes) -> None:
    """The whole command line path, stdin bytes to exit code, without a process."""
    check_console(FUNCTIONS[name], data)


HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
ITEM = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{}\n"
CONFIG = ("functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n"
          "  data:\n    nosuchkey: x\n")
FOUND = {  # inputs that once broke a rule, kept as plain regression cases
    "scalar-item": HEAD + "items:\n- apiVersio\n",
    "config-not-a-map": HEAD + "items:\n" + "".join(ITEM.format(i) for i in range(4))
                        + "functionConfig:\n  apiVersion2 v\n",
    "lone-carriage-return": HEAD + "items:\n" + "".join(ITEM.format(i) for i in range(3))
                            + "    namespace: a\r- apiVersion: v1\n  kind: X\n",
    "line-separator": HEAD + "items:\n" + ITEM.format(1) + "  data:\n    x: \"a\u2028b\"\n",
    "kind-tagged-null": HEAD.replace("kind: ", "kind: !!null ") + "items:\n" + ITEM.format(1),
    "null-item-with-comment": HEAD + "items:\n- # nothing here\n",
    "tag-that-does-not-fit": HEAD + "items:\n" + ITEM.format(1) + "  data:\n    x: !!int abc\n",
    "bad-base64": HEAD + "items:\n" + ITEM.format(1) + "  data:\n    x: !!binary zz=\n",
    "duplicate-key-in-header": HEAD + "kind: ResourceList\nitems:\n" + "".join(
        ITEM.format(i) for i in range(4)),
    "bad-item-and-bad-config": HEAD + "items:\n- apiVersion: v1\n  metadata:\n    name: a\n"
                               + "".join(ITEM.format(i) for i in range(4)) + CONFIG,
    "duplicate-key-and-syntax-error": HEAD + "items:\n" + ITEM.format(0) + "    name: again\n"
                                      + ITEM.format(1) + "- apiVersion: v1\n kind: X\n"
                                      + ITEM.format(2),
}


@pytest.mark.parametrize("case", sorted(FOUND))
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_inputs_found_by_fuzzing(name: str, case: str) -> None:
    out = check_everything(FUNCTIONS[name], FOUND[case])
    assert out.exit_code == 1


def test_keys_added_at_the_end_of_a_nested_map_stay_inside_it() -> None:
    """An annotation added after a new `spec:` was spliced at the same place once, and
    landed under `spec`."""
    text = (HEAD + "items:\n- apiVersion: infra.nephio.org/v1alpha1\n  kind: WorkloadCluster\n"
            "  metadata:\n    name: cluster\n    annotations:\n"
            "      kpt.dev/config-injection: required\n"
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
            "    name: site\n  data:\n    clusterName: edge-06\n")
    out = check_mutator_laws(FUNCTIONS["site-specialize"], text)
    assert out.exit_code == 0, out.stderr
    (cluster,) = load(out.stdout)["items"]
    assert cluster["metadata"]["annotations"]["kpt.dev/injected-resource"] == "edge-06"
    assert cluster["spec"]["clusterName"] == "edge-06"


def test_a_setter_on_an_empty_value_keeps_the_space_after_the_colon() -> None:
    """`image: # kpt-set: ${image}` once became `image:nginx`, which is not a key."""
    text = (HEAD + "items:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n"
            "    name: web\n  spec:\n    image: # kpt-set: ${image}\n    tag:\n"
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
            "    name: setters\n  data:\n    image: nginx\n")
    out = check_mutator_laws(FUNCTIONS["site-specialize"], text)
    assert out.exit_code == 0, out.stderr
    assert "    image: nginx # kpt-set: ${image}\n" in out.stdout


# ------------------------------------------------------------------ (b) valid lists, odd values

TRAPS = ("yes", "no", "on", "off", "y", "n", "Yes", "NO", "True", "false", "0755", "0o755",
         "0x1F", "1e3", "1_000", "12:30", ".inf", "-.nan", "~", "null", "Null", "", " ",
         "2001-12-14", "- x", "a: b", "#x", "'", '"', "*x", "&x", "!x", "%x", "@x", "{}",
         "[]", "\t", "é", "10.0.0.1/24", "fd00::1/64", "eth1.100", "1", "0", "-1", "4095")
VALUES = (st.sampled_from(TRAPS) | st.integers(-(2**33), 2**33) | st.booleans() | st.none()
          | st.floats(-1e12, 1e12) | st.text(CHARS, max_size=8))
NAMES = st.sampled_from(["a", "web", "n3", "n6", "upf", "edge-01", "x-1", "0755", "yes"])
PLAIN_TRAP = re.compile(r"'(yes|no|on|off|y|n|Yes|NO|True|false|0755|0o755|0x1F|1e3|1_000|"
                        r"12:30|\.inf|~|null|Null|2001-12-14)'")


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside `value` (mappings and lists)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*at, k)
            yield from _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*at, i)
            yield from _paths(v, (*at, i))


IDENTITY = {("apiVersion",), ("kind",), ("metadata",), ("metadata", "name")}


def _editable(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for i, item in enumerate(doc.get("items") or []):
        out += [("items", i, *p) for p in _paths(item) if p not in IDENTITY]
    if isinstance(doc.get("functionConfig"), dict):
        out += [("functionConfig", *p) for p in _paths(doc["functionConfig"])
                if p not in IDENTITY]
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _edit(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    items: list[Any] = doc.setdefault("items", []) or []
    op = draw(st.sampled_from(["set", "set", "set", "delete", "clone", "drop", "label"]))
    paths = _editable(doc)
    if op in ("set", "delete") and paths:
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        if op == "set":
            parent[path[-1]] = draw(VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    elif op == "clone" and items:
        twin = copy.deepcopy(draw(st.sampled_from(items)))
        if isinstance(twin.get("metadata"), dict):
            twin["metadata"]["name"] = f"{draw(NAMES)}-{len(items)}"
        items.insert(draw(st.integers(0, len(items))), twin)
    elif op == "drop" and items:
        items.pop(draw(st.integers(0, len(items) - 1)))
    elif op == "label" and items:
        meta = draw(st.sampled_from(items)).setdefault("metadata", {})
        field = draw(st.sampled_from(["labels", "annotations"]))
        if not isinstance(meta.get(field), dict):
            meta[field] = {}
        meta[field][draw(st.sampled_from(["team", "nephio.org/site", "a.b/c"]))] = \
            str(draw(VALUES))


COMMENT_CHARS = st.characters(codec="utf-8", exclude_characters="\r\n\x85\u2028\u2029")


def _comment(draw: st.DrawFn, text: str) -> str:
    """Comments on their own lines and after values; kept only where they change nothing."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        note = "# " + draw(st.text(COMMENT_CHARS, max_size=10))
        if draw(st.booleans()):
            lines.insert(i, note + "\n")
        else:
            lines[i] = lines[i].rstrip("\n") + " " + note + "\n"
        candidate = "".join(lines)
        try:
            same = load(candidate) == load(text)
        except yaml.YAMLError:
            same = False
        if not same:
            return text
        text = candidate
    return text


SEEDS_BY_FUNCTION = {name: tuple(seed_inputs(None if name == "noop" else name))
                     for name in FUNCTIONS}


def unique_identities(doc: dict[str, Any]) -> bool:
    """No two items with one kind, namespace and name: Kubernetes has no such package.
    (Two that collide are for the fuzz harnesses, which run without this filter.)"""
    seen = set()
    for item in doc.get("items") or []:
        meta = item.get("metadata") if isinstance(item, dict) else None
        if isinstance(meta, dict):
            key = (str(item.get("kind")), str(meta.get("namespace")), str(meta.get("name")))
            if key in seen:
                return False
            seen.add(key)
    return True


@st.composite
def valid_lists(draw: st.DrawFn, function: str) -> str:
    doc = load(draw(st.sampled_from(SEEDS_BY_FUNCTION[function])))
    for _ in range(draw(st.integers(1, 5))):
        _edit(draw, doc)
    assume(unique_identities(doc))
    text = yaml.safe_dump(doc, sort_keys=False, width=10**6, allow_unicode=True)
    if draw(st.booleans()):  # the traps written plain: `mode: 0755` is an integer in YAML 1.1
        text = PLAIN_TRAP.sub(r"\1", text)
    return _comment(draw, text)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@FUZZ
@given(data=st.data())
def test_valid_lists_with_odd_values_are_deterministic_and_idempotent(
    name: str, data: st.DataObject,
) -> None:
    text = data.draw(valid_lists(name))
    check_mutator_laws(FUNCTIONS[name], text)


# ------------------------------------------------------------------ across processes

DIGEST = """
import hashlib, sys
sys.path.insert(0, {fuzz!r})
from oracle import catalog_functions, seed_inputs
fn = catalog_functions()[{name!r}]
h = hashlib.sha256()
for text in seed_inputs({name!r}):
    out = fn.run_text(text)
    h.update(f"{{out.exit_code}}\\0{{out.stdout}}\\0{{out.stderr}}\\0".encode())
print(h.hexdigest())
"""


@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - {"noop"}))
def test_outputs_do_not_depend_on_the_hash_seed(name: str) -> None:
    """Set and dict orders vary with PYTHONHASHSEED between processes; outputs must not."""
    code = DIGEST.format(fuzz=str(ROOT / "fuzz"), name=name)
    digests = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=300, check=True)
        digests.add(proc.stdout.strip())
    assert len(digests) == 1
    assert len(next(iter(digests))) == len(hashlib.sha256().hexdigest())
