"""Building small fleets (WorkloadClusters, PackageVariantSets, blueprints) in a directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {name}
  annotations:
    config.kubernetes.io/local-config: "true"
"""
CONTEXT = """apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: example
"""
POINT = """apiVersion: infra.nephio.org/v1alpha1
kind: WorkloadCluster
metadata:
  name: workload-cluster
  annotations:
    config.kubernetes.io/local-config: "true"
    kpt.dev/config-injection: {mode}
spec:
  clusterName: example # stays when nothing is injected
"""


def cluster(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
            "metadata": {"name": name, "labels": dict(labels)},
            "spec": {"clusterName": name, "cnis": ["macvlan"], "masterInterface": "eth1"}}


def pvs(name: str, package: str, targets: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "config.porch.kpt.dev/v1alpha2", "kind": "PackageVariantSet",
            "metadata": {"name": name},
            "spec": {"upstream": {"repo": "bp", "package": package, "revision": "v1"},
                     "targets": targets}}


def blueprint(root: Path, name: str, *, mode: str = "required",
              extra: dict[str, str] | None = None) -> Path:
    bp = root / "repositories" / "bp" / name
    bp.mkdir(parents=True)
    (bp / "Kptfile").write_text(KPTFILE.format(name=name))
    (bp / "package-context.yaml").write_text(CONTEXT)
    (bp / "workload-cluster.yaml").write_text(POINT.format(mode=mode))
    (bp / "README.md").write_text(f"# {name}\n")
    for file, text in (extra or {}).items():
        (bp / file).write_text(text)
    return bp


def write_fleet(root: Path, clusters: list[dict[str, Any]], sets: list[dict[str, Any]]) -> None:
    (root / "clusters.yaml").write_text(yaml.safe_dump_all(clusters, sort_keys=False))
    (root / "sets.yaml").write_text(yaml.safe_dump_all(sets, sort_keys=False))


def dependency(name: str, package: str, *, scope: str = "", kind: str = "Thing") -> str:
    annotations = {"config.kubernetes.io/local-config": "true"}
    if scope:
        annotations["fleet.krmfn.io/dependency-scope"] = scope
    return yaml.safe_dump({
        "apiVersion": "req.nephio.org/v1alpha1", "kind": "Dependency",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"packageName": package,
                 "injectors": [{"apiVersion": "example.com/v1", "kind": kind}]}},
        sort_keys=False)


def thing(name: str, value: str) -> str:
    return yaml.safe_dump({"apiVersion": "example.com/v1", "kind": "Thing",
                           "metadata": {"name": name}, "spec": {"value": value}},
                          sort_keys=False)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (relative name -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}
