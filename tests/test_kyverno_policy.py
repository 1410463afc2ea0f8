"""Kyverno policies evaluated on resources: realistic policies, actions, unsupported rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from krmfn_catalog.policy_validate.kyverno_errors import KyvernoPolicyError
from krmfn_catalog.policy_validate.kyverno_policy import (
    RuleResult,
    evaluate,
    is_policy,
    load_policy,
)


def load(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def by_rule(results: list[RuleResult]) -> dict[str, RuleResult]:
    return {result.rule: result for result in results}


def statuses(results: list[RuleResult]) -> dict[str, str]:
    return {result.rule: result.status for result in results}


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"containers": list(containers), **spec},
    }


def deployment(*containers: dict[str, Any], **pod_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": list(containers), **pod_spec},
            },
        },
    }


def cronjob(*containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "shop"},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"containers": list(containers)}}}},
        },
    }


DISALLOW_LATEST = load("""
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: disallow-latest-tag
spec:
  validationFailureAction: Enforce
  rules:
  - name: require-image-tag
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "An image tag is required."
      pattern:
        spec:
          containers:
          - image: "*:*"
  - name: validate-image-tag
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "Using a mutable image tag e.g. 'latest' is not allowed."
      pattern:
        spec:
          containers:
          - image: "!*:latest"
""")


class TestDisallowLatestTag:
    def test_pod_with_pinned_images_passes(self) -> None:
        results = evaluate(DISALLOW_LATEST, pod({"name": "app", "image": "nginx:1.25"}))
        assert statuses(results) == {"require-image-tag": "pass", "validate-image-tag": "pass"}
        assert all(r.enforce and r.policy == "disallow-latest-tag" for r in results)

    def test_pod_with_latest_and_untagged_images_fails_both_rules(self) -> None:
        target = pod({"name": "a", "image": "nginx:latest"}, {"name": "b", "image": "busybox"})
        results = by_rule(evaluate(DISALLOW_LATEST, target))
        untagged = results["require-image-tag"]
        assert untagged.status == "fail"
        assert untagged.message == "An image tag is required."
        assert [str(m) for m in untagged.mismatches] == [
            'spec.containers[1].image: value "busybox" does not match "*:*"'
        ]
        latest = results["validate-image-tag"]
        assert latest.status == "fail"
        assert [m.path for m in latest.mismatches] == ["spec.containers[0].image"]

    def test_deployment_is_checked_through_generated_rules(self) -> None:
        target = deployment({"name": "app", "image": "nginx:latest"})
        results = by_rule(evaluate(DISALLOW_LATEST, target))
        assert set(results) == {"autogen-require-image-tag", "autogen-validate-image-tag"}
        failed = results["autogen-validate-image-tag"]
        assert failed.status == "fail"
        (mismatch,) = failed.mismatches
        assert mismatch.path == "spec.template.spec.containers[0].image"
        assert mismatch.message == 'value "nginx:latest" does not match "!*:latest"'

    def test_cronjob_is_checked_through_generated_rules(self) -> None:
        results = by_rule(
            evaluate(DISALLOW_LATEST, cronjob({"name": "job", "image": "tool:latest"}))
        )
        failed = results["autogen-cronjob-validate-image-tag"]
        assert failed.status == "fail"
        assert (
            failed.mismatches[0].path == "spec.jobTemplate.spec.template.spec.containers[0].image"
        )
        assert results["autogen-cronjob-require-image-tag"].status == "pass"

    def test_other_kinds_get_no_result(self) -> None:
        config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
        assert evaluate(DISALLOW_LATEST, config_map) == []

    def test_autogen_annotation_narrows_or_disables_generation(self) -> None:
        only_deployments = copy.deepcopy(DISALLOW_LATEST)
        only_deployments["metadata"]["annotations"] = {
            "pod-policies.kyverno.io/autogen-controllers": "Deployment"
        }
        target = deployment({"name": "app", "image": "nginx:latest"})
        assert len(evaluate(only_deployments, target)) == 2
        assert evaluate(only_deployments, cronjob({"name": "j", "image": "x:latest"})) == []
        disabled = copy.deepcopy(DISALLOW_LATEST)
        disabled["metadata"]["annotations"] = {
            "pod-policies.kyverno.io/autogen-controllers": "none"
        }
        assert evaluate(disabled, target) == []


REQUIRE_LABELS = load("""
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-labels
spec:
  validationFailureAction: audit
  rules:
  - name: check-for-labels
    match:
      any:
      - resources:
          kinds: [Deployment, StatefulSet]
    exclude:
      any:
      - resources:
          namespaces: [kube-*]
    validate:
      message: "{{request.object.kind}} {{request.object.metadata.name}} needs name and part-of."
      pattern:
        metadata:
          labels:
            app.kubernetes.io/name: "?*"
            app.kubernetes.io/part-of: "?*"
