"""IP prefix allocation for IPClaims: pools, loopbacks and per-network subnets.

Claims are answered in a fixed order so the answer never depends on input order: static
requests first, then statuses that are still valid, then what the ledger remembers for the
same owner, then new allocations (by namespace/name, lowest free first). A `network` claim
gets a host address in the subnet shared by its (cluster, instance, network, family); the
subnet's first usable address is the gateway.

With a ledger and a known package (`owner`), what the ledger holds for that package and no
claim of the run asks for is released first, so a claim removed from a package frees its
address for the next one; a subnet left without hosts goes with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ._common import Holder, Rejected, Solver, in_claim_order, is_hard
from ._ip_space import (
    DEFAULT_SUBNET,
    LARGEST_SUBNET_LENGTH,
    NETWORK_NAME_LABEL,
    PREFIX_KIND_LABEL,
    Pools,
    Space,
    gateway_of,
    host_key,
    is_usable_host,
    parse_pools,
    parse_prefix,
    select_pools,
)
from ._prefix import MAX_LENGTH, PoolSet, Prefix, parse_network
from .ledger import HOST_KIND, IPRecord, Ledger, LedgerSession, VLANRecord, ip_extent
from .owner import PackageOwner, owner_key
from .results import AllocationError, AllocationResult

__all__ = [
    "ADDRESS_FAMILIES",
    "CLAIM_KINDS",
    "NETWORK_NAME_LABEL",
    "PREFIX_KIND_LABEL",
    "SUBNET_RECORD_KIND",
    "IPAllocation",
    "IPClaimRequest",
    "PoolPrefix",
    "Prefix",
    "allocate_ips",
    "free_empty_subnets",
    "parse_network",
    "subnet_key",
]

CLAIM_KINDS = ("network", "loopback", "pool")
ADDRESS_FAMILIES = ("ipv4", "ipv6")
SUBNET_RECORD_KIND = "subnet"

_VERSION = {"ipv4": 4, "ipv6": 6}


@dataclass(frozen=True)
class PoolPrefix:
    """One prefix of a network instance, with its Nephio labels."""

    prefix: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IPClaimRequest:
    """One IPClaim as the allocator needs it; its strings are checked, not trusted.

    `kind` is one of CLAIM_KINDS, `family` one of ADDRESS_FAMILIES, `key` the stable owner
    key the ledger files the answer under (`owner.owner_key`, e.g.
    "edge-01/upf/default/n3-ipv4"); `package` the package holding the claim, if known.
    `current_gateway` is informative only: the gateway always follows from the subnet.
    """

    key: str
    namespace: str
    name: str
    instance: str
    kind: str
    family: str
    prefix_length: int | None = None
    cluster: str | None = None
    network_name: str | None = None
    static_prefix: str | None = None
    current_prefix: str | None = None
    current_gateway: str | None = None
    package: str | None = None


@dataclass(frozen=True)
class IPAllocation:
    """What goes into the claim's status: `prefix`, and `gateway` for network claims."""

    key: str
    prefix: str
    gateway: str | None = None


def subnet_key(instance: str, cluster: str | None, network: str | None, family: str) -> str:
    """The ledger key of the subnet one (cluster, instance, network, family) shares.

    `|` cannot appear in Kubernetes names, so this never collides with a claim's key.
    """
    return "|".join((SUBNET_RECORD_KIND, instance, cluster or "", network or "", family))


def allocate_ips(
    instances: Mapping[str, Sequence[PoolPrefix]],
    claims: Sequence[IPClaimRequest],
    ledger: Ledger | None = None,
    *,
    owner: PackageOwner | None = None,
) -> AllocationResult[IPAllocation]:
    """Answer every claim; record the answers in the ledger only when none failed.

    `owner`, when it names a package, is the package the claims are all of: its other
    records in the ledger are released."""
    run = _Run(instances, claims)
    run.owner = owner
    return run.answer(ledger, lambda session, records: session.put_ip(records))


class _Claim:
    """One request being served (a plain class: defining a dataclass costs time at start)."""

    __slots__ = ("allocation", "current", "failed", "group", "length", "pools", "position",
                 "request", "static", "version")

    def __init__(self, position: int, request: IPClaimRequest, version: int, pools: PoolSet,
                 length: int | None, static: Prefix | None, current: Prefix | None) -> None:
        self.position, self.request, self.version, self.pools = position, request, version, pools
        self.length, self.static, self.current = length, static, current
        self.group = ""
        self.allocation: IPAllocation | None = None
        self.failed = False

    @property
    def label(self) -> str:
        return f"{self.request.namespace}/{self.request.name}"

    @property
    def pending(self) -> bool:
        return self.allocation is None and not self.failed

    def subnet_holder(self, in_package: bool) -> Holder:
        r = self.request
        network, cluster = r.network_name or "(unnamed)", r.cluster or "(none)"
        return Holder(
            f"the {r.family} subnet of network {network} for cluster {cluster}", in_package
        )


