"""Rendering values as YAML text that a YAML 1.1 reader (Kubernetes tooling) reads back as
the same value: quoting where 1.1 would see something else, escapes where YAML forbids raw
characters, block layout for new collections."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from krmfn._text.render import render_block, render_flow, render_scalar


def read(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


# PyYAML's resolver and Go's (go-yaml v2, read by kubectl) disagree on `y`, `n` and `1e3`:
# both must read a plain string back as that string.
NEEDS_QUOTES = ["Y", "N", "1.", "0o17", "yes", "Yes", "YES", "no", "on", "On", "off", "y", "n",
                "true", "False",
                "null", "Null", "~", "", "0755", "012", "1e3", "1.5", ".5", "1_000", "0x1F",
                "0b101", "190:20:30", "-1", "+1", ".inf", ".NaN", "2024-01-01", "<<", "=",
                "-", "- x", "-x", ":x", "?x", "? x", "#x", "a #b", "a: b", "x:", " lead",
                "trail ", "!tag", "&anchor", "*alias", "|x", ">x", "%x", "@x", "`x",
                "[x", "{x", "'q", '"q', "a\nb", "tab\there", "bell\x07"]


@pytest.mark.parametrize("text", NEEDS_QUOTES)
def test_strings_a_yaml_11_reader_would_misread_are_quoted(text: str) -> None:
    out = render_scalar(text)
    assert out[0] in "'\"", out
    assert read(f"k: {out}\n") == {"k": text}


@pytest.mark.parametrize("text", ["web", "nginx:1.25", "a.b/c", "ghcr.io/x/y:v1", "héllo",
                                  "日本", "🎉", "a-b", "x y", "10.0.0.1/24", "a:b", "a#b",
                                  "1.2.3", "v1", "0x", "e5"])
def test_safe_strings_stay_plain(text: str) -> None:
    assert render_scalar(text) == text
    assert read(f"k: {text}\n") == {"k": text}


@pytest.mark.parametrize(("value", "text"), [
    (None, "null"), (True, "true"), (False, "false"), (0, "0"), (-7, "-7"),
    (1.5, "1.5"), (1e20, "1.0e+20"), (1e-05, "1.0e-05"), (-2.5e-10, "-2.5e-10"),
    (float("inf"), ".inf"), (float("-inf"), "-.inf"), (float("nan"), ".nan"),
])
def test_non_strings_keep_their_type(value: Any, text: str) -> None:
    assert render_scalar(value) == text
    assert same(read(f"k: {text}\n")["k"], value)


@pytest.mark.parametrize("char", ["\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\ufeff",
                                  "\ufffe", "\uffff", "\x00", "\x1b"])
def test_characters_yaml_cannot_hold_raw_are_escaped(char: str) -> None:
    text = f"a{char}b"
    out = render_scalar(text)
    assert char not in out
    assert read(f"k: {out}\n") == {"k": text}
    assert render_scalar(text, json_style=True) == out


def test_quote_style_of_the_replaced_scalar_is_kept_when_it_can_be() -> None:
    assert render_scalar("web", style='"') == '"web"'
    assert render_scalar("web", style="'") == "'web'"
    assert render_scalar("it's", style="'") == "'it''s'"
    assert render_scalar("two\nlines", style="'") == '"two\\nlines"'
    assert render_scalar('"hi" there') == "'\"hi\" there'"


def test_flow_context_quotes_flow_indicators() -> None:
    for text in ["a,b", "x]", "{y", "a: b"]:
        out = render_scalar(text, flow=True)
        assert read(f"[{out}]\n") == [text], out
    assert render_scalar("a,b") == "a,b"  # fine in block context


def test_multi_line_strings_are_double_quoted_with_escapes() -> None:
    text = "line one\n  indented\n\ttab\n"
    out = render_scalar(text)
    assert out.startswith('"') and "\n" not in out
    assert read(f"k: {out}\n") == {"k": text}


def test_json_style_gives_json() -> None:
    import json

    value = {"a": [1, "yes", None, True], "b": {"c": "x"}}
    assert json.loads(render_flow(value, json_style=True)) == value


def test_flow_rendering_reads_back() -> None:
    value = {"a": [1, "on", None], "b": {}, "c": [], "d": {"e": "x, y"}}
    assert read(render_flow(value)) == value


def test_block_rendering_layout() -> None:
    value = {"metadata": {"name": "web", "labels": {"yes": "on"}},
             "spec": {"ports": [{"port": 80, "name": "http"}, 8080], "empty": {}, "none": [],
                      "nested": [[1, 2], []]}}
    lines = render_block(value, 2)
    assert lines == [
        "  metadata:",
        "    name: web",
        "    labels:",
        '      "yes": "on"',
        "  spec:",
        "    ports:",
        "    - port: 80",
        "      name: http",
        "    - 8080",
        "    empty: {}",
        "    none: []",
        "    nested:",
        "    - - 1",
        "      - 2",
        "    - []",
    ]
    assert read("\n".join(lines)) == value


def test_block_rendering_wide_lists() -> None:
    lines = render_block({"l": [1, {"a": [2]}]}, 0, wide_lists=True)
    assert lines == ["l:", "  - 1", "  - a:", "      - 2"]
    assert read("\n".join(lines)) == {"l": [1, {"a": [2]}]}


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
                    st.floats(allow_nan=False))
values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=3),
                                                   st.dictionaries(st.text(), c, max_size=3)),
                      max_leaves=12)


@given(st.text())
def test_any_string_reads_back_in_block_and_flow_context(text: str) -> None:
    assert read(f"k: {render_scalar(text)}\n") == {"k": text}
    assert read(f"[{render_scalar(text, flow=True)}]\n") == [text]
    assert read(f"k: {render_scalar(text, style=chr(39))}\n") == {"k": text}


@given(st.floats(allow_nan=False))
def test_any_float_reads_back_as_that_float(value: float) -> None:
    assert same(read(f"k: {render_scalar(value)}\n")["k"], value)


@given(st.dictionaries(st.text(), values, min_size=1, max_size=4))
def test_any_value_reads_back_from_block_and_flow(value: dict[str, Any]) -> None:
    assert read("\n".join(render_block(value, 0)) + "\n") == value
    assert read(render_flow(value)) == value
