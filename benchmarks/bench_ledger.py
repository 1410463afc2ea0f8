"""A fleet's allocations through one SQLite ledger: throughput, and whether it stays flat.

Every site asks for what a 5G edge site of the examples asks for: four network claims on
three network instances (two share a subnet), one UE pool, and three VLAN IDs from its
region's shared VLAN index. Worker processes share nothing but the ledger file, as
`krmfn fleet render` does. A session that reads the whole pool makes the time per site
grow with the ledger; the end-to-start ratio printed at the end shows whether it does.

    .venv/bin/python benchmarks/bench_ledger.py [--sites 10000] [--workers 2]

Run on demand; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from krmfn_catalog.allocation.ipam import (
    NETWORK_NAME_LABEL,
    PREFIX_KIND_LABEL,
    IPClaimRequest,
    PoolPrefix,
    allocate_ips,
)
from krmfn_catalog.allocation.sqlite_ledger import SqliteLedger
from krmfn_catalog.allocation.vlan import VLANClaimRequest, VLANIndex, allocate_vlans

# Each network gets a /24 per site out of a prefix big enough for the whole fleet.
INSTANCES = {
    "vpc-ran": [PoolPrefix("10.0.0.0/8", {NETWORK_NAME_LABEL: "n3"})],
    "vpc-core": [PoolPrefix("100.64.0.0/10", {NETWORK_NAME_LABEL: "n4"})],
    "vpc-internet": [
        PoolPrefix("10.0.0.0/8", {NETWORK_NAME_LABEL: "n6"}),
        PoolPrefix("100.64.0.0/10", {PREFIX_KIND_LABEL: "pool"}),
    ],
}
NETWORK_CLAIMS = (  # (name, instance, network)
    ("upf-n3", "vpc-ran", "n3"),
    ("gnb-n3", "vpc-ran", "n3"),
    ("upf-n4", "vpc-core", "n4"),
    ("upf-n6", "vpc-internet", "n6"),
)
REGIONS = 10  # sites of a region share one VLAN index: 1,000 sites x 3 IDs fit in 4094
VLAN_NAMES = ("n3", "n4", "n6")
WINDOW = 500  # sites averaged for the time per site at the start and at the end


def site_ip_claims(site: int) -> list[IPClaimRequest]:
    cluster = f"edge-{site:05d}"
    claims = [
        IPClaimRequest(
            key=f"{cluster}/free5gc/{name}",
            namespace="free5gc",
            name=name,
            instance=instance,
            kind="network",
            family="ipv4",
            prefix_length=24,
            cluster=cluster,
            network_name=network,
        )
        for name, instance, network in NETWORK_CLAIMS
    ]
    claims.append(
        IPClaimRequest(
            key=f"{cluster}/free5gc/ue-pool",
            namespace="free5gc",
            name="ue-pool",
            instance="vpc-internet",
            kind="pool",
            family="ipv4",
            prefix_length=24,
            cluster=cluster,
        )
    )
    return claims


def site_vlan_claims(site: int) -> tuple[dict[str, VLANIndex], list[VLANClaimRequest]]:
    index = f"fabric-{site % REGIONS}"
    cluster = f"edge-{site:05d}"
    claims = [
        VLANClaimRequest(f"{cluster}/free5gc/vlan-{name}", "free5gc", f"vlan-{name}", index)
        for name in VLAN_NAMES
    ]
    return {index: VLANIndex()}, claims


def render_site(job: tuple[str, int]) -> tuple[float, float]:
    """One site as a function run does it: open the ledger, allocate IPs, then VLANs.

    Returns the wall time (with waiting for the other workers and for fsync) and the CPU
    time of this process (the work itself, which is what must not grow with the ledger).
    """
    path, site = job
    start, cpu = time.perf_counter(), time.process_time()
    ledger = SqliteLedger(path)
    ips = allocate_ips(INSTANCES, site_ip_claims(site), ledger)
    indexes, claims = site_vlan_claims(site)
    vlans = allocate_vlans(indexes, claims, ledger)
    if not (ips.ok and vlans.ok):
        raise RuntimeError(f"site {site}: {ips.errors + vlans.errors}")
    return time.perf_counter() - start, time.process_time() - cpu


def verify(path: str, sites: int) -> str:
    """Everything handed out is recorded once: no block, host or VLAN ID twice."""
    with SqliteLedger(path).session() as session:
        ip_records = {name: session.ip_records(name) for name in INSTANCES}
        vlan_records = [session.vlan_records(f"fabric-{r}") for r in range(REGIONS)]
    problems = []
    for name, records in ip_records.items():
        blocks = sorted(_block(r.prefix) for r in records if r.kind != "network")
        for (_, a_last), (b_first, _) in itertools.pairwise(blocks):
            if b_first <= a_last:
                problems.append(f"{name}: overlapping blocks")
        hosts = [r.prefix.split("/")[0] for r in records if r.kind == "network"]
        if len(set(hosts)) != len(hosts):
            problems.append(f"{name}: a host address twice")
    for held in vlan_records:
        if len({r.vlan_id for r in held}) != len(held):
            problems.append("a VLAN ID twice in one index")
    counted = sum(map(len, ip_records.values())), sum(map(len, vlan_records))
    subnets = len({(instance, network) for _, instance, network in NETWORK_CLAIMS})
    expected = (sites * (len(NETWORK_CLAIMS) + subnets + 1), sites * len(VLAN_NAMES))
    if counted != expected:
        problems.append(f"{counted} records, expected {expected}")
    return "; ".join(problems) or f"ok ({counted[0]} IP and {counted[1]} VLAN records)"


def _block(prefix: str) -> tuple[int, int]:
    address, length = prefix.split("/")
    value = int.from_bytes(bytes(int(part) for part in address.split(".")), "big")
    size = 1 << (32 - int(length))
    return value, value + size - 1


def _jobs(path: str, sites: int) -> Iterator[tuple[str, int]]:
    return ((path, site) for site in range(sites))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ledger", help="the ledger file (default: a new temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as scratch:
        path = args.ledger or str(Path(scratch) / "ledger.sqlite")
        SqliteLedger(path)
        times: list[tuple[float, float]] = []
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            times += pool.imap_unordered(render_site, _jobs(path, args.sites), 8)
        elapsed = time.perf_counter() - started
        window = min(WINDOW, max(1, len(times) // 4))
        print(f"sites:           {args.sites} with {args.workers} workers")
        print(f"total:           {elapsed:.1f} s, {args.sites / elapsed:.1f} sites/s")
        for what, column in (("wall", 0), ("CPU", 1)):
            first = statistics.fmean(t[column] for t in times[:window]) * 1000
            last = statistics.fmean(t[column] for t in times[-window:]) * 1000
            print(
                f"{what + ' per site:':<17}{first:.2f} ms (first {window}),"
                f" {last:.2f} ms (last {window}), end/start ratio {last / first:.2f}"
            )
        print(
            f"ledger:          {Path(path).stat().st_size / 2**20:.1f} MiB, "
            f"{verify(path, args.sites)}"
        )


if __name__ == "__main__":
    main()