class _Run(Solver[_Claim, Prefix, IPAllocation]):
    def __init__(
        self, instances: Mapping[str, Sequence[PoolPrefix]], requests: Sequence[IPClaimRequest]
    ) -> None:
        self.instances = instances
        self.pools: dict[str, Pools | Rejected] = {}
        self.selected: dict[tuple[str, str, int, str | None], PoolSet] = {}  # shared by claims
        self.used: set[str] = set()  # the instances claims draw on
        self.spaces: dict[str, Space] = {}
        self.claims: list[_Claim] = []
        self.errors: list[tuple[int, AllocationError]] = []
        self.own: dict[str, IPRecord] = {}
        self.owner: PackageOwner | None = None
        self.released: list[IPRecord | VLANRecord] = []
        owners: dict[str, str] = {}
        for position, request in enumerate(in_claim_order(requests)):
            label = f"{request.namespace}/{request.name}"
            try:
                if request.key in owners:
                    raise Rejected(
                        f"owner key {request.key!r} is also {owners[request.key]}'s", True
                    )
                owners[request.key] = label
                self.claims.append(self._prepare(position, request))
            except Rejected as rejected:
                self.errors.append((position, AllocationError(request.key, f"{label}: {rejected}")))

    def _instance_pools(self, instance: str) -> Pools:
        if instance not in self.pools:
            prefixes = [(pool.prefix, pool.labels) for pool in self.instances[instance]]
            try:
                self.pools[instance] = parse_pools(instance, prefixes)
            except Rejected as rejected:
                self.pools[instance] = rejected
        pools = self.pools[instance]
        if isinstance(pools, Rejected):
            raise pools
        return pools

    def _prepare(self, position: int, r: IPClaimRequest) -> _Claim:
        if r.kind not in CLAIM_KINDS:
            raise Rejected(f"kind {r.kind!r} is not one of {', '.join(CLAIM_KINDS)}", True)
        if r.family not in ADDRESS_FAMILIES:
            raise Rejected(f"address family {r.family!r} is not ipv4 or ipv6", True)
        if r.instance not in self.instances:
            raise Rejected(f"unknown network instance {r.instance!r}", True)
        version = _VERSION[r.family]
        selection = (r.instance, r.kind, version, r.network_name)
        pools = self.selected.get(selection)
        if pools is None:
            pools = select_pools(self._instance_pools(r.instance), r.kind, version, r.network_name)
            self.selected[selection] = pools
        if not pools:
            message = (
                f"network instance {r.instance!r} has no {r.family} prefix for {r.kind} claims"
            )
            raise Rejected(message, True)
        static = _parse_claim_prefix(r.static_prefix, "static prefix", r)
        if static is not None and static.version != version:
            raise Rejected(f"static prefix {r.static_prefix} is not {r.family}", True)
        current = _parse_claim_prefix(r.current_prefix, "status prefix", r)
        if current is not None and current.version != version:
            current = None  # the claim changed family: its old status is void
        claim = _Claim(position, r, version, pools, _length(r, version), static, current)
        if r.kind == "network":
            claim.group = subnet_key(r.instance, r.cluster, r.network_name, r.family)
        self.used.add(r.instance)
        return claim

    def load(self, session: LedgerSession) -> None:
        """Take our own earlier answers out of the ledger; keep the subnets we share.

        What is taken out no longer counts as taken, exactly as if this package had never
        been recorded; it goes back with the new answers, or stays if the run fails (the
        session is then discarded).
        """
        keys = {claim.request.key for claim in self.claims}
        # A record filed before the package was part of the key (`<cluster>/<ns>/<name>`)
        # is adopted by the first package that asks for a claim of that name.
        legacy = {owner_key(r.cluster, None, r.namespace, r.name): r.key
                  for r in (claim.request for claim in self.claims) if r.package}
        legacy = {old: new for old, new in legacy.items() if old not in keys}
        groups: dict[str, _Claim] = {}
        for claim in self.claims:
            if claim.group:
                groups.setdefault(claim.group, claim)
        popped = session.pop_ip(keys | set(legacy) | set(groups))
        for record in popped:
            if record.key in keys:
                self.own[record.key] = record
        for record in popped:
            if record.key in legacy:
                new = legacy[record.key]
                if new in self.own or record.package:
                    session.put_ip([record])  # not ours to take: leave it as it was
                else:
                    self.own[new] = record
        self._release(session, keys)
        self.spaces = {instance: Space(session, instance) for instance in sorted(self.used)}
        for record in popped:
            if record.key in keys or record.key in legacy:
                continue
            member = groups[record.key]
            net = parse_network(record.prefix)  # written by us: no need to be strict
            if net is None:
                continue
            subnet = net.cidr
            space = self.spaces[member.request.instance]
            if (
                record.instance == member.request.instance
                and _fits_subnet(subnet, member)
                and space.holder_of(subnet, blocks_only=True) is None
            ):
                space.subnets[record.key] = subnet
                space.reserve(subnet, member.subnet_holder(in_package=False))

    def _release(self, session: LedgerSession, keys: set[str]) -> None:
        """Free what the run's package holds and none of its claims asks for; then every
        subnet those addresses were in that no address is left in."""
        owner = self.owner
        if owner is None or not owner.known:
            return
        stale = [r.key for r in session.ip_owned(owner.cluster, owner.package)
                 if r.key not in keys and r.kind != SUBNET_RECORD_KIND]
        released = session.pop_ip(stale)
        self.released = [*released, *free_empty_subnets(session, released)]

    def records(self) -> list[IPRecord]:
        records: set[IPRecord] = set()
        for claim in self.claims:
            r, answer = claim.request, claim.allocation
            if answer is None:
                continue
            records.add(IPRecord(r.key, r.instance, r.kind, answer.prefix, answer.gateway,
                                 r.cluster or "", r.package or "", f"{r.namespace}/{r.name}"))
            if claim.group:
                subnet = str(self.spaces[r.instance].subnets[claim.group])
                records.add(IPRecord(claim.group, r.instance, SUBNET_RECORD_KIND, subnet,
                                     cluster=r.cluster or ""))
        return sorted(records, key=lambda record: record.key)

    def _candidate(self, claim: _Claim, source: str) -> Prefix | None:
        if source != "ledger":
            return claim.static if source == "static" else claim.current
        r = claim.request
        record = self.own.get(r.key)
        if record is None or record.kind != r.kind or record.instance != r.instance:
            return None
        net = parse_network(record.prefix)  # written by us: no need to be strict
        return net if net is not None and net.version == claim.version else None

    def _fit(self, claim: _Claim, net: Prefix | None, source: str) -> IPAllocation:
        if claim.request.kind == "network":
            return self._fit_host(claim, net, source)
        return self._fit_block(claim, net, source)

    def _fit_block(self, claim: _Claim, net: Prefix | None, source: str) -> IPAllocation:
        r, space = claim.request, self.spaces[claim.request.instance]
        if net is None:
            if claim.length is None:
                raise Rejected("a pool claim needs a prefixLength", True)
            net = space.lowest_free(claim.pools, claim.length)
            if net is None:
                where = f"the {r.kind} prefixes of network instance {r.instance!r}"
                raise Rejected(f"no free /{claim.length} left in {where}", True)
        what = f"{source} prefix {net}"
        if net.has_host_bits:
            raise Rejected(f"{what} is not a network prefix (host bits set)", False)
        if claim.length is not None and net.length != claim.length:
            raise Rejected(f"{what} is not a /{claim.length}", False)
        if net not in claim.pools:
            raise Rejected(f"{what} is outside the {r.kind} prefixes of {r.instance!r}", False)
        holder = space.holder_of(net)
        if holder is not None:
            raise Rejected(f"{what} overlaps {holder.label}", is_hard(source, holder))
        space.reserve(net, Holder(f"claim {claim.label}", True))
        return IPAllocation(r.key, str(net))

    def _fit_host(self, claim: _Claim, net: Prefix | None, source: str) -> IPAllocation:
        r, space = claim.request, self.spaces[claim.request.instance]
        if net is not None and claim.length is not None and net.length != claim.length:
            raise Rejected(f"{source} prefix {net} is not in a /{claim.length}", False)
        subnet = space.subnets.get(claim.group)
        if subnet is None:
            subnet = self._place_subnet(claim, net, source)
        if net is None:
            if claim.length is not None and subnet.length != claim.length:
                raise Rejected(
                    f"the subnet of this network is {subnet}, not a /{claim.length}", True
                )
            net = space.lowest_free_host(subnet)
            if net is None:
                raise Rejected(f"subnet {subnet} has no free address left", True)
        what = f"{source} prefix {net}"
        if net.cidr != subnet:
            raise Rejected(f"{what} is outside {subnet}, the subnet of this network", False)
        if not is_usable_host(net, subnet):
            raise Rejected(f"{what} is the network, gateway or broadcast address", False)
        holder = space.host_holder(net)
        if holder is not None:
            label = holder.label
            raise Rejected(f"{what}: {net.address} is held by {label}", is_hard(source, holder))
        space.hosts[host_key(net)] = Holder(f"claim {claim.label}", True)
        return IPAllocation(r.key, str(net), gateway_of(subnet))

    def _place_subnet(self, claim: _Claim, net: Prefix | None, source: str) -> Prefix:
        """Give the claim's network its subnet: the one a static or status is in, or a new one."""
        r, space = claim.request, self.spaces[claim.request.instance]
        if net is None:
            length = DEFAULT_SUBNET[claim.version] if claim.length is None else claim.length
            subnet = space.lowest_free(claim.pools, length)
            if subnet is None:
                network = r.network_name or "(unnamed)"
                where = f"network {network} in network instance {r.instance!r}"
                raise Rejected(f"no free /{length} subnet left for {where}", True)
        else:
            subnet, what = net.cidr, f"{source} prefix {net}"
            if not _fits_subnet(subnet, claim):
                raise Rejected(f"{what} is not in a network prefix of {r.instance!r}", False)
            if not is_usable_host(net, subnet):
                raise Rejected(f"{what} is the network, gateway or broadcast address", False)
            holder = space.holder_of(subnet)
            if holder is not None:
                raise Rejected(
                    f"{what}: its subnet overlaps {holder.label}", is_hard(source, holder)
                )
        space.subnets[claim.group] = subnet
        space.reserve(subnet, claim.subnet_holder(in_package=True))
        return subnet


