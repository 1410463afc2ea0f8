"""Live views (`obj.at(path)`, `obj.items(path)`): the resource's reading and editing API
relative to a node, writing into the resource itself; `get()` stays a copy."""

from __future__ import annotations

import re
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn import FieldError, KubeObject, PathError, ResourceList, SubObject, function
from krmfn._large.lazy_list import LAZY_MIN_ITEMS

DEPLOYMENT = dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web  # the front end
    spec:
      template:
        spec:
          # the app, then its proxy
          containers:
          - name: app  # main
            image: app:1
            resources:
              limits: {memory: 1Gi}
          - name: proxy
            image: proxy:1  # pinned
    """)


def deployment() -> KubeObject:
    return KubeObject.from_yaml(DEPLOYMENT)


def test_editing_through_views_writes_into_the_resource() -> None:
    obj = deployment()
    pod = obj.at("spec.template.spec")
    for c in pod.items("containers"):
        c.set("resources.limits.cpu", "1")
    pod.set("hostNetwork", True)
    text = obj.to_yaml()
    assert obj.get("spec.template.spec.containers[0].resources.limits") == {
        "memory": "1Gi", "cpu": "1"}
    assert obj.get_str("spec.template.spec.containers[1].resources.limits.cpu") == "1"
    assert obj.get_bool("spec.template.spec.hostNetwork") is True
    for kept in ("name: web  # the front end", "# the app, then its proxy",
                 "- name: app  # main", "image: proxy:1  # pinned"):
        assert kept in text


def test_the_same_text_as_full_paths() -> None:
    by_view, by_path = deployment(), deployment()
    proxy = by_view.at("spec.template.spec").items("containers")[1]
    proxy.set("image", "proxy:2")
    proxy.append("args", "--verbose")
    proxy.at("securityContext").set("runAsNonRoot", True)
    by_view.items("spec.template.spec.containers")[0].delete("resources")
    base = "spec.template.spec.containers"
    by_path.set(f"{base}[1].image", "proxy:2")
    by_path.append(f"{base}[1].args", "--verbose")
    by_path.set(f"{base}[1].securityContext.runAsNonRoot", True)
    by_path.delete(f"{base}[0].resources")
    assert by_view.to_yaml() == by_path.to_yaml()


def test_get_is_a_copy_and_a_view_is_not() -> None:
    obj = deployment()
    copy = obj.get("spec.template.spec")
    copy["hostNetwork"] = True
    copy["containers"][0]["image"] = "changed"
    assert obj.to_yaml() == DEPLOYMENT  # editing the copy changed nothing
    view = obj.at("spec.template.spec")
    view.items("containers")[0].set("image", "changed")
    assert obj.get("spec.template.spec.containers[0].image") == "changed"


def test_reading_through_a_view() -> None:
    obj = deployment()
    app = obj.at("spec.template.spec.containers[name=app]")
    assert app.exists and app.get_str("image") == "app:1"
    assert app.get("resources.limits") == {"memory": "1Gi"}
    assert app.get_map("resources.limits") == {"memory": "1Gi"}
    assert app.get_int("replicas", 3) == 3 and not app.has("replicas")
    assert app.line_comment("name") == "main"
    assert app.value()["name"] == "app"
    assert app.path == "spec.template.spec.containers[name=app]"
    assert app.field("resources.limits") == "spec.template.spec.containers[name=app]" \
        ".resources.limits"
    assert app.resource is obj
    assert obj.at("spec").at("template.spec") == obj.at("spec.template.spec")
    assert obj.at(("spec", "template")).segments == ("spec", "template")


def test_a_view_of_a_missing_node_reads_defaults_and_creates_it_on_set() -> None:
    obj = deployment()
    affinity = obj.at("spec.template.spec.affinity")
    assert not affinity.exists and affinity.value() is None
    assert affinity.get("nodeAffinity", "none") == "none"
    assert obj.items("spec.template.spec.initContainers") == []
    affinity.set("nodeAffinity.x", "y")
    assert obj.get("spec.template.spec.affinity") == {"nodeAffinity": {"x": "y"}}


def test_errors_name_the_full_path_and_the_resource() -> None:
    obj = deployment()
    app = obj.items("spec.template.spec.containers")[0]
    with pytest.raises(FieldError) as err:
        app.get_str("ports")
    assert err.value.path == "spec.template.spec.containers[0].ports"
    assert err.value.resource is obj
    with pytest.raises(FieldError, match="expected a list, got a map"):
        obj.items("spec.template")
    with pytest.raises(FieldError, match=r"containers\[0\]: expected a map .* got a string"):
        KubeObject.from_dict({"spec": {"containers": ["x"]}}).items("spec.containers")
    with pytest.raises(PathError) as perr:
        app.set("a..b", 1)
    assert perr.value.resource is obj


def test_views_in_a_function_over_a_large_list_read_lazily() -> None:
    @function(name="limit-cpu")
    def limit_cpu(rl: ResourceList) -> None:
        for obj in rl.items.of_kind("Deployment"):
            for c in obj.at("spec.template.spec").items("containers"):
                c.set("resources.limits.cpu", "1")

    item = "- " + DEPLOYMENT.replace("\n", "\n  ").rstrip() + "\n"
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            + item * (LAZY_MIN_ITEMS + 5))
    out = limit_cpu.run_text(text)
    assert out.exit_code == 0, out.stderr
    rl = ResourceList.parse(out.stdout)
    assert all(o.get("spec.template.spec.containers[1].resources.limits.cpu") == "1"
               for o in rl.items)
    assert out.stdout.count("image: proxy:1  # pinned") == LAZY_MIN_ITEMS + 5


KEYS = st.sampled_from(["a", "b", "c.d", "e"])


@settings(max_examples=150, deadline=None)
@given(base=st.lists(KEYS, min_size=1, max_size=3), rest=st.lists(KEYS, min_size=1,
       max_size=3), value=st.one_of(st.integers(), st.text(max_size=5), st.booleans()))
def test_a_view_edit_is_the_edit_at_the_joined_path(base: list[str], rest: list[str],
                                                    value: object) -> None:
    source = "apiVersion: v1\nkind: X\nmetadata:\n  name: x  # keep\na:\n  b: 1  # one\n"
    one, two = KubeObject.from_yaml(source), KubeObject.from_yaml(source)
    try:
        two.set((*base, *rest), value)
    except FieldError as exc:
        with pytest.raises(FieldError, match=re.escape(str(exc))):
            one.at(tuple(base)).set(tuple(rest), value)
        return
    one.at(tuple(base)).set(tuple(rest), value)
    assert one.to_yaml() == two.to_yaml()
    assert isinstance(one.at(tuple(base)), SubObject)
    assert one.at(tuple(base)).get(tuple(rest)) == value


def test_results_about_a_view_name_its_resource_and_field() -> None:
    obj = KubeObject.from_yaml(DEPLOYMENT.replace(
        "  name: web  # the front end\n",
        "  name: web  # the front end\n  annotations:\n    config.kubernetes.io/path: d.yaml\n"))
    rl = ResourceList([obj])
    app = obj.at("spec.template.spec").items("containers")[0]
    whole = rl.error("no cpu limit", app, field="resources.limits.cpu")
    here = rl.warning("check it", app)
    assert whole.to_dict() == {
        "message": "no cpu limit", "severity": "error",
        "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "field": {"path": "spec.template.spec.containers[0].resources.limits.cpu"},
        "file": {"path": "d.yaml", "index": 0}}
    assert here.field is not None and here.field.path == "spec.template.spec.containers[0]"
    assert here.resource_ref == whole.resource_ref
