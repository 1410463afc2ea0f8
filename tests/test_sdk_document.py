"""Splice editing, seen through KubeObject: each edit changes exactly its own text.

Every case gives the input, the edits and the whole expected output, so a change in what
the editor touches shows up as a diff here; each output must also read back as the value
the edits describe (checked by `edit`).
"""

from __future__ import annotations

from collections.abc import Callable
from textwrap import dedent
from typing import Any

import pytest
import yaml
from krmfn import FieldError, KubeObject, ResourceList


def edit(text: str, *changes: Callable[[KubeObject], object]) -> str:
    """Apply `changes` and return the text, after checking it reads back as the value."""
    obj = KubeObject.from_yaml(dedent(text))
    for change in changes:
        change(obj)
    out = obj.to_yaml()
    assert yaml.load(out, Loader=yaml.CSafeLoader) == obj.to_dict(), out
    again = KubeObject.from_yaml(out)
    assert again.to_dict() == obj.to_dict()
    return out


POD = """\
# a pod
apiVersion: v1
kind: Pod
metadata:
  name: web  # the name
  labels:
    app: web
spec:
  containers:
  - name: web  # first
    image: "nginx:1.25"
    ports:
    - containerPort: 80
  - name: sidecar
    image: 'envoy'
"""


def expect(text: str) -> str:
    return dedent(text)


# ------------------------------------------------------------------ scalars


def test_set_scalar_keeps_quote_style_and_comment() -> None:
    out = edit(POD, lambda o: o.set("metadata.name", "api"),
               lambda o: o.set("spec.containers[0].image", "nginx:1.27"),
               lambda o: o.set("spec.containers[name=sidecar].image", "envoy:v2"))
    assert out == POD.replace("name: web  # the", "name: api  # the").replace(
        '"nginx:1.25"', '"nginx:1.27"').replace("'envoy'", "'envoy:v2'")


def test_set_scalar_quotes_what_would_read_as_another_type() -> None:
    out = edit(POD, lambda o: o.set("metadata.labels.app", "yes"),
               lambda o: o.set("metadata.name", "0755"))
    assert 'app: "yes"' in out and 'name: "0755"  # the name' in out
    assert edit(POD, lambda o: o.set("metadata.labels.app", 3)).count("app: 3\n") == 1


def test_setting_equal_values_changes_nothing() -> None:
    def same(o: KubeObject) -> None:
        o.set("metadata.name", "web")
        o.set("metadata.labels", {"app": "web"})
        o.set("spec.containers[0].ports", [{"containerPort": 80}])
        o.set("spec.containers[1]", {"name": "sidecar", "image": "envoy"})
        o.set_label("app", "web")

    obj = KubeObject.from_yaml(POD)
    same(obj)
    assert obj.to_yaml() == POD
    assert not obj.changed


def test_equal_means_same_type() -> None:
    text = "a: 1\nb: 'true'\n"
    assert edit(text, lambda o: o.set("a", "1")) == "a: \"1\"\nb: 'true'\n"
    assert edit(text, lambda o: o.set("b", True)) == "a: 1\nb: true\n"
    assert edit(text, lambda o: o.set("a", 1), lambda o: o.set("b", "true")) == text


# ------------------------------------------------------------------ new keys


def test_new_key_in_block_mapping_goes_after_its_last_entry() -> None:
    out = edit(POD, lambda o: o.set("metadata.namespace", "prod"),
               lambda o: o.set_label("tier", "front"))
    assert out == POD.replace("    app: web\n",
                              "    app: web\n    tier: front\n  namespace: prod\n")


def test_nested_creation_makes_the_missing_maps() -> None:
    out = edit(POD, lambda o: o.set(["metadata", "annotations", "a.b/c"], "x"),
               lambda o: o.set("spec.securityContext.runAsUser", 1000))
    assert out == POD.replace("spec:\n", "  annotations:\n    a.b/c: x\nspec:\n") + (
        "  securityContext:\n    runAsUser: 1000\n")


def test_new_key_in_flow_and_json_mappings() -> None:
    text = 'metadata: {name: a, labels: {x: "1"}}\nspec: {"replicas": 1}\nempty: {}\n'
    out = edit(text, lambda o: o.set_label("z", "on"), lambda o: o.set("spec.paused", True),
               lambda o: o.set("empty.k", [1, "two"]), lambda o: o.set("metadata.o.m", 1))
    assert out == ('metadata: {name: a, labels: {x: "1", z: "on"}, o: {m: 1}}\n'
                   'spec: {"replicas": 1, "paused": true}\nempty: {k: [1, two]}\n')


def test_new_keys_at_the_end_of_a_document_without_final_newline() -> None:
    assert edit("a: 1", lambda o: o.set("b", 2)) == "a: 1\nb: 2"  # and still none


