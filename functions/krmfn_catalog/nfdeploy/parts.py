"""The other parts of an NFDeployment: DataNetworks (`spec.networkInstances[].dataNetworks`),
the Capacity (`spec.capacity`) and Dependencies (`spec.parametersRefs`).

- A DataNetwork's pools get their prefixes from the pool IPClaims it owns (named
  `<NFDeployment>-<dnn>-<pool>`, or `<dnn>-<pool>` from before it belonged to one), else
  from its `status.pools[]` (`ipClaim.prefix`, as Nephio's dnn-fn copies it; matched by
  `name`, else by position). A DataNetwork without pools (an AMF's or SMF's) asks for
  nothing and adds nothing; a pool without an answer is an error naming its claim.
- The Capacity's spec is copied field by field as Nephio's `CapacitySpec` types it: the
  throughputs are Kubernetes quantities (a number is written as the quantity string it
  stands for), the counts integers; any other field is left out with a warning, since the
  NFDeployment's schema has no place for it. Two Capacities for one NFDeployment is an
  error (which one counts would be a guess).
- A Dependency lists in `status.injected` what the package it depends on gave (the
  `ref.nephio.org/v1alpha1 Config`s injected into this package); each becomes a parameters
  reference (name, apiVersion, kind). Nothing injected yet is an error: an NF deployed
  without the peers it depends on is worse than one not deployed yet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from krmfn import KubeObject

from krmfn_catalog._claim import request_name
from krmfn_catalog.nephio_nad import owner_value

from .interfaces import Found, network_instance, valid_prefix
from .model import Package, Problem

__all__ = ["QUANTITY_FIELDS", "capacity_spec", "data_network_entry", "injected_refs"]

QUANTITY_FIELDS = ("maxUplinkThroughput", "maxDownlinkThroughput")
# Count fields and their largest value (maxNFConnections is a uint16 in Nephio's API).
COUNT_FIELDS = {"maxSessions": 2**63 - 1, "maxSubscribers": 2**63 - 1,
                "maxNFConnections": 65535}
# A Kubernetes quantity: a decimal number, then an exponent or an SI or binary suffix.
_QUANTITY = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+|E[+-]?\d+|[KMGTPE]i|[numkMGTPE])?$")


def data_network_entry(dnn: KubeObject, package: Package) -> tuple[str | None, Found]:
    """The DataNetwork's network instance and its `dataNetworks` entry (None: no pools)."""
    found = Found()
    pools = dnn.get("spec.pools")
    if pools is None or pools == []:
        return None, found
    if not isinstance(pools, list):
        found.problems.append(Problem("expected a list of pools", dnn, "spec.pools"))
        return None, found
    instance = network_instance(dnn, found)
    claims = package.ip_claims(owner_value(dnn))
    statuses = dnn.get("status.pools")
    statuses = statuses if isinstance(statuses, list) else []
    prefixes: list[dict[str, str]] = []
    for i, pool in enumerate(pools):
        name = pool.get("name") if isinstance(pool, dict) else None
        if not isinstance(name, str) or not name:
            found.problems.append(Problem("must be a non-empty string", dnn,
                                          f"spec.pools[{i}].name"))
            continue
        prefix = _pool_prefix(dnn, name, i, claims, statuses, found)
        if prefix is not None:
            prefixes.append({"prefix": prefix})
    if found.problems or instance is None:
        return None, found
    found.entry = {"name": dnn.name, "pool": prefixes}
    return instance, found


