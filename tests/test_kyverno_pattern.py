"""Kyverno's pattern language: operators, wildcards, anchors, lists, messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from krmfn_catalog.policy_validate.kyverno_pattern import (
    Mismatch,
    PatternOutcome,
    check_pattern,
    compile_pattern,
    join_path,
)

MISSING = object()


def verdict(outcome: PatternOutcome) -> str:
    if outcome.skipped:
        return "skip"
    return "fail" if outcome.mismatches else "pass"


def leaf(pattern: object, value: object) -> bool:
    """Whether `value` (or a missing field, for MISSING) satisfies a scalar `pattern`."""
    resource: dict[str, Any] = {} if value is MISSING else {"field": value}
    return check_pattern({"field": pattern}, resource).passed


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        # wildcards
        ("*:*", "nginx:1.25", True),
        ("*:*", "nginx", False),
        ("nginx:?.?", "nginx:1.2", True),
        ("nginx:?.?", "nginx:1.25", False),
        ("?*", "a", True),
        ("?*", "", False),
        ("?*", MISSING, False),
        ("*", "", True),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        # plain equality, also against other scalar types
        ("nginx", "nginx", True),
        ("nginx", "nginx2", False),
        ("true", True, True),
        ("80", 80, True),
        # negation
        ("!*:latest", "nginx:latest", False),
        ("!*:latest", "nginx:1.25", True),
        ("!*:latest", MISSING, False),
        ("!default", "kube-system", True),
        ("!default", "default", False),
        # numeric operators
        (">10", 11, True),
        (">10", 10, False),
        (">=10", 10, True),
        (">=10", 9, False),
        ("<10", 9, True),
        ("<10", 10, False),
        ("<=10", 10, True),
        ("<=10", 11, False),
        (">10", "11", True),
        (">-5", -4, True),
        (">10", "abc", False),
        ("<10", True, False),
        # a missing value counts as 0 for numbers, as Kyverno does
        ("<10", MISSING, True),
        (">0", MISSING, False),
        # Kubernetes quantities
        ("<=1Gi", "512Mi", True),
        ("<=1Gi", "2Gi", False),
        ("<1", "500m", True),
        (">=0.5", "500m", True),
        ("1000m", "1", True),
        ("128Mi", "134217728", True),
        (">1k", 1001, True),
        ("1e3", "1k", True),
        # Go durations
        (">=10s", "30s", True),
        ("<1h", "90m", False),
        ("5m", "300s", True),
        ("<=1h30m", "90m", True),
        ("<500ms", "1s", False),
        # or, and
        ("a|b", "b", True),
        ("a|b", "c", False),
        ("a | b", "a", True),
        (">1 & <5", 3, True),
        (">1 & <5", 6, False),
        ("*:* & !*:latest", "nginx:1.25", True),
        ("*:* & !*:latest", "nginx:latest", False),
        ("<1 | >10", 11, True),
        ("<1 | >10", 5, False),
        # ranges
        ("5000-6000", 5500, True),
        ("5000-6000", 5000, True),
        ("5000-6000", 6000, True),
        ("5000-6000", 4999, False),
        ("5000-6000", 6001, False),
        ("5000!-6000", 7000, True),
        ("5000!-6000", 4000, True),
        ("5000!-6000", 5500, False),
        ("!5000-6000", 7000, True),
        ("!5000-6000", 5500, False),
        ("1Gi-2Gi", "1536Mi", True),
        ("1Gi-2Gi", "3Gi", False),
        ("10s-1m", "30s", True),
        # null pattern: the zero value of any scalar type
        (None, MISSING, True),
        (None, None, True),
        (None, "", True),
        (None, 0, True),
        (None, False, True),
        (None, "x", False),
        (None, 1, False),
        (None, {}, False),
        # typed patterns
        (80, 80, True),
        (80, "80", True),
        (80, 80.0, True),
        (80, 80.5, False),
        (80, True, False),
        (80, "eighty", False),
        (1.5, 1.5, True),
        (1.5, "1.5", True),
        (2.0, 2, True),
        (2.5, 2, False),
        (True, True, True),
        (True, False, False),
        (True, "true", False),
        (False, MISSING, False),
    ],
)
def test_scalar_operators(pattern: object, value: object, expected: bool) -> None:
    assert leaf(pattern, value) is expected


@given(st.integers(-10_000, 10_000), st.integers(-10_000, 10_000))
def test_numeric_operators_agree_with_integer_order(value: int, bound: int) -> None:
    assert leaf(f">{bound}", value) is (value > bound)
    assert leaf(f">={bound}", value) is (value >= bound)
    assert leaf(f"<{bound}", value) is (value < bound)
    assert leaf(f"<={bound}", value) is (value <= bound)
    assert leaf(f"!{bound}", value) is (value != bound)


@given(st.integers(0, 70_000), st.integers(0, 70_000), st.integers(0, 70_000))
def test_ranges_agree_with_integer_order(value: int, low: int, high: int) -> None:
    inside = low <= value <= high
    assert leaf(f"{low}-{high}", value) is inside
    assert leaf(f"{low}!-{high}", value) is not inside
    assert leaf(f"!{low}-{high}", value) is not inside


plain_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)
plain_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_:/", max_size=10),
)
plain_maps = st.recursive(
    st.dictionaries(plain_keys, plain_scalars, max_size=4),
    lambda children: st.dictionaries(plain_keys, st.one_of(plain_scalars, children), max_size=4),
    max_leaves=20,
)


@given(plain_maps)
def test_a_map_of_plain_values_matches_itself(resource: dict[str, Any]) -> None:
    assert check_pattern(resource, resource).passed


def test_star_needs_the_field_but_accepts_any_value() -> None:
    assert check_pattern({"spec": "*"}, {"spec": {"a": 1}}).passed
    assert check_pattern({"spec": "*"}, {"spec": ["x"]}).passed
    assert not check_pattern({"spec": "*"}, {}).passed
    assert not check_pattern({"spec": "*"}, {"spec": None}).passed


def test_mismatch_names_the_field_the_pattern_and_the_value() -> None:
    pattern = {"spec": {"template": {"spec": {"containers": [{"image": "!*:latest"}]}}}}
    resource = {"spec": {"template": {"spec": {"containers": [{"image": "nginx:latest"}]}}}}
    outcome = check_pattern(pattern, resource)
    assert [str(m) for m in outcome.mismatches] == [
        'spec.template.spec.containers[0].image: value "nginx:latest" does not match "!*:latest"'
    ]


def test_every_mismatch_is_reported_not_only_the_first() -> None:
    pattern = {"metadata": {"labels": {"app": "?*", "team": "?*"}}, "spec": {"replicas": ">1"}}
    resource = {"metadata": {"labels": {}}, "spec": {"replicas": 1}}
    outcome = check_pattern(pattern, resource)
    assert outcome.mismatches == [
        Mismatch("metadata.labels.app", 'field is missing, expected "?*"'),
        Mismatch("metadata.labels.team", 'field is missing, expected "?*"'),
        Mismatch("spec.replicas", 'value 1 does not match ">1"'),
    ]


def test_path_prefix_and_quoted_keys() -> None:
    outcome = check_pattern(
        {"labels": {"app.kubernetes.io/name": "web"}},
        {"labels": {"app.kubernetes.io/name": "db"}},
        path="metadata",
    )
    assert outcome.mismatches[0].path == 'metadata.labels["app.kubernetes.io/name"]'
    assert join_path("", "spec") == "spec"
    assert join_path("metadata.labels", "a.b") == 'metadata.labels["a.b"]'


@pytest.mark.parametrize(
    ("pattern", "resource", "message"),
    [
        ({"spec": {"a": 1}}, {"spec": "text"}, 'expected a map, found "text"'),
        ({"spec": {"a": 1}}, {}, "field is missing, expected a map"),
        ({"spec": [{"a": 1}]}, {"spec": {"a": 1}}, "expected a list, found a map"),
        ({"spec": "x"}, {"spec": {"a": 1}}, 'expected "x", found a map'),
        ({"spec": []}, {"spec": []}, "the pattern is an empty list"),
    ],
)
def test_structure_differences_fail(pattern: object, resource: object, message: str) -> None:
    outcome = check_pattern(pattern, resource)
    assert [m.message for m in outcome.mismatches] == [message]
    assert outcome.mismatches[0].path == "spec"


class TestLists:
    def test_a_one_map_list_pattern_applies_to_every_element(self) -> None:
        pattern = {"containers": [{"image": "*:*"}]}
        resource = {"containers": [{"image": "a:1"}, {"image": "b"}, {"image": "c"}]}
        paths = [m.path for m in check_pattern(pattern, resource).mismatches]
        assert paths == ["containers[1].image", "containers[2].image"]

    def test_an_empty_resource_list_satisfies_a_map_list_pattern(self) -> None:
        assert check_pattern({"containers": [{"image": "*:*"}]}, {"containers": []}).passed

    def test_a_scalar_list_pattern_applies_to_every_element(self) -> None:
        pattern = {"args": ["!--privileged"]}
        assert check_pattern(pattern, {"args": ["-v", "--debug"]}).passed
        outcome = check_pattern(pattern, {"args": ["-v", "--privileged"]})
        assert [m.path for m in outcome.mismatches] == ["args[1]"]

    def test_a_scalar_pattern_against_a_list_applies_to_every_element(self) -> None:
        assert check_pattern({"ports": ">1024"}, {"ports": [8080, 9090]}).passed
        assert not check_pattern({"ports": ">1024"}, {"ports": [8080, 80]}).passed

    def test_nested_lists_are_compared_element_by_element(self) -> None:
        pattern = {"m": [["a"], ["b"]]}
        assert check_pattern(pattern, {"m": [["a"], ["b"], ["c"]]}).passed
        assert not check_pattern(pattern, {"m": [["a"], ["x"]]}).passed
        short = check_pattern(pattern, {"m": [["a"]]})
        assert short.mismatches[0].message == "expected at least 2 elements, found 1"


def containers(*items: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"containers": list(items)}}


LATEST_MEANS_ALWAYS = {
    "spec": {"containers": [{"(image)": "*:latest", "imagePullPolicy": "Always"}]}
}
CORP_NEEDS_SECRET = {
    "spec": {
        "containers": [{"<(image)": "corp.example.com/*"}],
        "imagePullSecrets": [{"name": "corp-pull"}],
    }
}
ANCHOR_CASES = [
    # equality: checked only when present
    ("equality absent", {"spec": {"=(hostNetwork)": False}}, {"spec": {}}, "pass"),
    (
        "equality matching",
        {"spec": {"=(hostNetwork)": False}},
        {"spec": {"hostNetwork": False}},
        "pass",
    ),
    (
        "equality differing",
        {"spec": {"=(hostNetwork)": False}},
        {"spec": {"hostNetwork": True}},
        "fail",
    ),
    (
        "equality on a list",
        {"spec": {"=(volumes)": [{"=(hostPath)": {"path": "!/var/run/docker.sock"}}]}},
        {"spec": {"volumes": [{"hostPath": {"path": "/var/run/docker.sock"}}]}},
        "fail",
    ),
    # negation: the field must be absent
    (
        "negation absent",
        {"spec": {"volumes": [{"X(hostPath)": "null"}]}},
        {"spec": {"volumes": [{"name": "v"}]}},
        "pass",
    ),
    (
        "negation present",
        {"spec": {"volumes": [{"X(hostPath)": "null"}]}},
        {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/"}}]}},
        "fail",
    ),
    ("negation of a null field", {"X(hostPID)": "null"}, {"hostPID": None}, "fail"),
    # existence: at least one element matches
    (
        "existence one of two",
        {"spec": {"^(containers)": [{"image": "nginx*"}]}},
        containers({"image": "busybox"}, {"image": "nginx:1"}),
        "pass",
    ),
    (
        "existence none",
        {"spec": {"^(containers)": [{"image": "nginx*"}]}},
        containers({"image": "busybox"}),
        "fail",
    ),
    (
        "existence absent list",
        {"spec": {"^(containers)": [{"image": "nginx*"}]}},
        {"spec": {}},
        "pass",
    ),
    (
        "existence not a list",
        {"spec": {"^(containers)": [{"image": "nginx*"}]}},
        {"spec": {"containers": "x"}},
        "fail",
    ),
    # condition: the pattern applies only where the condition holds
    (
        "condition holds, check passes",
        LATEST_MEANS_ALWAYS,
        containers({"image": "a:latest", "imagePullPolicy": "Always"}),
        "pass",
    ),
    (
        "condition holds, check fails",
        LATEST_MEANS_ALWAYS,
        containers({"image": "a:latest", "imagePullPolicy": "IfNotPresent"}),
        "fail",
    ),
    (
        "condition never holds",
        LATEST_MEANS_ALWAYS,
        containers({"image": "a:1.0", "imagePullPolicy": "IfNotPresent"}),
        "skip",
    ),
    (
        "condition field missing",
        LATEST_MEANS_ALWAYS,
        containers({"imagePullPolicy": "IfNotPresent"}),
        "skip",
    ),
    (
        "condition on some elements",
        LATEST_MEANS_ALWAYS,
        containers({"image": "a:1.0"}, {"image": "b:latest", "imagePullPolicy": "IfNotPresent"}),
        "fail",
    ),
    (
        "condition in a map",
        {"metadata": {"labels": {"(env)": "prod", "team": "?*"}}},
        {"metadata": {"labels": {"env": "prod"}}},
        "fail",
    ),
    (
        "condition in a map not met",
        {"metadata": {"labels": {"(env)": "prod", "team": "?*"}}},
        {"metadata": {"labels": {"env": "dev"}}},
        "skip",
    ),
    (
        "a skip wins over a sibling mismatch",
        {"spec": {"containers": [{"(name)": "sidecar", "image": "*:*"}], "hostNetwork": False}},
        {"spec": {"containers": [{"name": "app", "image": "x"}], "hostNetwork": True}},
        "skip",
    ),
    # global condition: when no element meets it, the whole pattern is skipped
    (
        "global met, rest fails",
        CORP_NEEDS_SECRET,
        containers({"image": "corp.example.com/app:1"}),
        "fail",
    ),
    (
        "global met, rest passes",
        CORP_NEEDS_SECRET,
        {
            "spec": {
                "containers": [{"image": "corp.example.com/app:1"}],
                "imagePullSecrets": [{"name": "corp-pull"}],
            }
        },
        "pass",
    ),
    ("global not met", CORP_NEEDS_SECRET, containers({"image": "docker.io/app:1"}), "skip"),
    (
        "global field missing does not skip",
        CORP_NEEDS_SECRET,
        containers({"name": "no-image"}),
        "fail",
    ),
    # wildcard keys under metadata.labels and metadata.annotations
    (
        "wildcard label present",
        {"metadata": {"labels": {"app.kubernetes.io/*": "?*"}}},
        {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}},
        "pass",
    ),
    (
        "wildcard label absent",
        {"metadata": {"labels": {"app.kubernetes.io/*": "?*"}}},
        {"metadata": {"labels": {"team": "a"}}},
        "fail",
    ),
    (
        "wildcard label picks the satisfying key",
        {"metadata": {"labels": {"tier-*": "gold"}}},
        {"metadata": {"labels": {"tier-a": "bronze", "tier-b": "gold"}}},
        "pass",
    ),
    (
        "negated wildcard annotation",
        {"metadata": {"annotations": {"X(debug.example.com/*)": "null"}}},
        {"metadata": {"annotations": {"debug.example.com/trace": "on"}}},
        "fail",
    ),
    # the mutate anchor cannot validate anything
    ("add anchor", {"metadata": {"+(labels)": {"a": "b"}}}, {"metadata": {}}, "fail"),
]


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [case[1:] for case in ANCHOR_CASES],
    ids=[case[0] for case in ANCHOR_CASES],
)
def test_anchors(pattern: object, resource: object, expected: str) -> None:
    assert verdict(check_pattern(pattern, resource)) == expected


def test_a_skip_says_which_condition_was_not_met() -> None:
    outcome = check_pattern(LATEST_MEANS_ALWAYS, containers({"image": "a:1.0"}))
    assert outcome.skipped
    assert outcome.mismatches == []
    assert "(image)" in outcome.reason
    assert '"a:1.0"' in outcome.reason


def test_negation_and_existence_messages() -> None:
    negated = check_pattern({"spec": {"X(hostPID)": "null"}}, {"spec": {"hostPID": True}})
    assert [str(m) for m in negated.mismatches] == [
        "spec.hostPID: field is not allowed (X(hostPID))"
    ]
    missing = check_pattern(
        {"spec": {"^(containers)": [{"name": "istio-proxy"}]}}, containers({"name": "app"})
    )
    assert missing.mismatches[0].path == "spec.containers"
    assert "istio-proxy" in missing.mismatches[0].message


def test_a_compiled_pattern_answers_each_resource_as_a_fresh_check() -> None:
    """A policy compiles its patterns once; what a check learns about one resource (wildcard
    label keys resolved, parts compiled on first use) must not leak into the next."""
    pattern = {
        "metadata": {"labels": {"app*": "?*", "X(tier)": "null"}},
        "spec": {"containers": [{"(image)": "*:latest", "imagePullPolicy": "Always"}]},
    }
    resources = [
        {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}},
        {"metadata": {"labels": {"appname": ""}}, "spec": {"containers": [{"image": "a:1"}]}},
        {"metadata": {"labels": {"tier": "x"}}, "spec": {"containers": [{"image": "a:latest"}]}},
        {"metadata": {}, "spec": "none"},
        {"metadata": {"labels": {"app.io/x": "a", "app": ""}}, "spec": {"containers": [
            {"image": "b:latest", "imagePullPolicy": "Always"}, {"image": "c:latest"}]}},
    ]
    compiled = compile_pattern(pattern)
    for resource in [*resources, *reversed(resources)]:
        assert compiled.check(resource, "") == check_pattern(pattern, resource)
