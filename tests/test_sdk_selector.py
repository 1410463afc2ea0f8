"""Selectors as data: each field narrows, wildcards in names, kpt's selector shape."""

from __future__ import annotations

import pytest
from krmfn import KubeObject, ResourceList, Selector

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
