"""scripts/gen_builtin_scope.py reads the scope of Kubernetes' kinds from the `+genclient`
tags of its API types, and the checked-in table is exactly what it writes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import krmfn._model.builtin_scope as table
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_builtin_scope",
                                                  ROOT / "scripts" / "gen_builtin_scope.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TYPES = """package v1

// +genclient
// +genclient:method=GetScale,verb=get,subresource=scale
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Widget is namespaced: +genclient without nonNamespaced.
type Widget struct {
	Spec WidgetSpec `json:"spec"`
}

// WidgetSpec is no resource.
type WidgetSpec struct {
}

// +genclient
// +genclient:nonNamespaced
// +genclient:skipVerbs=deleteCollection

// Gizmo is cluster-scoped.
type Gizmo struct {
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GizmoList is no resource either.
type GizmoList struct {
}
"""


def test_kinds_come_from_the_genclient_tags(tmp_path: Path) -> None:
    gv = tmp_path / "api" / "widgets" / "v1"
    gv.mkdir(parents=True)
    (gv / "register.go").write_text('package v1\n\nconst GroupName = "widgets.k8s.io"\n')
    (gv / "types.go").write_text(TYPES)
    core = tmp_path / "api" / "core" / "v1"
    core.mkdir(parents=True)
    (core / "register.go").write_text('package v1\n\nconst GroupName = ""\n')
    (core / "types.go").write_text(TYPES.replace("Widget", "Pod").replace("Gizmo", "Node"))
    assert _script().kinds(tmp_path / "api") == {
        ("widgets.k8s.io", "Widget"): True, ("widgets.k8s.io", "Gizmo"): False,
        ("", "Pod"): True, ("", "Node"): False}


def test_a_kind_of_two_scopes_is_refused(tmp_path: Path) -> None:
    for version, tag in (("v1", ""), ("v2", "// +genclient:nonNamespaced\n")):
        gv = tmp_path / "api" / "widgets" / version
        gv.mkdir(parents=True)
        (gv / "register.go").write_text('const GroupName = "widgets.k8s.io"\n')
        (gv / "types.go").write_text(f"// +genclient\n{tag}\ntype Widget struct {{\n}}\n")
    with pytest.raises(SystemExit):
        _script().kinds(tmp_path / "api")


def test_the_checked_in_table_is_what_the_script_writes() -> None:
    text = (ROOT / "sdk" / "krmfn" / "_model" / "builtin_scope.py").read_text()
    sources = re.findall(r"^#   (github\.com/\S+ \S+,\n#     commit [0-9a-f]{40})$", text, re.M)
    assert len(sources) == 3  # kubernetes/api, apiextensions-apiserver, kube-aggregator
    found = {k: True for k in table.NAMESPACED} | {k: False for k in table.CLUSTER_SCOPED}
    assert _script().render(found, sources) == text
