"""Reading ResourceLists: the shapes kpt and other tools send, what is kept byte for byte,
and what is refused."""

from __future__ import annotations

import json
from textwrap import dedent

import krmfn
import pytest
import yaml
from krmfn import InputError, KubeObject, ResourceList

HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"

# What kpt 1.0 sends: the Kptfile first, a file's top comment as `- # comment`, eight
# annotations per item, the functionConfig last in flow style.
KPT_STYLE = HEAD + dedent("""\
    items:
    - apiVersion: kpt.dev/v1
      kind: Kptfile
      metadata:
        name: pkg
        annotations:
          config.kubernetes.io/local-config: "true"
          config.kubernetes.io/index: '0'
          config.kubernetes.io/path: 'Kptfile'
          internal.config.kubernetes.io/index: '0'
          internal.config.kubernetes.io/path: 'Kptfile'
          internal.config.kubernetes.io/seqindent: 'compact'
    - # the deployment
      # of the web tier
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web  # kpt-set: ${name}
        annotations:
          config.kubernetes.io/index: '0'
          config.kubernetes.io/path: 'deploy.yaml'
          internal.config.kubernetes.io/seqindent: 'compact'
      spec:
        template:
          spec:
            containers:
            - name: web
              image: nginx
    functionConfig: {apiVersion: v1, kind: ConfigMap, metadata: {name: fc}, data: {namespace: foo}}
    """)


def wide(text: str) -> str:
    """The same list with items written `  - ` under `items:` (kpt's wide seqindent)."""
    head, _, rest = text.partition("items:\n")
    body, sep, tail = rest.partition("functionConfig:")
    lines = ["  " + ln if ln else ln for ln in body.split("\n")]
    return head + "items:\n" + "\n".join(lines) + sep + tail


def test_kpt_style_input_comes_back_byte_for_byte() -> None:
    rl = ResourceList.parse(KPT_STYLE)
    assert rl.to_text() == KPT_STYLE
    assert [o.kind for o in rl.items] == ["Kptfile", "Deployment"]
    assert rl.function_config is not None and rl.function_config.get("data.namespace") == "foo"


def test_wide_items_come_back_byte_for_byte() -> None:
    text = wide(KPT_STYLE)
    assert "\n  - # the deployment\n" in text
    rl = ResourceList.parse(text)
    assert rl.to_text() == text
    assert rl.items[1].name == "web"


@pytest.mark.parametrize("layout", ["compact", "wide"])
def test_an_edit_changes_only_its_lines(layout: str) -> None:
    text = KPT_STYLE if layout == "compact" else wide(KPT_STYLE)
    rl = ResourceList.parse(text)
    rl.items[1].namespace = "prod"
    pad = "" if layout == "compact" else "  "
    anchor = f"{pad}      internal.config.kubernetes.io/seqindent: 'compact'\n{pad}  spec:\n"
    assert anchor in text
    assert rl.to_text() == text.replace(anchor, anchor.replace(
        "\n", f"\n{pad}    namespace: prod\n", 1))


def test_items_added_removed_and_reordered() -> None:
    rl = ResourceList.parse(wide(KPT_STYLE))
    rl.items.reverse()
    rl.items.append(KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "new"}, "data": {"k": "v"}}))
    out = rl.to_text()
    again = ResourceList.parse(out)
    assert [o.name for o in again.items] == ["web", "pkg", "new"]
    assert out.index("  - # the deployment") < out.index("  - apiVersion: kpt.dev/v1")
    assert "  - apiVersion: v1\n    kind: ConfigMap\n" in out  # new items follow the layout
    assert again.items[2].path == "configmap_new.yaml"
    rl.items.clear()
    assert ResourceList.parse(rl.to_text()).items == []
    assert "items: []\n" in rl.to_text()


def test_v1beta1_is_read_and_kept() -> None:
    text = KPT_STYLE.replace("config.kubernetes.io/v1\n", "config.kubernetes.io/v1beta1\n")
    rl = ResourceList.parse(text)
    assert rl.api_version == "config.kubernetes.io/v1beta1"
    assert rl.to_text() == text
    rl.function_config = None
    assert rl.to_text().startswith("apiVersion: config.kubernetes.io/v1beta1\n")


