"""Field paths: every syntax functions use, the canonical form results report, and errors."""

from __future__ import annotations

import re

import pytest
from krmfn import FieldError, Match, parse_path
from krmfn._path import format_path


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


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty field path"),
    (".a", "empty segment"),
    ("a..b", "empty segment"),
    ("a.", "empty segment"),
    ("a[0", "unterminated '['"),
    ('a["b', "unterminated quoted key"),
    ('a["b"x]', "unterminated quoted key"),
    ("a[x]", "malformed index [x]"),
    ("a[=web]", "malformed selector [=web]"),
    ("a[0]b", "malformed field path at 'b'"),
])
def test_malformed_paths_raise_field_error_naming_the_path(text: str, message: str) -> None:
    with pytest.raises(FieldError, match=re.escape(message)) as info:
        parse_path(text)
    assert info.value.path == text


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
