"""One owner key in the ledger for ipam-inject and vlan-assign, `<cluster>/<package>/<ns>/<claim>`:
two packages of one cluster holding claims of the same name (a UPF's and an SMF's `n4`) get
an answer each; a ledger written by the previous schema is migrated and keeps its answers.

Everything runs through the real functions on ResourceLists that carry their package (a
root Kptfile, or only the `kptfile.kpt.dev` package context).
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import netaddr  # type: ignore[import-untyped,unused-ignore]
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn import ResourceList
from krmfn_catalog.allocation.sqlite_ledger import SCHEMA_VERSION, SqliteLedger
from krmfn_catalog.ipam_inject import ipam_inject
from krmfn_catalog.vlan_assign import vlan_assign

NETWORK = """\
apiVersion: infra.nephio.org/v1alpha1
kind: Network
metadata:
  name: vpc
spec:
  routingTables:
  - name: vpc
    prefixes:
    - prefix: 10.0.0.0/16
    - prefix: 10.128.0.0/12
      labels:
        nephio.org/prefix-kind: pool
"""


def package(name: str, cluster: str, claims: list[tuple[str, str]], *,
            how: str = "kptfile", namespace: str = "core") -> str:
    """The resources of a package `name` on `cluster`, with an IPClaim (of the given kind)
    and a VLANClaim per claim name."""
    docs = [NETWORK,
            "apiVersion: infra.nephio.org/v1alpha1\nkind: WorkloadCluster\nmetadata:\n"
            f"  name: {cluster}\nspec:\n  clusterName: {cluster}\n"]
    if how == "kptfile":
        docs.append(f"apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: {name}\n"
                    "  annotations:\n    config.kubernetes.io/path: Kptfile\n")
    elif how == "context":
        docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n"
                    f"data:\n  name: {name}\n")
    for claim, kind in claims:
        length = "\n  prefixLength: 28" if kind == "pool" else ""
        docs.append("apiVersion: ipam.resource.nephio.org/v1alpha1\nkind: IPClaim\nmetadata:\n"
                    f"  name: {claim}\n  namespace: {namespace}\nspec:\n  kind: {kind}\n"
                    f"  networkInstance:\n    name: vpc{length}\n")
        docs.append("apiVersion: vlan.resource.nephio.org/v1alpha1\nkind: VLANClaim\n"
                    f"metadata:\n  name: {claim}\n  namespace: {namespace}\nspec:\n"
                    f"  vlanIndex:\n    name: {cluster}\n")
    return "---\n".join(docs)


def run(resources: str, ledger: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """ipam-inject, then vlan-assign, each with the ledger; (answers by claim, results)."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
              "data": {"ledger": str(ledger)}}
    text = yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                           "items": list(yaml.safe_load_all(resources)),
                           "functionConfig": config})
    results: list[dict[str, Any]] = []
    for fn in (ipam_inject, vlan_assign):
        out = fn.run_text(text)
        assert out.exit_code == 0, out.stdout + out.stderr
        text = out.stdout
        results += yaml.safe_load(text).get("results") or []
    answers: dict[str, Any] = {}
    for obj in ResourceList.parse(text).items:
        if obj.kind == "IPClaim":
            answers[f"ip {obj.name}"] = obj.get("status.prefix")
        elif obj.kind == "VLANClaim":
            answers[f"vlan {obj.name}"] = obj.get("status.vlanID")
    return answers, results



NAMES = ["n3", "n4", "n6"]


@settings(max_examples=25, deadline=None)
@given(packages=st.lists(
    st.tuples(st.sampled_from(["upf", "smf", "amf", "nrf"]), st.sampled_from(["c1", "c2"]),
              st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(["network", "pool"])),
                       min_size=1, max_size=3, unique_by=lambda c: c[0]),
              st.sampled_from(["kptfile", "context"])),
    min_size=2, max_size=5, unique_by=lambda p: (p[0], p[1])))
