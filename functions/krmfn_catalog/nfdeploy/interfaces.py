"""An Interface's entry in `NFDeployment.spec.interfaces`: its addresses and VLAN.

Each answer is read from where it was given, in this order:
- the claims the Interface owns (owner annotation `req.nephio.org/v1alpha1.Interface.<name>`):
  an IPClaim's `status.prefix`/`status.gateway` per family, a VLANClaim's `status.vlanID`,
  as ipam-inject and vlan-assign (or Nephio's IPAM and VLAN backends) write them;
- else the Interface's own status, as Nephio's interface-fn copies those answers there:
  `status.ipClaimStatus[]` (`prefix`, `gateway`) and `status.vlanClaimStatus.vlanID`.

A claim is the answer itself and the Interface's status a copy of it: when both are there
and disagree the claim wins and a warning names the copy. Every family the Interface asks
for (`spec.ipFamilyPolicy`) must have an address and a vlan attachment a VLAN; a missing one
is an error naming the claim that should have answered. An Interface on the `default`
network instance is the pod network: nothing is claimed for it and it is not listed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from krmfn import FieldError, KubeObject

from krmfn_catalog._claim import (
    ADDRESS_FAMILY_LABEL,
    families_of,
    family_of_prefix,
    request_name,
)
from krmfn_catalog.nephio_nad import owner_value

from .model import Package, Problem

__all__ = ["DEFAULT_INSTANCE", "Found", "interface_entry", "network_instance", "valid_prefix"]

DEFAULT_INSTANCE = "default"
NEPHIO_IP_STATUS = "status.ipClaimStatus"
NEPHIO_VLAN_STATUS = "status.vlanClaimStatus.vlanID"


class Found:
    """What one part contributes: its entry, the warnings about it, and its problems."""

    def __init__(self) -> None:
        self.entry: dict[str, Any] | None = None
        self.warnings: list[Problem] = []
        self.problems: list[Problem] = []


def network_instance(obj: KubeObject, found: Found) -> str | None:
    """`spec.networkInstance.name`, or None after recording that it is missing."""
    name = obj.get("spec.networkInstance.name")
    if isinstance(name, str) and name:
        return name
    found.problems.append(Problem("is required: the network instance this belongs to", obj,
                                  "spec.networkInstance.name"))
    return None


def valid_prefix(value: object) -> bool:
    """An address with its prefix length (`10.0.0.3/24`, `1000::2/64`)."""
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        ipaddress.ip_interface(value)
    except ValueError:
        return False
    return True


def _valid_address(value: object) -> bool:
    try:
        ipaddress.ip_address(value)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def interface_entry(interface: KubeObject, package: Package) -> Found:
    """The Interface's `spec.interfaces` entry (None for the pod network)."""
    found = Found()
    instance = interface.get("spec.networkInstance.name")
    if instance == DEFAULT_INSTANCE:
        return found
    if network_instance(interface, found) is None:
        return found
    try:
        families = families_of(interface)
    except FieldError as exc:
        found.problems.append(Problem(str(exc).removeprefix(f"{exc.path}: "), interface,
                                      exc.path))
        return found
    owner = owner_value(interface)
    addresses = _addresses(interface, package.ip_claims(owner), families, found)
    vlan = _vlan(interface, package.vlan_claims(owner), found)
    if found.problems:
        return found
    entry: dict[str, Any] = {"name": interface.name}
    for family in ("ipv4", "ipv6"):
        if family in addresses:
            prefix, gateway = addresses[family]
            entry[family] = {"address": prefix, **({"gateway": gateway} if gateway else {})}
    if vlan is not None:
        entry["vlanID"] = vlan
    found.entry = entry
    return found


def _claim_family(claim: KubeObject) -> str | None:
    labels = claim.get("spec.selector.matchLabels")
    label = labels.get(ADDRESS_FAMILY_LABEL) if isinstance(labels, dict) else None
    family = claim.get("spec.addressFamily") or label
    return family if isinstance(family, str) else family_of_prefix(claim.get("status.prefix"))


def _ordered(claims: Sequence[KubeObject], first: Sequence[str]) -> list[KubeObject]:
    """Claims named as the Interface's own first (Nephio's name, then the older one)."""
    rank = {name: i for i, name in enumerate(first)}
    return sorted(claims, key=lambda c: (rank.get(c.name, len(rank)), c.name, c.namespace))


