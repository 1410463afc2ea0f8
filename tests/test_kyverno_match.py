"""Kyverno match/exclude blocks: kinds, names, namespaces, selectors, annotations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from krmfn_catalog.policy_validate.kyverno_errors import KyvernoPolicyError, UnsupportedFeature
from krmfn_catalog.policy_validate.kyverno_match import (
    is_excluded,
    is_matched,
    parse_kind,
    parse_selection,
)


def resource(
    kind: str = "Deployment",
    api_version: str = "apps/v1",
    name: str = "web",
    namespace: str | None = "shop",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels is not None:
        metadata["labels"] = labels
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def selecting(**description: object) -> dict[str, Any]:
    return {"any": [{"resources": description}]}


@pytest.mark.parametrize(
    ("selector", "api_version", "kind", "expected"),
    [
        ("Pod", "v1", "Pod", True),
        ("Pod", "v1", "Service", False),
        ("Deployment", "apps/v1", "Deployment", True),
        ("apps/v1/Deployment", "apps/v1", "Deployment", True),
        ("apps/v1/Deployment", "extensions/v1beta1", "Deployment", False),
        ("v1/Pod", "v1", "Pod", True),
        ("v1/Pod", "v2", "Pod", False),
        ("v1beta1/Ingress", "extensions/v1beta1", "Ingress", True),
        ("networking.k8s.io/v1/NetworkPolicy", "networking.k8s.io/v1", "NetworkPolicy", True),
        ("networking.k8s.io/*/NetworkPolicy", "networking.k8s.io/v1", "NetworkPolicy", True),
        ("*", "infra.nephio.org/v1alpha1", "WorkloadCluster", True),
        ("*Claim", "ipam.resource.nephio.org/v1alpha1", "IPClaim", True),
        ("*Claim", "req.nephio.org/v1alpha1", "Interface", False),
        ("Pod/status", "v1", "Pod", False),
        ("Pod/*", "v1", "Pod", True),
    ],
)
def test_kinds(selector: str, api_version: str, kind: str, expected: bool) -> None:
    target = resource(kind=kind, api_version=api_version)
    assert is_matched(selecting(kinds=[selector]), target) is expected


def test_kind_selector_parts() -> None:
    parsed = parse_kind("Pod")
    assert (parsed.group, parsed.version, parsed.kind, parsed.subresource) == ("*", "*", "Pod", "")
    parsed = parse_kind("apps/v1/Deployment")
    assert (parsed.group, parsed.version, parsed.kind) == ("apps", "v1", "Deployment")
    parsed = parse_kind("v1/Pod/status")
    assert (parsed.version, parsed.kind, parsed.subresource) == ("v1", "Pod", "status")
    with pytest.raises(KyvernoPolicyError):
        parse_kind("a/b/c/d/e")


@pytest.mark.parametrize(
    ("description", "target", "expected"),
    [
        ({"names": ["web"]}, resource(name="web"), True),
        ({"names": ["db", "web*"]}, resource(name="web-1"), True),
        ({"names": ["db"]}, resource(name="web"), False),
        ({"name": "w?b"}, resource(name="web"), True),
        ({"name": "w?b"}, resource(name="webb"), False),
        ({"namespaces": ["shop"]}, resource(namespace="shop"), True),
        ({"namespaces": ["kube-*"]}, resource(namespace="kube-system"), True),
        ({"namespaces": ["kube-*"]}, resource(namespace="shop"), False),
        ({"namespaces": ["shop"]}, resource(namespace=None), False),
        (
            {"namespaces": ["shop"]},
            resource(kind="Namespace", api_version="v1", name="shop", namespace=None),
            True,
        ),
        ({"annotations": {"team": "net*"}}, resource(annotations={"team": "network"}), True),
        ({"annotations": {"team": "net*"}}, resource(annotations={"team": "storage"}), False),
        (
            {"annotations": {"*.example.com/owner": "?*"}},
            resource(annotations={"a.example.com/owner": "x"}),
            True,
        ),
        ({"annotations": {"team": "*"}}, resource(), False),
        ({"operations": ["CREATE", "UPDATE"]}, resource(), True),
        ({"operations": ["DELETE"]}, resource(), False),
        ({"kinds": ["Deployment"], "names": ["web"]}, resource(name="db"), False),
        ({"kinds": ["Deployment"], "names": ["web"]}, resource(name="web"), True),
    ],
)
def test_resource_criteria(
    description: dict[str, Any], target: dict[str, Any], expected: bool
) -> None:
    assert is_matched(selecting(**description), target) is expected


def test_generate_name_stands_in_for_a_missing_name() -> None:
    target = resource()
    target["metadata"] = {"generateName": "job-", "namespace": "shop"}
    assert is_matched(selecting(names=["job-*"]), target)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "web"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "db"}, False),
        ({"matchLabels": {"app": "web"}}, {}, False),
        ({"matchLabels": {"app": "we*"}}, {"app": "web"}, True),
        ({"matchLabels": {"app.kubernetes.io/*": "web"}}, {"app.kubernetes.io/name": "web"}, True),
        ({"matchLabels": {"app.kubernetes.io/*": "web"}}, {"app.kubernetes.io/name": "db"}, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
            {"tier": "b"},
            True,
        ),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
            {"tier": "c"},
            False,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]}, {}, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]},
            {"tier": "b"},
            True,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}, {}, True),
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]},
            {"tier": "a"},
            False,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"tier": ""}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"tier": "a"}, False),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "Exists"}],
            },
            {"app": "web"},
            False,
        ),
    ],
)
def test_label_selector(selector: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert (
        is_matched(selecting(kinds=["*"], selector=selector), resource(labels=labels)) is expected
    )


def test_unknown_selector_operator_is_a_policy_error() -> None:
    selector = {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}
    with pytest.raises(KyvernoPolicyError, match="Gt"):
        is_matched(selecting(kinds=["*"], selector=selector), resource(labels={"a": "2"}))


class TestBlocks:
    def test_any_needs_one_filter(self) -> None:
        block = {"any": [{"resources": {"kinds": ["Service"]}}, {"resources": {"names": ["web"]}}]}
        assert is_matched(block, resource(name="web"))
        assert not is_matched(block, resource(name="db"))

    def test_all_needs_every_filter(self) -> None:
        block = {
            "all": [{"resources": {"kinds": ["Deployment"]}}, {"resources": {"names": ["web"]}}]
        }
        assert is_matched(block, resource(name="web"))
        assert not is_matched(block, resource(name="db"))

    def test_legacy_resources_form(self) -> None:
        block = {"resources": {"kinds": ["Deployment"], "namespaces": ["shop"]}}
        assert is_matched(block, resource(namespace="shop"))
        assert not is_matched(block, resource(namespace="prod"))

    def test_user_criteria_are_ignored_offline_in_match(self) -> None:
        with_user = {
            "any": [
                {
                    "resources": {"kinds": ["Deployment"]},
                    "subjects": [{"kind": "User", "name": "bob"}],
                }
            ]
        }
        assert is_matched(with_user, resource())
        only_user = {"any": [{"roles": ["admin"]}]}
        assert not is_matched(only_user, resource())

    @pytest.mark.parametrize(
        "block",
        [{}, {"resources": {}}, {"any": [{"resources": {"kinds": ["Pod"]}}, {}]}],
    )
    def test_a_match_that_selects_nothing_is_a_policy_error(self, block: dict[str, Any]) -> None:
        with pytest.raises(KyvernoPolicyError):
            is_matched(block, resource())

    def test_any_and_all_together_are_a_policy_error(self) -> None:
        block = {
            "any": [{"resources": {"kinds": ["Pod"]}}],
            "all": [{"resources": {"kinds": ["Pod"]}}],
        }
        with pytest.raises(KyvernoPolicyError, match="both"):
            is_matched(block, resource())

    def test_wrong_types_are_policy_errors(self) -> None:
        with pytest.raises(KyvernoPolicyError):
            is_matched({"any": {"resources": {"kinds": ["Pod"]}}}, resource())
        with pytest.raises(KyvernoPolicyError):
            is_matched(selecting(kinds="Pod"), resource())
        with pytest.raises(KyvernoPolicyError, match="kindz"):
            is_matched(selecting(kindz=["Pod"]), resource())


class TestExclude:
    def test_absent_or_empty_exclude_removes_nothing(self) -> None:
        assert not is_excluded(None, resource())
        assert not is_excluded({}, resource())
        assert not is_excluded({"any": [{"resources": {}}]}, resource())

    def test_exclude_any(self) -> None:
        block = {
            "any": [
                {"resources": {"namespaces": ["kube-system"]}},
                {"resources": {"names": ["web"]}},
            ]
        }
        assert is_excluded(block, resource(namespace="kube-system", name="db"))
        assert is_excluded(block, resource(namespace="shop", name="web"))
        assert not is_excluded(block, resource(namespace="shop", name="db"))

    def test_exclude_all(self) -> None:
        block = {
            "all": [
                {"resources": {"namespaces": ["kube-system"]}},
                {"resources": {"names": ["web"]}},
            ]
        }
        assert is_excluded(block, resource(namespace="kube-system", name="web"))
        assert not is_excluded(block, resource(namespace="kube-system", name="db"))

    def test_exclude_legacy(self) -> None:
        block = {"resources": {"selector": {"matchLabels": {"policy": "skip"}}}}
        assert is_excluded(block, resource(labels={"policy": "skip"}))
        assert not is_excluded(block, resource(labels={"policy": "check"}))

    def test_exclude_by_user_never_applies_offline(self) -> None:
        block = {
            "any": [{"resources": {"kinds": ["Deployment"]}, "clusterRoles": ["cluster-admin"]}]
        }
        assert not is_excluded(block, resource())


class TestNamespaceSelector:
    block = selecting(kinds=["Deployment"], namespaceSelector={"matchLabels": {"env": "prod"}})

    def test_unknown_namespace_labels_are_unsupported(self) -> None:
        with pytest.raises(UnsupportedFeature, match="namespaceSelector"):
            is_matched(self.block, resource(namespace="shop"))
        with pytest.raises(UnsupportedFeature):
            is_matched(self.block, resource(namespace="shop"), {"other": {"env": "prod"}})

    def test_known_namespace_labels_are_used(self) -> None:
        labels = {"shop": {"env": "prod"}, "lab": {"env": "dev"}}
        assert is_matched(self.block, resource(namespace="shop"), labels)
        assert not is_matched(self.block, resource(namespace="lab"), labels)

    def test_namespaces_themselves_ignore_it(self) -> None:
        block = selecting(kinds=["Namespace"], namespaceSelector={"matchLabels": {"env": "prod"}})
        target = resource(kind="Namespace", api_version="v1", name="shop", namespace=None)
        assert is_matched(block, target)

    def test_an_earlier_matching_filter_needs_no_labels(self) -> None:
        block = {
            "any": [
                {"resources": {"kinds": ["Deployment"]}},
                {
                    "resources": {
                        "kinds": ["Deployment"],
                        "namespaceSelector": {"matchLabels": {"a": "b"}},
                    }
                },
            ]
        }
        assert is_matched(block, resource())


KIND_SELECTORS = ["Pod", "Deployment", "apps/v1/Deployment", "v1/Pod", "*", "*Set", "Pod/status",
                  "Pod/*", "networking.k8s.io/*/NetworkPolicy"]
RESOURCE_KINDS = [("v1", "Pod"), ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"),
                  ("v1", "Service"), ("networking.k8s.io/v1", "NetworkPolicy"), ("", "")]


@given(
    st.lists(
        st.fixed_dictionaries({}, optional={
            "kinds": st.lists(st.sampled_from(KIND_SELECTORS), min_size=1, max_size=2),
            "names": st.just(["web*"]),
            "namespaceSelector": st.just({"matchLabels": {"env": "prod"}}),
            "selector": st.just({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}),
        }),
        min_size=1, max_size=3,
    ),
    st.sampled_from(["any", "all"]),
    st.sampled_from(RESOURCE_KINDS),
)
@example(  # `all` evaluates its first filter, which may raise, before a later one says no
    [{"namespaceSelector": {"matchLabels": {"env": "prod"}}}, {"kinds": ["Pod"]}], "all",
    ("v1", "Service"),
)
def test_a_kind_rejected_by_the_match_block_is_never_selected(
    filters: list[dict[str, Any]], mode: str, api_kind: tuple[str, str]
) -> None:
    """`rejects_kind` lets policy-validate skip resources unread: it must only say so when
    `selects` would answer False, and without raising, whatever else the resource holds."""
    block = {mode: [{"resources": f} for f in filters]}
    try:
        selection = parse_selection(block, None, "rule")
    except KyvernoPolicyError:
        return  # a filter that selects nothing is refused when read
    api_version, kind = api_kind
    if selection.rejects_kind(api_version, kind):
        target = resource(kind=kind, api_version=api_version, labels={"a": "b"})
        assert selection.selects(target) is False
