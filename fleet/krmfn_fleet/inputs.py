"""Reading a fleet directory: the objects a management cluster would hold, and the blueprints.

A fleet is a directory of YAML files holding `infra.nephio.org/v1alpha1 WorkloadCluster`s,
`config.porch.kpt.dev/v1alpha2 PackageVariantSet`s and any other object an injector may
name, plus a `repositories/` directory standing in for Porch's repositories: the upstream
`{repo, package}` of a PackageVariantSet is the blueprint `repositories/<repo>/<package>/`,
unless a `config.porch.kpt.dev/v1alpha1 Repository` of that name says it is in git
(`krmfn_fleet.upstreams`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from krmfn_fleet.errors import FleetError

if TYPE_CHECKING:
    from krmfn_fleet.upstreams import GitUpstream

__all__ = ["PVS_API_VERSION", "REPOSITORIES", "Fleet", "FleetObject", "load_fleet"]

PVS_API_VERSION = "config.porch.kpt.dev/v1alpha2"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when there
REPOSITORIES = "repositories"


@dataclass(frozen=True)
class FleetObject:
    """One object of the fleet, with the file it came from (for error messages)."""

    data: dict[str, Any]
    file: str

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion") or "")

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "")

    @property
    def name(self) -> str:
        meta = self.data.get("metadata")
        return str(meta.get("name") or "") if isinstance(meta, dict) else ""

    @property
    def labels(self) -> dict[str, str]:
        return _str_map(self.data, "labels")

    @property
    def annotations(self) -> dict[str, str]:
        return _str_map(self.data, "annotations")

    def where(self, field_path: str) -> str:
        return f"{self.file}: {self.kind} {self.name}: {field_path}"


@dataclass
class Fleet:
    root: Path
    objects: list[FleetObject] = field(default_factory=list)
    # where git upstreams are fetched and extracted (`krmfn_fleet.upstreams`), and what
    # each (repo, package, revision) was found as, read once per run
    cache: Path | None = None
    upstreams: dict[tuple[str, str, str], tuple[Path, GitUpstream]] = field(
        default_factory=dict)

    @property
    def variant_sets(self) -> list[FleetObject]:
        return [o for o in self.objects
                if o.kind == "PackageVariantSet" and o.api_version == PVS_API_VERSION]

    @property
    def cluster_objects(self) -> list[FleetObject]:
        """What a management cluster would serve to selectors and injectors."""
        return [o for o in self.objects if o.kind != "PackageVariantSet"]

    def named(self) -> dict[str, list[FleetObject]]:
        """The cluster objects by name (what an injector looks up), built once per call:
        callers keep it for the run."""
        out: dict[str, list[FleetObject]] = {}
        for obj in self.cluster_objects:
            out.setdefault(obj.name, []).append(obj)
        return out

    def blueprint(self, repo: str, package: str) -> Path:
        return self.root / REPOSITORIES / repo / package


def _str_map(data: dict[str, Any], key: str) -> dict[str, str]:
    meta = data.get("metadata")
    value = meta.get(key) if isinstance(meta, dict) else None
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _files(root: Path, exclude: Path | None) -> Iterator[Path]:
    """The fleet's YAML files: not in hidden directories, `repositories/`, a package
    (a directory holding a Kptfile, e.g. rendered output) or `exclude`."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and not (here == root and d == REPOSITORIES)
                             and not (here / d / "Kptfile").exists()
                             and (exclude is None or (here / d).resolve() != exclude))
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                yield here / name


def load_fleet(root: str | Path, *, exclude: str | Path | None = None) -> Fleet:
    """Every object of the fleet directory, in file order (files sorted by path), less
    the directory `exclude` (the output, when it lies inside the fleet). A document that
    is not a Kubernetes object, or an object without a name, is an error."""
    base = Path(root)
    if not base.is_dir():
        raise FleetError(f"{root}: not a directory")
    fleet = Fleet(base)
    seen: dict[tuple[str, str, str], str] = {}
    for path in _files(base, Path(exclude).resolve() if exclude is not None else None):
        rel = str(path.relative_to(base))
        try:
            docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise FleetError(f"{rel}: cannot read: {first}") from None
        for i, doc in enumerate(docs):
            if doc is None:
                continue
            if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
                raise FleetError(f"{rel}: document {i}: not a Kubernetes object "
                                 "(apiVersion and kind are required)")
            obj = FleetObject(doc, rel)
            if not obj.name:
                raise FleetError(f"{rel}: {obj.kind} (document {i}): metadata.name is required")
            key = (obj.api_version, obj.kind, obj.name)
            if key in seen:
                raise FleetError(f"{rel}: {obj.kind} {obj.name}: metadata.name is also used "
                                 f"in {seen[key]}")
            seen[key] = rel
            fleet.objects.append(obj)
    return fleet
