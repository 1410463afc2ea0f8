"""A fleet's site inventory, read and checked whole before anything is rendered.

A site's name becomes a directory under `--out`, the package's name and (through the
package context) its namespace, so it must be a DNS-1123 label: nothing else can climb out
of `--out` (`..`, `/`), stand for `--out` itself (`.`) or fail later as a namespace. Every
site is checked before the first one is written, and the first problem is reported as one
line naming the site and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from krmfn_fleet.errors import FleetError

__all__ = ["FleetError", "FleetSite", "InventoryError", "check_site_names", "is_dns_label",
           "load_sites"]

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_RULE = ("must be a DNS-1123 label: at most 63 lower-case letters, digits and '-', "
               "starting and ending with a letter or digit")


class InventoryError(FleetError):
    """The inventory cannot be used; a one-line message naming the site and the field."""


@dataclass(frozen=True)
class FleetSite:
    name: str
    facts: Mapping[str, Any]
    values: Mapping[str, Any] = field(default_factory=dict)  # setter values for this site


def is_dns_label(name: object) -> bool:
    return isinstance(name, str) and len(name) <= 63 and _LABEL.fullmatch(name) is not None


def load_sites(path: str | Path) -> list[FleetSite]:
    """An inventory: a YAML list of sites (or `{sites: [...]}`, or a SiteSpecialize-shaped
    list with a `site:` map per entry); each needs a `name` or a `clusterName`."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InventoryError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InventoryError(f"{path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InventoryError(f"{path}: not valid YAML: {problem}{where}") from None
    except RecursionError:
        raise InventoryError(f"{path}: not valid YAML: nested too deeply") from None
    return _sites(str(path), data)


def _sites(path: str, data: Any) -> list[FleetSite]:
    if isinstance(data, dict):
        data = data.get("sites", data.get("items"))
    if not isinstance(data, list):
        raise InventoryError(f"{path}: expected a list of sites (or a map with `sites:`)")
    sites = [_site(path, i, entry) for i, entry in enumerate(data)]
    check_site_names(sites, path)
    return sites


def _site(path: str, i: int, entry: Any) -> FleetSite:
    if not isinstance(entry, dict):
        raise InventoryError(f"{path}: site {i}: expected a map, not {_type(entry)}")
    if "site" in entry:  # a SiteSpecialize config per site
        facts, meta = entry["site"], entry.get("metadata")
        if not isinstance(facts, dict):
            raise InventoryError(f"{path}: site {i}: site: expected a map, not {_type(facts)}")
        if meta is not None and not isinstance(meta, dict):
            raise InventoryError(f"{path}: site {i}: metadata: expected a map")
        candidates = [("metadata.name", (meta or {}).get("name")),
                      ("site.clusterName", facts.get("clusterName"))]
        facts = dict(facts)
        cluster_field = "site.clusterName"
    else:
        candidates = [("name", entry.get("name")), ("clusterName", entry.get("clusterName"))]
        facts = {k: v for k, v in entry.items() if k not in ("name", "values")}
        cluster_field = "clusterName"
    where, name = next(((w, n) for w, n in candidates if n not in (None, "")), ("name", None))
    if name is None:
        fields = " or ".join(w for w, _ in candidates)
        raise InventoryError(f"{path}: site {i}: has no {fields}")
    if not is_dns_label(name):
        raise InventoryError(f"{path}: site {i} ({_show(name)}): {where} {_LABEL_RULE}")
    values = entry.get("values")
    if values is not None and not isinstance(values, dict):
        raise InventoryError(f"{path}: site {name}: values: expected a map, not {_type(values)}")
    cluster = facts.get("clusterName")
    if cluster is not None and not (isinstance(cluster, str) and cluster):
        raise InventoryError(f"{path}: site {name}: {cluster_field}: expected a non-empty "
                             "string")
    facts.setdefault("clusterName", name)
    return FleetSite(name, facts, values or {})


def check_site_names(sites: Sequence[FleetSite], source: str = "inventory") -> None:
    """Every name a DNS-1123 label, and no two alike (they would share a directory)."""
    seen: dict[str, int] = {}
    for i, site in enumerate(sites):
        if not is_dns_label(site.name):
            raise InventoryError(f"{source}: site {i} ({_show(site.name)}): name {_LABEL_RULE}")
        if site.name in seen:
            raise InventoryError(f"{source}: site {i} ({site.name}): name is also site "
                                 f"{seen[site.name]}'s: site names must be unique")
        seen[site.name] = i


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else f"a {_type(value)}"
    return text if len(text) <= 80 else text[:77] + "..."


def _type(value: Any) -> str:
    return {dict: "map", list: "list", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)
