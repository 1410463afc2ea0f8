"""The public API of krmfn: declared once, sorted, every name importable; lazy imports
that keep `--help` light; the exception tree; built-in namespace scope."""

from __future__ import annotations

import subprocess
import sys

import krmfn
import pytest
from krmfn import KubeObject, ResourceList, Scope


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert krmfn.__all__ == sorted(krmfn.__all__)
    assert len(set(krmfn.__all__)) == len(krmfn.__all__)
    for name in krmfn.__all__:
        value = getattr(krmfn, name)
        assert value is not None, name
        module = sys.modules[f"krmfn.{krmfn._WHERE[name]}"]
        assert getattr(module, name) is value
        assert name in module.__all__, f"{module.__name__}.__all__ lacks {name}"
    assert set(krmfn._WHERE) == set(krmfn.__all__)
    assert dir(krmfn) == sorted(krmfn.__all__)


def test_the_public_names() -> None:
    assert krmfn.__all__ == [
        "ConfigError", "Field", "FieldError", "File", "Function", "FunctionError",
        "InputError", "Items", "KrmfnError", "KubeObject", "Match", "PathError",
        "ResourceList", "Result", "RunOutput", "Scope", "Selector", "Severity", "SubObject",
        "function", "load_config", "parse_path", "read_package", "same_value"]
    for method in ("at", "items", "rename_key", "line_comment", "set_line_comment",
                   "head_comment", "set_head_comment"):
        assert callable(getattr(krmfn.KubeObject, method)), method
        assert callable(getattr(krmfn.SubObject, method)), method


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        krmfn.Nope  # noqa: B018


def test_star_import_gives_exactly_the_public_names() -> None:
    scope: dict[str, object] = {}
    exec("from krmfn import *", scope)
    assert sorted(k for k in scope if not k.startswith("__")) == sorted(krmfn.__all__)


def test_importing_krmfn_loads_no_yaml_machinery() -> None:
    code = ("import sys, krmfn\n"
            "print(sorted(m for m in sys.modules if m.startswith(('krmfn', 'yaml'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['krmfn']"


def test_exception_tree() -> None:
    for name in ("InputError", "ConfigError", "FieldError", "FunctionError"):
        assert issubclass(getattr(krmfn, name), krmfn.KrmfnError)
    assert issubclass(krmfn.KrmfnError, Exception)
    err = krmfn.FieldError("spec.x", "bad")
    assert (err.path, str(err)) == ("spec.x", "spec.x: bad")
    assert str(krmfn.FieldError("", "bad")) == "bad"
    assert issubclass(krmfn.PathError, krmfn.FieldError)
    assert issubclass(krmfn.PathError, ValueError)


def obj(api: str, kind: str, **extra: object) -> KubeObject:
    return KubeObject.from_dict({"apiVersion": api, "kind": kind, "metadata": {"name": "x"},
                                 **extra})


@pytest.mark.parametrize(("api", "kind", "namespaced"), [
    ("v1", "ConfigMap", True), ("v1", "Namespace", False), ("v1", "Node", False),
    ("apps/v1", "Deployment", True), ("batch/v1", "Job", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", False),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", True),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", False),
    ("storage.k8s.io/v1", "StorageClass", False), ("networking.k8s.io/v1", "Ingress", True),
    ("example.com/v1", "Widget", None),
    # not Kubernetes' own: their scope is unknown without their CRD
    ("kpt.dev/v1", "Kptfile", None), ("gateway.networking.k8s.io/v1", "GatewayClass", None),
    ("kustomize.config.k8s.io/v1beta1", "Kustomization", None),
])
def test_namespace_scope_of_built_in_kinds(api: str, kind: str,
                                           namespaced: bool | None) -> None:
    assert Scope().is_namespaced(obj(api, kind)) is namespaced


def test_crds_in_the_list_declare_the_scope_of_their_kinds() -> None:
    crd = obj("apiextensions.k8s.io/v1", "CustomResourceDefinition",
              spec={"group": "example.com", "names": {"kind": "Widget"}, "scope": "Cluster"})
    namespaced_crd = obj("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                         spec={"group": "example.com", "names": {"kind": "Gadget"},
                               "scope": "Namespaced"})
    rl = ResourceList([crd, namespaced_crd])
    assert rl.is_namespaced(obj("example.com/v1", "Widget")) is False
    assert rl.is_namespaced(obj("example.com/v1", "Gadget")) is True
    assert rl.is_namespaced(obj("example.com/v1", "Other")) is None
