"""ipam-inject: golden cases for every rule and error, idempotency, allocation properties,
renders of many sites sharing one ledger, and Nephio's UPF blueprint under kpt."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import netaddr
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from kpt_support import (
    CONFORMANCE,
    diff,
    git,
    hunks,
    needs_kpt,
    needs_shared,
    render,
    scratch_package,
)
from krmfn import ResourceList
from krmfn.testing import GoldenCase, golden_cases, resource_list, run, run_golden
from krmfn_catalog.ipam_inject import ipam_inject

HERE = Path(__file__).resolve().parent
FUNCTION = HERE.parent / "functions" / "krmfn_catalog" / "ipam_inject"
CASES = golden_cases(FUNCTION / "testdata")
BIN = Path(sys.executable).parent


def items_text(output: str) -> list[str]:
    """The items of an output ResourceList, as YAML, results left out."""
    return [obj.to_yaml() for obj in ResourceList.parse(output).items]


def items_of(output: str) -> list[dict[str, Any]]:
    return [obj.to_dict() for obj in ResourceList.parse(output).items]


def results_of(output: str) -> list[dict[str, Any]]:
    results = yaml.safe_load(output).get("results") or []
    assert isinstance(results, list)
    return results


def of_kind(items: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in items if o["kind"] == kind}


def nad_config(nad: dict[str, Any]) -> dict[str, Any]:
    config = json.loads(nad["spec"]["config"])
    assert isinstance(config, dict)
    return config


# -- golden cases ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: GoldenCase) -> None:
    out = run_golden(ipam_inject, case)
    if out.exit_code == 0:
        # idempotent: a second run over the output changes nothing
        again = run(ipam_inject, out.stdout)
        assert again.exit_code == 0, again.stderr
        assert items_text(again.stdout) == items_text(out.stdout)
    else:
        # all or nothing: with any error the items come out exactly as they went in
        assert items_text(out.stdout) == items_text(case.input_text())
        assert any(r["severity"] == "error" for r in results_of(out.stdout))


def test_there_is_a_golden_case_for_each_rule() -> None:
    assert len(CASES) >= 20


def run_case(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    case = next(c for c in CASES if c.name == name)
    out = run(ipam_inject, case.input_text())
    return items_of(out.stdout), results_of(out.stdout)


def test_claim_errors_are_reported_on_the_claim_and_field() -> None:
    _, results = run_case("error-static-outside")
    refs = {(r["resourceRef"]["kind"], r["resourceRef"]["name"], r["field"]["path"])
            for r in results if r["severity"] == "error"}
    assert refs == {("IPClaim", "elsewhere", "spec.prefix"),
                    ("IPClaim", "in-a-pool", "spec.prefix")}


def test_an_existing_nad_keeps_every_key_it_had() -> None:
    items, _ = run_case("interface-updates")
    (nad,) = of_kind(items, "NetworkAttachmentDefinition").values()
    plugin = nad_config(nad)["plugins"][0]
    assert plugin["master"] == "eth1.100"  # set by vlan-assign
    assert plugin["capabilities"] == {"ips": True} and plugin["mtu"] == 9000
    assert plugin["ipam"]["addresses"] == [{"address": "172.3.0.2/24", "gateway": "172.3.0.1"}]
    # the claim was found by its owner annotation and follows the Interface
    claims = of_kind(items, "IPClaim")
    assert list(claims) == ["upf-n3"]
    assert claims["upf-n3"]["spec"]["networkInstance"]["name"] == "vpc-ran"


def test_a_nad_created_for_an_interface_carries_its_allocation() -> None:
    items, _ = run_case("interface-creates")
    claims = of_kind(items, "IPClaim")
    nads = of_kind(items, "NetworkAttachmentDefinition")
    # named as Nephio's interface-fn names them: the Interfaces belong to NFDeployment
    # upf-edge-01
    assert sorted(claims) == ["upf-edge-01-n3-ipv4", "upf-edge-01-n6-ipv4"] and sorted(
        nads) == ["upf-edge-01-n3", "upf-edge-01-n6"]
    for interface, nad in (("n3", "upf-edge-01-n3"), ("n6", "upf-edge-01-n6")):
        status = claims[f"upf-edge-01-{interface}-ipv4"]["status"]
        config = nad_config(nads[nad])
        assert config["cniVersion"] == "0.3.1"
        plugin = config["plugins"][0]
        assert plugin["capabilities"] == {"ips": True}
        assert plugin["master"] == "eth1"
        assert plugin["ipam"]["type"] == "static"
        assert plugin["ipam"]["addresses"] == [
            {"address": status["prefix"], "gateway": status["gateway"]}]
        assert all(r["gw"] == status["gateway"] for r in plugin["ipam"]["routes"])
    assert nad_config(nads["upf-edge-01-n3"])["plugins"][0]["mode"] == "bridge"


def test_injections_may_come_as_a_configmap_string() -> None:
    case = next(c for c in CASES if c.name == "injections")
    config = yaml.safe_load((case.path / "config.yaml").read_text())
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ipam"},
                 "data": {"injections": yaml.safe_dump(config["injections"])}}
    text = resource_list((case.path / "input.yaml").read_text(), yaml.safe_dump(configmap))
    out = run(ipam_inject, text)
    assert out.exit_code == 0, out.stderr
    assert items_text(out.stdout) == items_text((case.path / "expected.yaml").read_text())


def test_help_prints_the_usage_section() -> None:
    proc = subprocess.run([str(BIN / "ipam-inject"), "--help"], capture_output=True,
                          text=True, check=True)
    assert proc.stdout.startswith("ipam-inject\n")
    assert "## Usage" in proc.stdout and "`ledger`" in proc.stdout


@pytest.mark.parametrize(("case", "loaded"), [
    ("nothing-to-do", {"netaddr": False, "sqlite3": False}),
    ("claim-kinds", {"netaddr": False, "sqlite3": False}),
])
def test_netaddr_and_sqlite3_are_imported_only_when_needed(
    case: str, loaded: dict[str, bool]
) -> None:
    probe = (
        "import sys; from pathlib import Path\n"
        "from krmfn.testing import GoldenCase, run\n"
        "from krmfn_catalog.ipam_inject import ipam_inject\n"
        f"out = run(ipam_inject, GoldenCase(Path({str(FUNCTION / 'testdata' / case)!r}))"
        ".input_text())\n"
        "assert out.exit_code == 0, out.stderr\n"
        "print({m: m in sys.modules for m in ('netaddr', 'sqlite3')})\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.strip() == repr(loaded)


# -- properties through the function -----------------------------------------------------

# Small pools, so that random claims contend for them and some sets run out.
POOLS: dict[str, dict[str, Any]] = {
    "ipv4": {"network": ["10.0.0.0/22", "10.1.0.0/24"], "pool": ["10.2.0.0/26"],
             "loopback": ["10.3.0.0/29"], "lengths": {"network": (24, 30), "pool": (26, 30)}},
    "ipv6": {"network": ["fd00::/62"], "pool": ["fd00:2::/120"],
             "loopback": ["fd00:3::/125"], "lengths": {"network": (62, 66), "pool": (120, 126)}},
}


def network_resource() -> dict[str, Any]:
    prefixes: list[dict[str, Any]] = []
    for family in POOLS.values():
        prefixes += [{"prefix": p} for p in family["network"]]
        for kind in ("pool", "loopback"):
            prefixes += [{"prefix": p, "labels": {"nephio.org/prefix-kind": kind}}
                         for p in family[kind]]
    return {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "Network",
            "metadata": {"name": "vpc"},
            "spec": {"routingTables": [{"name": "vpc", "prefixes": prefixes}]}}


@st.composite
def claim_packages(draw: st.DrawFn) -> list[dict[str, Any]]:
    claims = []
    for i in range(draw(st.integers(1, 12))):
        family = draw(st.sampled_from(sorted(POOLS)))
        kind = draw(st.sampled_from(["network", "loopback", "pool"]))
        spec: dict[str, Any] = {"kind": kind, "networkInstance": {"name": "vpc"},
                                "addressFamily": family,
                                "selector": {"matchLabels": {
                                    "nephio.org/cluster-name":
                                        draw(st.sampled_from(["edge-1", "edge-2"]))}}}
        if kind != "loopback":
            lengths = POOLS[family]["lengths"][kind]
            if kind == "pool" or draw(st.booleans()):
                spec["prefixLength"] = draw(st.integers(*lengths))
        claims.append({"apiVersion": "ipam.resource.nephio.org/v1alpha1", "kind": "IPClaim",
                       "metadata": {"name": f"c{i}", "namespace": draw(st.sampled_from("ab"))},
                       "spec": spec})
    order = draw(st.permutations(range(len(claims))))
    return [network_resource(), *(claims[i] for i in order)]


def check_allocations(items: list[dict[str, Any]]) -> None:
    """Every claim answered, inside its pools, and no two answers overlapping."""
    blocks: list[Any] = []
    subnets: dict[tuple[str, str], Any] = {}
    hosts: set[Any] = set()
    for claim in of_kind(items, "IPClaim").values():
        spec, status = claim["spec"], claim["status"]
        pools = POOLS[spec["addressFamily"]]
        net = netaddr.IPNetwork(status["prefix"])
        if spec["kind"] == "network":
            group = (spec["selector"]["matchLabels"]["nephio.org/cluster-name"],
                     spec["addressFamily"])
            subnet = subnets.setdefault(group, net.cidr)
            assert net.cidr == subnet, "one subnet per cluster and network instance"
            assert subnet in netaddr.IPSet(pools["network"])
            assert status["gateway"] == str(netaddr.IPAddress(subnet.first + 1, net.version))
            assert net.ip not in hosts, f"{net.ip} handed out twice"
            hosts.add(net.ip)
        else:
            assert net.ip == net.network and "gateway" not in status
            assert net in netaddr.IPSet(pools[spec["kind"]])
            assert spec.get("prefixLength", net.prefixlen) == net.prefixlen
            blocks.append(net)
    blocks.extend(subnets.values())
    for i, a in enumerate(blocks):
        for b in blocks[i + 1:]:
            assert a.version != b.version or a.last < b.first or b.last < a.first, \
                f"{a} overlaps {b}"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_packages())
def test_random_claim_sets_never_overlap_and_stay_inside_pools(
    resources: list[dict[str, Any]],
) -> None:
    text = resource_list(yaml.safe_dump_all(resources))
    out = run(ipam_inject, text)
    event("all claims answered" if out.exit_code == 0 else "some claim failed")
    if out.exit_code:
        assert items_text(out.stdout) == items_text(text), "an error must write nothing"
        errors = [r for r in results_of(out.stdout) if r["severity"] == "error"]
        assert errors and all(r["resourceRef"]["kind"] == "IPClaim" for r in errors)
        return
    check_allocations(items_of(out.stdout))
    again = run(ipam_inject, out.stdout)
    assert items_text(again.stdout) == items_text(out.stdout)


# -- many sites, one ledger --------------------------------------------------------------

SITES = 8


def write_site(root: Path, site: int) -> Path:
    """A small UPF package for cluster edge-<site>, drawing on pools every site shares."""
    example = FUNCTION / "examples" / "nephio-upf-like"
    pkg = root / f"site-{site:02d}"
    pkg.mkdir()
    for name in ("networks.yaml", "interfaces.yaml", "dnn.yaml", "upf.yaml"):
        (pkg / name).write_text((example / name).read_text())
    cluster = (example / "workload-cluster.yaml").read_text()
    (pkg / "workload-cluster.yaml").write_text(cluster.replace("edge-01", f"edge-{site:02d}"))
    return pkg


def render_sites(packages: list[Path], ledger: Path) -> list[tuple[Path, str]]:
    """Run one ipam-inject process per package, all at the same time."""
    processes = [(pkg, subprocess.Popen([str(BIN / "ipam-inject"), str(pkg), f"ledger={ledger}"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True))
                 for pkg in packages]
    outputs = []
    for pkg, process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"{pkg.name}: {stderr}"
        outputs.append((pkg, stdout))
    return outputs


def allocations(output: str) -> dict[str, tuple[str, str | None]]:
    return {name: (c["status"]["prefix"], c["status"].get("gateway"))
            for name, c in of_kind(items_of(output), "IPClaim").items()}


def test_processes_rendering_sites_on_one_ledger_never_hand_out_a_prefix_twice(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    sites = [write_site(tmp_path, site) for site in range(SITES)]
    # every site is rendered by two processes at once: both must get the same answers
    outputs = render_sites(sites + sites, ledger)
    by_site: dict[Path, dict[str, tuple[str, str | None]]] = {}
    for pkg, output in outputs:
        assert by_site.setdefault(pkg, allocations(output)) == allocations(output)
    assert len(by_site) == SITES

    addresses: list[Any] = []
    blocks: list[Any] = []
    for answers in by_site.values():
        assert sorted(answers) == ["upf-edge-01-internet-pool1", "upf-edge-01-n3-ipv4",
                                   "upf-edge-01-n6-ipv4"]
        for prefix, gateway in answers.values():
            net = netaddr.IPNetwork(prefix)
            if gateway is None:
                blocks.append(net)
            else:
                addresses.append(net.ip)
                blocks.append(net.cidr)  # the site's own subnet of that network
    assert len(set(addresses)) == len(addresses) == 2 * SITES
    ordered = sorted(blocks, key=lambda n: n.first)
    for a, b in itertools.pairwise(ordered):
        assert a.last < b.first, f"{a} overlaps {b}"

    # a site rendered again from its blueprint (no status) gets its own allocations back
    ((pkg, again),) = render_sites([sites[5]], ledger)
    assert allocations(again) == by_site[sites[5]]


def test_a_failed_render_records_nothing_in_the_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    bad = write_site(tmp_path, 1)
    (bad / "broken.yaml").write_text(
        "apiVersion: ipam.resource.nephio.org/v1alpha1\nkind: IPClaim\nmetadata:\n"
        "  name: lost\nspec:\n  kind: pool\n  prefixLength: 24\n"
        "  networkInstance:\n    name: vpc-nowhere\n")
    proc = subprocess.run([str(BIN / "ipam-inject"), str(bad), f"ledger={ledger}"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "unknown network instance" in proc.stderr
    ((_, output),) = render_sites([write_site(tmp_path, 2)], ledger)
    # site 2 is first in the ledger: it gets the lowest prefixes, as if site 1 never ran
    assert allocations(output) == {"upf-edge-01-internet-pool1": ("10.0.0.0/16", None),
                                   "upf-edge-01-n3-ipv4": ("172.3.0.2/24", "172.3.0.1"),
                                   "upf-edge-01-n6-ipv4": ("172.0.0.2/24", "172.0.0.1")}


# -- under kpt ---------------------------------------------------------------------------

UPF_BLUEPRINT = CONFORMANCE / "nephio-fn/catalog/workloads/free5gc/pkg-example-upf-bp"
EXAMPLES = sorted((FUNCTION / "examples").iterdir())


def commit(pkg: Path) -> None:
    git(pkg, "add", "-A")
    git(pkg, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "render")


def package_resources(pkg: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(pkg.rglob("*.yaml")):
        out.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))
    return out


@needs_kpt
@pytest.mark.kpt
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_renders_to_its_expected_diff(example: Path, tmp_path: Path) -> None:
    pkg = scratch_package(example, tmp_path / example.name)
    render(pkg)
    expected = (example / ".expected" / "diff.patch").read_text()
    assert hunks(diff(pkg)) == hunks(expected)
    commit(pkg)
    render(pkg)
    assert diff(pkg) == "", "a second render must change nothing"


@needs_kpt
@needs_shared
@pytest.mark.kpt
def test_nephio_upf_blueprint_gets_a_claim_and_a_nad_per_interface(tmp_path: Path) -> None:
    pkg = scratch_package(UPF_BLUEPRINT, tmp_path / "upf")
    kptfile = pkg / "Kptfile"
    text = kptfile.read_text()
    kptfile.write_text(text[: text.index("pipeline:")] + (
        "pipeline:\n  mutators:\n    - image: ghcr.io/krmfn/ipam-inject:v0.1.0\n"))
    cluster = pkg / "workload-cluster.yaml"
    cluster.write_text(cluster.read_text().replace(
        "clusterName: example", "clusterName: edge-07\n  masterInterface: eth1"))
    render(pkg)

    resources = package_resources(pkg)
    interfaces = [r for r in resources if r["kind"] == "Interface"
                  and r["spec"]["networkInstance"]["name"] != "default"]
    claims = {r["metadata"]["annotations"].get("specializer.nephio.org/owner"): r
              for r in resources if r["kind"] == "IPClaim"}
    nads = {r["metadata"]["annotations"]["specializer.nephio.org/owner"]: r
            for r in resources if r["kind"] == "NetworkAttachmentDefinition"}
    assert sorted(i["metadata"]["name"] for i in interfaces) == ["n3", "n4", "n6"]
    for interface in interfaces:
        owner = f"req.nephio.org/v1alpha1.Interface.{interface['metadata']['name']}"
        claim, nad = claims[owner], nads[owner]
        assert claim["spec"]["networkInstance"] == interface["spec"]["networkInstance"]
        assert claim["spec"]["selector"]["matchLabels"]["nephio.org/cluster-name"] == "edge-07"
        status = claim["status"]
        assert netaddr.IPAddress(status["gateway"]) in netaddr.IPNetwork(status["prefix"])
        assert nad["metadata"]["name"] == f"upf-example-{interface['metadata']['name']}"
        plugin, *rest = nad_config(nad)["plugins"]
        assert rest == ([{"type": "tuning", "capabilities": {"mac": True}}]
                        if plugin["type"] == "macvlan" else [])
        assert plugin["type"] == interface["spec"]["cniType"] and plugin["master"] == "eth1"
        assert plugin["ipam"]["addresses"] == [
            {"address": status["prefix"], "gateway": status["gateway"]}]
    # n3 is labelled as network n3: its subnet comes from the n3 prefix of vpc-ran
    n3 = claims["req.nephio.org/v1alpha1.Interface.n3"]["status"]["prefix"]
    assert netaddr.IPNetwork(n3) in netaddr.IPNetwork("172.3.0.0/16")
    pools = sorted(r["status"]["prefix"] for r in resources if r["kind"] == "IPClaim"
                   and r["spec"]["kind"] == "pool")
    assert pools == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]  # the DataNetwork's

    commit(pkg)
    render(pkg)
    assert diff(pkg) == "", "a second render must change nothing"
