"""Which resources set-namespace gives a namespace: only kinds known to be namespaced
(Kubernetes' built-ins, from the table generated from Kubernetes' API types, and kinds a
CRD in the package declares `Namespaced`). Any other kind moves only if it already has a
namespace, whatever its group looks like."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn._model.builtin_scope import CLUSTER_SCOPED, NAMESPACED
from krmfn.testing import run
from krmfn_catalog.set_namespace.function import set_namespace

CONFIG = ("functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
          "    name: fn\n  data:\n    namespace: prod\n")


def _api_version(group: str) -> str:
    return f"{group}/v1" if group else "v1"


def _item(group: str, kind: str, name: str, namespace: str | None) -> str:
    ns = f"\n    namespace: {namespace}" if namespace is not None else ""
    return (f"- apiVersion: {_api_version(group)}\n  kind: {kind}\n  metadata:\n"
            f"    name: {name}{ns}\n")


def _run(items: list[str]) -> list[dict[str, object]]:
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    text += "".join(items) + CONFIG
    out = run(set_namespace, text)
    assert out.exit_code == 0, out.stderr
    loaded = yaml.safe_load(out.stdout)["items"]
    assert isinstance(loaded, list)
    return loaded


def _namespace(item: dict[str, object]) -> object:
    meta = item["metadata"]
    assert isinstance(meta, dict)
    return meta.get("namespace")


def _kinds_run(kinds: list[tuple[str, str]], namespace: str | None,
               pad: int = 0) -> list[dict[str, object]]:
    """Every kind once, and `pad` ConfigMaps after them (a large list is read lazily)."""
    items = [_item(g, k, f"r{i}", namespace) for i, (g, k) in enumerate(kinds)]
    items += [_item("", "ConfigMap", f"pad{i}", "prod") for i in range(pad)]
    return _run(items)[: len(kinds)]


def test_the_table_is_kubernetes_own() -> None:
    """The generated table holds what Kubernetes says (a few well-known kinds each way),
    and no kind is in both halves."""
    assert {("", "Pod"), ("apps", "Deployment"), ("", "Secret"),
            ("rbac.authorization.k8s.io", "RoleBinding")} <= NAMESPACED
    assert {("", "Namespace"), ("storage.k8s.io", "StorageClass"),
            ("apiextensions.k8s.io", "CustomResourceDefinition"),
            ("networking.k8s.io", "IngressClass")} <= CLUSTER_SCOPED
    assert not NAMESPACED & CLUSTER_SCOPED


def test_every_namespaced_builtin_gets_the_namespace() -> None:
    for pad in (0, 150):  # the whole-document and the lazy path
        for item in _kinds_run(sorted(NAMESPACED), None, pad):
            assert _namespace(item) == "prod", item


def test_every_cluster_scoped_builtin_stays_as_it_is() -> None:
    for pad in (0, 150):
        kinds = sorted(k for k in CLUSTER_SCOPED if k != ("", "Namespace"))
        for item in _kinds_run(kinds, None, pad):
            assert _namespace(item) is None, item
        for item in _kinds_run(kinds, "staging", pad):  # wrong, but not ours to fix
            assert _namespace(item) == "staging", item


UNKNOWN = [
    ("gateway.networking.k8s.io", "GatewayClass"),  # cluster-scoped
    ("kustomize.config.k8s.io", "Kustomization"),  # not a resource
    ("snapshot.storage.k8s.io", "VolumeSnapshotClass"),  # cluster-scoped
    ("apps", "Widget"),  # a built-in group, a kind it does not have
    ("", "Thing"),
    ("example.com", "Claim"),
]


def test_kinds_of_unknown_scope_keep_a_missing_namespace_missing() -> None:
    for pad in (0, 150):
        for item in _kinds_run(UNKNOWN, None, pad):
            assert _namespace(item) is None, item


def test_kinds_of_unknown_scope_with_a_namespace_move() -> None:
    for pad in (0, 150):
        for item in _kinds_run(UNKNOWN, "staging", pad):
            assert _namespace(item) == "prod", item


_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_GROUP = st.one_of(st.just(""), _LABEL, st.builds(lambda a, b: f"{a}.{b}.k8s.io", _LABEL, _LABEL),
                   st.builds(lambda a, b: f"{a}.{b}", _LABEL, _LABEL))
_KIND = st.builds(lambda a: "K" + a, st.text("abcdefghijklmnopqrstuvwxyz", min_size=1,
                                                    max_size=12))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_GROUP, _KIND, st.sampled_from([None, "staging", "prod"])),
                min_size=1, max_size=12))
def test_any_kind_gets_a_namespace_only_when_known_namespaced(
        kinds: list[tuple[str, str, str | None]]) -> None:
    items = [_item(g, k, f"r{i}", ns) for i, (g, k, ns) in enumerate(kinds)]
    for (group, kind, ns), item in zip(kinds, _run(items), strict=True):
        if (group, kind) in NAMESPACED:
            assert _namespace(item) == "prod"
        elif (group, kind) in CLUSTER_SCOPED:
            assert _namespace(item) == ns
        else:
            assert _namespace(item) == ("prod" if ns else None)


def _crd(group: str, kind: str, scope: str, schema_lines: int = 0) -> str:
    schema = "".join(f"            f{i}:\n              type: string\n"
                     for i in range(schema_lines))
    props = f"          properties:\n{schema}" if schema_lines else ""
    return (f"- apiVersion: apiextensions.k8s.io/v1\n  kind: CustomResourceDefinition\n"
            f"  metadata:\n    name: {kind.lower()}s.{group}\n  spec:\n    group: {group}\n"
            f"    names:\n      kind: {kind}\n      plural: {kind.lower()}s\n"
            f"    scope: {scope}\n    versions:\n    - name: v1\n      schema:\n"
            f"        openAPIV3Schema:\n          type: object\n{props}")


def test_crd_declared_kinds_follow_their_crd() -> None:
    """A CRD's scope decides, also over a kind of unknown or built-in-looking group; on the
    lazy path the CRD is read in parts, and that must give the same answer."""
    for pad in (0, 150):
        crds = [_crd("gateway.networking.k8s.io", "GatewayClass", "Cluster", 40),
                _crd("gateway.networking.k8s.io", "Gateway", "Namespaced", 40),
                _crd("kustomize.config.k8s.io", "Kustomization", "Namespaced")]
        items = [*crds, _item("gateway.networking.k8s.io", "GatewayClass", "gc", None),
                 _item("gateway.networking.k8s.io", "Gateway", "gw", None),
                 _item("kustomize.config.k8s.io", "Kustomization", "k", None)]
        items += [_item("", "ConfigMap", f"pad{i}", "prod") for i in range(pad)]
        out = _run(items)
        assert [_namespace(i) for i in out[:6]] == [None, None, None, None, "prod", "prod"]
