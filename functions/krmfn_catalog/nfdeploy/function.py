"""nfdeploy: fill each NFDeployment's spec from the answers its parts were given, as
Nephio's nfdeploy-fn does, and record in the Kptfile that the package is specialized.

It runs last, after ipam-inject and vlan-assign (or Nephio's IPAM, VLAN and dependency
machinery) have answered every claim. Everything is read and checked first; a part
without its answer is an error naming the claim that should have given it, and then
nothing is written.
"""

from __future__ import annotations

from krmfn import ResourceList, function

from .conditions import check_kptfile, record_done
from .config import NfDeployConfig
from .model import Package, Problem
from .spec import Desired, desired_spec, write_spec

__all__ = ["NfDeployConfig", "nfdeploy"]


@function(name="nfdeploy", config=NfDeployConfig, config_kind="NfDeploy")
def nfdeploy(rl: ResourceList, config: NfDeployConfig) -> None:
    """Fill NFDeployment specs from their Interfaces, DataNetworks, Capacity, Dependencies."""
    package = Package(rl.items)
    if not package.deployments:
        rl.info("no NFDeployment (workload.nephio.org) in the package: nothing to fill")
        return
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for deployment in package.deployments:
        if (deployment.namespace, deployment.name) in seen:
            problems.append(Problem(f"a second NFDeployment named {deployment.name!r}: its "
                                    "parts could not tell them apart", deployment,
                                    "metadata.name"))
        seen.add((deployment.namespace, deployment.name))
    if package.kptfile is None:
        problems.append(Problem("the package has no root Kptfile: nfdeploy records the "
                                "specialization in its status.conditions, as Nephio does",
                                None))
    else:
        problems += check_kptfile(package.kptfile)
    plans: list[Desired] = []
    for deployment in package.deployments:
        desired = desired_spec(deployment, package)
        problems += desired.problems
        plans.append(desired)
    if problems:
        for problem in problems:
            rl.error(problem.message, problem.obj, field=problem.field)
        return
    for desired in plans:
        for warning in desired.warnings:
            rl.warning(warning.message, warning.obj, field=warning.field)
        changed = write_spec(desired)
        if changed:
            rl.info(f"filled {', '.join(changed)}: {_summary(desired)}", desired.deployment)
    assert package.kptfile is not None
    if record_done(package.kptfile, package.deployments, package):
        rl.info("recorded the specialization in status.conditions", package.kptfile)
    if not rl.results or all(r.severity != "info" for r in rl.results):
        rl.info("every NFDeployment is up to date: nothing to change")


def _summary(desired: Desired) -> str:
    parts = [f"{len(desired.interfaces)} interface(s)",
             f"{len(desired.network_instances)} network instance(s)"]
    if desired.capacity is not None:
        parts.append("capacity")
    parts.append(f"{len(desired.parameters_refs)} parameters reference(s)")
    return ", ".join(parts)
