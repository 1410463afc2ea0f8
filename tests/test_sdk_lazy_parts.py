"""Items of a large list read in parts: the lines of one metadata key, or the head (apiVersion,
kind, metadata). Whatever a function reads or edits that way, the output must be what
reading the list whole gives, byte for byte, and a wrong guess about where the parts lie
must end in the whole-read answer."""

from __future__ import annotations

import random
from collections.abc import Callable

import krmfn
import krmfn._large.check_worker as check_worker
import krmfn._large.lazy_list as lazy
import pytest
from krmfn import KubeObject, ResourceList

ANNOTATIONS = ("    annotations:\n"
               "      config.kubernetes.io/index: '{i}'\n"
               "      internal.config.kubernetes.io/path: 'r{i}.yaml'\n")

# metadata layouts: what kpt writes, and what people write by hand
LAYOUTS = [
    "    name: r{i}\n    namespace: staging\n    labels:\n      app: r{i}\n" + ANNOTATIONS,
    "    name: r{i}\n" + ANNOTATIONS,
    "    name: r{i}\n    labels:\n      app: r{i} # owned\n    # what kpt adds\n" + ANNOTATIONS,
    "    labels: {{app: r{i}, tier: web}}\n    name: r{i}\n    namespace: 'prod'\n",
    "    name: r{i}\n\n    namespace: staging\n      # a deeper comment\n",
    "    name: r{i}\n    annotations:\n      note: |\n        line one\n\n        line two\n"
    "    labels:\n      app: r{i}\n",
    "    name: r{i}\n    finalizers:\n    - keep\n    labels:\n      app: r{i}\n",
    "    name: r{i}\n    'labels':\n      app: r{i}\n",
    "    name: r{i}\n    labels:\n      app: r{i}\n  # about the spec\n",
    "    name: \"r{i}\"\n    namespace: null\n    labels: {{}}\n",
    "    name: r{i} # kpt-set: ${{prefix}}-{i}\n    labels:\n      app: r{i}\n" + ANNOTATIONS,
]
TAILS = ["  spec:\n    replicas: 1\n", "  data:\n    key: value\n", "",
         "  spec:\n    replicas: 1 # kpt-set: ${replicas}\n    template:\n"
         "      image: a:1 # kpt-set: a:${tag}\n  # what follows is status\n"
         "  status: {phase: new}\n",
         "  data:\n    key: value # kpt-set: ${value}\n\n  spec: [1, 2]\n",
         # setters deeper in `spec`, read by the lines of their keys (`_large.parts.key_lines`)
         "  spec:\n    replicas: 1 # kpt-set: ${replicas}\n    template:\n      spec:\n"
         "        containers:\n        - name: app\n          image: a:1 # kpt-set: a:${tag}\n"
         "          args: [\"x\", \"y\"]\n        - name: side\n"
         "          image: b:1 # kpt-set: b:${tag}\n",
         "  spec:\n    template:\n      containers:\n        -   name: app\n"
         "            image: a:1 # kpt-set: a:${tag}\n    envs: # kpt-set: ${envs}\n"
         "    - A # kpt-set: ${first}\n    - B\n",
         # lines that only look like setters' keys: in a quoted scalar, a flow list, a block
         "  spec:\n    note: \"start\n    replicas: 9 # kpt-set: ${replicas}\n    end\"\n"
         "    replicas: 1 # kpt-set: ${replicas}\n",
         "  spec:\n    args: [a,\n    image: x # kpt-set: a:${tag}\n    ]\n"
         "    image: y # kpt-set: a:${tag}\n",
         "  spec:\n    script: |\n      image: z # kpt-set: a:${tag}\n"
         "    image: y # kpt-set: a:${tag}\n"]


def item(i: int, rng: random.Random) -> str:
    layout = rng.choice(LAYOUTS).format(i=i)
    return f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n{layout}{rng.choice(TAILS)}"


def resource_list(seed: int, count: int = 40) -> str:
    rng = random.Random(seed)
    items = "".join(item(i, rng) for i in range(count))
    return ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items
            + "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
            "    name: fc\n")


OPS: list[Callable[[KubeObject], object]] = [
    lambda o: o.set_label("app", "new"),
    lambda o: o.set_label("added", "yes"),
    lambda o: o.remove_label("app"),
    lambda o: o.remove_label("absent"),
    lambda o: setattr(o, "namespace", "moved"),
    lambda o: o.set_annotation("config.kubernetes.io/index", "9"),
    lambda o: o.set_annotation("new.example.com/a", "b"),
    lambda o: o.remove_annotation("internal.config.kubernetes.io/path"),
    lambda o: o.labels,
    lambda o: o.get_annotation("config.kubernetes.io/depends-on"),
    lambda o: o.get(("metadata", "namespace")),
    lambda o: o.set(("metadata", "labels"), {"whole": "map"}),
    lambda o: o.delete(("metadata", "labels")),
    lambda o: o.set(("metadata", "finalizers"), ["one"]),
    lambda o: o.append(("metadata", "finalizers"), "two"),
    lambda o: (o.name, o.namespace, o.is_local_config),
    lambda o: setattr(o, "name", f"{o.name}-x"),
    lambda o: o.set(("spec", "replicas"), 3),
    lambda o: o.to_dict(),
    lambda o: o.line_comments("kpt-set:"),
    lambda o: o.get(("spec", "replicas")),
    lambda o: o.get("data"),
    lambda o: o.set(("data", "added"), "v"),
    lambda o: o.delete(("data", "key")),
    lambda o: o.set(("status", "phase"), "done"),
    lambda o: o.set(("spec",), {"whole": True}),
    lambda o: o.delete(("status",)),
    lambda o: o.append(("spec", "list"), 1),
    lambda o: [o.set(path, f"{o.get(path)}-set") for path, _c in o.line_comments("kpt-set:")
               if not isinstance(o.get(path), (dict, list))],
    lambda o: o.get(("spec", "template", "spec", "containers", 0, "image")),
    lambda o: o.set(("spec", "template", "spec", "containers", 1, "image"), "c:2"),
    lambda o: o.set(("spec", "template", "spec", "containers", 0, "env"), [{"name": "A"}]),
    lambda o: o.set(("spec", "image"), {"a": 1}),
    lambda o: o.delete(("spec", "replicas")),
    lambda o: o.set(("spec", "envs"), ["C"]),
]


