"""The IP allocator: each rule of the allocation model, its errors, and its invariants."""

from __future__ import annotations

import dataclasses
import random

import netaddr
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from krmfn_catalog.allocation.ipam import (
    NETWORK_NAME_LABEL,
    PREFIX_KIND_LABEL,
    IPAllocation,
    IPClaimRequest,
    PoolPrefix,
    allocate_ips,
)
from krmfn_catalog.allocation.ledger import IPRecord, PackageLedger
from krmfn_catalog.allocation.results import AllocationResult

POOL = {PREFIX_KIND_LABEL: "pool"}
LOOPBACK = {PREFIX_KIND_LABEL: "loopback"}

# The shape of Nephio's free5gc blueprint networks, plus labelled loopbacks.
INSTANCES = {
    "vpc-ran": [
        PoolPrefix("172:2::/32", {NETWORK_NAME_LABEL: "n2"}),
        PoolPrefix("172.2.0.0/16", {NETWORK_NAME_LABEL: "n2"}),
        PoolPrefix("172:3::/32", {NETWORK_NAME_LABEL: "n3"}),
        PoolPrefix("172.3.0.0/16", {NETWORK_NAME_LABEL: "n3"}),
    ],
    "vpc-internet": [
        PoolPrefix("172::/32"),
        PoolPrefix("172.0.0.0/16"),
        PoolPrefix("1000::/32", POOL),
        PoolPrefix("10.0.0.0/8", POOL),
        PoolPrefix("192.168.255.0/24", LOOPBACK),
        PoolPrefix("fd00:ff::/64", LOOPBACK),
    ],
}


def claim(name: str, kind: str = "network", **fields: object) -> IPClaimRequest:
    """A claim of site edge-01 in namespace default unless told otherwise."""
    values: dict[str, object] = {
        "namespace": "default",
        "instance": "vpc-ran" if kind == "network" else "vpc-internet",
        "family": "ipv4",
        "cluster": "edge-01",
        "network_name": "n3" if kind == "network" else None,
    }
    values.update(fields)
    key = f"{values['cluster']}/{values['namespace']}/{name}"
    return IPClaimRequest(key=key, name=name, kind=kind, **values)  # type: ignore[arg-type]


def answers(result: AllocationResult[IPAllocation]) -> dict[str, tuple[str, str | None]]:
    return {key.split("/")[-1]: (a.prefix, a.gateway) for key, a in result.allocations.items()}


def errors(result: AllocationResult[IPAllocation]) -> dict[str, str]:
    return {error.key.split("/")[-1]: error.message for error in result.errors}


def fed_back(
    claims: list[IPClaimRequest], result: AllocationResult[IPAllocation]
) -> list[IPClaimRequest]:
    """The claims as the next render sees them: last answers written into their status."""
    out = []
    for request in claims:
        answer = result.allocations.get(request.key)
        if answer is not None:
            request = dataclasses.replace(
                request, current_prefix=answer.prefix, current_gateway=answer.gateway
            )
        out.append(request)
    return out


# -- pool claims -------------------------------------------------------------------------


def test_pool_claims_take_lowest_free_sub_prefixes_of_pool_labelled_prefixes() -> None:
    result = allocate_ips(
        INSTANCES,
        [claim("b", "pool", prefix_length=24), claim("a", "pool", prefix_length=16)],
    )
    assert result.ok
    # a comes first by name and takes the lowest /16; b the next free /24 after it
    assert answers(result) == {"a": ("10.0.0.0/16", None), "b": ("10.1.0.0/24", None)}


def test_pool_claims_use_any_prefix_of_the_family_when_none_is_labelled_pool() -> None:
    instances = {"vpc": [PoolPrefix("192.168.0.0/16"), PoolPrefix("2001:db8::/48")]}
    result = allocate_ips(
        instances,
        [
            claim("v4", "pool", instance="vpc", prefix_length=20),
            claim("v6", "pool", instance="vpc", family="ipv6", prefix_length=56),
        ],
    )
    assert answers(result) == {"v4": ("192.168.0.0/20", None), "v6": ("2001:db8::/56", None)}


