"""A session's work does not grow with the number of sites in the ledger.

Work is counted in steps of SQLite's virtual machine (a progress handler), which every row
read or skipped costs, so the count is exact where a timing would be noise.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from krmfn_catalog.allocation.ipam import (
    NETWORK_NAME_LABEL,
    IPClaimRequest,
    PoolPrefix,
    allocate_ips,
)
from krmfn_catalog.allocation.sqlite_ledger import SqliteLedger
from krmfn_catalog.allocation.vlan import VLANClaimRequest, VLANIndex, allocate_vlans

INSTANCES = {
    "vpc-ran": [PoolPrefix("10.0.0.0/8", {NETWORK_NAME_LABEL: "n3"})],
    "vpc-core": [PoolPrefix("100.64.0.0/10", {NETWORK_NAME_LABEL: "n4"})],
    "vpc-internet": [
        PoolPrefix("10.0.0.0/8", {NETWORK_NAME_LABEL: "n6"}),
        PoolPrefix("100.64.0.0/10", {"nephio.org/prefix-kind": "pool"}),
    ],
}
NETWORKS = [
    ("upf-n3", "vpc-ran", "n3"),
    ("gnb-n3", "vpc-ran", "n3"),
    ("upf-n4", "vpc-core", "n4"),
    ("upf-n6", "vpc-internet", "n6"),
]
INDEXES = {f"fabric-{region}": VLANIndex() for region in range(4)}


class CountingLedger(SqliteLedger):
    """Counts the steps of every statement run on its connection, one by one."""

    steps = 0

    def _connect(self) -> sqlite3.Connection:
        connection = super()._connect()
        # Thousands of sites are recorded first; durability is not what is measured here.
        connection.execute("PRAGMA synchronous=OFF")
        connection.set_progress_handler(self._tick, 1)
        return connection

    @classmethod
    def _tick(cls) -> int:
        cls.steps += 1
        return 0  # go on


def render(site: int, ledger: SqliteLedger) -> int:
    """Allocate one site's IPs and VLANs; the steps it took."""
    cluster = f"edge-{site:05d}"
    ips = [
        IPClaimRequest(
            f"{cluster}/{name}",
            "default",
            name,
            instance,
            "network",
            "ipv4",
            24,
            cluster=cluster,
            network_name=network,
        )
        for name, instance, network in NETWORKS
    ]
    ips.append(
        IPClaimRequest(
            f"{cluster}/ue-pool",
            "default",
            "ue-pool",
            "vpc-internet",
            "pool",
            "ipv4",
            24,
            cluster=cluster,
        )
    )
    vlans = [
        VLANClaimRequest(f"{cluster}/vlan-{n}", "default", f"vlan-{n}", f"fabric-{site % 4}")
        for n in ("n3", "n4", "n6")
    ]
    before = CountingLedger.steps
    assert allocate_ips(INSTANCES, ips, ledger).ok
    assert allocate_vlans(INDEXES, vlans, ledger).ok
    return CountingLedger.steps - before


def whole_pool_read(ledger: SqliteLedger) -> int:
    before = CountingLedger.steps
    with ledger.session() as session:
        session.ip_records("vpc-ran")
    return CountingLedger.steps - before


def test_a_sites_session_costs_the_same_with_50_or_1500_sites_recorded(tmp_path: Path) -> None:
    ledger = CountingLedger(tmp_path / "ledger.sqlite")
    costs: dict[int, tuple[int, int, int]] = {}
    recorded = 0
    for size in (50, 1500):
        while recorded < size:
            render(recorded, ledger)
            recorded += 1
        new_site = render(100_000 + size, ledger)  # one more site, allocated afresh
        rerender = render(7, ledger)  # an early site rendered again: its own records back
        costs[size] = (new_site, rerender, whole_pool_read(ledger))
    (small_new, small_again, small_read), (large_new, large_again, large_read) = costs.values()
    # the count does see the ledger's size: reading a whole pool grows with it ...
    assert large_read > 10 * small_read
    # ... but what one site asks for does not (a little slack for deeper indexes)
    assert large_new <= 1.2 * small_new, costs
    assert large_again <= 1.2 * small_again, costs
