"""The catalog's entries: `CATALOG`, what `catalog.yaml` publishes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from krmfn_catalog import VERSION

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CATALOG", "CatalogEntry", "catalog_main", "entry"]

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    module: str
    description: str
    config_kinds: tuple[str, ...]
    tags: tuple[str, ...]
    config: str  # "<module>:<dataclass>" of the typed config

    @property
    def image(self) -> str:
        return f"ghcr.io/krmfn/{self.name}:{VERSION}"

    @property
    def local_image(self) -> str:
        return f"localhost/krmfn/{self.name}:{VERSION}"

    @property
    def directory(self) -> Path:
        from pathlib import Path

        return Path(HERE) / self.module

    @property
    def readme(self) -> Path:
        return self.directory / "README.md"

    @property
    def examples(self) -> list[Path]:
        root = self.directory / "examples"
        if not root.is_dir():
            return []
        return sorted(p for p in root.iterdir() if (p / "Kptfile").exists())


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("set-namespace", "set_namespace",
                 "Set the namespace of every namespaced resource, and what refers to it.",
                 ("v1/ConfigMap", "fn.kpt.dev/v1alpha1/SetNamespace"),
                 ("mutator", "namespace", "kpt-catalog-compatible"),
                 "set_namespace.function:SetNamespaceConfig"),
    CatalogEntry("ipam-inject", "ipam_inject",
                 "Allocate IP prefixes and addresses for claims and inject them into NADs.",
                 ("v1/ConfigMap", "fn.kpt.dev/v1alpha1/IpamInject"),
                 ("mutator", "ipam", "nephio", "networking"),
                 "ipam_inject.config:IpamInjectConfig"),
    CatalogEntry("vlan-assign", "vlan_assign",
                 "Allocate VLAN IDs for claims and attachments, unique per index.",
                 ("v1/ConfigMap", "fn.kpt.dev/v1alpha1/VlanAssign"),
                 ("mutator", "vlan", "nephio", "networking"),
                 "vlan_assign.config:VlanAssignConfig"),
    CatalogEntry("site-specialize", "site_specialize",
                 "Specialize a blueprint for a site: injection, setters, labels, patches.",
                 ("v1/ConfigMap", "fn.kpt.dev/v1alpha1/SiteSpecialize"),
                 ("mutator", "specialization", "nephio", "setters"),
                 "site_specialize.config:SiteSpecializeConfig"),
    CatalogEntry("policy-validate", "policy_validate",
                 "Validate resources against Kyverno policies and network integrity checks.",
                 ("v1/ConfigMap", "fn.kpt.dev/v1alpha1/PolicyValidate"),
                 ("validator", "policy", "kyverno", "nephio"),
                 "policy_validate.function:PolicyValidateConfig"),
    CatalogEntry("nfdeploy", "nfdeploy",
                 "Fill NFDeployment specs from the answers their Interfaces and DataNetworks got.",
                 ("v1/ConfigMap", "fn.kpt.dev/v1alpha1/NfDeploy"),
                 ("mutator", "specialization", "nephio", "networking"),
                 "nfdeploy.config:NfDeployConfig"),
)


def entry(name: str) -> CatalogEntry:
    for e in CATALOG:
        if e.name == name:
            return e
    raise KeyError(name)


def catalog_main(argv: list[str]) -> int:
    """`krmfn catalog`: one line per function (name, image, description)."""
    import sys

    if argv in (["-h"], ["--help"]):
        sys.stdout.write("usage: krmfn catalog\n")
        return 0
    if argv:
        sys.stderr.write(f"usage: krmfn catalog\nkrmfn catalog: error: unexpected "
                         f"argument {argv[0]!r}\n")
        return 2
    width = max(len(f.name) for f in CATALOG)
    for f in CATALOG:
        sys.stdout.write(f"{f.name:<{width}}  {f.image}  {f.description}\n")
    return 0
