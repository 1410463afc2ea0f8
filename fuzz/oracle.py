"""What every run of every function must satisfy, whatever it was fed.

Shared by the hypothesis tests (`tests/test_fuzz.py`) and the atheris harnesses in this
directory, so that a long fuzzing run checks exactly what the normal test run checks:

- nothing escapes `Function.run_text` (no exception, for any text);
- the exit code is 0 or 1; exit 1 comes with one `<name>: error: ...` line on stderr,
  exit 0 with none;
- stdout is empty or a whole ResourceList (its own YAML parser agrees); after exit 0 it
  is never empty and reads back through the SDK without an error;
- functions that must not change items (a no-op, validators) give back the input's items
  block byte for byte after exit 0 (as data when items use YAML aliases), and the same
  items after exit 1;
- reading a list lazily (item by item, few trees resident) gives exactly what reading it
  whole gives.
"""

from __future__ import annotations

import importlib
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import krmfn._large.check_worker as check_worker
import krmfn._large.lazy_list as lazy
import yaml
from krmfn import Function, RunOutput
from krmfn.testing import golden_cases
from krmfn_catalog import CATALOG

ROOT = Path(__file__).resolve().parents[1]
CATALOG_DIR = ROOT / "functions" / "krmfn_catalog"

NOOP = Function(lambda rl: None, name="noop")
# Functions whose output items must be the input's, byte for byte.
UNCHANGING = frozenset({"noop", "policy-validate"})


def catalog_functions() -> dict[str, Function]:
    """Every catalog function by name, plus the no-op."""
    out = {"noop": NOOP}
    for entry in CATALOG:
        fn = getattr(importlib.import_module(f"krmfn_catalog.{entry.module}"), entry.module)
        assert isinstance(fn, Function)
        out[entry.name] = fn
    return out


def seed_inputs(function: str | None = None) -> list[str]:
    """Valid ResourceLists: the golden inputs of one function (or of all), in file order."""
    modules = [e.module for e in CATALOG if function in (None, e.name)]
    out = []
    for module in modules:
        testdata = CATALOG_DIR / module / "testdata"
        if testdata.is_dir():
            out += [case.input_text() for case in golden_cases(testdata)]
    return out


@contextmanager
def lazy_limits(min_items: int, resident: int,
                worker_min_text: int | None = None) -> Iterator[None]:
    """Read lists of `min_items` or more lazily, keeping `resident` trees (in process),
    with a check worker for inputs of `worker_min_text` characters or more."""
    saved = lazy.LAZY_MIN_ITEMS, lazy.EVICT_MIN_ITEMS, lazy.RESIDENT, check_worker.MIN_TEXT
    lazy.LAZY_MIN_ITEMS, lazy.EVICT_MIN_ITEMS, lazy.RESIDENT = min_items, min_items, resident
    if worker_min_text is not None:
        check_worker.MIN_TEXT = worker_min_text
    try:
        yield
    finally:
        lazy.LAZY_MIN_ITEMS, lazy.EVICT_MIN_ITEMS, lazy.RESIDENT, check_worker.MIN_TEXT = saved


def load(text: str) -> Any:
    """The data of one YAML document, as a lenient consumer reads it: the structure must be
    well-formed, but a scalar whose explicit tag does not fit (`!!int abc`, bad base64 under
    `!!binary`) is read as its text instead of failing."""
    scalars = yaml.constructor.SafeConstructor()
    return _construct(yaml.compose(text, Loader=yaml.CSafeLoader), {}, scalars)


def _construct(node: yaml.Node | None, memo: dict[int, Any],
               scalars: yaml.constructor.SafeConstructor) -> Any:
    if node is None:
        return None
    if id(node) in memo:
        return memo[id(node)]
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        memo[id(node)] = out
        for k, v in node.value:
            key = _construct(k, memo, scalars)
            out[key if isinstance(key, str | int | float | bool | None) else repr(key)] = \
                _construct(v, memo, scalars)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq: list[Any] = []
        memo[id(node)] = seq
        seq.extend(_construct(v, memo, scalars) for v in node.value)
        return seq
    try:
        value = scalars.construct_object(node, deep=True)
    except Exception:  # PyYAML's constructors fail in many ways on ill-fitting text
        value = node.value
    return value if isinstance(value, str | int | float | bool | None) else node.value


