"""KubeObject: typed reads that name the failing field, metadata helpers, identity, and the
ways to make one and write it out."""

from __future__ import annotations

from collections.abc import Callable
from textwrap import dedent
from typing import Any

import pytest
import yaml
from krmfn import FieldError, InputError, KubeObject, ResourceList

DEPLOY = dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: prod
      labels: {app: web, replicas: 3, enabled: true, empty: null}
      annotations:
        config.kubernetes.io/local-config: "True"
        config.kubernetes.io/path: site/deploy.yaml
        config.kubernetes.io/index: '2'
        example.com/a.b: x
    spec:
      replicas: 3  # kpt-set: ${replicas}
      paused: false
      ratio: 1.5
      template:
        spec:
          containers:
          - name: web
            image: nginx  # kpt-set: ${image}
            ports: [80, 443]
          - name: sidecar
            env:  # kpt-set: ${env}
            - name: A
    """)


@pytest.fixture
def obj() -> KubeObject:
    return KubeObject.from_yaml(DEPLOY)


def test_get_plain_values_and_defaults(obj: KubeObject) -> None:
    assert obj.get("spec.replicas") == 3
    assert obj.get("spec.template.spec.containers[0].ports") == [80, 443]
    assert obj.get("spec.template.spec.containers[name=sidecar].env[0].name") == "A"
    assert obj.get("spec.template.spec.containers.[name=web].image") == "nginx"
    assert obj.get(["metadata", "annotations", "example.com/a.b"]) == "x"
    assert obj.get("spec.nothing") is None
    assert obj.get("spec.nothing", "dflt") == "dflt"
    assert obj.get("spec.replicas.deeper", 0) == 0
    assert obj.has("spec.paused") and not obj.has("spec.containers")


@pytest.mark.parametrize(("read", "value"), [
    (lambda o: o.get_int("spec.replicas"), 3),
    (lambda o: o.get_bool("spec.paused"), False),
    (lambda o: o.get_str("spec.template.spec.containers[0].image"), "nginx"),
    (lambda o: o.get_map("spec.template.spec.containers[1].env[0]"), {"name": "A"}),
    (lambda o: o.get_list("spec.template.spec.containers[0].ports"), [80, 443]),
    (lambda o: o.get_str("spec.missing", "d"), "d"),
    (lambda o: o.get_int("spec.missing", None), None),
    (lambda o: o.get_int("metadata.labels.empty", 5), 5),  # null is unset
    (lambda o: o.get_str("metadata.labels.empty", ""), ""),
])
def test_typed_getters(obj: KubeObject, read: Callable[[KubeObject], Any], value: Any) -> None:
    assert read(obj) == value


@pytest.mark.parametrize(("read", "message"), [
    (lambda o: o.get_int("spec.paused"), "spec.paused: expected an integer, got a boolean"),
    (lambda o: o.get_int("spec.ratio"), "spec.ratio: expected an integer, got a number"),
    (lambda o: o.get_bool("spec.replicas"), "spec.replicas: expected a boolean, got an integer"),
    (lambda o: o.get_str("spec.replicas"), "spec.replicas: expected a string, got an integer"),
    (lambda o: o.get_map("spec.template.spec.containers"),
     "spec.template.spec.containers: expected a map, got a list"),
    (lambda o: o.get_list("spec"), "spec: expected a list, got a map"),
    (lambda o: o.get_int("metadata.labels.empty"), "metadata.labels.empty: is required but null"),
    (lambda o: o.get_str("spec.missing"), "spec.missing: is required but missing"),
    (lambda o: o.get_str("spec.template.spec.containers[name=db].image"),
     r"spec.template.spec.containers\[name=db\].image: is required but missing"),
    (lambda o: o.get_str(["metadata", "annotations", "no.such/key"]),
     r'metadata.annotations\["no.such/key"\]: is required but missing'),
])
def test_typed_getters_raise_field_errors_naming_the_path(
        obj: KubeObject, read: Callable[[KubeObject], Any], message: str) -> None:
    with pytest.raises(FieldError, match=message) as info:
        read(obj)
    assert str(info.value).startswith(info.value.path + ": ")


def test_labels_and_annotations_are_strings(obj: KubeObject) -> None:
    assert obj.labels == {"app": "web", "replicas": "3", "enabled": "true", "empty": ""}
    assert obj.get_label("enabled") == "true" and obj.get_label("empty") == ""
    assert obj.get_label("replicas") == "3" and obj.get_label("nope") is None
    assert obj.get_label("nope", "d") == "d"
    assert obj.annotations["example.com/a.b"] == "x"
    assert obj.get_annotation("config.kubernetes.io/index") == "2"


def test_label_and_annotation_setters(obj: KubeObject) -> None:
    obj.set_label("tier", "front")
    obj.set_label("app", "web")  # unchanged
    obj.set_annotation("example.com/new", "yes")
    assert obj.remove_annotation("example.com/a.b") is True
    assert obj.remove_annotation("example.com/a.b") is False
    assert obj.remove_label("app") is True
    out = obj.to_yaml()
    assert "labels: {replicas: 3, enabled: true, empty: null, tier: front}" in out
    assert '    example.com/new: "yes"\n' in out and "a.b: x" not in out
    fresh = KubeObject.from_dict({"apiVersion": "v1", "kind": "A", "metadata": {"name": "a"}})
    fresh.set_label("x", "1")
    fresh.set_annotation("y", "2")
    assert fresh.to_dict()["metadata"] == {"name": "a", "labels": {"x": "1"},
                                           "annotations": {"y": "2"}}


@pytest.mark.parametrize(("value", "local"), [('"true"', True), ('"True"', True),
                                             ("true", True), ('"false"', False),
                                             ('"yes"', False), (None, False)])
def test_is_local_config(value: str | None, local: bool) -> None:
    meta = "metadata:\n  name: a\n"
    if value is not None:
        meta += f"  annotations:\n    config.kubernetes.io/local-config: {value}\n"
    assert KubeObject.from_yaml("apiVersion: v1\nkind: A\n" + meta).is_local_config is local


def test_path_and_index_from_annotations(obj: KubeObject) -> None:
    assert obj.path == "site/deploy.yaml" and obj.index == 2
    obj.set_annotation("internal.config.kubernetes.io/path", "other.yaml")
    obj.set_annotation("internal.config.kubernetes.io/index", "5")
    assert obj.path == "other.yaml" and obj.index == 5  # the internal ones win
    bare = KubeObject.from_dict({"apiVersion": "v1", "kind": "A", "metadata": {"name": "a"}})
    assert bare.path == "" and bare.index == 0


def test_identity(obj: KubeObject) -> None:
    assert (obj.api_version, obj.group, obj.version, obj.kind) == ("apps/v1", "apps", "v1",
                                                                  "Deployment")
    assert (obj.name, obj.namespace) == ("web", "prod")
    assert obj.is_gvk("apps", "v1", "Deployment") and obj.is_gvk(kind="Deployment")
    assert not obj.is_gvk(group="") and not obj.is_gvk(version="v2")
    core = KubeObject.from_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 123\n")
    assert (core.group, core.version, core.name, core.namespace) == ("", "v1", "123", "")
    assert repr(obj) == "<KubeObject apps/v1 Deployment prod/web>"


def test_ref_names_the_resource(obj: KubeObject) -> None:
    assert obj.ref() == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                         "namespace": "prod"}
    obj.delete("metadata.namespace")
    assert obj.ref() == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def test_name_and_namespace_setters(obj: KubeObject) -> None:
    obj.name = "api"
    obj.namespace = "dev"
    assert (obj.name, obj.namespace) == ("api", "dev")
    assert "  name: api\n  namespace: dev\n" in obj.to_yaml()


def test_line_comments_are_where_kpt_setters_live(obj: KubeObject) -> None:
    assert obj.line_comment("spec.replicas") == "kpt-set: ${replicas}"
    assert obj.line_comment("spec.template.spec.containers[0].image") == "kpt-set: ${image}"
    assert obj.line_comment("spec.template.spec.containers[1].env") == "kpt-set: ${env}"
    assert obj.line_comment("spec.paused") is None
    assert obj.line_comment("spec.missing") is None
    found = dict(obj.line_comments())
    assert found[("spec", "replicas")] == "kpt-set: ${replicas}"
    assert found[("spec", "template", "spec", "containers", 1, "env")] == "kpt-set: ${env}"


def test_from_dict_renders_block_yaml_that_reads_back() -> None:
    value = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
             "data": {"a": "yes", "b": "0755", "c": "multi\nline", "d": ""},
             "list": [1, {"k": None}, []]}
    obj = KubeObject.from_dict(value)
    assert obj.changed
    text = obj.to_yaml()
    assert text.startswith("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    assert yaml.safe_load(text) == value
    assert KubeObject.from_yaml(text).to_dict() == value


def test_from_yaml_keeps_the_text_and_to_dict_gives_the_value() -> None:
    obj = KubeObject.from_yaml(DEPLOY)
    assert obj.to_yaml() == DEPLOY and not obj.changed
    assert obj.to_dict() == yaml.safe_load(DEPLOY)


def test_copies_are_independent(obj: KubeObject) -> None:
    twin = obj.copy()
    twin.set("spec.replicas", 4)
    assert obj.get("spec.replicas") == 3 and twin.get("spec.replicas") == 4


def test_a_kube_object_can_be_set_as_a_value(obj: KubeObject) -> None:
    holder = KubeObject.from_dict({"apiVersion": "v1", "kind": "List", "metadata": {"name": "l"}})
    holder.set("embedded", obj)
    assert holder.get("embedded.metadata.name") == "web"


def test_items_of_a_resource_list_write_out_as_documents() -> None:
    rl = ResourceList.parse("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
                            + "".join(("- " if i == 0 else "  ") + line + "\n"
                                      for i, line in enumerate(DEPLOY.splitlines())))
    assert rl.items[0].to_yaml() == DEPLOY


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n", "not a mapping"),
    ("", "not a mapping"),
    ("a: [\n", "invalid YAML at line 2"),
    ("a: 1\n---\nb: 2\n", "single document"),
    ("a: 1\na: 2\n", "duplicate key 'a'"),
])
def test_from_yaml_refuses_what_is_not_one_object(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        KubeObject.from_yaml(text)


def test_identity_follows_every_edit_that_changes_it() -> None:
    obj = KubeObject.from_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                               "  namespace: x\n")
    assert (obj.api_version, obj.kind, obj.name, obj.namespace) == ("v1", "ConfigMap", "a", "x")
    obj.name = "b"
    obj.set("kind", "Secret")
    assert (obj.kind, obj.name) == ("Secret", "b")
    obj.delete("metadata.namespace")
    assert obj.namespace == ""
    obj.set("metadata", {"name": "c", "namespace": "y"})
    assert (obj.name, obj.namespace) == ("c", "y")
    obj.set(("apiVersion",), "apps/v1")
    assert (obj.group, obj.version) == ("apps", "v1")
    obj.set("metadata.labels.app", "z")  # not identity: nothing to forget, still right
    assert (obj.api_version, obj.kind, obj.name, obj.namespace) == ("apps/v1", "Secret", "c", "y")


def test_line_comments_containing_a_marker_are_the_matching_ones_of_all() -> None:
    obj = KubeObject.from_yaml(
        "apiVersion: apps/v1 # kpt-set: ${api}\nkind: Deployment\nmetadata:\n"
        "  name: web # the name kpt-set: ${name}\n  labels: # kpt-set: ${labels}\n"
        "    a: b # not a setter\nspec:\n  replicas: 3 # kpt-set: ${replicas}\n"
        "  note: 'kpt-set: in a value'\n")
    every = obj.line_comments()
    assert obj.line_comments("kpt-set:") == [(p, c) for p, c in every if "kpt-set:" in c]
    assert [p for p, _ in obj.line_comments("kpt-set:")] == [
        ("apiVersion",), ("metadata", "name"), ("metadata", "labels"), ("spec", "replicas")]
    assert obj.line_comments("no such text") == []