def test_packages_of_one_cluster_never_share_an_answer(
        packages: list[tuple[str, str, list[tuple[str, str]], str]]) -> None:
    """Packages of one or two clusters, the same claim names in several of them, on one
    ledger: no address, block or (per cluster's index) VLAN ID is handed out twice."""
    with tempfile.TemporaryDirectory() as name:
        ledger = Path(name) / "ledger.sqlite"
        taken: list[tuple[str, str, netaddr.IPNetwork]] = []
        vlans: dict[tuple[str, int], str] = {}
        for pkg, cluster, claims, how in packages:
            answers, _ = run(package(pkg, cluster, claims, how=how), ledger)
            kinds = dict(claims)
            for claim, _ in claims:
                prefix = netaddr.IPNetwork(answers[f"ip {claim}"])
                block = prefix if kinds[claim] == "pool" else netaddr.IPNetwork(f"{prefix.ip}/32")
                for who, _, other in taken:
                    assert block not in other and other not in block, \
                        f"{cluster}/{pkg}/{claim} {block} and {who} {other}"
                taken.append((f"{cluster}/{pkg}/{claim}", cluster, block))
                vlan = (cluster, answers[f"vlan {claim}"])
                assert vlan not in vlans, f"{cluster}/{pkg}/{claim} and {vlans[vlan]}"
                vlans[vlan] = f"{cluster}/{pkg}/{claim}"
        SqliteLedger(ledger).close()


