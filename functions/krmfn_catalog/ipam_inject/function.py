"""ipam-inject: allocate IP prefixes and addresses for IPClaims, and inject them where a
workload needs them (Nephio NetworkAttachmentDefinitions, or any field by config).

One run is all or nothing: requests are read and checked, claims answered, and only then
is anything written; an error anywhere leaves the package as it came.
"""

from __future__ import annotations

from krmfn import KubeObject, ResourceList, function

from krmfn_catalog._ledger_owner import package_name
from krmfn_catalog.allocation.backends import chosen
from krmfn_catalog.allocation.owner import PackageOwner
from krmfn_catalog.nephio_nad import Workloads

from .allocate import Answers, allocate, check_ledger_keys
from .attachments import fill_attachments, plan_attachments
from .claims import CLAIM_KIND, Claim, read_claim
from .config import IpamInjectConfig
from .injections import inject, plan_injections
from .plan import Plan
from .requests import plan_requests
from .site import IPAM_GROUP, Package, read_pools, read_site

__all__ = ["IpamInjectConfig", "ipam_inject"]


@function(name="ipam-inject", config=IpamInjectConfig, config_kind="IpamInject")
def ipam_inject(rl: ResourceList, config: IpamInjectConfig) -> None:
    """Allocate IP prefixes and addresses for IPClaims and inject them into NADs."""
    ledger = chosen(config.ledger)  # the config's, else KRMFN_LEDGER's
    package = Package(rl.items)
    site = read_site(rl, package, config.cluster_name)
    pools = read_pools(rl, package)
    plan = Plan()
    views = {id(obj): read_claim(rl, obj, site) for obj in package.of(IPAM_GROUP, CLAIM_KIND)}
    workloads = Workloads(rl.items)  # what owner annotations name, indexed on first use
    requested = plan_requests(rl, site, package, views, plan, workloads)
    attachments = plan_attachments(rl, requested, workloads)
    claims = [c for c in (views.get(id(o)) for o in [*rl.items, *plan.created]) if c]
    if ledger:
        check_ledger_keys(rl, claims)
    sketches = [a.nad for a in attachments if a.new]
    planned = plan_injections(rl, config.injections, claims,
                              [*rl.items, *plan.created, *sketches])
    if rl.has_errors:
        return
    owner = PackageOwner(site.cluster, package_name(rl.items))
    if not claims:
        if ledger and owner.known:  # what the package held before is free now
            allocate(rl, claims, pools, ledger, owner)
        rl.info("no IPClaims, Interfaces or DataNetworks to allocate for: nothing to change")
        return
    answers = allocate(rl, claims, pools, ledger, owner)
    if answers is None:
        return
    for claim in claims:
        _write_status(claim, answers, plan)
    fill_attachments(rl, attachments, answers, pools, site, plan)
    inject(planned, answers, plan)
    if not plan.notes:
        rl.info(f"all {len(claims)} IPClaim(s) already allocated: nothing to change")
    plan.apply(rl)


def _write_status(claim: Claim, answers: Answers, plan: Plan) -> None:
    prefix, gateway = answers[claim.key]
    status = {"prefix": prefix, **({"gateway": gateway} if gateway else {})}
    obj: KubeObject = claim.obj
    current = obj.get("status")
    if isinstance(current, dict):
        changed = plan.set(obj, "status.prefix", prefix)
        if gateway:
            changed = plan.set(obj, "status.gateway", gateway) or changed
        else:
            changed = plan.delete(obj, "status.gateway") or changed
    else:
        changed = plan.set(obj, "status", status)
    if changed:
        via = f", gateway {gateway}" if gateway else ""
        plan.note(f"IPClaim {claim.label}: allocated {prefix}{via}", obj)