""")


class TestRequireLabels:
    def test_missing_labels_fail_with_the_substituted_message(self) -> None:
        target = deployment({"name": "app", "image": "nginx:1.25"})
        (result,) = evaluate(REQUIRE_LABELS, target)
        assert result.status == "fail"
        assert result.enforce is False
        assert result.message == "Deployment web needs name and part-of."
        assert [m.path for m in result.mismatches] == [
            'metadata.labels["app.kubernetes.io/name"]',
            'metadata.labels["app.kubernetes.io/part-of"]',
        ]

    def test_present_labels_pass(self) -> None:
        target = deployment({"name": "app", "image": "nginx:1.25"})
        target["metadata"]["labels"] = {
            "app.kubernetes.io/name": "web",
            "app.kubernetes.io/part-of": "shop",
        }
        assert statuses(evaluate(REQUIRE_LABELS, target)) == {"check-for-labels": "pass"}

    def test_excluded_namespace_gets_no_result(self) -> None:
        target = deployment({"name": "app", "image": "nginx:1.25"})
        target["metadata"]["namespace"] = "kube-system"
        assert evaluate(REQUIRE_LABELS, target) == []


REQUIRE_LIMITS = load("""
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-requests-limits
spec:
  validationFailureAction: Enforce
  rules:
  - name: validate-resources
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "CPU and memory requests and a memory limit (at most 2Gi) are required."
      pattern:
        spec:
          containers:
          - resources:
              requests:
                memory: "?*"
                cpu: "?*"
              limits:
                memory: "?* & <=2Gi"
""")


class TestRequireLimits:
    def test_complete_resources_pass(self) -> None:
        container = {
            "name": "app",
            "image": "app:1",
            "resources": {
                "requests": {"memory": "64Mi", "cpu": "250m"},
                "limits": {"memory": "1Gi"},
            },
        }
        assert statuses(evaluate(REQUIRE_LIMITS, deployment(container))) == {
            "autogen-validate-resources": "pass"
        }

    def test_each_missing_or_excessive_value_is_reported(self) -> None:
        container = {
            "name": "app",
            "image": "app:1",
            "resources": {"requests": {"memory": "64Mi"}, "limits": {"memory": "4Gi"}},
        }
        sidecar = {"name": "sidecar", "image": "proxy:1"}
        (result,) = evaluate(REQUIRE_LIMITS, pod(container, sidecar))
        assert result.status == "fail"
        assert [str(m) for m in result.mismatches] == [
            'spec.containers[0].resources.requests.cpu: field is missing, expected "?*"',
            'spec.containers[0].resources.limits.memory: value "4Gi" does not match "?* & <=2Gi"',
            "spec.containers[1].resources: field is missing, expected a map",
        ]


RESTRICT_HOST_PORTS = load("""
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: restrict-host-port-range
spec:
  validationFailureAction: Enforce
  rules:
  - name: host-port-range
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "The only permitted hostPorts are in the range 5000-6000."
      pattern:
        spec:
          =(initContainers):
          - =(ports):
            - =(hostPort): 5000-6000
          containers:
          - =(ports):
            - =(hostPort): 5000-6000