def test_new_key_after_a_block_scalar() -> None:
    text = "data:\n  script: |\n    echo hi\n\n  other: x\nz: 1\n"
    out = edit(text, lambda o: o.set("data.new", "v"))
    assert out == "data:\n  script: |\n    echo hi\n\n  other: x\n  new: v\nz: 1\n"
    text = "data:\n  script: |\n    echo hi\nz: 1\n"
    assert edit(text, lambda o: o.set("data.new", "v")) == (
        "data:\n  script: |\n    echo hi\n  new: v\nz: 1\n")


# ------------------------------------------------------------------ lists


def test_append_to_block_lists_compact_and_wide() -> None:
    text = "compact:\n- a\nwide:\n  - a\nmaps:\n- name: x  # c\n"
    out = edit(text, lambda o: o.append("compact", "b"), lambda o: o.append("wide", "b"),
               lambda o: o.append("maps", {"name": "z", "ports": [1]}))
    assert out == ("compact:\n- a\n- b\nwide:\n  - a\n  - b\nmaps:\n- name: x  # c\n"
                   "- name: z\n  ports:\n  - 1\n")


def test_append_to_flow_lists_and_create_missing_ones() -> None:
    text = "l: [1, 2]\nj: [\"a\"]\ne: []\n"
    out = edit(text, lambda o: o.append("l", 3), lambda o: o.append("j", "b"),
               lambda o: o.append("e", {"k": "v"}), lambda o: o.append("new.list", "x"))
    assert out == 'l: [1, 2, 3]\nj: ["a", "b"]\ne: [{k: v}]\nnew:\n  list:\n  - x\n'


def test_append_to_what_is_not_a_list_is_a_field_error() -> None:
    obj = KubeObject.from_yaml(POD)
    with pytest.raises(FieldError, match=r"metadata\.name: is not a list"):
        obj.append("metadata.name", "x")


def test_list_elements_are_not_created() -> None:
    obj = KubeObject.from_yaml(POD)
    with pytest.raises(FieldError, match=r"spec\.containers\[5\]: no such field"):
        obj.set("spec.containers[5].image", "x")
    with pytest.raises(FieldError, match="cannot create list elements"):
        obj.set(["spec", "new", 0], "x")
    assert obj.to_yaml() == POD


# ------------------------------------------------------------------ deletes


def test_delete_a_key_with_its_line_comment() -> None:
    out = edit(POD, lambda o: o.delete("metadata.name"))
    assert out == POD.replace("  name: web  # the name\n", "")


def test_delete_the_first_key_of_a_list_item_keeps_the_dash() -> None:
    out = edit(POD, lambda o: o.delete("spec.containers[0].name"))
    assert out == POD.replace("  - name: web  # first\n    image:", "  - image:")


def test_delete_the_last_key_of_a_map_leaves_an_empty_map() -> None:
    out = edit(POD, lambda o: o.delete("metadata.labels.app"))
    assert out == POD.replace("  labels:\n    app: web\n", "  labels: {}\n")
    out = edit(POD, lambda o: o.delete("spec.containers[0].ports[0]"))
    assert out == POD.replace("    ports:\n    - containerPort: 80\n", "    ports: []\n")


def test_delete_every_key_of_a_list_item_in_any_order() -> None:
    out = edit(POD, lambda o: o.delete("spec.containers[1].name"),
               lambda o: o.delete("spec.containers[1].image"))
    assert out == POD.replace("  - name: sidecar\n    image: 'envoy'\n", "  - {}\n")
    out = edit(POD, lambda o: o.delete("spec.containers[1].image"),
               lambda o: o.delete("spec.containers[1].name"))
    assert out == POD.replace("  - name: sidecar\n    image: 'envoy'\n", "  - {}\n")


def test_delete_list_items() -> None:
    out = edit(POD, lambda o: o.delete("spec.containers[name=web]"))
    assert out == POD.replace(
        "  - name: web  # first\n    image: \"nginx:1.25\"\n    ports:\n"
        "    - containerPort: 80\n", "")
    assert edit(POD, lambda o: o.delete("spec.containers[-1]")) == POD.replace(
        "  - name: sidecar\n    image: 'envoy'\n", "")


def test_delete_in_flow_collections() -> None:
    text = "m: {a: 1, b: 2, c: 3}\nl: [1, 2, 3]\none: {x: 1}\n"
    assert edit(text, lambda o: o.delete("m.a"), lambda o: o.delete("l[2]"),
                lambda o: o.delete("one.x")) == "m: {b: 2, c: 3}\nl: [1, 2]\none: {}\n"
    assert edit(text, lambda o: o.delete("m.b"), lambda o: o.delete("m.c"),
                lambda o: o.set("m.d", 4)) == "m: {a: 1, d: 4}\nl: [1, 2, 3]\none: {x: 1}\n"