def _addresses(interface: KubeObject, claims: Sequence[KubeObject], families: Sequence[str],
               found: Found) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    waiting: dict[str, KubeObject] = {}
    reported = len(found.problems)
    names = [f"{request_name(interface)}-{f}" for f in families] + [
        f"{interface.name}-{f}" for f in families]
    for claim in _ordered(claims, names):
        family = _claim_family(claim)
        prefix = claim.get("status.prefix")
        if family not in ("ipv4", "ipv6"):
            continue
        if prefix is None:
            waiting.setdefault(family, claim)
            continue
        gateway = claim.get("status.gateway")
        if not valid_prefix(prefix) or family_of_prefix(prefix) != family:
            found.problems.append(Problem(f"{prefix!r} is not an {family} address with its "
                                          "prefix length", claim, "status.prefix"))
        elif gateway is not None and not _valid_address(gateway):
            found.problems.append(Problem(f"{gateway!r} is not an IP address", claim,
                                          "status.gateway"))
        elif family not in out:
            out[family] = (prefix, gateway)
            waiting.pop(family, None)
    copied = _nephio_addresses(interface, found)
    for family, (prefix, gateway) in copied.items():
        if family not in out:
            out[family] = (prefix, gateway)
            waiting.pop(family, None)
        elif out[family] != (prefix, gateway):
            found.warnings.append(Problem(
                f"holds {prefix} for {family}, but the Interface's IPClaim says {out[family][0]}"
                f" (gateway {out[family][1]}): the claim's answer is used", interface,
                NEPHIO_IP_STATUS))
    for family in families:
        if family in out or len(found.problems) > reported:  # a bad answer said it already
            continue
        if family in waiting:
            claim = waiting[family]
            found.problems.append(Problem(
                f"IPClaim {claim.name} of Interface {interface.name} has no status.prefix yet: "
                "run ipam-inject (or let Nephio's IPAM answer it) before nfdeploy", claim,
                "status.prefix"))
        else:
            found.problems.append(Problem(
                f"no {family} address: no IPClaim of the Interface (expected "
                f"{request_name(interface)}-{family}) has a status, and {NEPHIO_IP_STATUS} "
                "holds none", interface, NEPHIO_IP_STATUS))
    return out


def _nephio_addresses(interface: KubeObject, found: Found) -> dict[str, tuple[str, str | None]]:
    """`status.ipClaimStatus`: the last entry of each family, as nfdeploy-fn reads it."""
    statuses = interface.get(NEPHIO_IP_STATUS)
    out: dict[str, tuple[str, str | None]] = {}
    if statuses is None:
        return out
    if not isinstance(statuses, list):
        found.problems.append(Problem("expected a list of {prefix, gateway}", interface,
                                      NEPHIO_IP_STATUS))
        return out
    for i, status in enumerate(statuses):
        where = f"{NEPHIO_IP_STATUS}[{i}]"
        prefix = status.get("prefix") if isinstance(status, dict) else None
        if prefix is None:
            continue
        gateway = status.get("gateway") if isinstance(status, dict) else None
        if not valid_prefix(prefix):
            found.problems.append(Problem(f"{prefix!r} is not an address with its prefix "
                                          "length", interface, f"{where}.prefix"))
        elif gateway is not None and not _valid_address(gateway):
            found.problems.append(Problem(f"{gateway!r} is not an IP address", interface,
                                          f"{where}.gateway"))
        else:
            out[family_of_prefix(prefix) or "ipv4"] = (prefix, gateway)
    return out


def _vlan_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 4095


def _vlan(interface: KubeObject, claims: Sequence[KubeObject], found: Found) -> int | None:
    vlan: int | None = None
    waiting: KubeObject | None = None
    reported = len(found.problems)
    for claim in _ordered(claims, [request_name(interface), interface.name]):
        value = claim.get("status.vlanID")
        if value is None:
            waiting = waiting or claim
        elif not _vlan_id(value):
            found.problems.append(Problem(f"VLAN ID {value!r} is not an integer in 0-4095",
                                          claim, "status.vlanID"))
        elif vlan is None:
            vlan = value
    copied = interface.get(NEPHIO_VLAN_STATUS)
    if copied is not None and not _vlan_id(copied):
        found.problems.append(Problem(f"VLAN ID {copied!r} is not an integer in 0-4095",
                                      interface, NEPHIO_VLAN_STATUS))
    elif copied is not None and vlan is None:
        vlan = copied
    elif copied is not None and copied != vlan:
        found.warnings.append(Problem(f"holds VLAN {copied}, but the Interface's VLANClaim says"
                                      f" {vlan}: the claim's answer is used", interface,
                                      NEPHIO_VLAN_STATUS))
    if vlan is None and interface.get("spec.attachmentType") == "vlan" and \
            len(found.problems) == reported:
        if waiting is not None:
            found.problems.append(Problem(
                f"VLANClaim {waiting.name} of Interface {interface.name} has no status.vlanID "
                "yet: run vlan-assign (or let Nephio's VLAN backend answer it) before nfdeploy",
                waiting, "status.vlanID"))
        else:
            found.problems.append(Problem(
                f"no VLAN for this vlan attachment: no VLANClaim of the Interface (expected "
                f"{request_name(interface)}) has a status, and {NEPHIO_VLAN_STATUS} is not set",
                interface, NEPHIO_VLAN_STATUS))
    return vlan