def _pool_prefix(dnn: KubeObject, pool: str, index: int, claims: Sequence[KubeObject],
                 statuses: list[Any], found: Found) -> str | None:
    expected = f"{request_name(dnn)}-{pool}"
    waiting: KubeObject | None = None
    for wanted in (expected, f"{dnn.name}-{pool}"):
        for claim in sorted(claims, key=lambda c: c.namespace):
            if claim.name != wanted:
                continue
            prefix = claim.get("status.prefix")
            if prefix is None:
                waiting = waiting or claim
            elif valid_prefix(prefix):
                return str(prefix)
            else:
                found.problems.append(Problem(f"{prefix!r} is not a prefix", claim,
                                              "status.prefix"))
                return None
    for i, status in enumerate(statuses):
        if not isinstance(status, dict):
            continue
        named = status.get("name")
        if named == pool or (not named and i == index):
            prefix = status.get("ipClaim", {}).get("prefix") if isinstance(
                status.get("ipClaim"), dict) else None
            if prefix is None:
                continue
            if valid_prefix(prefix):
                return str(prefix)
            found.problems.append(Problem(f"{prefix!r} is not a prefix", dnn,
                                          f"status.pools[{i}].ipClaim.prefix"))
            return None
    if waiting is not None:
        found.problems.append(Problem(
            f"IPClaim {waiting.name} of DataNetwork {dnn.name} (pool {pool}) has no "
            "status.prefix yet: run ipam-inject (or let Nephio's IPAM answer it) before "
            "nfdeploy", waiting, "status.prefix"))
    else:
        found.problems.append(Problem(
            f"pool {pool} has no prefix: no IPClaim {expected} with a status, and "
            "status.pools holds none for it", dnn, "status.pools"))
    return None


def capacity_spec(capacity: KubeObject, found: Found) -> dict[str, Any] | None:
    """The Capacity's spec as `NFDeployment.spec.capacity` types it."""
    spec = capacity.get("spec")
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        found.problems.append(Problem("expected a map", capacity, "spec"))
        return None
    out: dict[str, Any] = {}
    for key in QUANTITY_FIELDS:
        value = spec.get(key)
        if value is None:
            continue
        text = _quantity(value)
        if text is None:
            found.problems.append(Problem(f"{value!r} is not a quantity (like 10G or 500M)",
                                          capacity, f"spec.{key}"))
        else:
            out[key] = text
    for key, largest in COUNT_FIELDS.items():
        value = spec.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= largest:
            bounds = "0-65535" if largest == 65535 else "0 or more"
            found.problems.append(Problem(f"{value!r} is not an integer ({bounds})",
                                          capacity, f"spec.{key}"))
        else:
            out[key] = value
    for key in spec:
        if key not in QUANTITY_FIELDS and key not in COUNT_FIELDS:
            found.warnings.append(Problem(
                "is not a field of Nephio's Capacity (maxUplinkThroughput, "
                "maxDownlinkThroughput, maxSessions, maxSubscribers, maxNFConnections): "
                "not copied into the NFDeployment", capacity, f"spec.{key}"))
    return out


def _quantity(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value == value and value not in (float("inf"),
                                                                      float("-inf")):
        return repr(value)
    if isinstance(value, str) and _QUANTITY.match(value):
        return value
    return None


def injected_refs(dependency: KubeObject, found: Found) -> list[dict[str, str]]:
    """The parameters references a Dependency brings: what was injected for it."""
    injected = dependency.get("status.injected")
    if not injected:
        package = dependency.get("spec.packageName")
        what = f"the {package} package" if isinstance(package, str) and package else \
            "the package it depends on"
        found.problems.append(Problem(
            f"nothing injected yet: {what} must be rendered and its objects injected into "
            "this one first", dependency, "status.injected"))
        return []
    if not isinstance(injected, list):
        found.problems.append(Problem("expected a list of object references", dependency,
                                      "status.injected"))
        return []
    refs: list[dict[str, str]] = []
    for i, ref in enumerate(injected):
        fields = {key: ref.get(key) if isinstance(ref, dict) else None
                  for key in ("name", "apiVersion", "kind")}
        bad = [key for key, value in fields.items() if not isinstance(value, str) or not value]
        if bad:
            found.problems.append(Problem(f"{', '.join(bad)} must be a non-empty string",
                                          dependency, f"status.injected[{i}].{bad[0]}"))
            continue
        refs.append({key: str(value) for key, value in fields.items()})
    return refs