def test_delete_reports_whether_something_was_there() -> None:
    obj = KubeObject.from_yaml(POD)
    assert obj.delete("metadata.labels.app") is True
    assert obj.delete("metadata.labels.app") is False
    assert obj.delete("metadata.nothing.deeper") is False
    assert obj.delete("spec.containers[9]") is False


def test_the_last_field_of_the_whole_object_cannot_go() -> None:
    obj = KubeObject.from_yaml("a: 1\n")
    with pytest.raises(FieldError, match="last field"):
        obj.delete("a")


def test_delete_then_set_again() -> None:
    out = edit(POD, lambda o: o.delete("metadata.labels"), lambda o: o.set_label("app", "x"))
    assert out == POD.replace("    app: web\n", "    app: x\n")


# ------------------------------------------------------------------ replacing


def test_replace_scalar_by_map_and_list_and_back() -> None:
    as_map = edit(POD, lambda o: o.set("metadata.name", {"first": "a", "rest": [1, 2]}))
    assert as_map == POD.replace("  name: web  # the name\n",
                                 "  name:  # the name\n    first: a\n    rest:\n    - 1\n"
                                 "    - 2\n")
    back = edit(as_map, lambda o: o.set("metadata.name", "web"))
    assert back == POD
    as_list = edit(POD, lambda o: o.set("spec.containers[1]", ["x", "z"]))
    assert as_list == POD.replace("  - name: sidecar\n    image: 'envoy'\n",
                                  "  - - x\n    - z\n")


def test_replace_map_by_scalar_and_flow_by_block() -> None:
    out = edit(POD, lambda o: o.set("spec.containers[0].ports", "none"))
    assert out == POD.replace("    ports:\n    - containerPort: 80\n", "    ports: none\n")
    out = edit("a: {x: 1}\nb: [1]\n", lambda o: o.set("a", [1, 2]), lambda o: o.set("b", {}))
    assert out == "a:\n- 1\n- 2\nb: {}\n"


def test_setting_a_map_merges_key_by_key() -> None:
    out = edit(POD, lambda o: o.set("metadata", {"name": "web", "labels": {"app": "web",
                                                                            "t": "1"}}))
    assert out == POD.replace("    app: web\n", "    app: web\n    t: \"1\"\n")
    out = edit(POD, lambda o: o.set("metadata", {"labels": {"app": "web"}}))
    assert out == POD.replace("  name: web  # the name\n", "")


def test_block_scalars_untouched_stay_and_replaced_become_quoted() -> None:
    text = "data:\n  a: |\n    one\n    two\n  b: >-\n    folded\n    text\n  c: x\n"
    assert edit(text, lambda o: o.set("data.c", "z")) == text.replace("c: x", "c: z")
    assert edit(text, lambda o: o.set("data.a", "one\ntwo\n")) == text  # equal: kept
    out = edit(text, lambda o: o.set("data.a", "three\n"))
    assert out == 'data:\n  a: "three\\n"\n  b: >-\n    folded\n    text\n  c: x\n'
    out = edit(text, lambda o: o.delete("data.b"))
    assert out == "data:\n  a: |\n    one\n    two\n  c: x\n"


# ------------------------------------------------------------------ comments


COMMENTED = """\
# head of file
apiVersion: v1  # api
kind: ConfigMap
metadata:
  # before name
  name: cm
  annotations:  # kpt-set: ${annotations}
    a: "1"  # one
    # between
    b: "2"
data:
  # first key
  k: v  # trailing

  # after a blank line
  l:
  - x  # item comment
  # tail of list
# end of file
"""


def test_comments_everywhere_survive_unrelated_edits() -> None:
    out = edit(COMMENTED, lambda o: o.set("data.k", "w"),
               lambda o: o.set("metadata.annotations.b", "3"),
               lambda o: o.append("data.l", "z"), lambda o: o.set("metadata.namespace", "ns"))
    assert out == dedent("""\
        # head of file
        apiVersion: v1  # api
        kind: ConfigMap
        metadata:
          # before name
          name: cm
          annotations:  # kpt-set: ${annotations}
            a: "1"  # one
            # between
            b: "3"
          namespace: ns
        data:
          # first key
          k: w  # trailing

          # after a blank line
          l:
          - x  # item comment
          - z
          # tail of list
        # end of file
        """)


def test_deleting_keeps_the_comments_of_neighbours() -> None:
    out = edit(COMMENTED, lambda o: o.delete("metadata.annotations.a"),
               lambda o: o.delete("data.k"))
    assert out == COMMENTED.replace('    a: "1"  # one\n', "").replace("  k: v  # trailing\n", "")


# ------------------------------------------------------------------ kpt's seqindent


