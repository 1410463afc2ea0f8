"""Anchors and the lazy path: an `&` that YAML reads as an anchor keeps a list from being
read item by item; one inside a scalar or a comment (a shell `&&` in a CRD's description)
does not. Whatever the text scan decides, the output is the whole-document path's."""

from __future__ import annotations

import krmfn._large.check_worker as check_worker
import krmfn._large.lazy_list as lazy
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from krmfn._text.anchors import may_hold_anchor
from krmfn_catalog.set_namespace.function import set_namespace

ITEMS = 12

# values of a data key (the key's line is `    kN: ` + value; lines after it as written),
# where an `&` is text, never an anchor
HIDDEN = [
    "a && b",
    '"x && y"',
    "'x && y'",
    "f(a, b) && c",
    "x # a comment &c",
    "|\n      cmd &&\n      &notanchor x\n      !has(x) && y",
    ">-\n      first &&\n\n      [a, &b]",
    '"multi\n      line && x"',
]
# the same, taken for anchors (a line of its own could hold one; a quoted scalar in a flow
# collection is not looked into)
UNSURE = ["plain\n      && continued", "[a, \"b && c\"]"]
# values with an anchor (`{a}`: its name) that is the anchor's only use, and an alias
# within the same value
REAL = [
    "&{a} v",
    "&{a} {{x: y}}",
    "[&{a} x, *{a}]",
    "[a,\n      &{a} b]",
    "!!str &{a} v",
    "\n      &{a}\n      x: y",
]


@st.composite
def lists(draw: st.DrawFn) -> tuple[str, bool]:
    """A ResourceList whose data values hide `&`s, hold anchors, or refer across items;
    and whether it holds an anchor for PyYAML's own scanner."""
    items = []
    anchors: list[str] = []
    for i in range(ITEMS):
        values = []
        for k in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["hidden", "hidden", "real", "alias"]))
            if kind == "hidden":
                values.append(draw(st.sampled_from(HIDDEN + UNSURE)))
            elif kind == "real":
                name = f"a{i}k{k}"
                anchors.append(name)
                values.append(draw(st.sampled_from(REAL)).format(a=name))
            elif anchors:  # an alias to an anchor of this or an earlier item
                values.append("*" + draw(st.sampled_from(anchors)))
        data = "".join(f"    k{k}: {v}\n" for k, v in enumerate(values))
        items.append(f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm{i}\n"
                     f"    namespace: old\n  data:\n    first: x\n{data}  immutable: false\n")
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            + "".join(items) + "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n"
            "  metadata:\n    name: fn\n  data:\n    namespace: new\n")
    real = any(isinstance(t, yaml.AnchorToken) for t in yaml.scan(text, Loader=yaml.SafeLoader))
    return text, real


@pytest.fixture
def lazy_from_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazy, "LAZY_MIN_ITEMS", 10)


def _whole(text: str) -> str:
    saved = lazy.split_items
    lazy.split_items = lambda text: None  # type: ignore[assignment]
    try:
        import krmfn._model.resource_list as resource_list

        resource_list.split_items = lazy.split_items
        return set_namespace.run_text(text).stdout
    finally:
        lazy.split_items = saved
        resource_list.split_items = saved


def _moved(text: str) -> object:
    """The input, loaded, with exactly the intended edit: every ConfigMap in `new`."""
    data = yaml.safe_load(text)
    for item in data["items"]:
        item["metadata"]["namespace"] = "new"
    return data["items"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lists())
def test_a_real_anchor_keeps_the_list_from_being_read_lazily(case: tuple[str, bool]) -> None:
    text, real = case
    if real:
        assert may_hold_anchor(text)


@pytest.mark.parametrize("worker", [False, True])
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=lists())
def test_output_is_the_whole_document_path_output(
        case: tuple[str, bool], worker: bool, lazy_from_ten: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    text, real = case
    if worker:
        monkeypatch.setattr(check_worker, "MIN_TEXT", 0)
    else:
        monkeypatch.setenv("KRMFN_CHECK_WORKER", "0")
    if real:
        assert lazy.split_items(text) is None
    out = set_namespace.run_text(text)
    assert out.exit_code == 0, out.stderr
    assert out.stdout == _whole(text)
    assert yaml.safe_load(out.stdout)["items"] == _moved(text)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=lists())
def test_an_anchor_the_scan_missed_still_gives_the_whole_document_output(
        case: tuple[str, bool], lazy_from_ten: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The text scan fooled (it finds no anchor anywhere): aliases within an item, and
    aliases to other items, send the run to the whole-document path all the same."""
    text, _real = case
    monkeypatch.setenv("KRMFN_CHECK_WORKER", "0")
    monkeypatch.setattr(lazy, "may_hold_anchor", lambda text: False)
    out = set_namespace.run_text(text)
    assert out.exit_code == 0, out.stderr
    assert out.stdout == _whole(text)
    assert yaml.safe_load(out.stdout)["items"] == _moved(text)


def _hidden_only(values: list[str]) -> str:
    items = "".join(
        f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm{i}\n  data:\n"
        + "".join(f"    k{k}: {v}\n" for k, v in enumerate(values)) for i in range(ITEMS))
    return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items


def test_ampersands_in_scalars_and_comments_leave_the_lazy_path_on(lazy_from_ten: None) -> None:
    """Each `&` that is text, as real manifests hold them (CEL rules, shell snippets),
    leaves a large list to be read item by item."""
    for value in HIDDEN:
        text = _hidden_only([value])
        assert not any(isinstance(t, yaml.AnchorToken)
                       for t in yaml.scan(text, Loader=yaml.SafeLoader))
        assert lazy.split_items(text) is not None, value
