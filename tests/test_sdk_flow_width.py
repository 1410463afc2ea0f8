"""A one-line flow list that appends take past 100 characters becomes a block list (its
key's comment kept); every other flow list keeps its style."""

from __future__ import annotations

from textwrap import dedent

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn import KubeObject, ResourceList
from krmfn._text.document import FLOW_WIDTH
from krmfn._text.render import render_flow

HEAD = "apiVersion: v1\nkind: X\nmetadata:\n  name: x  # the name\nspec:\n"


def grow(body: str, items: list[str], path: str = "spec.args") -> tuple[KubeObject, str]:
    obj = KubeObject.from_yaml(HEAD + body)
    for item in items:
        obj.append(path, item)
    out = obj.to_yaml()
    assert yaml.safe_load(out) == obj.to_dict()
    return obj, out


def test_a_list_that_outgrows_its_line_becomes_a_block() -> None:
    items = [f"option-{i}" for i in range(12)]
    obj, out = grow("  args: [alpha, beta]  # flags\n  other: 1\n", items)
    assert out == HEAD + "  args:  # flags\n" + "".join(
        f"  - {v}\n" for v in ["alpha", "beta", *items]) + "  other: 1\n"
    assert max(len(ln) for ln in out.splitlines()) <= FLOW_WIDTH
    # run again on its output: the block list stays as it is
    again = KubeObject.from_yaml(out)
    again.set("spec.args", obj.get("spec.args"))
    assert again.to_yaml() == out


def test_a_list_that_still_fits_stays_in_flow() -> None:
    _, out = grow("  args: [alpha, beta]  # flags\n", ["gamma"])
    assert out == HEAD + "  args: [alpha, beta, gamma]  # flags\n"


@pytest.mark.parametrize("body", [
    "  args: [" + ", ".join(f"long-option-{i}" for i in range(8)) + "]\n",  # long already
    "  args: [alpha,  # the first\n    beta]\n",                             # comments in it
    "  args: [alpha,\n    beta]\n",                                          # several lines
    '  args: ["alpha", "beta"]\n',                                           # JSON style
])
def test_other_flow_lists_keep_their_style(body: str) -> None:
    _, out = grow(body, [f"option-{i}" for i in range(12)])
    assert "  args: [" in out and "  - option" not in out


def test_inside_a_flow_map_and_in_a_resource_list() -> None:
    _, out = grow("  m: {args: [alpha]}\n", [f"option-{i}" for i in range(12)], "spec.m.args")
    assert "  m: {args: [alpha, option-0," in out
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            + dedent("""\
            - apiVersion: v1
              kind: X
              metadata:
                name: x
              spec:
                args: [a]  # flags
            """))
    rl = ResourceList.parse(text)
    for i in range(20):
        rl.items[0].append("spec.args", f"option-{i}")
    out = rl.to_text()
    assert "    args:  # flags\n    - a\n    - option-0\n" in out
    assert ResourceList.parse(out).items[0].get("spec.args") == ["a"] + [
        f"option-{i}" for i in range(20)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abc-_ 0123456789:", min_size=1, max_size=12),
                max_size=12), st.integers(0, 70))
def test_the_data_is_what_was_appended_and_lines_stay_short(items: list[str],
                                                            pad: int) -> None:
    first = "x" * (pad + 1)
    obj, out = grow(f"  args: [{first}]  # flags\n", items)
    assert obj.get("spec.args") == [first, *items]
    assert yaml.safe_load(out)["spec"]["args"] == [first, *items]
    as_flow = f"  args: [{first}" + "".join(", " + render_flow(v) for v in items) + \
        "]  # flags"
    line = next(ln for ln in out.splitlines() if ln.startswith("  args:"))
    if len(as_flow) <= FLOW_WIDTH:  # it fits: the flow list as it would be written
        assert line == as_flow
    else:  # a block list under the key, every line short
        assert line == "  args:  # flags"
        assert max(len(ln) for ln in out.splitlines()) <= FLOW_WIDTH
