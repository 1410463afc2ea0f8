"""Selectors as data: each field narrows, wildcards in names, kpt's selector shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from krmfn import ConfigError, KubeObject, ResourceList, Selector

WEB = KubeObject.from_dict({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web-front", "namespace": "prod",
                 "labels": {"app": "web", "tier": "front"},
                 "annotations": {"owner": "ran"}}})
CM = KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "settings", "labels": {"app": "web"}}})


@pytest.mark.parametrize(("selector", "web", "cm"), [
    (Selector(), True, True),
    (Selector(kind="Deployment"), True, False),
    (Selector(kind="deployment"), False, False),
    (Selector(api_version="v1"), False, True),
    (Selector(api_version="apps/v1", kind="Deployment"), True, False),
    (Selector(name="web-*"), True, False),
    (Selector(name="*"), True, True),
    (Selector(name="web"), False, False),
    (Selector(namespace="prod"), True, False),
    (Selector(namespace="p?od"), True, False),
    (Selector(labels={"app": "web"}), True, True),
    (Selector(labels={"app": "web", "tier": "front"}), True, False),
    (Selector(labels={"app": "db"}), False, False),
    (Selector(annotations={"owner": "ran"}), True, False),
    (Selector(kind="Deployment", labels={"app": "db"}), False, False),
])
def test_every_field_narrows(selector: Selector, web: bool, cm: bool) -> None:
    assert (selector.matches(WEB), selector(CM)) == (web, cm)


def test_from_kpt_selector_shape() -> None:
    sel = Selector.from_dict({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-*",
                              "namespace": "prod", "labels": {"tier": "front"},
                              "annotations": {"owner": "ran"}})
    assert sel == Selector("apps/v1", "Deployment", "web-*", "prod", {"tier": "front"},
                           {"owner": "ran"})
    assert sel(WEB) and not sel(CM)
    assert Selector.from_dict({}) == Selector()
    assert Selector.from_dict({"labels": None}) == Selector()


def test_selectors_plug_into_item_queries() -> None:
    rl = ResourceList([WEB, CM])
    assert rl.items.where(Selector(labels={"app": "web"})) == [WEB, CM]
    assert rl.items.where(Selector(kind="ConfigMap")) == [CM]
    assert rl.items.of_kind("Deployment", group="apps") == [WEB]
    assert rl.items.of_kind("Deployment", group="") == []
    assert rl.items.find("ConfigMap", "settings") is CM
    assert rl.items.find("Deployment", "web-front", namespace="dev") is None


@pytest.mark.parametrize("typo", ["kinds", "Kind", "label", "apiversion", "names", "group"])
def test_an_unknown_selector_key_is_a_config_error_naming_it(typo: str) -> None:
    # ignored, a misspelt key would select every resource
    with pytest.raises(ConfigError) as err:
        Selector.from_dict({typo: "Secret"})
    assert err.value.problems[0][0] == typo
    message = str(err.value)
    assert f"{typo}: unknown selector field" in message
    for known in ("apiVersion", "kind", "name", "namespace", "labels", "annotations"):
        assert known in message


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": ["Secret"]}, "kind"),
    ({"name": {"a": "b"}}, "name"),
    ({"namespace": True}, "namespace"),
    ({"labels": "app=web"}, "labels"),
    ({"labels": ["app"]}, "labels"),
    ({"annotations": {"owner": {"x": 1}}}, "annotations.owner"),
])
def test_a_value_of_the_wrong_type_is_a_config_error(data: dict[str, object],
                                                     field: str) -> None:
    with pytest.raises(ConfigError) as err:
        Selector.from_dict(data)
    assert [f for f, _ in err.value.problems] == [field]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        Selector.from_dict({"kinds": "Secret", "labels": "x", "kind": 3.5})
    assert sorted(f for f, _ in err.value.problems) == ["kinds", "labels"]
    assert Selector.from_dict({"kind": 3.5}).kind == "3.5"


def test_scalar_label_values_read_as_kubernetes_writes_them() -> None:
    sel = Selector.from_dict({"labels": {"enabled": True, "tier": 2}})
    assert sel.labels == {"enabled": "true", "tier": "2"}


def test_a_pipeline_step_with_a_misspelt_selector_fails_and_names_it(tmp_path: Path) -> None:
    from krmfn_fleet.pipeline import render_package

    (tmp_path / "Kptfile").write_text(
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n"
        "  mutators:\n  - image: set-namespace\n    configMap:\n      namespace: x\n"
        "    selectors:\n    - kinds: Secret\n")
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    out = render_package(tmp_path, write=False)
    step = out.steps[0]
    assert not step.ok
    assert [r.field.path for r in step.results if r.field] == ["selectors[0].kinds"]
    assert "unknown selector field" in step.results[0].message
