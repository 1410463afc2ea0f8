"""What the ipam-inject and vlan-assign claims share: they are read from a resource, and
the claims made for an Interface or a DataNetwork are named and annotated one way.

Naming follows Nephio's interface-fn and dnn-fn when the requester belongs to an
NFDeployment (`deployment_of`), so that a package either of them processed already has the
claims we would make, and we adopt them instead of adding a second set:

- an Interface's IP claims: `<NFDeployment>-<interface>-<family>`, its VLANClaim (and NAD)
  `<NFDeployment>-<interface>`; a DataNetwork pool's claim `<NFDeployment>-<dnn>-<pool>`;
- annotations: `specializer.nephio.org/owner` names the requester,
  `specializer.nephio.org/for` the NFDeployment; IP claims select
  `nephio.org/address-family`.

A requester without an NFDeployment keeps the names these functions always gave:
`<interface>-<family>`, `<interface>`, `<dnn>-<pool>`, and no `for` annotation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from krmfn import FieldError

from krmfn_catalog.nephio_nad import (
    FOR_ANNOTATION,
    OWNER_ANNOTATION,
    deployment_of,
    nad_name,
    owner_value,
)

if TYPE_CHECKING:
    from krmfn import KubeObject

__all__ = [
    "ADDRESS_FAMILY_LABEL",
    "FAMILIES",
    "IP_FAMILY_POLICY_FIELD",
    "LOCAL_CONFIG",
    "ObjectClaim",
    "claim_annotations",
    "families_of",
    "family_of_prefix",
    "request_name",
]

ADDRESS_FAMILY_LABEL = "nephio.org/address-family"
LOCAL_CONFIG = "config.kubernetes.io/local-config"
FAMILIES = ("ipv4", "ipv6")
IP_FAMILY_POLICY_FIELD = "spec.ipFamilyPolicy"
# Nephio's Interface `spec.ipFamilyPolicy`, and the families each asks for, in claim order.
_POLICIES = {"ipv4only": ("ipv4",), "ipv6only": ("ipv6",), "dualstack": ("ipv4", "ipv6")}


class ObjectClaim:
    """A claim read from a resource: its name and namespace are the resource's (a
    KubeObject keeps its identity once read, so asking again costs nothing)."""

    obj: KubeObject

    @property
    def name(self) -> str:
        return self.obj.name

    @property
    def namespace(self) -> str:
        return self.obj.namespace


def request_name(source: KubeObject) -> str:
    """What the claims of an Interface or DataNetwork are named after: the source,
    prefixed by its NFDeployment when it has one (the NAD's name, too)."""
    return nad_name(source)


def claim_annotations(source: KubeObject) -> dict[str, str]:
    """The annotations of a claim made for `source`: local config (no controller reads it
    here), owned by `source`, and `for` its NFDeployment when it has one."""
    out = {LOCAL_CONFIG: "true", OWNER_ANNOTATION: owner_value(source)}
    if deployment_of(source) is not None:
        root = source.get_annotation(FOR_ANNOTATION) or source.get_annotation(OWNER_ANNOTATION)
        if root:
            out[FOR_ANNOTATION] = root
    return out


def families_of(interface: KubeObject) -> tuple[str, ...]:
    """The address families an Interface asks for (`spec.ipFamilyPolicy`, ipv4only when
    unset); raises FieldError naming the field for any other value."""
    policy = interface.get(IP_FAMILY_POLICY_FIELD)
    if policy is None or policy == "":
        return _POLICIES["ipv4only"]
    if isinstance(policy, str) and policy in _POLICIES:
        return _POLICIES[policy]
    raise FieldError(IP_FAMILY_POLICY_FIELD,
                     f"{policy!r} is not one of {', '.join(_POLICIES)}")


def family_of_prefix(text: object) -> str | None:
    """The family of an address or prefix as a claim's status holds it (None if not text)."""
    if not isinstance(text, str) or not text:
        return None
    return "ipv6" if ":" in text else "ipv4"
