"""VLANClaims as the function sees them: read from the package or made for an Interface,
checked before anything is allocated, so every problem is reported in one run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from krmfn import KubeObject

from krmfn_catalog._claim import ObjectClaim, claim_annotations, request_name
from krmfn_catalog.nephio_nad import deployment_of, inherited_metadata

from .indexes import IndexBook
from .model import CLAIM_API_VERSION, CLAIM_KIND, Problem

__all__ = ["INDEX_FIELD", "STATIC_FIELD", "STATUS_FIELD", "ClaimEntry", "check_claims",
           "new_claim", "read_claims"]

INDEX_FIELD = "spec.vlanIndex.name"
STATIC_FIELD = "spec.vlanID"
STATUS_FIELD = "status.vlanID"
_MAPS = ("spec", "spec.vlanIndex", "status")  # written into, so they must be maps
# Which bridge domain Nephio's VLAN backend puts the claim in (as interface-fn names it).
BRIDGE_DOMAIN_ANNOTATION = "specializer.nephio.org/vlanClaimName"


@dataclass
class ClaimEntry(ObjectClaim):
    """One claim. `index` is the index it ends up on (an Interface may re-point it);
    `set_index` and `owner` are edits still to be written."""

    obj: KubeObject
    new: bool = False
    index: object = None
    static: object = None
    current: object = None
    set_index: bool = False
    old_index: object = None
    owner: str | None = None
    interface: KubeObject | None = None
    failed: bool = False

    @property
    def static_id(self) -> int | None:
        return _as_id(self.static)

    @property
    def current_id(self) -> int | None:
        return _as_id(self.current)


def read_claims(claims: Iterable[KubeObject]) -> list[ClaimEntry]:
    """The package's VLANClaims (`claims`: resources of that kind only)."""
    return [
        ClaimEntry(obj, index=obj.get(INDEX_FIELD), static=obj.get(STATIC_FIELD),
                   current=obj.get(STATUS_FIELD))
        for obj in claims
    ]


def new_claim(interface: KubeObject, namespace: str, index: str) -> ClaimEntry:
    """The claim an Interface needs: named as its NAD (`_claim.request_name`), on its
    cluster's index; local config (no controller reads it here), owned by the Interface."""
    metadata = inherited_metadata(interface, request_name(interface), namespace)
    metadata["annotations"] = claim_annotations(interface)
    instance = interface.get("spec.networkInstance.name")
    if deployment_of(interface) is not None and isinstance(instance, str) and instance:
        metadata["annotations"][BRIDGE_DOMAIN_ANNOTATION] = f"{instance}-{index}-bd"
    obj = KubeObject.from_dict({
        "apiVersion": CLAIM_API_VERSION,
        "kind": CLAIM_KIND,
        "metadata": metadata,
        "spec": {"vlanIndex": {"name": index}},
    })
    return ClaimEntry(obj, new=True, index=index, interface=interface)


def check_claims(claims: list[ClaimEntry], book: IndexBook) -> list[Problem]:
    """What can be told without allocating: index named and known, IDs that are integers,
    one claim per namespace/name. A claim with a problem is marked `failed`."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for entry in claims:
        found: list[Problem] = []
        obj = entry.obj
        if (entry.namespace, entry.name) in seen:
            found.append(Problem("a second VLANClaim of this name and namespace in the package",
                                 obj, "metadata.name"))
        seen.add((entry.namespace, entry.name))
        shapes = [Problem(f"expected a map, got {_kind(obj.get(path))}", obj, path)
                  for path in _MAPS if not isinstance(obj.get(path, {}), dict)]
        if shapes:
            found.extend(shapes[:1])  # the outermost: the ones inside cannot be reached
        elif not isinstance(entry.index, str) or not entry.index:
            found.append(Problem("is required: the name of the VLAN index to allocate from",
                                 obj, INDEX_FIELD))
        elif book.lookup(entry.index) is None:
            found.append(Problem(book.unknown(entry.index), obj, INDEX_FIELD))
        for value, where in ((entry.static, STATIC_FIELD), (entry.current, STATUS_FIELD)):
            if value is not None and _as_id(value) is None:
                found.append(Problem(f"VLAN ID {value!r} is not an integer", obj, where))
        entry.failed = bool(found)
        problems.extend(found)
    return problems


def _as_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kind(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
             list: "a list"}
    return names.get(type(value), "null" if value is None else type(value).__name__)
