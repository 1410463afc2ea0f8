"""A blueprint upgrade reaches every package placed from it without undoing hand edits:
each package is rendered from the new blueprint and three-way merged with the package as
it stands (base: the last render). A hand-added label, a changed replica count and a
resource added by hand survive; a field changed both upstream and by hand is a conflict
reported per package and field, that package left as it was, the others upgraded.
Allocations (addresses, VLANs) survive; a claim the new blueprint drops is released."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from fleet_support import blueprint, cluster, pvs, tree, write_fleet
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn_fleet import render_variant_fleet
from krmfn_fleet.drift import drift_of
from krmfn_fleet.expressions import _evaluate
from krmfn_fleet.plan import plan, read_lock

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"
# cel-python raises the recursion limit when its environment is made (the example's
# PackageVariantSets use CEL): make it before any example of a property runs
_evaluate("'ready'", {})
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the workload
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: example.com/web:v1
"""
NEW_CONFIG = """apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
data:
  mode: fast
"""
HAND_MADE = """apiVersion: v1
kind: Service
metadata:
  name: web-by-hand
spec:
  ports:
  - port: 80
"""
SELECT = {"apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster",
          "matchLabels": {"tier": "edge"}}


def _fleet(root: Path) -> Path:
    blueprint(root, "web", extra={"deployment.yaml": DEPLOYMENT})
    write_fleet(root, [cluster(f"site-{i}", tier="edge") for i in range(3)],
                [pvs("web", "web", [{"objectSelector": SELECT}])])
    return root


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "krmfn_fleet", *args],
                          capture_output=True, text=True, check=False)


def _doc(path: Path, kind: str) -> dict[str, object]:
    return next(d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == kind)


def test_an_upgrade_keeps_hand_edits_and_a_conflict_leaves_only_its_package(
        tmp_path: Path) -> None:
    root = _fleet(tmp_path)
    out = tmp_path / "out"
    assert _cli("render", str(root), "--out", str(out)).returncode == 0
    site0 = out / "site-0" / "web"  # edited by hand, in ways the upgrade does not touch
    text = (site0 / "deployment.yaml").read_text()
    (site0 / "deployment.yaml").write_text(
        text.replace("  name: web # the workload\n",
                     "  name: web # the workload\n  labels:\n    team: blue\n")
        .replace("replicas: 1", "replicas: 3"))
    (site0 / "service.yaml").write_text(HAND_MADE)
    site1 = out / "site-1" / "web"  # edited by hand where the upgrade changes too
    (site1 / "deployment.yaml").write_text(
        (site1 / "deployment.yaml").read_text().replace("web:v1", "web:v1-hotfix"))
    site1_before = tree(site1)
    # the upgrade: a new image tag and a new ConfigMap
    bp = root / "repositories" / "bp" / "web"
    (bp / "deployment.yaml").write_text(DEPLOYMENT.replace("web:v1", "web:v2"))
    (bp / "settings.yaml").write_text(NEW_CONFIG)

    plan_run = _cli("plan", str(root), "--out", str(out), "--detailed-exitcode")
    assert plan_run.returncode == 3
    for n in range(3):
        assert f"changed   site-{n}/web (blueprint changed)" in plan_run.stdout
    assert "drift     site-0/web: deployment.yaml changed" in plan_run.stdout
    assert "drift     site-0/web: service.yaml added" in plan_run.stdout

    proc = _cli("render", str(root), "--out", str(out))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines == [
        "site-1/web: deployment.yaml: apps/v1/Deployment web: "
        "spec.template.spec.containers[name=web].image: edited by hand to "
        "example.com/web:v1-hotfix, rendered now as example.com/web:v2 "
        "(was example.com/web:v1)",
        "site-1/web: conflicts: left as it was"], proc.stderr
    assert "site-0/web: kept hand edits in deployment.yaml, service.yaml" in proc.stdout
    assert tree(site1) == site1_before
    upgraded = _doc(site0 / "deployment.yaml", "Deployment")
    assert upgraded["metadata"] == {"name": "web", "labels": {"team": "blue"}}
    assert upgraded["spec"]["replicas"] == 3  # type: ignore[index]
    assert "image: example.com/web:v2" in (site0 / "deployment.yaml").read_text()
    assert "# the workload" in (site0 / "deployment.yaml").read_text()
    assert (site0 / "service.yaml").read_text() == HAND_MADE
    assert _doc(site0 / "settings.yaml", "ConfigMap")["data"] == {"mode": "fast"}
    assert tree(out / "site-2" / "web")["deployment.yaml"] == \
        (bp / "deployment.yaml").read_bytes()
    # the conflicting package is still to do; the others are done
    pending = {c.key: c.action for c in plan(root, out) if c.action != "unchanged"}
    assert pending == {"site-1/web": "changed"}
    # resolving it by hand (taking the new tag) lets the next render through
    (site1 / "deployment.yaml").write_text(
        (site1 / "deployment.yaml").read_text().replace("web:v1-hotfix", "web:v2"))
    assert _cli("render", str(root), "--out", str(out)).returncode == 0
    assert not [c for c in plan(root, out) if c.action != "unchanged"]
    assert {d.key for d in drift_of(out, read_lock(out))} == {"site-0/web"}