def test_pool_claim_without_prefix_length_is_an_error() -> None:
    result = allocate_ips(INSTANCES, [claim("p", "pool")])
    assert not result.allocations
    assert "prefixLength" in errors(result)["p"]


def test_ipv6_pool_claim_draws_from_the_ipv6_pool_prefix() -> None:
    result = allocate_ips(INSTANCES, [claim("p", "pool", family="ipv6", prefix_length=48)])
    assert answers(result) == {"p": ("1000::/48", None)}


# -- loopback claims ---------------------------------------------------------------------


def test_loopback_claims_get_host_prefixes_from_loopback_labelled_prefixes() -> None:
    result = allocate_ips(
        INSTANCES,
        [
            claim("lo1", "loopback"),
            claim("lo2", "loopback"),
            claim("lo6", "loopback", family="ipv6"),
        ],
    )
    assert answers(result) == {
        "lo1": ("192.168.255.0/32", None),
        "lo2": ("192.168.255.1/32", None),
        "lo6": ("fd00:ff::/128", None),
    }


def test_loopback_claim_asking_for_a_shorter_prefix_is_an_error() -> None:
    result = allocate_ips(INSTANCES, [claim("lo", "loopback", prefix_length=24)])
    assert "/32" in errors(result)["lo"]


# -- network claims ----------------------------------------------------------------------


def test_network_claims_share_one_subnet_per_cluster_and_network() -> None:
    result = allocate_ips(
        INSTANCES,
        [
            claim("upf-n3"),
            claim("smf-n3"),
            claim("upf-n2", network_name="n2"),
            claim("upf-n3-v6", family="ipv6"),
        ],
    )
    assert result.ok
    assert answers(result) == {
        "smf-n3": ("172.3.0.2/24", "172.3.0.1"),
        "upf-n3": ("172.3.0.3/24", "172.3.0.1"),
        "upf-n2": ("172.2.0.2/24", "172.2.0.1"),
        "upf-n3-v6": ("172:3::2/64", "172:3::1"),
    }


def test_each_cluster_gets_its_own_subnet() -> None:
    result = allocate_ips(
        INSTANCES, [claim("n3", cluster="edge-01"), claim("n3", cluster="edge-02")]
    )
    assert sorted(a.prefix for a in result.allocations.values()) == ["172.3.0.2/24", "172.3.1.2/24"]


def test_network_prefix_length_overrides_the_default_subnet_size() -> None:
    result = allocate_ips(
        INSTANCES,
        [
            claim("a", prefix_length=26, cluster="edge-01"),
            claim("b", prefix_length=26, cluster="edge-02"),
        ],
    )
    assert sorted(answers(result).values()) == [
        ("172.3.0.2/26", "172.3.0.1"),
        ("172.3.0.66/26", "172.3.0.65"),
    ]


def test_network_claims_skip_pool_prefixes_and_use_unlabelled_ones() -> None:
    result = allocate_ips(INSTANCES, [claim("n6", instance="vpc-internet", network_name="n6")])
    assert answers(result) == {"n6": ("172.0.0.2/24", "172.0.0.1")}


def test_network_without_a_matching_name_label_uses_every_network_prefix() -> None:
    result = allocate_ips(INSTANCES, [claim("x", network_name="n9")])
    assert answers(result) == {"x": ("172.2.0.2/24", "172.2.0.1")}


def test_ipv4_subnet_hands_out_hosts_up_to_before_broadcast() -> None:
    instances = {"vpc": [PoolPrefix("10.9.0.0/30")]}
    result = allocate_ips(instances, [claim("a", instance="vpc", prefix_length=30)])
    assert answers(result) == {"a": ("10.9.0.2/30", "10.9.0.1")}
    full = allocate_ips(
        instances, [claim("a", instance="vpc", prefix_length=30), claim("b", instance="vpc")]
    )
    assert "no free address" in errors(full)["b"]
    assert answers(full) == {"a": ("10.9.0.2/30", "10.9.0.1")}


def test_network_prefix_length_without_room_for_hosts_is_an_error() -> None:
    result = allocate_ips(INSTANCES, [claim("a", prefix_length=31)])
    assert "no room" in errors(result)["a"]