def free_empty_subnets(session: LedgerSession, released: Sequence[IPRecord]
                       ) -> list[IPRecord]:
    """Release the shared subnets that `released` addresses were in and that no address
    is left in (no claim of any package uses them any more); the subnet records freed."""
    freed: list[IPRecord] = []
    for record in released:
        net = parse_network(record.prefix) if record.kind == HOST_KIND else None
        extent = ip_extent(IPRecord("", record.instance, SUBNET_RECORD_KIND, str(net.cidr))) \
            if net is not None else None
        if extent is None:
            continue
        version, first, last = extent
        if session.ip_hosts(record.instance, version, first, last, limit=1):
            continue
        empty = [b.key for b in session.ip_blocks(record.instance, version, first, last)
                 if b.kind == SUBNET_RECORD_KIND and ip_extent(b) == extent]
        freed += session.pop_ip(empty)
    return freed


def _length(request: IPClaimRequest, version: int) -> int | None:
    asked, largest = request.prefix_length, MAX_LENGTH[version]
    if asked is not None and (type(asked) is not int or not 0 <= asked <= largest):
        raise Rejected(f"prefixLength {asked!r} is out of range for {request.family}", True)
    if request.kind == "loopback":
        if asked not in (None, largest):
            raise Rejected(f"a loopback claim is a /{largest}, not a /{asked}", True)
        return largest
    if request.kind == "network" and asked is not None and asked > LARGEST_SUBNET_LENGTH[version]:
        raise Rejected(f"prefixLength {asked} leaves no room for a gateway and a host", True)
    return asked


def _parse_claim_prefix(
    text: str | None, what: str, request: IPClaimRequest
) -> Prefix | None:
    """A bare address is a host for pools and loopbacks, an address in a subnet for networks."""
    if text is None:
        return None
    net = parse_prefix(text, what)
    if request.kind == "network" and "/" not in text:
        asked = request.prefix_length
        length = DEFAULT_SUBNET[net.version] if asked is None else asked
        net = Prefix(net.version, net.value, min(length, MAX_LENGTH[net.version]))
    return net


def _fits_subnet(subnet: Prefix, claim: _Claim) -> bool:
    return (
        subnet.version == claim.version
        and subnet.length <= LARGEST_SUBNET_LENGTH[subnet.version]
        and subnet in claim.pools
    )