def test_the_upf_and_the_smf_each_get_their_own_n4(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    upf, _ = run(package("upf", "edge-01", [("n4", "network")]), ledger)
    smf, _ = run(package("smf", "edge-01", [("n4", "network")]), ledger)
    assert upf["ip n4"] != smf["ip n4"]
    assert upf["vlan n4"] != smf["vlan n4"]
    with sqlite3.connect(ledger) as db:
        rows = sorted(db.execute("SELECT owner, cluster, package, claim FROM ip_allocations"
                                 " WHERE kind = 'network'"))
    db.close()
    assert rows == [("edge-01/smf/core/n4", "edge-01", "smf", "core/n4"),
                    ("edge-01/upf/core/n4", "edge-01", "upf", "core/n4")]


def test_a_package_rendered_again_without_statuses_gets_its_answers_back(
        tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    claims = [("n3", "network"), ("n4", "pool"), ("n6", "network")]
    first = {p: run(package(p, "edge-01", claims), ledger)[0] for p in ("upf", "smf")}
    again = {p: run(package(p, "edge-01", claims), ledger)[0] for p in ("smf", "upf")}
    assert again == first


# -- a ledger of the previous schema ----------------------------------------------------

# The layout version 2 wrote, as SQL: the file a ledger user has today.
V2_SCHEMA = [
    """CREATE TABLE ip_allocations (
        owner TEXT PRIMARY KEY, instance TEXT NOT NULL, kind TEXT NOT NULL,
        prefix TEXT NOT NULL, gateway TEXT, version INTEGER, host INTEGER NOT NULL,
        first BLOB, last BLOB, UNIQUE (instance, prefix))""",
    "CREATE INDEX ip_allocations_by_place ON ip_allocations (instance, version, host, first)",
    """CREATE TABLE vlan_allocations (
        owner TEXT PRIMARY KEY, vlan_index TEXT NOT NULL, vlan_id INTEGER NOT NULL,
        UNIQUE (vlan_index, vlan_id))""",
    """CREATE TABLE taken_runs (space TEXT NOT NULL, first BLOB NOT NULL, last BLOB NOT NULL,
        PRIMARY KEY (space, first)) WITHOUT ROWID""",
    "PRAGMA application_id = 1802661222",
    "PRAGMA user_version = 2",
]


def _num(address: str) -> bytes:
    return int(netaddr.IPAddress(address)).to_bytes(16, "big")


def write_v2_ledger(path: Path) -> None:
    """What the previous version recorded for a UPF and an SMF of cluster edge-01: IP keys
    without the package (the two `n4`s shared 10.0.0.2), VLAN keys with it; and a pool
    of another cluster."""
    db = sqlite3.connect(path)
    for statement in V2_SCHEMA:
        db.execute(statement)
    ip = [
        ("subnet|vpc|edge-01||ipv4", "subnet", "10.0.0.0/24", None, 0, "10.0.0.0", "10.0.0.255"),
        ("edge-01/core/n4", "network", "10.0.0.2/24", "10.0.0.1", 1, "10.0.0.2", "10.0.0.2"),
        ("edge-01/core/n3", "network", "10.0.0.3/24", "10.0.0.1", 1, "10.0.0.3", "10.0.0.3"),
        ("edge-02/core/n6", "pool", "10.128.0.0/28", None, 0, "10.128.0.0", "10.128.0.15"),
    ]
    for key, kind, prefix, gateway, host, first, last in ip:
        db.execute("INSERT INTO ip_allocations VALUES (?, 'vpc', ?, ?, ?, 4, ?, ?, ?)",
                   (key, kind, prefix, gateway, host, _num(first), _num(last)))
    runs = [("ip4 vpc", "10.0.0.0", "10.0.0.255"), ("ip4 vpc", "10.128.0.0", "10.128.0.15"),
            ("vlan edge-01", "0.0.0.2", "0.0.0.3")]
    for space, first, last in runs:
        db.execute("INSERT INTO taken_runs VALUES (?, ?, ?)", (space, _num(first), _num(last)))
    db.executemany("INSERT INTO vlan_allocations VALUES (?, 'edge-01', ?)",
                   [("edge-01/upf/core/n4", 2), ("edge-01/upf/core/n3", 3)])
    db.commit()
    db.close()


def test_a_ledger_of_the_previous_schema_is_migrated_and_keeps_its_answers(
        tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    write_v2_ledger(ledger)
    # The UPF, rendered again from its blueprint (no statuses): what it held before.
    upf, _ = run(package("upf", "edge-01", [("n3", "network"), ("n4", "network")]), ledger)
    assert upf == {"ip n3": "10.0.0.3/24", "ip n4": "10.0.0.2/24", "vlan n3": 3, "vlan n4": 2}
    # The SMF shared the UPF's n4 under the old key: now it gets one of its own.
    smf, _ = run(package("smf", "edge-01", [("n4", "network")]), ledger)
    assert smf["ip n4"] not in ("10.0.0.2/24", "10.0.0.3/24")
    assert smf["vlan n4"] not in (2, 3)
    with sqlite3.connect(ledger) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        rows = dict(((owner, (cluster, package, claim)) for owner, cluster, package, claim
                     in db.execute("SELECT owner, cluster, package, claim FROM ip_allocations")))
    db.close()
    assert rows["edge-01/upf/core/n4"] == ("edge-01", "upf", "core/n4")
    assert "edge-01/core/n4" not in rows  # adopted by the UPF, under the new key
    assert rows["edge-02/core/n6"] == ("edge-02", "", "core/n6")  # untouched, still held
    assert rows["subnet|vpc|edge-01||ipv4"] == ("edge-01", "", "")
    # The other cluster's pool is still taken: a new claim there does not get it.
    other, _ = run(package("upf", "edge-02", [("n9", "pool")]), ledger)
    assert other["ip n9"] != "10.128.0.0/28"


def test_the_migration_reads_every_old_key_shape(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    write_v2_ledger(ledger)
    db = sqlite3.connect(ledger)
    db.executemany("INSERT INTO vlan_allocations VALUES (?, ?, ?)",
                   [("pkg-only/core/x", "i", 7), ("a/b/c/ns/y", "i", 8)])
    db.commit()
    db.close()
    SqliteLedger(ledger).close()
    with sqlite3.connect(ledger) as db:
        vlan = {row[0]: row[1:] for row in
                db.execute("SELECT owner, cluster, package, claim FROM vlan_allocations")}
    db.close()
    assert vlan == {"edge-01/upf/core/n4": ("edge-01", "upf", "core/n4"),
                    "edge-01/upf/core/n3": ("edge-01", "upf", "core/n3"),
                    "pkg-only/core/x": ("", "pkg-only", "core/x"),
                    "a/b/c/ns/y": ("a", "b/c", "ns/y")}
