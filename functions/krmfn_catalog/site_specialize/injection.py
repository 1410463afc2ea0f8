"""Config injection of the site into WorkloadClusters, the way Porch's package-variant
controller records it: the resource gains `kpt.dev/injected-resource`, the root Kptfile a
`config.injection.WorkloadCluster.<name>` condition. An injected WorkloadCluster is itself
a source of site facts, so a package re-renders without being told its site again.
"""

from __future__ import annotations

from krmfn import KubeObject, ResourceList, same_value

from krmfn_catalog.site_specialize.config import Site

__all__ = [
    "INJECTED",
    "INJECTION",
    "facts_in_package",
    "inject_site",
    "injected_fields",
    "report_missing_injection",
    "root_kptfile",
    "workload_clusters",
]

INJECTION = "kpt.dev/config-injection"
INJECTED = "kpt.dev/injected-resource"
CONDITION_PREFIX = "config.injection.WorkloadCluster."


def workload_clusters(items: list[KubeObject]) -> list[KubeObject]:
    return [o for o in items if o.is_gvk("infra.nephio.org", "v1alpha1", "WorkloadCluster")]


def root_kptfile(items: list[KubeObject]) -> KubeObject | None:
    for obj in items:
        if obj.is_gvk("kpt.dev", "v1", "Kptfile") and obj.path in ("Kptfile", ""):
            return obj
    return None


def _is_filled(wc: KubeObject) -> bool:
    """Injected already, or never a placeholder (no injection annotation) and named."""
    if wc.get_annotation(INJECTED):
        return True
    return wc.get_annotation(INJECTION) is None and bool(wc.get("spec.clusterName"))


def _facts_of(wc: KubeObject) -> Site:
    cnis = wc.get("spec.cnis")
    master = wc.get("spec.masterInterface")
    return Site(cluster_name=str(wc.get("spec.clusterName") or ""),
                cnis=[str(c) for c in cnis] if isinstance(cnis, list) else [],
                master_interface=str(master) if master else "")


def facts_in_package(rl: ResourceList) -> Site | None:
    """The site a filled WorkloadCluster names; an error result when two disagree."""
    filled = [wc for wc in workload_clusters(rl.items) if _is_filled(wc)]
    if not filled:
        return None
    first = _facts_of(filled[0])
    for other in filled[1:]:
        name = _facts_of(other).cluster_name
        if name != first.cluster_name:
            rl.error(f"WorkloadClusters disagree on the site ({filled[0].name} names "
                     f"{first.cluster_name!r}, {other.name} names {name!r}): give the site "
                     "in the function config", other, field="spec.clusterName")
            return None
    return first


def injected_fields(site: Site) -> list[tuple[str, ...]]:
    """The fields of a WorkloadCluster the site's facts own."""
    fields = [("spec", "clusterName"), ("metadata", "annotations", INJECTED)]
    if site.cnis:
        fields.append(("spec", "cnis"))
    if site.master_interface:
        fields.append(("spec", "masterInterface"))
    return fields


def inject_site(rl: ResourceList, site: Site) -> list[KubeObject]:
    """Write the site into every WorkloadCluster; the ones whose text changed."""
    changed = []
    kptfile = root_kptfile(rl.items)
    values = {("spec", "clusterName"): site.cluster_name, ("spec", "cnis"): list(site.cnis),
              ("spec", "masterInterface"): site.master_interface,
              ("metadata", "annotations", INJECTED): site.cluster_name}
    for wc in workload_clusters(rl.items):
        before = wc.to_dict()
        for path in injected_fields(site):
            wc.set(path, values[path])
        if kptfile is not None:
            _set_condition(kptfile, {
                "type": CONDITION_PREFIX + wc.name,
                "status": "True",
                "reason": "ConfigInjected",
                "message": f'injected resource "{site.cluster_name}" from the site facts',
            })
        if not same_value(before, wc.to_dict()):
            changed.append(wc)
    return changed


def report_missing_injection(rl: ResourceList) -> None:
    """Without site facts, a WorkloadCluster that requires injection is an error."""
    for wc in workload_clusters(rl.items):
        if wc.get_annotation(INJECTION) == "required" and not wc.get_annotation(INJECTED):
            rl.error(f"WorkloadCluster {wc.name} requires config injection but no site was "
                     "given: set site.clusterName (or clusterName) in the function config",
                     wc, field=f'metadata.annotations["{INJECTION}"]')


def _set_condition(kptfile: KubeObject, condition: dict[str, str]) -> None:
    """Update the condition of the same type in place, or add it."""
    conditions = kptfile.get("status.conditions")
    if not isinstance(conditions, list):
        kptfile.set("status.conditions", [condition])
        return
    for i, existing in enumerate(conditions):
        if isinstance(existing, dict) and existing.get("type") == condition["type"]:
            for key, value in condition.items():
                kptfile.set(["status", "conditions", i, key], value)
            return
    kptfile.append("status.conditions", condition)