# -- keeping what was handed out ---------------------------------------------------------


def test_valid_status_is_kept_even_when_a_lower_value_is_free() -> None:
    result = allocate_ips(
        INSTANCES,
        [
            claim("p", "pool", prefix_length=24, current_prefix="10.7.0.0/24"),
            claim("n", current_prefix="172.3.9.77/24", current_gateway="172.3.9.254"),
            claim("m"),
        ],
    )
    assert answers(result) == {
        "p": ("10.7.0.0/24", None),
        # the gateway follows from the subnet, whatever the old status said
        "n": ("172.3.9.77/24", "172.3.9.1"),
        # a new claim of the same network joins the subnet the status established
        "m": ("172.3.9.2/24", "172.3.9.1"),
    }


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (claim("p", "pool", prefix_length=24, current_prefix="172.0.5.0/24"), "10.0.0.0/24"),
        (claim("p", "pool", prefix_length=24, current_prefix="10.0.5.0/25"), "10.0.0.0/24"),
        (claim("p", "pool", prefix_length=24, current_prefix="10.0.5.7/24"), "10.0.0.0/24"),
        (claim("p", "pool", prefix_length=24, current_prefix="1000::/24"), "10.0.0.0/24"),
        (claim("n", current_prefix="172.2.0.9/24"), "172.3.0.2/24"),
        (claim("n", current_prefix="172.3.0.1/24"), "172.3.0.2/24"),
        (claim("n", current_prefix="172.3.0.255/24"), "172.3.0.2/24"),
        (claim("n", prefix_length=26, current_prefix="172.3.0.9/24"), "172.3.0.2/26"),
    ],
    ids=[
        "outside-pool",
        "wrong-length",
        "host-bits",
        "other-family",
        "other-network",
        "gateway",
        "broadcast",
        "resized",
    ],
)
def test_status_that_no_longer_fits_is_replaced(request_: IPClaimRequest, expected: str) -> None:
    result = allocate_ips(INSTANCES, [request_])
    assert result.ok
    assert result.allocations[request_.key].prefix == expected


def test_unparsable_status_is_an_error() -> None:
    result = allocate_ips(
        INSTANCES, [claim("p", "pool", prefix_length=24, current_prefix="10.0.0/24")]
    )
    assert "not an IP prefix" in errors(result)["p"]


def test_two_claims_carrying_the_same_status_is_an_error_on_the_later_one() -> None:
    result = allocate_ips(
        INSTANCES,
        [
            claim("b", "pool", prefix_length=24, current_prefix="10.4.0.0/24"),
            claim("a", "pool", prefix_length=24, current_prefix="10.4.0.0/24"),
            claim("c", current_prefix="172.3.0.5/24"),
            claim("d", current_prefix="172.3.0.5/24"),
        ],
    )
    assert answers(result) == {"a": ("10.4.0.0/24", None), "c": ("172.3.0.5/24", "172.3.0.1")}
    assert set(errors(result)) == {"b", "d"}
    assert "claim default/a" in errors(result)["b"]


def test_status_subnets_of_two_networks_may_not_overlap() -> None:
    instances = {"vpc": [PoolPrefix("10.0.0.0/16")]}
    result = allocate_ips(
        instances,
        [
            claim("a", instance="vpc", network_name="x", current_prefix="10.0.0.5/24"),
            claim("b", instance="vpc", network_name="y", current_prefix="10.0.0.6/24"),
        ],
    )
    assert answers(result) == {"a": ("10.0.0.5/24", "10.0.0.1")}
    assert "overlaps" in errors(result)["b"]


# -- static requests ---------------------------------------------------------------------


