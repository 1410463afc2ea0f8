"""Anchors, aliases and merge keys anywhere in a ResourceList: every catalog function's
output, loaded, is its input loaded with exactly the function's own edit made, and
everything around the items is as it was, read whole or lazily.

The lists are generated as text (block and flow style, wide and compact item lists,
comments after the last key and after the items, with and without a final newline,
the functionConfig before or after the items) with anchors on maps, lists and scalars
in any item or in the functionConfig, and aliases to them later: as an item's last
node, in nested and flow collections, in other items, as merge keys. What the edit
should give is computed here on the data PyYAML loads, independently of krmfn.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import krmfn._large.lazy_list as lazy
import pytest
import yaml
from anchored_lists import (
    KINDS,
    NAMESPACE,
    SITE_LABELS,
    Alias,
    Anchors,
    Case,
    Map,
    Scalar,
    block_map,
    block_value,
    cases,
    config_for,
)
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from oracle import catalog_functions, lazy_limits

FUNCTIONS = catalog_functions()


# ---------------------------------------------------------------- what each edit is
def load(text: str) -> Any:
    return unshared(yaml.safe_load(text))


def unshared(value: Any) -> Any:
    """A copy in which no two places share an object (PyYAML loads an alias as the very
    object its anchor holds; the functions edit each place on its own)."""
    if isinstance(value, dict):
        return {k: unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unshared(v) for v in value]
    return value


def _kind(item: dict[str, Any]) -> tuple[str, str, bool | None]:
    return next(k for k in KINDS if k[1] == item["kind"])


def _local(item: dict[str, Any]) -> bool:
    notes = item["metadata"].get("annotations") or {}
    return str(notes.get("config.kubernetes.io/local-config", "")).lower() == "true"


def set_namespace(items: list[dict[str, Any]]) -> None:
    for item in items:
        scope = _kind(item)[2]
        if (scope or (scope is None and "namespace" in item["metadata"])) and not _local(item):
            item["metadata"]["namespace"] = NAMESPACE


def site_specialize(items: list[dict[str, Any]]) -> None:
    for item in items:
        if not _local(item):
            item["metadata"]["labels"] = {**(item["metadata"].get("labels") or {}),
                                          **SITE_LABELS}


def vlan_assign(items: list[dict[str, Any]]) -> None:
    """Claims on an index no one declares: 2, 3, ... by namespace and name."""
    claims = sorted((i for i in items if i["kind"] == "VLANClaim"),
                    key=lambda i: (i["metadata"].get("namespace") or "", i["metadata"]["name"]))
    for vlan, claim in enumerate(claims, start=2):
        claim["status"] = {"vlanID": vlan}


def unchanged(items: list[dict[str, Any]]) -> None:
    pass


INTENDED: dict[str, Callable[[list[dict[str, Any]]], None]] = {
    "set-namespace": set_namespace, "site-specialize": site_specialize,
    "vlan-assign": vlan_assign, "ipam-inject": unchanged, "policy-validate": unchanged}


def check_case(case: Case) -> None:
    before = load(case.text)
    expected = unshared(before["items"])
    INTENDED[case.function](expected)
    fn = FUNCTIONS[case.function]
    with lazy_limits(10**9, lazy.RESIDENT):
        whole = fn.run_text(case.text)
    with lazy_limits(3, 2, worker_min_text=0):
        piecewise = fn.run_text(case.text)
    assert whole.exit_code == 0, whole.stderr
    assert piecewise == whole, "read lazily, the output differs"
    after = load(whole.stdout)
    assert after["items"] == expected
    rest = {k: v for k, v in after.items() if k not in ("items", "results")}
    assert rest == {k: v for k, v in before.items() if k not in ("items", "results")}
    old = before.get("results") or []
    assert (after.get("results") or [])[: len(old)] == old
    again = fn.run_text(whole.stdout)
    assert again.exit_code == 0, again.stderr
    assert load(again.stdout)["items"] == expected


ALL = sorted(INTENDED)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(["set-namespace", "site-specialize"]))
def test_editing_functions_make_exactly_their_edit(case: Case) -> None:
    check_case(case)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(ALL))
def test_every_function_makes_exactly_its_edit(case: Case) -> None:
    check_case(case)


def test_the_generated_text_is_the_yaml_it_models() -> None:
    """The writer above gives what it means: anchors, aliases and merges as PyYAML reads
    them (checked on one list holding each)."""
    labels = Map([("app", Scalar("web"))], anchor="l")
    item = Map([("apiVersion", Scalar("apps/v1")), ("kind", Scalar("Deployment")),
                ("metadata", Map([("name", Scalar("web")), ("labels", labels)])),
                ("spec", Map([("selector", Map([("matchLabels", Alias("l"))])),
                              ("extra", Map([("<<", Alias("l")), ("k1", Scalar("v"))]))]))])
    text = "items:\n" + "\n".join("- " + ln[2:] if i == 0 else ln
                                  for i, ln in enumerate(block_map(item, 2))) + "\n"
    data = yaml.safe_load(text)["items"][0]
    assert data["spec"]["selector"]["matchLabels"] == {"app": "web"}
    assert data["spec"]["extra"] == {"app": "web", "k1": "v"}


LAST_ALIAS = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cm
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    labels: &l
      app: web
  spec:
    replicas: 2
    selector:
      matchLabels: *l
"""


