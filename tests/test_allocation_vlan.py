"""The VLAN allocator: each rule of the allocation model, its errors, and its invariants."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from krmfn_catalog.allocation.ledger import PackageLedger
from krmfn_catalog.allocation.results import AllocationResult
from krmfn_catalog.allocation.vlan import (
    VLANAllocation,
    VLANClaimRequest,
    VLANIndex,
    allocate_vlans,
)

INDEXES = {
    "edge-01": VLANIndex(),
    "fabric": VLANIndex(ranges=((100, 104), (200, 201)), reserved=frozenset({101})),
}


def claim(name: str, index: str = "edge-01", **fields: object) -> VLANClaimRequest:
    values: dict[str, object] = {"namespace": "default"}
    values.update(fields)
    key = f"{index}/{values['namespace']}/{name}"
    return VLANClaimRequest(key=key, name=name, index=index, **values)  # type: ignore[arg-type]


def ids(result: AllocationResult[VLANAllocation]) -> dict[str, int]:
    return {key.split("/")[-1]: a.vlan_id for key, a in result.allocations.items()}


def errors(result: AllocationResult[VLANAllocation]) -> dict[str, str]:
    return {error.key.split("/")[-1]: error.message for error in result.errors}


def fed_back(
    claims: list[VLANClaimRequest], result: AllocationResult[VLANAllocation]
) -> list[VLANClaimRequest]:
    out = []
    for request in claims:
        answer = result.allocations.get(request.key)
        out.append(
            request if answer is None else dataclasses.replace(request, current_id=answer.vlan_id)
        )
    return out


def test_lowest_free_ids_in_namespace_and_name_order() -> None:
    result = allocate_vlans(
        INDEXES,
        [claim("n6"), claim("n3"), claim("n4"), claim("a", namespace="other")],
    )
    assert result.ok
    assert ids(result) == {"n3": 2, "n4": 3, "n6": 4, "a": 5}


def test_ranges_and_reserved_ids_limit_what_is_handed_out() -> None:
    result = allocate_vlans(INDEXES, [claim(f"c{i}", "fabric") for i in range(6)])
    assert ids(result) == {"c0": 100, "c1": 102, "c2": 103, "c3": 104, "c4": 200, "c5": 201}


def test_ids_are_unique_per_index_not_across_indexes() -> None:
    indexes = {"edge-01": VLANIndex(), "edge-02": VLANIndex()}
    result = allocate_vlans(indexes, [claim("n3", "edge-01"), claim("n3", "edge-02")])
    assert sorted(result.allocations.values(), key=lambda a: a.key) == [
        VLANAllocation("edge-01/default/n3", 2),
        VLANAllocation("edge-02/default/n3", 2),
    ]


def test_valid_status_is_kept_and_static_is_honoured() -> None:
    result = allocate_vlans(
        INDEXES, [claim("a"), claim("b", current_id=100), claim("c", static_id=2)]
    )
    assert result.ok
    assert ids(result) == {"a": 3, "b": 100, "c": 2}


@pytest.mark.parametrize(
    ("current", "expected"),
    [(0, 2), (4095, 2), (1, 2), (101, 2)],
    ids=["zero", "above-4094", "outside-ranges", "reserved"],
)
def test_status_that_no_longer_fits_is_replaced(current: int, expected: int) -> None:
    indexes = {"edge-01": VLANIndex(reserved=frozenset({101}))}
    result = allocate_vlans(indexes, [claim("a", current_id=current)])
    assert result.ok
    assert ids(result) == {"a": expected}


def test_status_inside_the_ranges_is_kept() -> None:
    result = allocate_vlans(INDEXES, [claim("a", current_id=4094)])
    assert ids(result) == {"a": 4094}


@pytest.mark.parametrize(
    ("static", "message"),
    [
        (0, "out of range 1-4094"),
        (4095, "out of range 1-4094"),
        (1, "outside the ranges of VLAN index 'edge-01'"),
        (99, "reserved in VLAN index 'edge-01'"),
        ("100", "is not an integer"),
        (True, "is not an integer"),
    ],
)
def test_static_that_cannot_be_honoured_is_an_error(static: object, message: str) -> None:
    indexes = {"edge-01": VLANIndex(reserved=frozenset({99}))}
    result = allocate_vlans(indexes, [claim("s", static_id=static), claim("fine")])
    assert ids(result) == {"fine": 2}
    assert message in errors(result)["s"]


def test_two_claims_on_one_static_id_fail_the_later_one() -> None:
    result = allocate_vlans(INDEXES, [claim("b", static_id=7), claim("a", static_id=7)])
    assert ids(result) == {"a": 7}
    assert errors(result) == {"b": "default/b: static VLAN ID 7 is held by claim default/a"}


def test_two_claims_carrying_one_status_fail_the_later_one() -> None:
    result = allocate_vlans(INDEXES, [claim("a", current_id=7), claim("b", current_id=7)])
    assert ids(result) == {"a": 7}
    assert "held by claim default/a" in errors(result)["b"]


def test_static_wins_over_another_claims_status_which_then_fails() -> None:
    result = allocate_vlans(INDEXES, [claim("a", current_id=7), claim("b", static_id=7)])
    assert ids(result) == {"b": 7}
    assert "held by claim default/b" in errors(result)["a"]


def test_exhaustion_fails_only_the_claims_that_do_not_fit() -> None:
    indexes = {"tiny": VLANIndex(ranges=((10, 11),))}
    result = allocate_vlans(indexes, [claim(f"c{i}", "tiny") for i in range(3)])
    assert ids(result) == {"c0": 10, "c1": 11}
    assert errors(result) == {"c2": "default/c2: no free VLAN ID left in VLAN index 'tiny'"}


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ("nowhere", "unknown VLAN index 'nowhere'"),
        ("zero", "bad range (0, 10)"),
        ("big", "bad range (4000, 4095)"),
        ("upside-down", "bad range (20, 10)"),
    ],
)
def test_bad_indexes_fail_their_claims_only(index: str, message: str) -> None:
    indexes = {
        "edge-01": VLANIndex(),
        "zero": VLANIndex(ranges=((0, 10),)),
        "big": VLANIndex(ranges=((4000, 4095),)),
        "upside-down": VLANIndex(ranges=((20, 10),)),
    }
    result = allocate_vlans(indexes, [claim("x", index), claim("fine")])
    assert ids(result) == {"fine": 2}
    assert message in errors(result)["x"]


def test_duplicate_owner_keys_are_an_error() -> None:
    a = claim("a")
    result = allocate_vlans(INDEXES, [a, dataclasses.replace(a, name="twin")])
    assert ids(result) == {"a": 2}
    assert [e.key for e in result.errors] == [a.key]


def test_nothing_is_recorded_when_any_claim_fails() -> None:
    ledger = PackageLedger()
    result = allocate_vlans(INDEXES, [claim("fine"), claim("x", "nowhere")], ledger)
    assert result.allocations and result.errors
    assert ledger.vlan == {}


def test_answers_do_not_depend_on_input_order() -> None:
    claims = [claim(f"c{i}", current_id=10 + i % 3) for i in range(10)]
    claims += [claim(f"s{i}", static_id=20 + i) for i in range(3)]
    first = allocate_vlans(INDEXES, claims)
    for seed in range(5):
        shuffled = claims[:]
        random.Random(seed).shuffle(shuffled)
        assert allocate_vlans(INDEXES, shuffled) == first


def test_sites_sharing_a_ledger_never_collide_and_get_their_own_ids_back() -> None:
    ledger = PackageLedger()
    upf = [claim("upf-n3", "fabric"), claim("upf-n6", "fabric")]
    smf = [claim("smf-n4", "fabric")]
    first = allocate_vlans(INDEXES, upf, ledger)
    second = allocate_vlans(INDEXES, smf, ledger)
    assert ids(first) == {"upf-n3": 100, "upf-n6": 102}
    assert ids(second) == {"smf-n4": 103}
    assert allocate_vlans(INDEXES, upf, ledger) == first
    # a status copied from the upf package is moved, not shared
    copied = allocate_vlans(INDEXES, [claim("smf-n6", "fabric", current_id=102)], ledger)
    assert ids(copied) == {"smf-n6": 104}
    # a static request on an ID another package holds is an error
    clash = allocate_vlans(INDEXES, [claim("smf-n2", "fabric", static_id=100)], ledger)
    assert "held by owner fabric/default/upf-n3" in errors(clash)["smf-n2"]


def test_own_ledger_record_that_no_longer_fits_is_replaced() -> None:
    ledger = PackageLedger()
    allocate_vlans(INDEXES, [claim("a", "fabric")], ledger)
    narrowed = {"fabric": VLANIndex(ranges=((300, 310),))}
    assert ids(allocate_vlans(narrowed, [claim("a", "fabric")], ledger)) == {"a": 300}


@st.composite
def claim_sets(draw: st.DrawFn) -> list[VLANClaimRequest]:
    claims = []
    for i in range(draw(st.integers(1, 12))):
        vlan = st.one_of(st.none(), st.integers(95, 205))
        static, current = draw(vlan), draw(vlan)
        claims.append(
            VLANClaimRequest(
                key=f"k{i}",
                namespace=draw(st.sampled_from(["a", "b"])),
                name=f"c{i}",
                index=draw(st.sampled_from(["edge-01", "fabric"])),
                static_id=static if draw(st.integers(0, 3)) == 0 else None,
                current_id=current,
            )
        )
    return claims


@settings(max_examples=300, deadline=None)
@given(claim_sets(), st.randoms(use_true_random=False))
def test_random_claim_sets_get_unique_allowed_ids_and_are_stable(
    claims: list[VLANClaimRequest], rnd: random.Random
) -> None:
    first = allocate_vlans(INDEXES, claims)
    by_key = {c.key: c for c in claims}
    seen: set[tuple[str, int]] = set()
    for key, answer in first.allocations.items():
        request = by_key[key]
        index = INDEXES[request.index]
        assert any(low <= answer.vlan_id <= high for low, high in index.ranges)
        assert answer.vlan_id not in index.reserved
        assert (request.index, answer.vlan_id) not in seen
        seen.add((request.index, answer.vlan_id))
        if request.static_id is not None:
            assert answer.vlan_id == request.static_id
    assert len(first.allocations) + len(first.errors) == len(claims)
    shuffled = claims[:]
    rnd.shuffle(shuffled)
    assert allocate_vlans(INDEXES, shuffled) == first
    event("all claims answered" if first.ok else "some claims failed")
    if first.ok:
        assert allocate_vlans(INDEXES, fed_back(shuffled, first)) == first