def test_static_requests_are_honoured_before_statuses_and_new_claims() -> None:
    result = allocate_ips(
        INSTANCES,
        [
            claim("a", "pool", prefix_length=24),
            claim("z", "pool", static_prefix="10.0.0.0/24"),
            claim("lo", "loopback", static_prefix="192.168.255.9"),
            claim("n", static_prefix="172.3.4.20/24"),
            claim("m"),
        ],
    )
    assert result.ok
    assert answers(result) == {
        "a": ("10.0.1.0/24", None),
        "z": ("10.0.0.0/24", None),
        "lo": ("192.168.255.9/32", None),
        "n": ("172.3.4.20/24", "172.3.4.1"),
        "m": ("172.3.4.2/24", "172.3.4.1"),
    }


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (claim("s", "pool", static_prefix="172.16.0.0/24"), "outside"),
        (claim("s", "pool", static_prefix="10.0.0.1/24"), "host bits"),
        (claim("s", "pool", static_prefix="1000::/64"), "not ipv4"),
        (claim("s", "pool", static_prefix="10.0.0.0/33"), "not an IP prefix"),
        (claim("s", "pool", static_prefix="10.0.0.0/255.255.0.0"), "not an IP prefix"),
        (claim("s", "pool", static_prefix=" 10.0.0.0/24"), "not an IP prefix"),
        (claim("s", static_prefix="172.3.0.1/24"), "gateway"),
        (claim("s", static_prefix="172.3.0.0/24"), "network, gateway or broadcast"),
        (claim("s", static_prefix="10.0.0.5/24"), "network prefix"),
        (claim("s", prefix_length=26, static_prefix="172.3.0.5/24"), "/26"),
    ],
    ids=[
        "outside-pool",
        "host-bits",
        "family",
        "length",
        "netmask",
        "blank",
        "gateway",
        "network-address",
        "pool-prefix-for-network",
        "length-mismatch",
    ],
)
def test_static_request_that_cannot_be_honoured_is_an_error(
    request_: IPClaimRequest, message: str
) -> None:
    result = allocate_ips(INSTANCES, [request_])
    assert not result.allocations
    assert message in errors(result)["s"]


def test_two_overlapping_static_requests_fail_the_later_claim() -> None:
    result = allocate_ips(
        INSTANCES,
        [
            claim("a", "pool", static_prefix="10.0.0.0/16"),
            claim("b", "pool", static_prefix="10.0.4.0/24"),
            claim("c", static_prefix="172.3.0.9/24"),
            claim("d", static_prefix="172.3.0.9/24"),
            claim("e", static_prefix="172.3.1.9/24"),
        ],
    )
    assert set(answers(result)) == {"a", "c"}
    assert "overlaps claim default/a" in errors(result)["b"]
    assert "held by claim default/c" in errors(result)["d"]
    assert "outside 172.3.0.0/24" in errors(result)["e"]


def test_static_request_wins_over_another_claims_status_which_then_fails() -> None:
    result = allocate_ips(
        INSTANCES,
        [
            claim("a", "pool", prefix_length=24, current_prefix="10.0.0.0/24"),
            claim("b", "pool", static_prefix="10.0.0.0/24"),
        ],
    )
    assert answers(result) == {"b": ("10.0.0.0/24", None)}
    assert "overlaps claim default/b" in errors(result)["a"]


# -- errors are per claim ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (claim("x", instance="vpc-nowhere"), "unknown network instance 'vpc-nowhere'"),
        (claim("x", kind="subnet"), "kind 'subnet'"),
        (claim("x", family="ipv5"), "address family 'ipv5'"),
        (claim("x", "pool", prefix_length=40), "out of range"),
        (claim("x", "pool", prefix_length=True), "out of range"),
        # a bare address in a status is placed in a subnet of the asked length: this used
        # to fail the whole run inside netaddr instead
        (claim("x", prefix_length=-1, current_prefix="172.3.0.5"), "prefixLength -1 is out"),
        (claim("x", instance="bad"), "bad prefix '10.0.0.0/33'"),
        (claim("x", instance="hosty"), "bad prefix '10.0.0.1/8'"),
        (claim("x", family="ipv6", instance="v4only"), "no ipv6 prefix"),
    ],
)
def test_bad_claims_get_errors_and_other_claims_still_get_answers(
    request_: IPClaimRequest, message: str
) -> None:
    instances = {
        **INSTANCES,
        "bad": [PoolPrefix("10.0.0.0/8"), PoolPrefix("10.0.0.0/33")],
        "hosty": [PoolPrefix("10.0.0.1/8")],
        "v4only": [PoolPrefix("10.0.0.0/8")],
    }
    result = allocate_ips(instances, [request_, claim("fine")])
    assert answers(result) == {"fine": ("172.3.0.2/24", "172.3.0.1")}
    assert message in errors(result)["x"]
    assert errors(result)["x"].startswith("default/x: ")


