"""site-specialize: turn a blueprint into one site's package by structured edits only.

Order matters and is fixed: the site is injected first (so setters can use its facts),
setters then patches (a patch may override a setter), labels, and finally the checks,
which see the package as it will be written.
"""

from __future__ import annotations

from krmfn import Field, KubeObject, ResourceList, function

from krmfn_catalog.site_specialize.config import Site, SiteSpecializeConfig, read_config
from krmfn_catalog.site_specialize.injection import (
    facts_in_package,
    inject_site,
    injected_fields,
    report_missing_injection,
    workload_clusters,
)
from krmfn_catalog.site_specialize.setters import apply_setters

__all__ = ["CLUSTER_LABEL", "SITE_LABEL", "site_specialize"]

CLUSTER_LABEL = "nephio.org/cluster-name"
SITE_LABEL = "nephio.org/site"


@function(name="site-specialize")
def site_specialize(rl: ResourceList) -> None:
    """Specialize a blueprint for a site: injection, setters, patches, labels, checks."""
    cfg = read_config(rl.function_config)
    items = _package_items(rl)
    site = _site(rl, cfg)
    done: list[str] = []
    owned = {}
    if site.known:
        owned = {id(wc): injected_fields(site) for wc in workload_clusters(rl.items)}
        injected = inject_site(rl, site)
        if injected:
            done.append(f"injected into {len(injected)} WorkloadCluster(s)")
    else:
        report_missing_injection(rl)

    values = {**site.setter_values(), **cfg.values}
    setters = apply_setters(rl, items, values, owned)
    if setters.changed:
        done.append(f"{setters.changed} field(s) set by setters "
                    f"({', '.join(sorted(setters.changed_by))})")
    if cfg.values and not setters.used & set(cfg.values):
        rl.info("no matches for input setter(s)")

    if cfg.patches:
        from krmfn_catalog.site_specialize.patches import apply_patches

        patched = apply_patches(rl, items, cfg.patches)
        if patched:
            done.append(f"{patched} resource(s) patched")

    if cfg.labels and site.known:
        labelled = _label(items, site)
        if labelled:
            done.append(f"{labelled} resource(s) labelled")

    _check_interfaces(rl, site)
    if done:  # a render with nothing to do stays quiet
        where = f"site {site.cluster_name!r}: " if site.known else ""
        rl.info(where + "; ".join(done))


def _site(rl: ResourceList, cfg: SiteSpecializeConfig) -> Site:
    """The config's site when it names one; else the package's, completed by the config."""
    if cfg.site.known:
        return cfg.site
    found = facts_in_package(rl)
    return cfg.site.merged_over(found) if found is not None else cfg.site


def _package_items(rl: ResourceList) -> list[KubeObject]:
    """The items but the functionConfig: kpt passes a `configPath` file as an item too, and
    it is not part of the site's package. The config's identity is read once per run."""
    fc = rl.function_config
    if fc is None:
        return list(rl.items)
    kind, api_version, name, path = fc.kind, fc.api_version, fc.name, fc.path
    return [o for o in rl.items if not (o.kind == kind and o.api_version == api_version
                                        and o.name == name and o.path == path)]


def _label(items: list[KubeObject], site: Site) -> int:
    """Give every deployed resource the site's labels; a label it has already is left
    alone (each resource's labels are read once). The number of resources changed."""
    labels = dict(site.labels)
    labels[CLUSTER_LABEL] = site.cluster_name
    if site.site_code:
        labels[SITE_LABEL] = site.site_code
    wanted = sorted(labels.items())
    count = 0
    for obj in items:
        if obj.is_local_config or obj.is_gvk("kpt.dev", kind="Kptfile"):
            continue
        current = obj.labels
        missing = [(k, v) for k, v in wanted if current.get(k) != v]
        for key, value in missing:
            obj.set_label(key, value)
        count += bool(missing)
    return count


def _check_interfaces(rl: ResourceList, site: Site) -> None:
    """An Interface asks for a CNI; the site must offer it (when the site's CNIs are known)."""
    if not site.cnis:
        return
    for obj in rl.items:
        if not obj.is_gvk("req.nephio.org", "v1alpha1", "Interface"):
            continue
        cni = obj.get("spec.cniType")
        if cni is None or cni in site.cnis:
            continue
        rl.error(f"cniType {cni!r} is not offered by site {site.cluster_name!r} "
                 f"(cnis: {', '.join(site.cnis)})", obj,
                 field=Field("spec.cniType", current_value=cni))