def _allocations(ledger: Path) -> list[str]:
    proc = subprocess.run([str(Path(sys.executable).parent / "krmfn"), "ledger", "list",
                           "--ledger", str(ledger)], capture_output=True, text=True,
                          check=True)
    return sorted(" ".join(line.split()) for line in proc.stdout.splitlines()[1:])


def _claims(out: Path) -> dict[str, object]:
    """Every claim's status in the rendered packages: (package, kind, name) -> status."""
    found: dict[str, object] = {}
    for path in sorted(out.glob("*/*/*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in ("IPClaim", "VLANClaim"):
                key = f"{path.parent.relative_to(out)} {doc['kind']} {doc['metadata']['name']}"
                found[key] = doc.get("status")
    return found


def test_allocations_survive_rerenders_and_upgrades_and_a_dropped_claim_is_released(
        tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, root)
    out, ledger = tmp_path / "out", tmp_path / "ledger.db"
    assert all(o.ok for o in render_variant_fleet(root, out, ledger=ledger))
    claims, held = _claims(out), _allocations(ledger)
    assert any("n6" in k for k in claims) and all(claims.values())
    render_variant_fleet(root, out, ledger=ledger, force=True)
    assert _claims(out) == claims and _allocations(ledger) == held
    # an upgrade that changes capacity and adds a ConfigMap: every claim keeps its answer
    upf = root / "repositories" / "free5gc" / "upf"
    (upf / "capacity.yaml").write_text((upf / "capacity.yaml").read_text().replace(
        "maxUplinkThroughput: 5G", "maxUplinkThroughput: 10G"))
    (upf / "settings.yaml").write_text(NEW_CONFIG)
    assert all(o.ok for o in render_variant_fleet(root, out, ledger=ledger))
    assert _claims(out) == claims and _allocations(ledger) == held
    # one that drops the UPF's n6 interface: its claims go, and the ledger gives them back
    interfaces = (upf / "interfaces.yaml").read_text().split("---\n")  # comments kept
    (upf / "interfaces.yaml").write_text("---\n".join(
        i for i in interfaces if "  name: n6\n" not in i))
    assert all(o.ok for o in render_variant_fleet(root, out, ledger=ledger))
    after = _claims(out)
    dropped = {k for k in claims if k.startswith("edge-") and "-n6" in k}
    assert dropped and set(after) == set(claims) - dropped
    assert all(after[k] == claims[k] for k in after)
    released = [a.split()[:6] for a in held if a not in _allocations(ledger)]
    sites = sorted({k.split("/")[0] for k in dropped})
    expected = [[kind, site, pkg, claim, where, what] for site in sites for kind, pkg, claim,
                where, what in (
                    ("ip", "-", "-", "vpc-internet", "subnet"),  # no claim of its left
                    ("ip", "free5gc-upf", f"free5gc-upf/upf-{site}-n6-ipv4", "vpc-internet",
                     "network"),
                    ("vlan", "free5gc-upf", f"free5gc-upf/upf-{site}-n6", site, "vlan"))]
    assert sorted(released) == sorted(expected)


@settings(max_examples=5, deadline=None)
@given(picks=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 30),
                                st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)),
                      min_size=1, max_size=5))