""")


class TestRestrictHostPorts:
    @pytest.mark.parametrize(
        ("ports", "expected"),
        [
            ([], "pass"),
            ([{"containerPort": 80}], "pass"),
            ([{"containerPort": 80, "hostPort": 5000}], "pass"),
            ([{"containerPort": 80, "hostPort": 6000}], "pass"),
            ([{"containerPort": 80, "hostPort": 4999}], "fail"),
            (
                [{"containerPort": 80, "hostPort": 5500}, {"containerPort": 81, "hostPort": 8080}],
                "fail",
            ),
        ],
    )
    def test_host_ports(self, ports: list[dict[str, int]], expected: str) -> None:
        (result,) = evaluate(
            RESTRICT_HOST_PORTS, pod({"name": "a", "image": "a:1", "ports": ports})
        )
        assert result.status == expected

    def test_init_containers_are_checked_when_present(self) -> None:
        target = pod(
            {"name": "a", "image": "a:1"},
            initContainers=[{"name": "i", "image": "i:1", "ports": [{"hostPort": 22}]}],
        )
        (result,) = evaluate(RESTRICT_HOST_PORTS, target)
        assert result.status == "fail"
        assert [m.path for m in result.mismatches] == ["spec.initContainers[0].ports[0].hostPort"]


RUN_AS_NON_ROOT = load("""
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-run-as-non-root
spec:
  rules:
  - name: run-as-non-root
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "Running as root is not allowed."
      anyPattern:
      - spec:
          securityContext:
            runAsNonRoot: true
          containers:
          - =(securityContext):
              =(runAsNonRoot): true
      - spec:
          containers:
          - securityContext:
              runAsNonRoot: true