def test_wide_seqindent_makes_new_lists_wide() -> None:
    rl = ResourceList.parse(dedent("""\
        apiVersion: config.kubernetes.io/v1
        kind: ResourceList
        items:
          - apiVersion: v1
            kind: Service
            metadata:
              name: s
              annotations:
                internal.config.kubernetes.io/seqindent: wide
            spec:
              ports:
                - port: 80
        """))
    obj = rl.items[0]
    obj.append("spec.ports", {"port": 81, "names": ["a", "b"]})
    obj.set("spec.selector", {"matchExpressions": [{"key": "k", "values": ["v"]}]})
    assert rl.to_text() == dedent("""\
        apiVersion: config.kubernetes.io/v1
        kind: ResourceList
        items:
          - apiVersion: v1
            kind: Service
            metadata:
              name: s
              annotations:
                internal.config.kubernetes.io/seqindent: wide
            spec:
              ports:
                - port: 80
                - port: 81
                  names:
                    - a
                    - b
              selector:
                matchExpressions:
                  - key: k
                    values:
                      - v
        """)


def test_compact_seqindent_by_default() -> None:
    out = edit("spec:\n  x: 1\n", lambda o: o.set("spec.l", [{"a": [1]}]))
    assert out == "spec:\n  x: 1\n  l:\n  - a:\n    - 1\n"
    assert edit("spec: {}\n", lambda o: o.set("spec.l", [1])) == "spec: {l: [1]}\n"


@pytest.mark.parametrize("value", [None, 0, -1, 2.5, True, "", "x", [], {}, [None], {"k": None}])
def test_every_kind_of_value_round_trips(value: Any) -> None:
    obj = KubeObject.from_yaml("a: {x: 1}\nb:\n  y: 2\n")
    obj.set("a.x", value)
    obj.set("b.y", value)
    obj.set("c", value)
    back = KubeObject.from_yaml(obj.to_yaml())
    assert back.get("a.x") == value and back.get("b.y") == value and back.get("c") == value


# ------------------------------------------------------------------ found by the properties


def test_comments_under_a_deleted_entry_go_with_it() -> None:
    text = "spec:\n  script: |-\n    echo\n  containers:\n  - name: x\n    # about x\nz: 1\n"
    out = edit(text, lambda o: o.delete("spec.containers"))
    assert out == "spec:\n  script: |-\n    echo\nz: 1\n"  # not inside the block scalar
    out = edit(text, lambda o: o.set("spec.more", 1))
    assert out == text.replace("    # about x\n", "    # about x\n  more: 1\n")


def test_entries_deleted_one_after_another_from_a_dash_line() -> None:
    text = "l:\n- a: 1\n  b: 2\n  c: 3\nn:\n- - x\n  - y\n  - z\n"
    out = edit(text, lambda o: o.delete("l[0].a"), lambda o: o.delete("l[0].b"),
               lambda o: o.set("l[0].d", 4), lambda o: o.delete("n[0][0]"),
               lambda o: o.delete("n[0][0]"), lambda o: o.append("n[0]", "w"))
    assert out == "l:\n- c: 3\n  d: 4\nn:\n- - z\n  - w\n"


def test_replacing_list_entries_keeps_the_dash_line_comment() -> None:
    text = "l:\n- # the first\n  a: 1\n- 2  # two\n- - x  # inner\n"
    out = edit(text, lambda o: o.set("l[0]", "one"), lambda o: o.set("l[1]", {"k": [1]}),
               lambda o: o.set("l[2]", 3))
    assert out == "l:\n- one # the first\n- k:  # two\n  - 1\n- 3  # inner\n"
    assert edit(out, lambda o: o.set("l[1]", 2), lambda o: o.set("l[1]", {"k": [1]})) == out


def test_json_stays_json() -> None:
    text = '{"apiVersion": "v1", "kind": "A", "metadata": {"name": "a", "x": null}}\n'
    out = edit(text, lambda o: o.set("metadata.x", "on"), lambda o: o.set_label("k", "v"))
    assert out == ('{"apiVersion": "v1", "kind": "A", "metadata": {"name": "a", "x": "on", '
                   '"labels": {"k": "v"}}}\n')
    text = "m: {\"on\": {a: b}}\n"  # YAML whose key needed quotes: not JSON
    assert edit(text, lambda o: o.set("m.z", "c")) == "m: {\"on\": {a: b}, z: c}\n"


def test_the_whole_object_is_not_a_field() -> None:
    obj = KubeObject.from_yaml(POD)
    for change in (lambda: obj.set([], {}), lambda: obj.delete(()), lambda: obj.append([], 1)):
        with pytest.raises(FieldError, match="empty field path"):
            change()
    assert obj.get([]) == obj.to_dict()
