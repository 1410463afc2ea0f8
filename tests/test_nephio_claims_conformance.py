"""Nephio's ipam-fn and vlan-fn goldens (tests/conformance/nephio-fn/ipam-fn and vlan-fn, see
tests/conformance/README.md) through ipam-inject and vlan-assign.

Nephio's functions ask a backend (a mock in these goldens: 172.0.0.10/32, VLAN 10) for
each claim. Ours allocate from what the package says, so each case gets the pools its
claims name (a `Network` for the network instance, a `VLANIndex` for the index); what is
compared is what the goldens pin down beyond the mock's numbers: every claim keeps its
name, owner and spec, every claim the golden answers gets an answer of the same shape
(a prefix of the same family and length, a gateway where the golden has one, a VLAN ID),
and a package with no claim is left alone. Deliberate difference: Nephio records each
claim as a Kptfile condition; ours report results and leave the Kptfile as it was.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml
from kpt_support import CONFORMANCE
from krmfn.testing import run
from krmfn_catalog.ipam_inject import ipam_inject
from krmfn_catalog.vlan_assign import vlan_assign

DATA = CONFORMANCE / "nephio-fn"
CASES = sorted([*DATA.glob("ipam-fn/*"), *DATA.glob("vlan-fn/*")])
CLAIMS = ("IPClaim", "VLANClaim")

POOLS = """apiVersion: infra.nephio.org/v1alpha1
kind: Network
metadata:
  name: vpc
spec:
  routingTables:
  - name: vpc
    prefixes:
    - prefix: 10.0.0.0/16
    - prefix: 172.0.0.0/7
      labels: {nephio.org/prefix-kind: pool}
    - prefix: 192.168.0.0/24
      labels: {nephio.org/prefix-kind: loopback}
---
apiVersion: vlan.resource.nephio.org/v1alpha1
kind: VLANIndex
metadata:
  name: cluster03
  annotations: {config.kubernetes.io/local-config: "true"}
spec:
  ranges: ["10-4000"]
"""


def inputs(case: Path) -> list[dict[str, Any]]:
    return [d for p in sorted(case.iterdir()) if not p.name.startswith("_")
            for d in yaml.safe_load_all(p.read_text()) if d]


def text_of(docs: list[dict[str, Any]], config: dict[str, str]) -> str:
    body = "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs) + "---\n" + POOLS
    items = [yaml.safe_load(d) for d in body.split("---\n") if d.strip()]
    return yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                           "items": items,
                           "functionConfig": {"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"name": "c"},
                                              "data": config}},
                          sort_keys=False)


def claims(items: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in items if o["kind"] in CLAIMS}


def shape(status: dict[str, Any] | None) -> dict[str, Any]:
    """What a claim's answer says beyond its numbers."""
    if not status:
        return {}
    out: dict[str, Any] = {"keys": sorted(status)}
    if "prefix" in status:
        net = ipaddress.ip_interface(status["prefix"])
        out["prefix"] = (net.version, net.network.prefixlen)
    if "vlanID" in status:
        out["vlanID"] = isinstance(status["vlanID"], int)
    return out


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_nephio_claim_goldens_get_answers_of_the_same_shape(case: Path) -> None:
    golden = yaml.safe_load((case / "_expected.yaml").read_text())["items"]
    ipam = case.parent.name == "ipam-fn"
    text = text_of(inputs(case), {"clusterName": "cluster01"} if ipam else {})
    fn = ipam_inject if ipam else vlan_assign
    out = run(fn, text)
    assert out.exit_code == 0, out.stderr
    ours = yaml.safe_load(out.stdout)["items"]
    want, got = claims(golden), claims(ours)
    assert got.keys() == want.keys()
    for key, claim in want.items():
        mine = got[key]
        assert mine["spec"] == claim["spec"]
        assert mine["metadata"].get("annotations") == claim["metadata"].get("annotations")
        assert shape(mine.get("status")) == shape(claim.get("status")), key
    if not want:  # no claim: the package's own resources are left as they were
        before = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load(text)["items"]}
        assert {(o["kind"], o["metadata"]["name"]): o for o in ours} == before
    kptfile = next(o for o in ours if o["kind"] == "Kptfile")
    assert kptfile == next(o for o in inputs(case) if o["kind"] == "Kptfile")