def test_exhaustion_fails_only_the_claims_that_do_not_fit() -> None:
    instances = {"small": [PoolPrefix("10.0.0.0/23", POOL)]}
    claims = [claim(f"p{i}", "pool", instance="small", prefix_length=24) for i in range(3)]
    result = allocate_ips(instances, claims)
    assert answers(result) == {"p0": ("10.0.0.0/24", None), "p1": ("10.0.1.0/24", None)}
    assert "no free /24" in errors(result)["p2"]


def test_duplicate_owner_keys_are_an_error() -> None:
    a = claim("a", "pool", prefix_length=24)
    twin = dataclasses.replace(a, name="twin")
    result = allocate_ips(INSTANCES, [a, twin])
    assert answers(result) == {"a": ("10.0.0.0/24", None)}
    assert [e.message for e in result.errors] == [
        "default/twin: owner key 'edge-01/default/a' is also default/a's"
    ]


def test_nothing_is_recorded_in_the_ledger_when_any_claim_fails() -> None:
    ledger = PackageLedger()
    result = allocate_ips(INSTANCES, [claim("fine"), claim("x", instance="nope")], ledger)
    assert result.allocations and result.errors
    assert ledger.ip == {}


# -- determinism and the ledger ----------------------------------------------------------


def test_answers_do_not_depend_on_input_order() -> None:
    claims = [claim(f"{kind}{i}", kind) for i in range(6) for kind in ("network", "loopback")]
    claims += [claim(f"p{i}", "pool", prefix_length=20 + i) for i in range(6)]
    first = allocate_ips(INSTANCES, claims)
    for seed in range(5):
        shuffled = claims[:]
        random.Random(seed).shuffle(shuffled)
        assert allocate_ips(INSTANCES, shuffled) == first


def test_sites_sharing_a_ledger_never_collide_and_get_their_own_answers_back() -> None:
    ledger = PackageLedger()
    site1 = [claim("n3"), claim("pool", "pool", prefix_length=24), claim("lo", "loopback")]
    site2 = [
        dataclasses.replace(c, key=c.key.replace("edge-01", "edge-02"), cluster="edge-02")
        for c in site1
    ]
    first = allocate_ips(INSTANCES, site1, ledger)
    second = allocate_ips(INSTANCES, site2, ledger)
    assert answers(second) == {
        "n3": ("172.3.1.2/24", "172.3.1.1"),
        "pool": ("10.0.1.0/24", None),
        "lo": ("192.168.255.1/32", None),
    }
    # re-rendered from the blueprint (no status): the ledger gives site 1 its answers back
    assert allocate_ips(INSTANCES, site1, ledger) == first


def test_status_copied_from_another_site_is_moved_not_shared() -> None:
    ledger = PackageLedger()
    first = allocate_ips(INSTANCES, [claim("pool", "pool", prefix_length=24), claim("n3")], ledger)
    copied = [
        claim("pool", "pool", prefix_length=24, cluster="edge-02", current_prefix="10.0.0.0/24"),
        claim(
            "n3", cluster="edge-02", current_prefix=first.allocations["edge-01/default/n3"].prefix
        ),
    ]
    result = allocate_ips(INSTANCES, copied, ledger)
    assert result.ok
    assert answers(result) == {"pool": ("10.0.1.0/24", None), "n3": ("172.3.1.2/24", "172.3.1.1")}


def test_packages_of_one_cluster_share_the_network_subnet_through_the_ledger() -> None:
    ledger = PackageLedger()
    upf = allocate_ips(INSTANCES, [claim("upf-n4", network_name="n3")], ledger)
    smf = allocate_ips(INSTANCES, [claim("smf-n4", network_name="n3")], ledger)
    assert answers(upf) == {"upf-n4": ("172.3.0.2/24", "172.3.0.1")}
    assert answers(smf) == {"smf-n4": ("172.3.0.3/24", "172.3.0.1")}