""")


class TestAnyPattern:
    def test_pod_level_setting_passes(self) -> None:
        target = pod({"name": "a", "image": "a:1"}, securityContext={"runAsNonRoot": True})
        (result,) = evaluate(RUN_AS_NON_ROOT, target)
        assert (result.status, result.message) == ("pass", "anyPattern[0] passed")

    def test_container_level_setting_passes(self) -> None:
        target = pod({"name": "a", "image": "a:1", "securityContext": {"runAsNonRoot": True}})
        (result,) = evaluate(RUN_AS_NON_ROOT, target)
        assert (result.status, result.message) == ("pass", "anyPattern[1] passed")

    def test_no_pattern_passing_reports_the_mismatches_of_all(self) -> None:
        (result,) = evaluate(RUN_AS_NON_ROOT, pod({"name": "a", "image": "a:1"}))
        assert result.status == "fail"
        assert result.message == "Running as root is not allowed."
        assert result.enforce is False
        assert [str(m) for m in result.mismatches] == [
            "spec.securityContext: anyPattern[0]: field is missing, expected a map",
            "spec.containers[0].securityContext: anyPattern[1]: field is missing, expected a map",
        ]

    def test_only_skipped_patterns_skip_the_rule(self) -> None:
        policy = copy.deepcopy(RUN_AS_NON_ROOT)
        policy["spec"]["rules"][0]["validate"]["anyPattern"] = [
            {"spec": {"containers": [{"(name)": "istio-*", "image": "istio/*"}]}},
            {"metadata": {"(namespace)": "istio-system"}},
        ]
        (result,) = evaluate(policy, pod({"name": "a", "image": "a:1"}))
        assert result.status == "skip"
        assert "anyPattern[0]" in result.message and "anyPattern[1]" in result.message


def rule_policy(rule: dict[str, Any], **spec: Any) -> dict[str, Any]:
    base = {"name": "check", "match": {"any": [{"resources": {"kinds": ["ConfigMap"]}}]}}
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "p"},
        "spec": {"rules": [{**base, **rule}], **spec},
    }


CONFIG_MAP: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {
        "name": "settings",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/name": "settings"},
    },
    "data": {"mode": "fast"},
}
FAST_MODE: dict[str, Any] = {"validate": {"pattern": {"data": {"mode": "fast"}}}}


@pytest.mark.parametrize(
    ("spec", "validate", "expected"),
    [
        ({}, {}, False),
        ({"validationFailureAction": "Enforce"}, {}, True),
        ({"validationFailureAction": "enforce"}, {}, True),
        ({"validationFailureAction": "ENFORCE"}, {}, True),
        ({"validationFailureAction": "Audit"}, {}, False),
        ({"validationFailureAction": "audit"}, {}, False),
        ({"validationFailureAction": "Audit"}, {"failureAction": "Enforce"}, True),
        ({"validationFailureAction": "Enforce"}, {"failureAction": "Audit"}, False),
        (
            {
                "validationFailureAction": "Audit",
                "validationFailureActionOverrides": [{"action": "Enforce", "namespaces": ["sh*"]}],
            },
            {},
            True,
        ),
        (
            {
                "validationFailureAction": "Enforce",
                "validationFailureActionOverrides": [{"action": "Audit", "namespaces": ["prod"]}],
            },
            {},
            True,
        ),
    ],
)
def test_failure_action(spec: dict[str, Any], validate: dict[str, Any], expected: bool) -> None:
    rule = {"validate": {**FAST_MODE["validate"], **validate}}
    (result,) = evaluate(rule_policy(rule, **spec), CONFIG_MAP)
    assert result.status == "pass"
    assert result.enforce is expected


def test_an_unknown_failure_action_is_a_policy_error() -> None:
    with pytest.raises(KyvernoPolicyError, match="Block"):
        load_policy(rule_policy(FAST_MODE, validationFailureAction="Block"))


class TestNamespacedPolicy:
    policy = {
        **rule_policy(FAST_MODE),
        "kind": "Policy",
        "metadata": {"name": "p", "namespace": "shop"},
    }

    def test_applies_in_its_namespace(self) -> None:
        assert statuses(evaluate(self.policy, CONFIG_MAP)) == {"check": "pass"}

    def test_ignores_other_namespaces(self) -> None:
        other = copy.deepcopy(CONFIG_MAP)
        other["metadata"]["namespace"] = "lab"
        assert evaluate(self.policy, other) == []
        del other["metadata"]["namespace"]
        assert evaluate(self.policy, other) == []


UNSUPPORTED = [
    ("validate.deny", {"validate": {"deny": {"conditions": {"any": []}}}}),
    ("validate.foreach", {"validate": {"foreach": [{"list": "request.object.data"}]}}),
    ("validate.cel", {"validate": {"cel": {"expressions": [{"expression": "true"}]}}}),
    ("validate.podSecurity", {"validate": {"podSecurity": {"level": "baseline"}}}),
    ("validate.manifests", {"validate": {"manifests": {"attestors": []}}}),
    ("context", {"context": [{"name": "cm", "configMap": {"name": "x"}}], **FAST_MODE}),
    ("mutate rules", {"mutate": {"patchStrategicMerge": {"metadata": {"labels": {"a": "b"}}}}}),
    ("generate rules", {"generate": {"kind": "ConfigMap", "name": "x"}}),
    ("verifyImages rules", {"verifyImages": [{"imageReferences": ["*"]}]}),
    ("validate without pattern or anyPattern", {"validate": {"message": "nothing to check"}}),
    ("$(...) references", {"validate": {"pattern": {"data": {"mode": "$(./other)"}}}}),
    (
        "JMESPath expression",
        {
            "preconditions": {
                "all": [
                    {
                        "key": "{{ length(request.object.data) }}",
                        "operator": "GreaterThan",
                        "value": 0,
                    }
                ]
            },
            **FAST_MODE,
        },
    ),
    (
        "JMESPath expression",
        {"validate": {"pattern": {"data": {"mode": "{{ images.containers }}"}}}},
    ),
    (
        "precondition operator 'DurationGreaterThan'",
        {
            "preconditions": [{"key": "1h", "operator": "DurationGreaterThan", "value": "1m"}],
            **FAST_MODE,
        },
    ),
]


@pytest.mark.parametrize(("feature", "rule"), UNSUPPORTED, ids=[f for f, _ in UNSUPPORTED])
def test_unsupported_features_are_reported_never_passed(feature: str, rule: dict[str, Any]) -> None:
    (result,) = evaluate(rule_policy(rule), CONFIG_MAP)
    assert result.status == "unsupported"
    assert result.message.startswith("policy p rule check: ")
    assert feature in result.message
    assert result.mismatches == []


def test_a_missing_variable_makes_the_rule_not_evaluable() -> None:
    rule = {"validate": {"pattern": {"data": {"mode": "{{ request.object.data.other }}"}}}}
    (result,) = evaluate(rule_policy(rule), CONFIG_MAP)
    assert result.status == "unsupported"
    assert "request.object.data.other" in result.message


def test_a_message_variable_without_value_is_left_as_written() -> None:
    rule = {
        "validate": {"message": "mode of {{ request.object.data.other }}", **FAST_MODE["validate"]}
    }
    rule["validate"]["pattern"] = {"data": {"mode": "slow"}}
    (result,) = evaluate(rule_policy(rule), CONFIG_MAP)
    assert result.status == "fail"
    assert result.message == "mode of {{ request.object.data.other }}"


def test_namespace_selectors_use_the_given_namespace_labels() -> None:
    selected = {"kinds": ["ConfigMap"], "namespaceSelector": {"matchLabels": {"env": "prod"}}}
    policy = rule_policy({"match": {"any": [{"resources": selected}]}, **FAST_MODE})
    (unknown,) = evaluate(policy, CONFIG_MAP)
    assert unknown.status == "unsupported"
    assert "namespaceSelector" in unknown.message
    (known,) = evaluate(policy, CONFIG_MAP, namespace_labels={"shop": {"env": "prod"}})
    assert known.status == "pass"
    assert evaluate(policy, CONFIG_MAP, namespace_labels={"shop": {"env": "dev"}}) == []


class TestPreconditions:
    @pytest.mark.parametrize(
        ("condition", "applies"),
        [
            (
                {"key": "{{ request.object.data.mode }}", "operator": "Equals", "value": "fast"},
                True,
            ),
            ({"key": "{{ request.object.data.mode }}", "operator": "Equals", "value": "f*"}, True),
            (
                {"key": "{{ request.object.data.mode }}", "operator": "Equals", "value": "slow"},
                False,
            ),
            (
                {"key": "{{ request.object.data.mode }}", "operator": "NotEquals", "value": "slow"},
                True,
            ),
            (
                {
                    "key": "{{ request.operation || 'BACKGROUND' }}",
                    "operator": "NotEquals",
                    "value": "DELETE",
                },
                True,
            ),
            (
                {
                    "key": "{{ request.object.data.missing || '' }}",
                    "operator": "Equals",
                    "value": "",
                },
                True,
            ),
            (
                {
                    "key": "{{ request.object.metadata.namespace }}",
                    "operator": "AnyIn",
                    "value": ["shop", "lab"],
                },
                True,
            ),
            (
                {
                    "key": "{{ request.object.metadata.namespace }}",
                    "operator": "AnyNotIn",
                    "value": ["shop"],
                },
                False,
            ),
            ({"key": ["a", "b"], "operator": "AllIn", "value": ["a", "b", "c"]}, True),
            ({"key": ["a", "d"], "operator": "AllIn", "value": ["a", "b", "c"]}, False),
            ({"key": ["x", "y"], "operator": "AllNotIn", "value": ["a"]}, True),
            (
                {"key": "{{ request.object.metadata.name }}", "operator": "In", "value": ["set*"]},
                True,
            ),
            ({"key": "512Mi", "operator": "LessThan", "value": "1Gi"}, True),
            ({"key": 3, "operator": "GreaterThanOrEquals", "value": 5}, False),
            ({"key": "90s", "operator": "GreaterThan", "value": "1m"}, True),
            ({"key": 7, "operator": "AnyIn", "value": "1-10"}, True),
            (
                {
                    "key": '{{ request.object.metadata.labels."app.kubernetes.io/name" }}',
                    "operator": "Equals",
                    "value": "settings",
                },
                True,
            ),
            ({"key": "{{ request.name }}", "operator": "Equals", "value": "settings"}, True),
            (
                {
                    "key": "{{ request.object.data.missing || `3` }}",
                    "operator": "LessThan",
                    "value": 4,
                },
                True,
            ),
        ],
    )
    def test_conditions(self, condition: dict[str, Any], applies: bool) -> None:
        rule = {"preconditions": {"all": [condition]}, **FAST_MODE}
        (result,) = evaluate(rule_policy(rule), CONFIG_MAP)
        assert result.status == ("pass" if applies else "skip")

    def test_any_needs_one_and_a_list_means_all(self) -> None:
        equals = {"key": "{{ request.object.data.mode }}", "operator": "Equals"}
        one_of = {"any": [{**equals, "value": "slow"}, {**equals, "value": "fast"}]}
        assert (
            evaluate(rule_policy({"preconditions": one_of, **FAST_MODE}), CONFIG_MAP)[0].status
            == "pass"
        )
        both = [{**equals, "value": "slow"}, {**equals, "value": "fast"}]
        (skipped,) = evaluate(rule_policy({"preconditions": both, **FAST_MODE}), CONFIG_MAP)
        assert skipped.status == "skip"
        assert skipped.message.startswith("preconditions not met")


def test_a_condition_anchor_skips_the_rule() -> None:
    rule = {"validate": {"pattern": {"data": {"(mode)": "slow", "threads": ">1"}}}}
    (result,) = evaluate(rule_policy(rule), CONFIG_MAP)
    assert result.status == "skip"
    assert "(mode)" in result.message


def test_a_loaded_policy_can_be_evaluated_many_times() -> None:
    policy = load_policy(DISALLOW_LATEST)
    assert policy.name == "disallow-latest-tag"
    assert policy.namespace is None
    first = evaluate(policy, pod({"name": "a", "image": "a:1"}))
    second = evaluate(policy, pod({"name": "a", "image": "a:latest"}))
    assert statuses(first)["validate-image-tag"] == "pass"
    assert statuses(second)["validate-image-tag"] == "fail"


def test_autogen_is_off_when_a_rule_selects_by_name() -> None:
    policy = copy.deepcopy(DISALLOW_LATEST)
    policy["spec"]["rules"][0]["match"]["any"][0]["resources"]["names"] = ["web*"]
    names = [rule.name for rule in load_policy(policy).rules]
    assert names == ["require-image-tag", "validate-image-tag"]


def test_autogen_shifts_variables_to_the_pod_template() -> None:
    policy = rule_policy(
        {
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {
                "message": "image {{ request.object.spec.containers[0].image }} is not pinned",
                "pattern": {"spec": {"containers": [{"image": "*@sha256:*"}]}},
            },
        }
    )
    (result,) = evaluate(policy, deployment({"name": "app", "image": "nginx:1.25"}))
    assert result.rule == "autogen-check"
    assert result.message == "image nginx:1.25 is not pinned"


@pytest.mark.parametrize(
    "document",
    [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
        {
            "apiVersion": "kyverno.io/v1",
            "kind": "ClusterPolicy",
            "metadata": {},
            "spec": {"rules": []},
        },
        {
            "apiVersion": "kyverno.io/v1",
            "kind": "ClusterPolicy",
            "metadata": {"name": "p"},
            "spec": {},
        },
        rule_policy({"validate": "no"}),
        rule_policy({"name": ""}),
        rule_policy({"match": {}, **FAST_MODE}),
        {
            "apiVersion": "kyverno.io/v1",
            "kind": "ClusterPolicy",
            "metadata": {"name": "p"},
            "spec": {"rules": [{"name": "r", "validate": {"pattern": {}}}]},
        },
        rule_policy({"message": "a rule that neither validates nor mutates"}),
        rule_policy({"validate": {"anyPattern": {"data": {"mode": "fast"}}}}),
        rule_policy({"validate": {"anyPattern": []}}),
    ],
)
def test_malformed_policies_are_errors(document: dict[str, Any]) -> None:
    with pytest.raises(KyvernoPolicyError):
        load_policy(document)


def test_is_policy() -> None:
    assert is_policy(DISALLOW_LATEST)
    assert is_policy({**DISALLOW_LATEST, "kind": "Policy"})
    assert not is_policy(CONFIG_MAP)
    assert not is_policy({**DISALLOW_LATEST, "apiVersion": "policies.kyverno.io/v1alpha1"})


SHAPES = {  # a rule's parts that hold something other than the list Kyverno wants
    "kinds": {"match": {"resources": {"kinds": 1}}},
    "any": {"match": {"any": 3, "resources": {"kinds": ["Pod"]}}},
    "all": {"match": {"all": "x", "resources": {"kinds": ["Pod"]}}},
    "exclude-kinds": {"match": {"resources": {"kinds": ["Pod"]}},
                      "exclude": {"resources": {"kinds": 2}}},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_rule_part_of_the_wrong_shape_is_an_error_naming_the_policy(shape: str) -> None:
    """Generating the rules for Pod controllers read these parts as lists before the policy
    was checked: a number there was a traceback ('int' object is not iterable)."""
    from krmfn_catalog.policy_validate import policy_validate

    rule = {"name": "r", **SHAPES[shape], "validate": {"pattern": {"spec": {}}}}
    text = yaml.safe_dump({
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [
            {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
             "metadata": {"name": "p"}, "spec": {"rules": [rule]}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}]})
    out = policy_validate.run_text(text)
    assert out.exit_code == 1
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr
    assert "ClusterPolicy p" in out.stderr and "invalid policy" in out.stderr
