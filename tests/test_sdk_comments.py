"""Renaming a key where it stands, and reading and writing line and head comments: only
the bytes asked for change, every other byte stays (also on large lists read lazily)."""

from __future__ import annotations

import difflib
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn import FieldError, KubeObject, ResourceList, function
from krmfn._large.lazy_list import LAZY_MIN_ITEMS

CM = dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings  # the name
      labels:
        # who owns it
        team: ran  # the team
        app: web
      annotations: {a: "1", b: "2"}
    data:
      # the script
      script: |  # run at start
        echo hi
      list:  # the list
      - one  # first
      # the second
      - two
      "quoted": yes
    """)


def changed_lines(before: str, after: str) -> list[str]:
    return [ln for ln in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                              lineterm="", n=0)
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def cm() -> KubeObject:
    return KubeObject.from_yaml(CM)


# ---------------------------------------------------------------- rename_key
def test_rename_keeps_place_value_and_comments() -> None:
    obj = cm()
    assert obj.rename_key("metadata.labels.team", "owner") is True
    out = obj.to_yaml()
    assert changed_lines(CM, out) == ["-    team: ran  # the team",
                                      "+    owner: ran  # the team"]
    assert list(obj.labels) == ["owner", "app"]
    assert obj.head_comment("metadata.labels.owner") == "who owns it"


@pytest.mark.parametrize(("path", "new", "before", "after"), [
    ("metadata.annotations.a", "x.io/a", '{a: "1", b: "2"}', '{x.io/a: "1", b: "2"}'),
    ('data."quoted"', "plain", '"quoted": yes', '"plain": yes'),
    ("data.script", "run", "script: |  # run at start", "run: |  # run at start"),
    ("data.list", "true", "list:  # the list", '"true":  # the list'),
])
def test_rename_in_every_style(path: str, new: str, before: str, after: str) -> None:
    obj = cm()
    obj.rename_key(path, new)
    line = next(ln for ln in CM.splitlines() if before in ln)
    assert changed_lines(CM, obj.to_yaml()) == ["-" + line,
                                                "+" + line.replace(before, after)]
    assert KubeObject.from_yaml(obj.to_yaml()).to_dict() == obj.to_dict()


def test_rename_edge_cases() -> None:
    obj = cm()
    assert obj.rename_key("metadata.labels.nope", "x") is False
    assert obj.rename_key("metadata.labels.team", "team") is True
    assert not obj.changed and obj.to_yaml() == CM
    with pytest.raises(FieldError, match=r"metadata\.labels\.app: exists already"):
        obj.rename_key("metadata.labels.team", "app")
    with pytest.raises(FieldError, match="is not a map key"):
        obj.rename_key("data.list[0]", "x")
    obj.set("metadata.labels.added", "1")  # a key this run added is renamed in the tree
    obj.rename_key("metadata.labels.added", "fresh")
    assert obj.get("metadata.labels") == {"team": "ran", "app": "web", "fresh": "1"}
    assert '    fresh: "1"\n' in obj.to_yaml()
    obj.rename_key("metadata.labels.team", "owner")
    obj.set("metadata.labels.owner", "core")  # the renamed key is edited like any other
    assert "    owner: core  # the team\n" in obj.to_yaml()
    assert obj.rename_key("metadata.labels.team", "owner") is False  # idempotent


KEYS = st.sampled_from(["metadata.name", "metadata.labels.team", "metadata.labels.app",
                        "metadata.annotations.b", "data.script", "data.list", "data.quoted"])


@settings(max_examples=200, deadline=None)
@given(KEYS, st.text(alphabet="abc-./_ :#'\"", min_size=1, max_size=8))
def test_rename_gives_the_same_data_under_the_new_key(path: str, new: str) -> None:
    obj = cm()
    *parent, old = path.split(".")
    before = obj.get(parent)
    if new in before and new != old:
        with pytest.raises(FieldError):
            obj.rename_key(tuple(path.split(".")), new)
        return
    obj.rename_key(tuple(path.split(".")), new)
    want = {(new if k == old else k): v for k, v in before.items()}
    again = KubeObject.from_yaml(obj.to_yaml())
    assert again.get(parent) == want and list(again.get(parent)) == list(want)
    assert len(changed_lines(CM, obj.to_yaml())) <= 2


# ---------------------------------------------------------------- line comments
def test_line_comments_are_read_and_written_in_place() -> None:
    obj = cm()
    assert obj.line_comment("metadata.name") == "the name"
    assert obj.line_comment("data.list") == "the list"
    assert obj.line_comment("data.list[0]") == "first"
    assert obj.line_comment("data.script") == "run at start"
    assert obj.line_comment("metadata.labels.app") is None
    obj.set_line_comment("metadata.labels.app", "kpt-set: ${app}")
    obj.set_line_comment("metadata.name", "# renamed")
    obj.set_line_comment("data.list", None)
    obj.set_line_comment("data.list[1]", "second")
    obj.set_line_comment("data.script", "at start")
    want = CM
    for before, after in (("name: settings  # the name", "name: settings  # renamed"),
                          ("app: web", "app: web # kpt-set: ${app}"),
                          ("list:  # the list", "list:"), ("- two", "- two # second"),
                          ("script: |  # run at start", "script: |  # at start")):
        want = want.replace(before, after)
    assert obj.to_yaml() == want
    obj.set_line_comment("metadata.name", "again")  # the last one written stays
    obj.set_line_comment("data.list", "back")
    obj.set_line_comment("data.list", "")
    assert obj.to_yaml() == want.replace("# renamed", "# again")
    assert (obj.line_comment("metadata.labels.app"), obj.line_comment("data.list")) == (
        "kpt-set: ${app}", None)
    again = KubeObject.from_yaml(obj.to_yaml())
    assert again.to_dict() == cm().to_dict()
    assert again.line_comment("metadata.labels.app") == "kpt-set: ${app}"


def test_a_line_comment_stays_when_the_value_changes_and_is_idempotent() -> None:
    obj = cm()
    obj.set_line_comment("metadata.labels.team", "kpt-set: ${team}")
    obj.set("metadata.labels.team", "core")
    obj.set_line_comment("metadata.labels.team", "kpt-set: ${team}")  # again: no change
    obj.set("metadata.name", {"nested": 1})  # a scalar replaced by a map keeps its comment
    out = obj.to_yaml()
    assert "    team: core  # kpt-set: ${team}\n" in out
    assert "  name:  # the name\n    nested: 1\n" in out
    untouched = cm()
    untouched.set_line_comment("metadata.name", "the name")
    assert not untouched.changed and untouched.to_yaml() == CM


@pytest.mark.parametrize(("path", "message"), [
    ("metadata.annotations.a", "is in a flow map"),
    ("metadata.nope", "no such field"),
    ("data.list[0]", "a line comment is one line"),
])
def test_line_comments_that_cannot_be_written(path: str, message: str) -> None:
    obj = cm()
    with pytest.raises(FieldError, match=message) as err:
        obj.set_line_comment(path, "two\nlines" if "list" in path else "x")
    assert err.value.resource is obj
    obj.set("spec.new", "v")
    with pytest.raises(FieldError, match="was added in this run"):
        obj.set_line_comment("spec.new", "x")


# ---------------------------------------------------------------- head comments
def test_head_comments_are_read_and_written_in_place() -> None:
    obj = cm()
    assert obj.head_comment("metadata.labels.team") == "who owns it"
    assert obj.head_comment("data.script") == "the script"
    assert obj.head_comment("data.list[1]") == "the second"
    assert obj.head_comment("metadata.labels.app") is None
    assert obj.head_comment("apiVersion") is None
    obj.set_head_comment("metadata.labels.app", "what it is\n\nsee the docs")
    obj.set_head_comment("metadata.labels.team", None)
    obj.set_head_comment("data.list[1]", "the last one")
    obj.set_head_comment("kind", "a map of settings")
    want = (CM.replace("kind:", "# a map of settings\nkind:")
            .replace("    # who owns it\n", "")
            .replace("    app: web", "    # what it is\n    #\n    # see the docs\n    app: web")
            .replace("  # the second\n", "  # the last one\n"))
    assert obj.to_yaml() == want
    assert obj.head_comment("metadata.labels.app") == "what it is\n\nsee the docs"
    again = KubeObject.from_yaml(obj.to_yaml())
    assert again.to_dict() == cm().to_dict()
    assert again.head_comment("metadata.labels.app") == "what it is\n\nsee the docs"
    assert again.head_comment("data.list[1]") == "the last one"


def test_head_comments_of_list_items_of_maps() -> None:
    text = dedent("""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: p
        spec:
          containers:
            # the app
            - name: app
              image: app:1
              # deeper: belongs to image above
            - name: proxy
        """)
    obj = KubeObject.from_yaml(text)
    assert obj.head_comment("spec.containers[0]") == "the app"
    assert obj.head_comment("spec.containers[0].name") == "the app"  # shares the dash line
    assert obj.head_comment("spec.containers[1]") is None
    obj.set_head_comment("spec.containers[1]", "the proxy")
    assert changed_lines(text, obj.to_yaml()) == ["+    # the proxy"]


# ---------------------------------------------------------------- in a function
@function(name="relabel")
def relabel(rl: ResourceList) -> None:
    for obj in rl.items:
        obj.rename_key("metadata.labels.team", "owner")
        obj.set_line_comment("metadata.labels.owner", "kpt-set: ${owner}")
        obj.set_head_comment("metadata.labels.owner", "set by the owners' setter")


def test_a_large_list_read_lazily_gives_what_an_eager_read_gives() -> None:
    item = "- " + CM.replace("\n", "\n  ").rstrip() + "\n"
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            + item * (LAZY_MIN_ITEMS + 3))
    out = relabel.run_text(text)
    assert out.exit_code == 0, out.stderr
    eager = ResourceList.parse(text, lazy=False)
    relabel(eager)
    assert out.stdout == eager.to_text()
    assert out.stdout.count("      # set by the owners' setter\n      owner: ran  # "
                            "kpt-set: ${owner}\n") == LAZY_MIN_ITEMS + 3
    assert relabel.run_text(out.stdout).stdout == out.stdout  # idempotent


def test_head_comments_of_items_in_a_resource_list() -> None:
    text = dedent("""\
        apiVersion: config.kubernetes.io/v1
        kind: ResourceList
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: x
        - # lead
          apiVersion: v1
          kind: ConfigMap
          metadata:
            name: y
        """)
    rl = ResourceList.parse(text)
    first, second = rl.items
    with pytest.raises(FieldError, match="on the resource's first line"):
        first.set_head_comment("apiVersion", "above the dash")  # outside the resource
    assert first.head_comment("apiVersion") is None
    second.set_head_comment("apiVersion", "top")
    for obj in rl.items:
        obj.set_head_comment("metadata.name", "its name")
    out = rl.to_text()
    assert "- # lead\n  # top\n  apiVersion: v1\n" in out
    assert out.count("  metadata:\n    # its name\n    name: ") == 2
    assert first.to_yaml() == ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  # its name\n"
                               "  name: x\n")
    assert [o.to_dict() for o in ResourceList.parse(out).items] == [
        o.to_dict() for o in ResourceList.parse(text).items]


def _leaves(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, str(k)))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))] or [path]
    return [path]


GOLDEN_INPUTS = sorted((Path(__file__).parents[1] / "functions").glob(
    "krmfn_catalog/*/testdata/*/input.yaml"))


@pytest.mark.parametrize("file", GOLDEN_INPUTS, ids=lambda p: f"{p.parts[-4]}/{p.parts[-2]}")
def test_comments_on_every_field_of_real_inputs_keep_the_data(file: Path) -> None:
    text = file.read_text()
    try:
        rl = ResourceList.parse(text, lazy=False)
    except Exception:  # a stream of resources: read as one
        from krmfn.testing import resource_list

        rl = ResourceList.parse(resource_list(text), lazy=False)
    before = [o.to_dict() for o in rl.items]
    written: list[tuple[int, tuple[str | int, ...], str, str]] = []
    for n, obj in enumerate(rl.items):
        for i, path in enumerate(_leaves(obj.to_dict())):
            if not path:
                continue
            for how in ("line", "head"):
                note = f"note {how} {n}.{i}"
                try:
                    getattr(obj, f"set_{how}_comment")(path, note)
                except FieldError:
                    continue  # refused, with a reason: nothing written
                written.append((n, path, how, note))
    out = rl.to_text()
    again = ResourceList.parse(out, lazy=False)
    assert [o.to_dict() for o in again.items] == before
    for n, path, how, note in written:
        assert getattr(again.items[n], f"{how}_comment")(path) == note, (path, how)
    assert written  # the inputs have fields that take comments


def _renamed(value: object, path: tuple[str | int, ...], new: str) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {(new if k == head and not rest else k):
                (_renamed(v, rest, new) if k == head else v) for k, v in value.items()}
    assert isinstance(value, list) and isinstance(head, int)
    return [_renamed(v, rest, new) if i == head else v for i, v in enumerate(value)]


@pytest.mark.parametrize("file", GOLDEN_INPUTS, ids=lambda p: f"{p.parts[-4]}/{p.parts[-2]}")
def test_renaming_keys_of_real_inputs_renames_only_them(file: Path) -> None:
    text = file.read_text()
    try:
        rl = ResourceList.parse(text, lazy=False)
    except Exception:
        from krmfn.testing import resource_list

        rl = ResourceList.parse(resource_list(text), lazy=False)
    want: list[object] = [o.to_dict() for o in rl.items]
    lines = len(rl.to_text().splitlines())
    for n, obj in enumerate(rl.items):
        for path in _leaves(obj.to_dict()):
            if path and isinstance(path[-1], str) and path[0] not in ("apiVersion", "kind"):
                new = f"{path[-1]}-renamed"
                obj.rename_key(path, new)
                want[n] = _renamed(want[n], path, new)
    out = rl.to_text()
    assert [o.to_dict() for o in ResourceList.parse(out, lazy=False).items] == want
    assert len(out.splitlines()) == lines  # keys renamed where they stand