def test_own_ledger_record_that_no_longer_fits_is_replaced() -> None:
    ledger = PackageLedger()
    allocate_ips(INSTANCES, [claim("p", "pool", prefix_length=24)], ledger)
    moved = {"vpc-internet": [PoolPrefix("10.200.0.0/16", POOL)]}
    result = allocate_ips(moved, [claim("p", "pool", prefix_length=24)], ledger)
    assert answers(result) == {"p": ("10.200.0.0/24", None)}
    assert ledger.ip["edge-01/default/p"].prefix == "10.200.0.0/24"


def test_records_of_others_are_never_handed_out_even_when_the_ledger_is_damaged() -> None:
    instances = {"vpc": [PoolPrefix("10.0.0.0/24", POOL), PoolPrefix("10.1.0.0/24")]}
    ledger = PackageLedger(
        ip=[
            IPRecord("x", "vpc", "pool", "10.0.0.0/26"),
            IPRecord("y", "vpc", "pool", "10.0.0.32/26"),  # overlaps x
            IPRecord("z", "vpc", "pool", "10.0.0.64/27"),
            IPRecord("h", "vpc", "network", "10.1.0.2/24", "10.1.0.1"),  # no subnet record
            IPRecord("junk", "vpc", "pool", "not a prefix"),
        ]
    )
    claims = [
        claim("p", "pool", instance="vpc", prefix_length=27),
        claim("n", instance="vpc", network_name=None, prefix_length=30),
    ]
    result = allocate_ips(instances, claims, ledger)
    # 10.0.0.0-95 is held; the stray host 10.1.0.2 rules out the subnet 10.1.0.0/30
    assert answers(result) == {"p": ("10.0.0.96/27", None), "n": ("10.1.0.6/30", "10.1.0.5")}
    static = claim("s", instance="vpc", cluster="edge-09", static_prefix="10.1.0.2/30")
    stray = allocate_ips(instances, [static], ledger)
    assert errors(stray)["s"].endswith("its subnet overlaps owner h")


# -- properties --------------------------------------------------------------------------

# Small pools, so that claims contend and some run out.
FAMILIES = {
    "ipv4": (["10.0.0.0/22", "10.1.0.0/24"], "10.2.0.0/26", "10.3.0.0/29", (24, 30), (26, 30)),
    "ipv6": (
        ["2001:db8::/60", "2001:db8:1::/62"],
        "2001:db8:2::/120",
        "2001:db8:3::/125",
        (62, 66),
        (120, 126),
    ),
}


@st.composite
def claim_sets(draw: st.DrawFn) -> tuple[dict[str, list[PoolPrefix]], list[IPClaimRequest]]:
    family = draw(st.sampled_from(sorted(FAMILIES)))
    networks, pool, loopback, network_lengths, pool_lengths = FAMILIES[family]
    instance = [PoolPrefix(p) for p in networks]
    instance += [PoolPrefix(pool, POOL), PoolPrefix(loopback, LOOPBACK)]
    claims = []
    for i in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["network", "loopback", "pool"]))
        if kind == "network":
            length = draw(st.one_of(st.none(), st.integers(*network_lengths)))
        else:
            length = draw(st.integers(*pool_lengths)) if kind == "pool" else None
        current = None
        if draw(st.booleans()):
            # an old status somewhere in the instance: it may fit, clash, or be stale
            space = netaddr.IPNetwork(draw(st.sampled_from([*networks, pool, loopback])))
            offset = draw(st.integers(0, min(space.size - 1, 4096)))
            address = netaddr.IPAddress(space.first + offset, space.version)
            current_length = length or (24 if family == "ipv4" else 64)
            if kind == "loopback":
                current_length = 32 if family == "ipv4" else 128
            net = netaddr.IPNetwork(f"{address}/{current_length}")
            current = str(net) if kind == "network" else str(net.cidr)
        claims.append(
            IPClaimRequest(
                key=f"k{i}",
                namespace=draw(st.sampled_from(["a", "b"])),
                name=f"c{i}",
                instance="vpc",
                kind=kind,
                family=family,
                prefix_length=length,
                cluster=draw(st.sampled_from(["edge-1", "edge-2"])),
                network_name=draw(st.sampled_from(["n2", "n3", None])),
                current_prefix=current,
            )
        )
    return {"vpc": instance}, claims