def check_resource_list(text: str) -> dict[str, Any]:
    """`text` is one whole ResourceList document; its content."""
    doc = load(text)
    assert isinstance(doc, dict), f"stdout is not a mapping: {text[:200]!r}"
    assert doc.get("kind") == "ResourceList", doc.get("kind")
    items = doc.get("items")
    assert items is None or isinstance(items, list)
    return doc


def items_span(text: str) -> str | None:
    """The source text of the `items` value, cut by PyYAML's composer (independent of
    krmfn's own reader); None when there is no item (`items: []` may stand for none)."""
    root = yaml.compose(text, Loader=yaml.CSafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if key.value == "items" and isinstance(value, yaml.SequenceNode) and value.value:
            return text[value.start_mark.index : value.end_mark.index].rstrip()
    return None


def check_run(fn: Function, text: str) -> RunOutput:
    """Run `fn` on `text` in process and check the rules every run obeys."""
    out = fn.run_text(text)
    assert out.exit_code in (0, 1), out
    if out.exit_code == 0:
        assert out.stderr == "", out.stderr
        assert out.stdout, "exit 0 with nothing on stdout"
    else:
        assert out.stderr.startswith(f"{fn.name}: error: "), out.stderr
        assert out.stderr.count("\n") == 1 and out.stderr.endswith("\n"), out.stderr
    if out.stdout:
        doc = check_resource_list(out.stdout)
        if out.exit_code == 0:
            for item in doc.get("items") or []:
                check_item(item)
            again = NOOP.run_text(out.stdout)
            assert again.exit_code == 0, f"output not readable again: {again.stderr}"
        if fn.name in UNCHANGING and out.exit_code == 0 and not uses_aliases(text):
            assert items_span(out.stdout) == items_span(text), "items changed"
        elif fn.name in UNCHANGING:
            # output lines always end in a newline: a text that stops inside a block scalar
            # (`|`, no final line break) is compared as if it ended in one
            ended = text if text.endswith("\n") else text + "\n"
            assert (doc.get("items") or []) == (load(ended).get("items") or []), "items changed"
    return out


def uses_aliases(text: str) -> bool:
    """Items sharing nodes through aliases are written out whole (same data, not the same
    bytes): the one documented exception to byte fidelity."""
    return any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.CSafeLoader))


def check_item(item: Any) -> None:
    """A Kubernetes object: apiVersion and kind strings, metadata with a name."""
    assert isinstance(item, dict), item
    for key in ("apiVersion", "kind"):
        assert isinstance(item.get(key), str) and item[key], (key, item.get(key))
    meta = item.get("metadata")
    assert isinstance(meta, dict), meta
    assert meta.get("name") not in (None, "") and not isinstance(meta["name"], dict | list)


def check_everything(fn: Function, text: str) -> RunOutput:
    """`check_run`, read whole and read lazily (every list of 3 items or more, 2 trees
    resident, unread items checked by a worker process as far as it gets while the
    function runs): both ways give the same output, stderr and exit code."""
    with lazy_limits(10**9, lazy.RESIDENT):
        whole = check_run(fn, text)
    with lazy_limits(3, 2, worker_min_text=0):
        piecewise = check_run(fn, text)
    assert piecewise == whole, "lazy reading changed the outcome"
    return whole


def check_mutator_laws(fn: Function, text: str) -> RunOutput:
    """Deterministic (same input, same output) and idempotent (a successful run's output,
    run again, succeeds and changes no item)."""
    first = check_everything(fn, text)
    assert check_run(fn, text) == first, "same input, different output"
    if first.exit_code == 0:
        second = check_run(fn, first.stdout)
        assert second.exit_code == 0, f"second run failed: {second.stderr}"
        assert items_span(second.stdout) == items_span(first.stdout), "second run changed items"
        assert function_config(second.stdout) == function_config(first.stdout)
    return first


def function_config(text: str) -> Any:
    return check_resource_list(text).get("functionConfig")


@contextmanager
def console(data: bytes) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """The standard streams of a console script, in memory: stdin holds `data`."""
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    try:
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def check_console(fn: Function, data: bytes) -> int:
    """The whole command line path, stdin bytes to exit code, without a process."""
    from krmfn._run.cli_function import run_cli

    with console(data) as (out, err):
        code = run_cli(fn, [])
    assert code in (0, 1), (code, err.getvalue())
    if code:
        assert err.getvalue().startswith(f"{fn.name}: error: "), err.getvalue()
        assert err.getvalue().count("\n") == 1, err.getvalue()
    else:
        assert err.getvalue() == ""
    if out.getvalue() or code == 0:
        check_resource_list(out.getvalue())
    return code
