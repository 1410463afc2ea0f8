"""What ipam-inject and vlan-assign may do to a package: an allocation has many right
answers, so their output is checked for what must hold of every one of them."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from corpus_oracle import annotations_of, is_resource, resources

OWNER = "specializer.nephio.org/owner"

def allocation_problems(before: dict[str, list[Any]], after: dict[str, list[Any]],
                        kinds: tuple[str, ...]) -> list[str]:
    """What ipam-inject (`kinds` IPClaim) or vlan-assign (VLANClaim) did that it must not,
    given the documents of each file before and after: an input resource changed beyond
    its claim status and NAD config, a created resource of another kind or not owned by
    an input Interface or DataNetwork, a claim left without an allocation, an address
    outside the package's networks, a VLAN given twice."""
    problems = []
    created: list[Any] = []
    for name in before.keys() | after.keys():
        was, now = before.get(name, []), after.get(name, [])
        if len(now) < len(was):
            problems.append(f"{name}: {len(was) - len(now)} document(s) lost")
        for a, b in zip(was, now, strict=False):
            if _without_allocation(a) != _without_allocation(b):
                problems.append(f"{name}: {a.get('kind')} {a.get('metadata', {}).get('name')} "
                                "changed beyond its allocation")
        created += now[len(was):]
    old = list(resources([d for docs in before.values() for d in docs]))
    owners = {f"{o['apiVersion']}.{o['kind']}.{o['metadata']['name']}" for o in old
              if o["kind"] in ("Interface", "DataNetwork")}
    for n in resources(created):
        if n["kind"] not in (*kinds, "NetworkAttachmentDefinition"):
            problems.append(f"created a {n['kind']} {n['metadata']['name']}")
        elif n["kind"] in kinds and annotations_of(n).get(OWNER) not in owners:
            problems.append(f"{n['kind']} {n['metadata']['name']} has no owner in the package")
    new = list(resources([d for docs in after.values() for d in docs]))
    if "IPClaim" in kinds:
        problems += _address_problems(old, [n for n in new if n["kind"] == "IPClaim"])
    if "VLANClaim" in kinds:
        problems += _vlan_problems([n for n in new if n["kind"] == "VLANClaim"])
    return problems


def _address_problems(old: list[dict[str, Any]], claims: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    networks = [ipaddress.ip_network(p["prefix"], strict=False) for o in old
                if o["kind"] == "Network" for t in o.get("spec", {}).get("routingTables", [])
                for p in t.get("prefixes", [])]
    for c in claims:
        prefix = (c.get("status") or {}).get("prefix")
        if not prefix:
            problems.append(f"IPClaim {c['metadata']['name']} has no status.prefix")
        elif networks and not any(ipaddress.ip_interface(prefix).ip in n for n in networks):
            problems.append(f"IPClaim {c['metadata']['name']}: {prefix} is in no network")
    return problems


def _vlan_problems(claims: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    seen: dict[tuple[str, int], str] = {}
    for c in claims:
        vlan = (c.get("status") or {}).get("vlanID")
        index = c.get("spec", {}).get("vlanIndex", {}).get("name", "")
        if not isinstance(vlan, int) or not 1 <= vlan <= 4094:
            problems.append(f"VLANClaim {c['metadata']['name']}: vlanID {vlan!r}")
        elif seen.setdefault((index, vlan), c["metadata"]["name"]) != c["metadata"]["name"]:
            problems.append(f"VLAN {vlan} given twice in index {index}")
    return problems


def _without_allocation(obj: Any) -> Any:
    if not is_resource(obj):
        return obj
    obj = copy.deepcopy(obj)
    if obj["kind"] in ("IPClaim", "VLANClaim"):
        obj.pop("status", None)
    if obj["kind"] == "NetworkAttachmentDefinition":
        obj.get("spec", {}).pop("config", None)
    return obj
