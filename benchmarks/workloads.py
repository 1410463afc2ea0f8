"""Inputs that give each catalog function real work, at a given size (number of items)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import resource_list

HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"


def _items(docs: list[str]) -> str:
    out = []
    for doc in docs:
        lines = doc.strip("\n").splitlines()
        out.append("\n".join([f"- {lines[0]}", *(f"  {ln}" if ln else ln for ln in lines[1:])]))
    return "\n".join(out) + "\n"


def _fc(kind: str, body: str) -> str:
    return (f"functionConfig:\n  apiVersion: fn.kpt.dev/v1alpha1\n  kind: {kind}\n"
            f"  metadata:\n    name: bench\n{body}")


NETWORKS = """apiVersion: infra.nephio.org/v1alpha1
kind: Network
metadata:
  name: vpc-{i} # network instance {i}
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  routingTables:
  - name: vpc-{i}
    prefixes:
    - prefix: 10.{i}.0.0/16
      labels:
        nephio.org/prefix-kind: network
    - prefix: 172.{j}.0.0/14
      labels:
        nephio.org/prefix-kind: pool
    - prefix: 192.168.{k}.0/22
      labels:
        nephio.org/prefix-kind: loopback
"""

CLUSTER = """apiVersion: infra.nephio.org/v1alpha1
kind: WorkloadCluster
metadata:
  name: edge-01
spec:
  clusterName: edge-01
  cnis: [macvlan, ipvlan, sriov]
  masterInterface: eth1
"""

IPCLAIM = """apiVersion: ipam.resource.nephio.org/v1alpha1
kind: IPClaim
metadata:
  name: claim-{n} # claim number {n}
  namespace: ran
spec:
  kind: {kind}
  networkInstance:
    name: vpc-{inst}
  prefixLength: {length}
  selector:
    matchLabels:
      nephio.org/cluster-name: edge-01
"""

VLANCLAIM = """apiVersion: vlan.resource.nephio.org/v1alpha1
kind: VLANClaim
metadata:
  name: vlan-{n} # attachment {n}
  namespace: ran
spec:
  vlanIndex:
    name: edge-{idx}
"""

POLICY = """apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: {name}
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  validationFailureAction: Audit
  rules:
  - name: {name}
    match:
      any:
      - resources:
          kinds: [Deployment]
    validate:
      message: "{message}"
      pattern:
{pattern}
"""


def _with(docs: list[str], count: int) -> str:
    """The standard corpus with `docs` among its items: a package where the function has
    real work (the claims) and real bulk (everything else) to carry through."""
    text = resource_list(count - len(docs), config="  data: {}\n")
    head, _, rest = text.partition("items:\n")
    return head + "items:\n" + _items(docs) + rest


def ipam(count: int, claims: int = 300) -> str:
    docs = [NETWORKS.format(i=i, j=16 + 4 * i, k=4 * i) for i in range(3)] + [CLUSTER]
    for n in range(claims):
        kind, length = [("pool", 28), ("loopback", 32), ("network", 22)][n % 3]
        docs.append(IPCLAIM.format(n=n, kind=kind, inst=n % 3, length=length))
    return _with(docs, count)


def vlan(count: int, claims: int = 300) -> str:
    return _with([VLANCLAIM.format(n=n, idx=n % 3) for n in range(claims)], count)


def setters(count: int) -> str:
    body = ("  site:\n    clusterName: edge-01\n    siteCode: ber1\n    region: eu-central\n"
            "    cnis: [macvlan]\n    masterInterface: eth1\n"
            "  values:\n    prefix: shop\n    replicas: 5\n    registry: mirror.example.com\n"
            "    tag: 2.0.0\n")
    return resource_list(count - 1, config=body, config_kind="SiteSpecialize",
                         config_api="fn.kpt.dev/v1alpha1").replace(
        "    name: function-input\n", "    name: bench\n")


def policies(count: int) -> str:
    docs = [
        POLICY.format(name="require-part-of", message="label part-of is required",
                      pattern="        metadata:\n          labels:\n"
                              "            app.kubernetes.io/part-of: \"?*\""),
        POLICY.format(name="no-latest", message="images must be pinned",
                      pattern="        spec:\n          template:\n            spec:\n"
                              "              containers:\n              - image: \"!*:latest\""),
        POLICY.format(name="limits", message="memory limits are required",
                      pattern="        spec:\n          template:\n            spec:\n"
                              "              containers:\n              - resources:\n"
                              "                  limits:\n                    memory: \"?*\""),
    ]
    return _with(docs, count)