def test_json_input() -> None:
    data = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
            "items": [{"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "a", "labels": {"x": "yes"}}, "data": {"n": "1"}}],
            "functionConfig": {"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "fc"}, "data": {"k": "v"}}}
    for text in (json.dumps(data), json.dumps(data, indent=2)):
        rl = ResourceList.parse(text)
        assert rl.items[0].labels == {"x": "yes"}
        rl.items[0].set("data.m", "2")
        out = yaml.safe_load(rl.to_text())
        data_out = json.loads(json.dumps(data))
        data_out["items"][0]["data"]["m"] = "2"
        assert out == data_out
        assert '"m": "2"' in rl.to_text()  # written the way its neighbours are


def test_flow_items_with_their_own_dash_are_kept() -> None:
    text = HEAD + "items:\n- {apiVersion: v1, kind: A, metadata: {name: a}}  # note\n" \
                  "- apiVersion: v1\n  kind: B\n  metadata:\n    name: b\n"
    rl = ResourceList.parse(text)
    assert rl.to_text() == text
    rl.items[0].set("metadata.namespace", "ns")
    assert rl.to_text() == text.replace("name: a}}", "name: a, namespace: ns}}")


def test_items_indented_in_unusual_ways_are_rewritten_correctly() -> None:
    text = HEAD + "items:\n    -   apiVersion: v1\n        kind: A  # c\n        metadata:\n" \
                  "          name: a\n        data:\n          s: |\n            x\n"
    rl = ResourceList.parse(text)
    out = rl.to_text()
    assert ResourceList.parse(out).items[0].to_dict() == rl.items[0].to_dict()
    assert "kind: A  # c\n" in out
    assert rl.items[0].to_yaml() == "apiVersion: v1\nkind: A  # c\nmetadata:\n  name: a\n" \
                                    "data:\n  s: |\n    x\n"


ANCHORS = HEAD + dedent("""\
    items:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: a  # anchors here
        labels: &labels
          app: web
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: b
        labels: *labels
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: c  # its own anchors
      data:
        x: &v "1"
        y: *v
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: d  # untouched
    functionConfig: {apiVersion: v1, kind: ConfigMap, metadata: {name: fc}}
    """)


def test_aliases_across_items_are_expanded_and_independent() -> None:
    rl = ResourceList.parse(ANCHORS)
    a, b, c, _ = rl.items
    assert b.labels == {"app": "web"}
    b.set_label("app", "api")
    assert a.labels == {"app": "web"}  # an alias is a copy, not a shared object
    c.set("data.x", "2")
    assert c.get("data.y") == "1"
    out = rl.to_text()
    again = ResourceList.parse(out)
    assert [o.to_dict() for o in again.items] == [o.to_dict() for o in rl.items]
    assert "*labels" not in out and "&labels" not in out
    assert "    name: d  # untouched\n" in out
    assert out.endswith("functionConfig: {apiVersion: v1, kind: ConfigMap, "
                        "metadata: {name: fc}}\n")


def test_items_with_their_own_anchors_stay_as_they_are_until_edited() -> None:
    rl = ResourceList.parse(ANCHORS)
    out = rl.to_text()
    assert '    x: &v "1"\n    y: *v\n' in out  # c untouched: its text, anchors and all
    assert "name: a  # anchors here" not in out  # a shares nodes with b: written whole


def test_an_alias_in_the_header_to_an_item() -> None:
    text = HEAD + "items:\n- apiVersion: v1\n  kind: A\n  metadata: &m {name: a}\n" \
                  "functionConfig: {apiVersion: v1, kind: ConfigMap, metadata: *m}\n"
    rl = ResourceList.parse(text)
    assert rl.function_config is not None and rl.function_config.name == "a"
    out = yaml.safe_load(rl.to_text())
    assert out["items"][0]["metadata"] == {"name": "a"}
    assert out["functionConfig"]["metadata"] == {"name": "a"}


@pytest.mark.parametrize("items", ["", "items:\n", "items: []\n", "items: null\n"])
def test_no_items(items: str) -> None:
    rl = ResourceList.parse(HEAD + items)
    assert rl.items == [] and not rl.input_errors
    assert yaml.safe_load(rl.to_text()) == {"apiVersion": "config.kubernetes.io/v1",
                                            "kind": "ResourceList", "items": []}


@pytest.mark.parametrize(("item", "problem"), [
    ("-\n", "item is not a mapping"),
    ("- 3\n", "item is not a mapping"),
    ("- {}\n", "apiVersion is missing or not a string"),
    ("- {apiVersion: v1}\n", "kind is missing or not a string"),
    ("- {apiVersion: v1, kind: A}\n", "metadata is missing or not a map"),
    ("- {apiVersion: v1, kind: A, metadata: {}}\n", "metadata.name is missing"),
    ("- {apiVersion: v1, kind: A, metadata: {name: [x]}}\n", "metadata.name is missing"),
])
def test_items_that_are_not_objects_become_input_errors(item: str, problem: str) -> None:
    rl = ResourceList.parse(HEAD + "items:\n" + item)
    assert len(rl.input_errors) == 1
    assert problem in rl.input_errors[0].message
    assert rl.input_errors[0].message.startswith("items[0]: ")


def test_results_already_present_are_kept_and_new_ones_follow() -> None:
    text = HEAD + dedent("""\
        items:
        - apiVersion: v1
          kind: A
          metadata:
            name: a  # kept
        results:
        - message: from before
          severity: warning
        functionConfig: {apiVersion: v1, kind: ConfigMap, metadata: {name: fc}}
        """)
    rl = ResourceList.parse(text)
    rl.info("now", rl.items[0])
    out = rl.to_text()
    assert out == HEAD + dedent("""\
        items:
        - apiVersion: v1
          kind: A
          metadata:
            name: a  # kept
        functionConfig: {apiVersion: v1, kind: ConfigMap, metadata: {name: fc}}
        results:
        - message: from before
          severity: warning
        - message: now
          severity: info
          resourceRef:
            apiVersion: v1
            kind: A
            name: a
        """)


def test_results_before_items() -> None:
    text = HEAD + "results: [{message: old, severity: info}]\nitems:\n" \
                  "- apiVersion: v1\n  kind: A\n  metadata:\n    name: a  # kept\n"
    rl = ResourceList.parse(text)
    out = rl.to_text()
    assert out == HEAD + "items:\n- apiVersion: v1\n  kind: A\n  metadata:\n" \
                         "    name: a  # kept\nresults:\n- message: old\n  severity: info\n"


def test_byte_order_mark_and_missing_final_newline() -> None:
    text = KPT_STYLE.rstrip("\n")
    assert ResourceList.parse("\ufeff" + text).items[1].name == "web"
    out = ResourceList.parse(text).to_text()
    assert out == text + "\n" or out == text


@pytest.mark.parametrize(("text", "message"), [
    ("", "input is empty"),
    ("   \n# only a comment\n", "input is empty"),
    ("[]\n", "not a mapping"),
    ("apiVersion: v1\nkind: List\n", "kind is List"),
    ("kind: ResourceList\n", "apiVersion must be"),
    ("apiVersion: config.kubernetes.io/v2\nkind: ResourceList\n", "apiVersion must be"),
    (HEAD + "items: {}\n", "items is not a list"),
    (HEAD + "functionConfig: [1]\n", "functionConfig is not a mapping"),
    (HEAD + "items:\n- a: 1\n  a: 2\n", "duplicate key 'a'"),
    (HEAD + "items:\n- !!python/object:os.system {}\n", "tag"),
    (HEAD + "items: [\n", "invalid YAML at line 4"),
])
def test_unusable_input_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        ResourceList.parse(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("deep", [
    "  data: {x: " + "[" * 600 + "]" * 600 + "}\n",  # flow: brackets within one item
    "  data:\n" + "".join("    " + " " * i + f"k{i}:\n" for i in range(600)) + "    end: 1\n",
])
def test_nesting_past_the_limit_is_refused_among_shallow_items(deep: str, lazy: bool) -> None:
    """Items whose text bounds their depth skip the depth walk; this one must not."""
    items = "".join(f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i}\n"
                    f"  data: {{a: [b]}}\n" for i in range(150))
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items
            + "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: deep\n" + deep)
    fn = krmfn.Function(lambda rl: [o.to_dict() for o in rl.items], name="read-all")
    out = fn.run_text(text) if lazy else fn._run_parsed(text, lazy=False)
    assert out.exit_code == 1 and "nesting deeper than 500" in out.stderr, out.stderr