@pytest.mark.parametrize("function", ["set-namespace", "site-specialize"])
@pytest.mark.parametrize("config_first", [True, False])
def test_an_alias_ending_the_last_item_keeps_the_item_whole(function: str,
                                                            config_first: bool) -> None:
    config = block_value("functionConfig:", config_for(function, Anchors(), False, None), 0)
    head, items = LAST_ALIAS.split("items:\n")
    text = (head + "\n".join(config) + "\nitems:\n" + items if config_first
            else LAST_ALIAS + "\n".join(config) + "\n")
    check_case(Case(function, text, True))


H = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
CONFIG = ("functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: f}\n"
          "  data: {namespace: x-ns}\n")
CM = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: {name}\n"
PLACES = {
    "old results end in an alias": H + "items:\n" + CM.format(name="a")
    + "    labels: &l {a: b}\n" + CONFIG + "results:\n- message: old\n  severity: info\n"
    "  tags: *l\n",
    "an item that is an alias": H + "items:\n- &x\n  apiVersion: v1\n  kind: ConfigMap\n"
    "  metadata:\n    name: a\n- *x\n" + CONFIG,
    "flow items": H + "items: [&x {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}, "
    "{apiVersion: v1, kind: Secret, metadata: {name: b, labels: *x}}]\n" + CONFIG,
    "a functionConfig that is an alias": H + "defaults: &c\n  apiVersion: v1\n"
    "  kind: ConfigMap\n  metadata: {name: f}\n  data: {namespace: x-ns}\nitems:\n"
    + CM.format(name="a") + "functionConfig: *c\n",
    "a block scalar ends the text": H + CONFIG + "items:\n" + CM.format(name="a")
    + "  data:\n    k: |\n      line",
    "a kept block scalar ends the text": H + CONFIG + "items:\n" + CM.format(name="a")
    + "  data:\n    k: &q |+2\n        line",
    "a folded scalar ends the functionConfig": H + "items:\n" + CM.format(name="a")
    + CONFIG + "  labels:\n    note: >\n      folded",
    "a document end marker ends the stream": "--- # the list\n" + H + CONFIG + "items:\n"
    + CM.format(name="a") + "    labels: &l {a: b}\n  spec:\n    selector: *l\n...\n# done\n",
    "an empty value ends the last item": H + CONFIG + "items:\n" + CM.format(name="a")
    + "    labels: &l {a: b}\n  spec:\n    selector: *l\n    empty:\n    # after it\n",
    "an alias in a flow map ends the last item": H + CONFIG + "items:\n"
    + CM.format(name="a") + "    labels: &l {a: b}\n  spec: {selector: *l}",
}


@pytest.mark.parametrize("place", sorted(PLACES))
def test_aliases_and_text_ends_in_every_place(place: str) -> None:
    check_case(Case("set-namespace", PLACES[place], True))


def test_a_merge_key_is_read_as_the_data_says() -> None:
    """`<<` takes in the keys of another mapping: a function reads the merged value (here
    the namespace a matcher asks for), as it would through an alias."""
    text = (H + "items:\n" + CM.format(name="a") + "    <<: {namespace: old}\n"
            + CM.format(name="b") + "    namespace: other\n" + CONFIG.replace(
                "{namespace: x-ns}", "{namespace: x-ns, namespaceMatcher: old}"))
    out = FUNCTIONS["set-namespace"].run_text(text)
    assert out.exit_code == 0, out.stderr
    items = load(out.stdout)["items"]
    assert [i["metadata"]["namespace"] for i in items] == ["x-ns", "other"]
