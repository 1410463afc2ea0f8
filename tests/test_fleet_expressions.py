"""CEL fields: the shortcuts (a plain field selection looked up directly, a result
remembered for the variables an expression names) give what cel-python gives, checked on
generated expressions and inputs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn_fleet import FleetError
from krmfn_fleet.expressions import _evaluate, evaluate

# cel-python raises the recursion limit when its environment is made: make it before any
# example runs
pytest.importorskip("celpy.evaluation")
_evaluate("'ready'", {})

KEYS = ["region", "nephio.org/region", "site-type", "a"]
VALUES = ["eu-west", "edge", "", "x.y"]

target_st = st.fixed_dictionaries({
    "name": st.sampled_from(["edge-1", "core-2"]),
    "namespace": st.just(""),
    "labels": st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3),
    "annotations": st.just({}),
})
inputs_st = st.fixed_dictionaries({
    "repoDefault": st.sampled_from(["edge-1", "core-2"]),
    "packageDefault": st.sampled_from(["upf", "smf"]),
    "target": target_st,
})


def _key(k: str) -> st.SearchStrategy[str]:
    return st.sampled_from([f"['{k}']", f'["{k}"]', f"[ '{k}' ]"] +
                           ([f".{k}", f" . {k}"] if k.isidentifier() else []))


selection_st = st.one_of(
    st.sampled_from(["target.name", "target . name", "repoDefault", "packageDefault",
                     "target.labels", "target", "nope", "nope.name", "target.nope",
                     "target.name.x"]),
    st.builds(lambda k: f"target.labels{k}", st.sampled_from(KEYS).flatmap(_key)),
)
expression_st = st.one_of(
    selection_st,
    st.builds(lambda a, b: f"{a} + '-' + {b}", selection_st, selection_st),
    st.sampled_from(["'free5gc-' + packageDefault", "repoDefault + '-' + packageDefault",
                     "'x'", "1", "size(target.labels) > 0 ? 'some' : 'none'",
                     "'target' + packageDefault"]),
)


def _outcome(fn: Any, *args: Any) -> str | None:
    try:
        found = fn(*args)
    except FleetError:
        return None
    return None if isinstance(found, FleetError) else str(found)


@settings(max_examples=300, deadline=None)
@given(expr=expression_st, inputs=inputs_st)
def test_shortcuts_agree_with_cel_python(expr: str, inputs: dict[str, Any]) -> None:
    assert _outcome(evaluate, expr, inputs, "f") == _outcome(_evaluate, expr, inputs)


@settings(max_examples=100, deadline=None)
@given(inputs=st.lists(inputs_st, min_size=2, max_size=5))
def test_a_remembered_answer_follows_the_variables(inputs: list[dict[str, Any]]) -> None:
    for expr in ("'free5gc-' + packageDefault", "target.name + '/' + packageDefault",
                 "size(target.labels) > 1 ? repoDefault : 'few'"):
        for each in inputs:
            assert evaluate(expr, each, "f") == _evaluate(expr, each)


def test_a_missing_key_names_the_field_and_the_key() -> None:
    with pytest.raises(FleetError, match=r"^f: 'target\.labels\[\"zz\"\]': no such key: 'zz'$"):
        evaluate('target.labels["zz"]', {"target": {"labels": {}}}, "f")
