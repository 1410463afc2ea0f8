"""A CRD's scope is read from the lines of `spec.group`, `spec.names` and `spec.scope`
alone on the lazy path (its schema can be megabytes), and a list of a few huge items is
read lazily too. Whatever the text looks like, the output is the whole-document path's."""

from __future__ import annotations

import krmfn._large.check_worker as check_worker
import krmfn._large.lazy_list as lazy
import krmfn._large.parts as parts
import krmfn._model.resource_list as resource_list
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from krmfn import ResourceList
from krmfn_catalog.set_namespace.function import set_namespace

CONFIG = ("functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
          "    name: fn\n  data:\n    namespace: prod\n")
HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"


def _schema(fields: int) -> str:
    """A schema whose descriptions hold what looks like the keys looked for."""
    return "".join(
        f"              f{i}:\n                description: |-\n"
        f"                  Set scope: Namespaced, group: fake.io, conversion: none.\n"
        f"                  kind: Fake\n                type: string\n" for i in range(fields))


def _key(name: str, spelling: str) -> str:
    return {"plain": name, "double": f'"{name}"', "single": f"'{name}'",
            "escaped": '"' + name[0] + "".join(f"\\x{ord(c):02x}" for c in name[1:]) + '"',
            }[spelling]


@st.composite
def crds(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(the CRD's item text, its group, kind and scope)."""
    group = draw(st.sampled_from(["gateway.networking.k8s.io", "example.com", "apps"]))
    kind = draw(st.sampled_from(["GatewayClass", "Widget", "Deployment"]))
    scope = draw(st.sampled_from(["Namespaced", "Cluster"]))
    spell = st.sampled_from(["plain", "plain", "plain", "double", "single", "escaped"])
    flow_names = draw(st.booleans())
    names = (f"    {_key('names', draw(spell))}: {{{_key('kind', draw(spell))}: {kind}, "
             f"plural: {kind.lower()}s}}\n" if flow_names else
             f"    {_key('names', draw(spell))}:\n      {_key('kind', draw(spell))}: {kind}\n"
             f"      plural: {kind.lower()}s\n")
    keys = {
        "group": f"    {_key('group', draw(spell))}: {group}\n",
        "names": names,
        "scope": f"    {_key('scope', draw(spell))}: {scope}\n",
        "versions": "    versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n"
                    f"          type: object\n          properties:\n"
                    f"{_schema(draw(st.integers(1, 30)))}",
    }
    if draw(st.booleans()):
        keys["conversion"] = (f"    {_key('conversion', draw(spell))}:\n      strategy: Webhook\n"
                              "      webhook:\n        clientConfig:\n          service:\n"
                              "            name: hook\n            namespace: old\n")
    order = draw(st.permutations(sorted(keys)))
    text = ("- apiVersion: apiextensions.k8s.io/v1\n  kind: CustomResourceDefinition\n"
            f"  metadata:\n    name: {kind.lower()}s.{group}\n  spec:\n"
            + "".join(keys[k] for k in order))
    return text, group, kind, scope


def _resources(group: str, kind: str, n: int) -> str:
    return "".join(f"- apiVersion: {group}/v1\n  kind: {kind}\n  metadata:\n    name: r{n}{i}\n"
                   + ("    namespace: old\n" if i % 2 else "") for i in range(2))


def _whole(text: str) -> str:
    saved = lazy.split_items
    resource_list.split_items = lambda text: None  # type: ignore[assignment]
    try:
        return set_namespace.run_text(text).stdout
    finally:
        resource_list.split_items = saved


@pytest.fixture
def parts_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazy, "LAZY_MIN_ITEMS", 3)
    monkeypatch.setattr(parts, "KEY_PART_MIN", 0)


@pytest.mark.parametrize("worker", [False, True])
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(found=st.lists(crds(), min_size=1, max_size=3))
def test_crd_scope_read_in_parts_gives_the_whole_document_output(
        found: list[tuple[str, str, str, str]], worker: bool, parts_everywhere: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if worker:
        monkeypatch.setattr(check_worker, "MIN_TEXT", 0)
    else:
        monkeypatch.setenv("KRMFN_CHECK_WORKER", "0")
    text = HEAD + "".join(crd for crd, *_ in found)
    text += "".join(_resources(g, k, i) for i, (_crd, g, k, _s) in enumerate(found)) + CONFIG
    assert lazy.split_items(text) is not None
    out = set_namespace.run_text(text)
    assert out.exit_code == 0, out.stderr
    assert out.stdout == _whole(text)
    scopes = {}  # the last CRD of a kind decides, as in `Scope`
    for _crd, group, kind, scope in found:
        scopes[(group, kind)] = scope
    loaded = yaml.safe_load(out.stdout)["items"][len(found):]
    for item in loaded:
        group, kind = item["apiVersion"].rsplit("/", 1)[0], item["kind"]
        before = "old" if item["metadata"]["name"].endswith("1") else None
        namespaced = scopes[(group, kind)] == "Namespaced"
        assert item["metadata"].get("namespace") == ("prod" if namespaced else before)


def test_a_crd_is_not_composed_whole_to_learn_its_scope(parts_everywhere: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRMFN_CHECK_WORKER", "0")
    crd = ("- apiVersion: apiextensions.k8s.io/v1\n  kind: CustomResourceDefinition\n"
           "  metadata:\n    name: widgets.example.com\n  spec:\n    group: example.com\n"
           "    names:\n      kind: Widget\n      plural: widgets\n    scope: Namespaced\n"
           "    versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n"
           f"          type: object\n          properties:\n{_schema(50)}")
    text = HEAD + crd * 1 + crd.replace("widgets.", "gadgets.") + _resources(
        "example.com", "Widget", 0) + CONFIG
    rl = ResourceList.parse(text)
    set_namespace.process(rl)
    crds_read = [o for o in rl.items if o.kind == "CustomResourceDefinition"]
    assert all(o._d is None for o in crds_read)  # read in parts only
    assert [o.namespace for o in rl.items[2:]] == ["prod", "prod"]
    rl.verify()
    assert rl.to_text() == _whole(text)


def test_a_few_huge_items_are_read_lazily() -> None:
    crd = ("- apiVersion: apiextensions.k8s.io/v1\n  kind: CustomResourceDefinition\n"
           "  metadata:\n    name: widgets.example.com\n  spec:\n    group: example.com\n"
           "    names:\n      kind: Widget\n      plural: widgets\n    scope: Namespaced\n"
           "    versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n"
           f"          type: object\n          properties:\n{_schema(1500)}")
    few_huge = HEAD + crd + crd.replace("widgets.", "gadgets.") + CONFIG
    assert len(few_huge) >= lazy.LAZY_MIN_BYTES
    assert lazy.split_items(few_huge) is not None
    few_small = HEAD + _resources("example.com", "Widget", 0) + CONFIG
    assert lazy.split_items(few_small) is None
    out = set_namespace.run_text(few_huge)
    assert out.exit_code == 0 and out.stdout == _whole(few_huge)
