"""Field paths: every syntax functions use, the canonical form results report, and errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn import FieldError, KubeObject, Match, PathError, parse_path
from krmfn._text.path import Segment, format_path


@pytest.mark.parametrize(("text", "segments"), [
    ("metadata", ("metadata",)),
    ("metadata.name", ("metadata", "name")),
    ("spec.containers[0].image", ("spec", "containers", 0, "image")),
    ("spec.containers[-1]", ("spec", "containers", -1)),
    ("spec.containers[name=web].image", ("spec", "containers", Match("name", "web"), "image")),
    ("spec.containers.[name=web].image", ("spec", "containers", Match("name", "web"), "image")),
    ("spec.ports[port=80]", ("spec", "ports", Match("port", "80"))),
    ("a[ name = web ]", ("a", Match("name", "web"))),
    ('metadata.labels["app.kubernetes.io/name"]',
     ("metadata", "labels", "app.kubernetes.io/name")),
    ("metadata.annotations['a.b/c'].x", ("metadata", "annotations", "a.b/c", "x")),
    ('x["with]bracket"]', ("x", "with]bracket")),
    ("m[0][1]", ("m", 0, 1)),
    ("data.key-with-dash_and_underscore", ("data", "key-with-dash_and_underscore")),
])
def test_text_paths(text: str, segments: tuple[object, ...]) -> None:
    assert parse_path(text) == segments


def test_segment_lists_are_taken_as_they_are() -> None:
    assert parse_path(["metadata", "annotations", "a.b/c"]) == ("metadata", "annotations",
                                                                 "a.b/c")
    assert parse_path(("spec", 0, Match("k", "v"))) == ("spec", 0, Match("k", "v"))
    assert parse_path([]) == ()


@pytest.mark.parametrize(("text", "position", "message"), [
    ("", 0, "empty field path"),
    (".a", 0, "empty segment"),
    ("a..b", 2, "empty segment"),
    ("a.", 2, "empty segment"),
    ("a[0", 1, "unterminated '['"),
    ('a["b', 2, "unterminated quoted key"),
    ('a["b"x]', 5, "expected ']' to close the '[' at position 1"),
    ("a[x]", 2, "malformed index [x]"),
    ("a[1.5]", 2, "malformed index [1.5]"),
    ("a[]", 2, "malformed index []"),
    ("a[=web]", 2, "no field before '='"),
    ("a[0]b", 4, "found 'b'"),
    # once split silently inside the quotes, into `"app`, `kubernetes` and `io/name"`
    ('metadata.labels."app.kubernetes.io/name', 16, "unterminated quoted key"),
    ('metadata.labels.app"x"', 19, "found '\"x\"'"),
    ("a]b", 1, "found ']b'"),
    ('a."b"c', 5, "found 'c'"),
    ("a[name=web", 1, "unterminated '['"),
    ('a[name="web"x]', 12, "expected ']'"),
])
def test_malformed_paths_raise_path_error_with_the_position(
        text: str, position: int, message: str) -> None:
    with pytest.raises(PathError, match=re.escape(message)) as info:
        parse_path(text)
    err = info.value
    assert (err.path, err.position) == (text, position)
    assert f"at position {position}:" in str(err)
    assert isinstance(err, ValueError) and isinstance(err, FieldError)


@pytest.mark.parametrize(("text", "segments"), [
    ('metadata.labels."app.kubernetes.io/name"', ("metadata", "labels",
                                                  "app.kubernetes.io/name")),
    ("metadata.labels.'app.kubernetes.io/name'.x", ("metadata", "labels",
                                                    "app.kubernetes.io/name", "x")),
    ('"a.b".c', ("a.b", "c")),
    ('a["say \\"hi\\""]', ("a", 'say "hi"')),
    ("a['it\\'s']", ("a", "it's")),
    ('a["back\\\\slash"]', ("a", "back\\slash")),
    ('spec.ports[name="http.alt"].port', ("spec", "ports", Match("name", "http.alt"),
                                          "port")),
    ("spec.ports[name='a]b']", ("spec", "ports", Match("name", "a]b"))),
    ("a[k=]", ("a", Match("k", ""))),
    ("data.0", ("data", "0")),
    ("data.a b", ("data", "a b")),
    ("a[ 3 ]", ("a", 3)),
])
def test_quoted_keys_and_values(text: str, segments: tuple[object, ...]) -> None:
    assert parse_path(text) == segments
    assert parse_path(format_path(parse_path(text))) == segments


def test_keys_with_dots_reach_the_field() -> None:
    obj = KubeObject.from_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                               "  labels:\n    app.kubernetes.io/name: web  # keep\n")
    for path in ('metadata.labels["app.kubernetes.io/name"]',
                 'metadata.labels."app.kubernetes.io/name"',
                 "metadata.labels['app.kubernetes.io/name']"):
        assert obj.get_str(path) == "web"
    obj.set('metadata.labels."app.kubernetes.io/name"', "api")
    assert "app.kubernetes.io/name: api  # keep" in obj.to_yaml()
    assert obj.get("metadata.labels") == {"app.kubernetes.io/name": "api"}


def test_segment_sequences_of_the_wrong_type_are_field_errors() -> None:
    with pytest.raises(FieldError, match="a path segment must be a str, int or Match"):
        parse_path(("spec", 1.5))  # type: ignore[arg-type]
    with pytest.raises(FieldError, match="got bool"):
        parse_path(("spec", True))


KEYS = st.text(min_size=0, max_size=12)
MATCHES = st.builds(Match, st.text(alphabet=st.characters(
    exclude_characters='=]["\'', exclude_categories=("Cs",)), min_size=1, max_size=6)
    .map(str.strip).filter(bool), st.text(max_size=8))
SEGMENTS = st.lists(st.one_of(KEYS, st.integers(-5, 50), MATCHES), min_size=1, max_size=6)


@settings(max_examples=400, deadline=None)
@given(SEGMENTS)
def test_format_path_parses_back_to_the_same_segments(segs: list[Segment]) -> None:
    # a path must start with a key or a bracket: a Match first is a bracket too
    assert parse_path(format_path(segs)) == tuple(segs)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet='ab.[]"\'\\=0- ', max_size=14))
def test_any_text_parses_or_raises_a_path_error(text: str) -> None:
    try:
        segs = parse_path(text)
    except PathError as err:
        assert 0 <= err.position <= len(text)
        return
    assert segs and parse_path(format_path(segs)) == segs


@pytest.mark.parametrize(("segments", "text"), [
    (("metadata", "name"), "metadata.name"),
    (("spec", "containers", 0, "image"), "spec.containers[0].image"),
    (("spec", "containers", Match("name", "web")), "spec.containers[name=web]"),
    (("metadata", "labels", "app.kubernetes.io/name"),
     'metadata.labels["app.kubernetes.io/name"]'),
    (("a", ""), 'a[""]'),
])
def test_format_path_is_the_canonical_text(segments: tuple[object, ...], text: str) -> None:
    assert format_path(segments) == text  # type: ignore[arg-type]
    assert parse_path(text) == segments


def test_parsing_is_cached_and_returns_immutable_segments() -> None:
    first = parse_path("spec.template.spec.containers[0].image")
    assert parse_path("spec.template.spec.containers[0].image") is first
    assert isinstance(first, tuple)
