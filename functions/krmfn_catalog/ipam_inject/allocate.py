"""The bridge to the allocation core: claims in, answers (or per-claim errors) out.

The core is imported here, on first use, and the ledger's database module only when a
ledger is configured: a package without claims never pays for either.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from krmfn import Field, FunctionError, ResourceList, Result

from krmfn_catalog.allocation.owner import PackageOwner, owner_key

from .claims import CLUSTER_LABEL, Claim
from .site import Pools

__all__ = ["Answers", "LedgerUnusable", "allocate", "check_ledger_keys"]

# owner key -> (status.prefix, status.gateway)
Answers = dict[str, tuple[str, str | None]]

# Where in the claim the core's complaint points, by the words it uses.
_FIELDS = (
    ("static prefix", "spec.prefix"),
    ("status prefix", "status.prefix"),
    ("prefixLength", "spec.prefixLength"),
    ("loopback claim is a", "spec.prefixLength"),
    ("address family", "spec.addressFamily"),
    ("kind ", "spec.kind"),
)


class LedgerUnusable(FunctionError):
    """The ledger cannot be used: the run stops, reported on the config's `ledger`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.result = Result(message, field=Field("functionConfig.ledger"))


def check_ledger_keys(rl: ResourceList, claims: Sequence[Claim]) -> None:
    """A shared ledger tells sites apart by cluster: a claim without one would share its
    answer with every other cluster-less site."""
    for claim in claims:
        if not claim.cluster:
            rl.error("a shared ledger needs the claim's cluster: set spec.selector.matchLabels"
                     f"[{CLUSTER_LABEL}], add a WorkloadCluster, or set clusterName in the "
                     "function config", claim.obj, field="spec.selector.matchLabels")


def allocate(rl: ResourceList, claims: Sequence[Claim], pools: Pools,
             ledger_path: str, owner: PackageOwner | None = None) -> Answers | None:
    """Answer every claim, or report each failure on its claim and return None.

    In the ledger a claim is filed under `owner_key(cluster, package, namespace, name)`;
    with a known package (`owner`), what the ledger holds for it and no claim asks for is
    released, and said so in an info result."""
    from krmfn_catalog.allocation.ipam import IPClaimRequest, PoolPrefix, allocate_ips
    from krmfn_catalog.allocation.ledger import IPRecord, LedgerError

    given = _given(rl, claims, pools)
    if given is None:
        return None
    claims = [c for c in claims if c.key not in given]
    package = owner.package if owner is not None else ""
    instances = {name: [PoolPrefix(prefix, labels) for prefix, labels in prefixes]
                 for name, prefixes in pools.items()}
    keys = {owner_key(c.cluster, package, c.namespace, c.name): c for c in claims}
    requests = [
        IPClaimRequest(key=key, namespace=c.namespace, name=c.name, instance=c.instance,
                       kind=c.kind, family=c.family, prefix_length=c.prefix_length,
                       cluster=c.cluster or None, network_name=c.network_name,
                       static_prefix=c.static_prefix, current_prefix=c.current_prefix,
                       current_gateway=c.current_gateway, package=package or None)
        for key, c in keys.items()
    ]
    try:
        if ledger_path:
            from krmfn_catalog.allocation.backends import is_postgres, open_ledger

            location = ledger_path if is_postgres(ledger_path) else _resolve(ledger_path)
            result = allocate_ips(instances, requests, open_ledger(location), owner=owner)
        else:
            result = allocate_ips(instances, requests)
    except LedgerError as exc:
        raise LedgerUnusable(str(exc)) from None
    if result.ok:
        for record in result.released:
            if isinstance(record, IPRecord):
                what = f"IPClaim {record.claim}" if record.claim else f"subnet of {record.key}"
                rl.info(f"ledger: released {record.prefix} in network instance "
                        f"{record.instance!r} of {what} (no longer in the package)")
        return {**given, **{keys[key].key: (answer.prefix, answer.gateway)
                            for key, answer in result.allocations.items()}}
    for error in result.errors:
        claim = keys[error.key]
        message = error.message.removeprefix(f"{claim.namespace}/{claim.name}: ")
        if claim.new and claim.source is not None:
            message += f" (IPClaim {claim.name} to be created for {claim.source.kind} " \
                       f"{claim.source.name})"
        rl.error(message, claim.obj, field=_field_of(message))
    return None


def _given(rl: ResourceList, claims: Sequence[Claim], pools: Pools) -> Answers | None:
    """The statuses taken as they are: claims on a network instance the package does not
    define (allocated upstream, by Nephio's IPAM), so nothing here can check them. They
    stay out of the allocation and the ledger, and each gets a warning saying so. None
    after reporting a status that is not an address."""
    from krmfn_catalog.allocation.ipam import parse_network

    out: Answers = {}
    bad = False
    for claim in claims:
        if claim.instance in pools or claim.current_prefix is None:
            continue  # allocated here, or an unknown instance with nothing to take
        if claim.key in out:  # the allocator tells such twins apart; nothing does here
            rl.error(f"a second IPClaim named {claim.name!r} in this namespace", claim.obj,
                     field="metadata.name")
            bad = True
            continue
        for field, text in (("status.prefix", claim.current_prefix),
                            ("status.gateway", claim.current_gateway)):
            if text is not None and parse_network(text) is None:
                rl.error(f"{text!r} is not an IP address or prefix", claim.obj, field=field)
                bad = True
        out[claim.key] = (claim.current_prefix, claim.current_gateway)
        rl.warning(f"network instance {claim.instance!r} is not defined in this package: "
                   f"status {claim.current_prefix} is taken as given, not verified",
                   claim.obj, field="status.prefix")
    return None if bad else out


def _field_of(message: str) -> str:
    for words, field in _FIELDS:
        if words in message:
            return field
    return "spec.networkInstance.name"


def _resolve(path: str) -> str:
    return os.path.abspath(os.path.expanduser(path))