def random_edits(seed: int) -> krmfn.Function:
    @krmfn.function(name="random-edits")
    def edit(rl: ResourceList) -> None:
        rng = random.Random(seed)
        for obj in rl.items:
            seen = []
            for op in rng.sample(OPS, rng.randint(0, 5)):
                try:
                    seen.append(op(obj))
                except krmfn.KrmfnError as exc:  # the same error either way
                    seen.append(str(exc))
            rl.info(f"{obj.name} {obj.namespace} {sorted(obj.labels.items())} {seen!r}")

    return edit


@pytest.fixture
def lazy_from_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazy, "LAZY_MIN_ITEMS", 10)
    monkeypatch.setattr(lazy, "EVICT_MIN_ITEMS", 10)
    monkeypatch.setattr(lazy, "RESIDENT", 5)


def whole(fn: krmfn.Function, text: str) -> krmfn.testing.RunOutput:
    saved = lazy.LAZY_MIN_ITEMS
    lazy.LAZY_MIN_ITEMS = 10**9
    try:
        return fn.run_text(text)
    finally:
        lazy.LAZY_MIN_ITEMS = saved


@pytest.mark.parametrize("worker", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_edits_in_parts_give_the_whole_read_output(
        seed: int, worker: bool, lazy_from_ten: None, monkeypatch: pytest.MonkeyPatch) -> None:
    if worker:
        monkeypatch.setattr(check_worker, "MIN_TEXT", 0)
    else:
        monkeypatch.setenv("KRMFN_CHECK_WORKER", "0")
    text = resource_list(seed)
    assert lazy.split_items(text) is not None
    fn = random_edits(seed)
    assert fn.run_text(text) == whole(fn, text)


def test_a_label_edit_reads_the_labels_lines_alone(lazy_from_ten: None) -> None:
    text = resource_list(0).replace("\n", "\n", 1)
    rl = ResourceList.parse(text)
    obj = next(o for o in rl.items if "labels:\n      app:" in o._current_text())
    obj.set_label("app", "new")
    assert obj._d is None and obj._h is None and obj._parts is not None
    assert [p[1].text.split(":")[0].strip() for p in obj._parts.values()] == ["labels"]
    assert "app: new" in obj._item_text(False)
    rl.verify()


def test_metadata_keys_hidden_in_a_quoted_scalar_end_in_the_whole_read(
        lazy_from_ten: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A multi-line quoted scalar can hold lines that look like metadata's keys: the
    function may edit the wrong lines at first, but what is written is the whole read's."""
    trap = ('- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: trap\n'
            '    note: "start\n    labels:\n      fake: x\n    end: here"\n'
            '    labels:\n      real: y\n  data: {}\n')
    text = resource_list(1).replace("items:\n", "items:\n" + trap, 1)
    fn = random_edits(0)

    @krmfn.function(name="label-all")
    def label_all(rl: ResourceList) -> None:
        for obj in rl.items:
            obj.set_label("real", "z")

    for worker in (False, True):
        monkeypatch.setattr(check_worker, "MIN_TEXT", 0 if worker else 10**12)
        out = label_all.run_text(text)
        assert out.exit_code == 0, out.stderr
        assert out == whole(label_all, text)
        assert "      fake: x\n    end: here\"\n    labels:\n      real: z\n" in out.stdout
    assert fn.run_text(text) == whole(fn, text)


def test_an_annotation_key_written_with_escapes_ends_in_the_whole_read(
        lazy_from_ten: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """An annotation is looked for in an unread item's text first; a key spelled with an
    escape is not found there, and the whole read must say what it holds."""
    escaped = ('- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: escaped\n'
               '    annotations:\n      "example.com/depends\\x2Don": other\n  data: {}\n')
    text = resource_list(2).replace("items:\n", "items:\n" + escaped, 1)

    @krmfn.function(name="report-depends-on")
    def report(rl: ResourceList) -> None:
        for obj in rl.items:
            if obj.get_annotation("example.com/depends-on"):
                rl.info(f"{obj.name} depends on {obj.get_annotation('example.com/depends-on')}")

    for worker in (False, True):
        monkeypatch.setattr(check_worker, "MIN_TEXT", 0 if worker else 10**12)
        out = report.run_text(text)
        assert out == whole(report, text)
        assert "escaped depends on other" in out.stdout


def test_an_annotation_missing_from_the_text_is_not_read_for(lazy_from_ten: None) -> None:
    rl = ResourceList.parse(resource_list(3))
    obj = rl.items[5]
    assert obj.get_annotation("example.com/not-there") is None
    assert obj.get_label("not-there", "default") == "default"
    assert obj._d is None and obj._h is None and not obj._parts
    assert obj.get_annotation("config.kubernetes.io/index") in (None, "5")  # read for
    rl.verify()