def check_invariants(
    instances: dict[str, list[PoolPrefix]],
    claims: list[IPClaimRequest],
    result: AllocationResult[IPAllocation],
) -> None:
    by_key = {c.key: c for c in claims}
    prefixes = instances["vpc"]
    network_prefixes = netaddr.IPSet(p.prefix for p in prefixes if not p.labels)
    blocks: list[netaddr.IPNetwork] = []
    subnets: dict[tuple[str | None, str | None], netaddr.IPNetwork] = {}
    hosts: set[netaddr.IPAddress] = set()
    for key, answer in result.allocations.items():
        request = by_key[key]
        net = netaddr.IPNetwork(answer.prefix)
        assert net.version == (4 if request.family == "ipv4" else 6)
        if request.kind == "network":
            group = (request.cluster, request.network_name)
            subnet = subnets.setdefault(group, net.cidr)
            assert net.cidr == subnet, "one subnet per (cluster, network)"
            assert subnet in network_prefixes
            assert answer.gateway == str(netaddr.IPAddress(subnet.first + 1, subnet.version))
            assert subnet.first + 2 <= int(net.ip) <= subnet.last - (net.version == 4)
            assert net.ip not in hosts, "a host address handed out twice"
            hosts.add(net.ip)
        else:
            assert net.ip == net.network and answer.gateway is None
            assert request.prefix_length in (None, net.prefixlen)
            blocks.append(net)
            labelled = [p for p in prefixes if p.labels.get(PREFIX_KIND_LABEL) == request.kind]
            assert net in netaddr.IPSet(p.prefix for p in labelled)
    blocks.extend(subnets.values())
    for i, a in enumerate(blocks):
        for b in blocks[i + 1 :]:
            assert a.last < b.first or b.last < a.first, f"{a} overlaps {b}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_sets(), st.randoms(use_true_random=False))
def test_random_claim_sets_never_overlap_and_are_stable(
    case: tuple[dict[str, list[PoolPrefix]], list[IPClaimRequest]], rnd: random.Random
) -> None:
    instances, claims = case
    first = allocate_ips(instances, claims)
    check_invariants(instances, claims, first)
    shuffled = claims[:]
    rnd.shuffle(shuffled)
    assert allocate_ips(instances, shuffled) == first
    event("all claims answered" if first.ok else "some claims failed")
    if first.ok:  # with errors nothing is written back, so there is nothing to feed back
        again = fed_back(shuffled, first)
        assert allocate_ips(instances, again) == first


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claim_sets(), min_size=2, max_size=4))
def test_sites_drawing_on_one_ledger_never_overlap(
    cases: list[tuple[dict[str, list[PoolPrefix]], list[IPClaimRequest]]],
) -> None:
    family = cases[0][1][0].family
    instances = cases[0][0]
    ledger = PackageLedger()
    held: list[IPClaimRequest] = []
    answered = AllocationResult[IPAllocation]()
    rendered: list[tuple[list[IPClaimRequest], AllocationResult[IPAllocation]]] = []
    for site, (_, claims) in enumerate(cases):
        # one site per cluster, all in the first case's family and pools, no statuses
        claims = [
            dataclasses.replace(
                c,
                key=f"site{site}/{c.key}",
                cluster=f"site{site}",
                family=family,
                current_prefix=None,
                prefix_length=c.prefix_length if c.family == family else None,
            )
            for c in claims
            if c.kind != "pool" or c.family == family
        ]
        result = allocate_ips(instances, claims, ledger)
        if result.ok:
            held.extend(claims)
            answered.allocations.update(result.allocations)
            rendered.append((claims, result))
    check_invariants(instances, held, answered)
    for claims, result in rendered:
        assert allocate_ips(instances, claims, ledger) == result