def test_random_hand_labels_survive_an_upgrade_of_every_upf(
        picks: list[tuple[int, int, str]]) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        root = tmp / "fleet"
        shutil.copytree(EXAMPLE, root)
        out, ledger = tmp / "out", tmp / "ledger.db"
        assert all(o.ok for o in render_variant_fleet(root, out, ledger=ledger))
        upfs = sorted(out.glob("edge-*/free5gc-upf"))
        labelled = []
        for p, r, value in picks:  # a label on the r-th resource of the p-th UPF
            pkg = upfs[p % len(upfs)]
            files = sorted(f for f in pkg.glob("*.yaml") if "---" not in f.read_text())
            path = files[r % len(files)]
            text = path.read_text()
            head = "metadata:\n"
            assert text.count(head) == 1, path
            label = f"hand-{value}"
            if f"    {label}: " in text or "\n  labels:" in text:
                continue  # keep the edit simple: a labels map of its own
            path.write_text(text.replace(head, f"{head}  labels:\n    {label}: x\n", 1))
            labelled.append((path, label))
        capacity = root / "repositories" / "free5gc" / "upf" / "capacity.yaml"
        capacity.write_text(capacity.read_text().replace(": 5G", ": 7G"))
        outcomes = render_variant_fleet(root, out, ledger=ledger)
        assert all(o.ok for o in outcomes), [o.conflicts for o in outcomes]
        for path, label in labelled:
            doc = next(d for d in yaml.safe_load_all(path.read_text()) if d)
            assert doc["metadata"]["labels"][label] == "x", path
        for pkg in upfs:
            nf = _doc(pkg / "upfdeployment.yaml", "NFDeployment")
            assert nf["spec"]["capacity"]["maxUplinkThroughput"] == "7G"  # type: ignore[index]
        edited = {p.parent for p, _ in labelled}
        assert {out / o.key for o in outcomes if o.kept} == edited


def test_a_package_left_by_a_conflict_holds_back_the_packages_that_take_from_it(
        tmp_path: Path) -> None:
    """What a conflicting package's dependents would be given is its new render, which was
    not written: they are left as they were too, and say why (the others upgrade)."""
    root = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, root)
    out, ledger = tmp_path / "out", tmp_path / "ledger.db"
    first = render_variant_fleet(root, out, ledger=ledger)
    assert all(o.ok for o in first)
    upf = sorted(out.glob("edge-*/free5gc-upf"))[0]
    upf_key = f"{upf.parent.name}/{upf.name}"
    takers: set[str] = set()  # who takes from it, and who takes from those
    while True:
        found = {o.key for o in first if any(src in {upf_key, *takers}
                                              for _, src in o.injected)}
        if found <= takers:
            break
        takers |= found
    assert takers  # its region's SMF, and the AMF that takes from the SMF
    deployment = upf / "upfdeployment.yaml"
    deployment.write_text(deployment.read_text().replace(
        "maxUplinkThroughput: 5G", "maxUplinkThroughput: 6G"))  # by hand
    before = {key: tree_bytes(out / key) for key in (upf_key, *takers)}
    capacity = root / "repositories" / "free5gc" / "upf" / "capacity.yaml"
    capacity.write_text(capacity.read_text().replace(": 5G", ": 7G"))  # upstream
    outcomes = {o.key: o for o in render_variant_fleet(root, out, ledger=ledger)}
    assert outcomes[upf_key].conflicts and not outcomes[upf_key].ok
    for key in takers:
        assert not outcomes[key].ok
        assert any("its dependency" in m and any(k in m for k in (upf_key, *takers))
                   for m in outcomes[key].messages), outcomes[key].messages
    assert {key: tree_bytes(out / key) for key in before} == before
    others = [o for k, o in outcomes.items() if k != upf_key and k not in takers]
    assert others and all(o.ok for o in others), [(o.key, o.messages) for o in others if not o.ok]


def tree_bytes(path: Path) -> dict[str, bytes]:
    return {str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*"))
            if f.is_file()}
