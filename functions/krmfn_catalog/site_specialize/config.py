"""The site-specialize config: site facts, setter values, patches and the label switch.

Two forms say the same thing: the typed `fn.kpt.dev/v1alpha1 SiteSpecialize`, and a v1
ConfigMap (kpt's `-- key=value` arguments) whose well-known keys are site facts and whose
other keys are setter values, as with the catalog's apply-setters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from krmfn import ConfigError, KubeObject, load_config

__all__ = [
    "PATCH_OPS",
    "Patch",
    "PatchTarget",
    "Site",
    "SiteSpecializeConfig",
    "read_config",
]

PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")
RESERVED_LABELS = ("nephio.org/cluster-name", "nephio.org/site")
# ConfigMap keys that are site facts rather than setter values
SITE_KEYS = ("clusterName", "siteCode", "region", "cnis", "masterInterface")


@dataclass
class Site:
    """What a package needs to know about the site it is specialized for."""

    cluster_name: str = ""
    site_code: str = ""
    region: str = ""
    cnis: list[str] = field(default_factory=list)
    master_interface: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """Injection and labels need a cluster name; the other facts only add to it."""
        return bool(self.cluster_name)

    def setter_values(self) -> dict[str, Any]:
        """The facts as setter values (`# kpt-set: ${clusterName}`), only those given."""
        out: dict[str, Any] = {"clusterName": self.cluster_name, "siteCode": self.site_code,
                               "region": self.region, "masterInterface": self.master_interface}
        out = {k: v for k, v in out.items() if v}
        if self.cnis:
            out["cnis"] = list(self.cnis)
        return out

    def merged_over(self, base: Site) -> Site:
        """These facts where given, `base`'s elsewhere."""
        given = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        return replace(base, **given)

    def problems(self) -> list[tuple[str, str]]:
        out = [(f"site.cnis[{i}]", "must be a non-empty string")
               for i, c in enumerate(self.cnis) if not c.strip()]
        out += [(f'site.labels["{k}"]', "is set by the function itself")
                for k in self.labels if k in RESERVED_LABELS]
        return out


@dataclass
class PatchTarget:
    """Which resources a patch applies to: every given criterion must match."""

    kind: str = ""
    name: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def matches(self, obj: KubeObject) -> bool:
        if self.kind and obj.kind != self.kind:
            return False
        if self.name and obj.name != self.name:
            return False
        labels = obj.labels
        return all(labels.get(k) == v for k, v in self.labels.items())

    def describe(self) -> str:
        parts = [f"kind={self.kind}"] if self.kind else []
        parts += [f"name={self.name}"] if self.name else []
        parts += [f"{k}={v}" for k, v in sorted(self.labels.items())]
        return ", ".join(parts)


@dataclass
class Patch:
    """RFC 6902 operations for the resources `target` selects."""

    target: PatchTarget
    patch: list[dict[str, Any]]


@dataclass
class SiteSpecializeConfig:
    site: Site = field(default_factory=Site)
    values: dict[str, Any] = field(default_factory=dict)
    patches: list[Patch] = field(default_factory=list)
    labels: bool = True

    def validate(self) -> list[tuple[str, str]]:
        problems = self.site.problems()
        facts = self.site.setter_values()
        for name, value in self.values.items():
            where = f"values.{name}"
            if not _is_setter_value(value):
                problems.append((where, "must be a string, number, boolean or list of them"))
            elif name in facts and facts[name] != value:
                problems.append((where, f"conflicts with site.{name} ({facts[name]!r})"))
        for i, patch in enumerate(self.patches):
            problems += _patch_problems(patch, f"patches[{i}]")
        return problems


def read_config(fc: KubeObject | None) -> SiteSpecializeConfig:
    """The config from the functionConfig; none at all means "facts from the package"."""
    if fc is None:
        return SiteSpecializeConfig()
    if fc.kind == "ConfigMap" and fc.api_version == "v1":
        return _from_config_map(fc)
    return load_config(fc, SiteSpecializeConfig, "SiteSpecialize")


def _from_config_map(fc: KubeObject) -> SiteSpecializeConfig:
    data = fc.get("data") or {}
    if not isinstance(data, dict):
        raise ConfigError([("data", "expected a map")])
    text = {str(k): "" if v is None else str(v) for k, v in data.items()}
    site = Site(cluster_name=text.pop("clusterName", "").strip(),
                site_code=text.pop("siteCode", "").strip(),
                region=text.pop("region", "").strip(),
                cnis=[c.strip() for c in text.pop("cnis", "").split(",") if c.strip()],
                master_interface=text.pop("masterInterface", "").strip())
    labels = text.pop("labels", "true").strip().lower()
    if labels not in ("true", "false"):
        raise ConfigError([("data.labels", f"expected true or false, got {labels!r}")])
    cfg = SiteSpecializeConfig(site=site, values=dict(text), labels=labels == "true")
    problems = cfg.validate()
    if problems:
        raise ConfigError(problems)
    return cfg


def _is_setter_value(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, (str, int, float, bool)) for v in value)
    return isinstance(value, (str, int, float, bool))


def _patch_problems(patch: Patch, where: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not patch.target.describe():
        problems.append((f"{where}.target", "needs a kind, a name or labels"))
    if not patch.patch:
        problems.append((f"{where}.patch", "has no operations"))
    for j, op in enumerate(patch.patch):
        at = f"{where}.patch[{j}]"
        name = op.get("op")
        if name not in PATCH_OPS:
            problems.append((f"{at}.op", f"must be one of {', '.join(PATCH_OPS)}"))
            continue
        for key in ("path", *(("from",) if name in ("move", "copy") else ())):
            pointer = op.get(key)
            if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
                problems.append((f"{at}.{key}", "must be a JSON pointer (\"/spec/replicas\")"))
        if name in ("add", "replace", "test") and "value" not in op:
            problems.append((f"{at}.value", "is required"))
    return problems
