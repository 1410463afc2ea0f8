"""Config injection with injector filters, on generated fleets: which object each
injection point receives, checked against Porch's package-variant controller's rule as
its source states it (nephio-project/porch, controllers/packagevariants/pkg/controllers/
packagevariant/injection.go), restated here on plain data:

- an injector applies to a point when each of its `group`, `version` and `kind` that is
  given (an empty group is the core group, and given) equals the point's;
- the point receives, from the first injector that applies and names an object of the
  point's apiVersion and kind, that object's `data` (a core ConfigMap) or `spec`;
- the Kptfile gets the condition `config.injection.<Kind>.<name>` (True, ConfigInjected;
  else False, NoResourceSelected, saying why: no injectors, no object of the point's type,
  none selected, or the first one selected has nothing to give) and, for a required point,
  its gate.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from fleet_support import KPTFILE, cluster, write_fleet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from krmfn_fleet import FleetError, render_variant_fleet

WC = "infra.nephio.org/v1alpha1"
# the blueprint's possible injection points: (apiVersion, kind, name, file)
POINTS = [(WC, "WorkloadCluster", "workload-cluster", "wc.yaml"),
          ("v1", "ConfigMap", "settings", "cm.yaml"),
          ("infra.nephio.org/v1beta1", "WorkloadCluster", "beta", "beta.yaml"),
          ("example.com/v1", "Thing", "thing", "thing.yaml")]
NAMES = ["site-a", "site-b", "shared"]


def point_text(api_version: str, kind: str, name: str, mode: str) -> str:
    body = "data:\n  origin: blueprint\n" if kind == "ConfigMap" else \
        "spec:\n  origin: blueprint\n"
    return (f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\n"
            f"  annotations:\n    config.kubernetes.io/local-config: \"true\"\n"
            f"    kpt.dev/config-injection: {mode}\n{body}")


def fleet_object(api_version: str, kind: str, name: str) -> dict[str, Any]:
    if api_version == WC and kind == "WorkloadCluster":
        return cluster(name)
    body = {"data": {"from": f"{kind}/{name}"}} if kind == "ConfigMap" else {
        "spec": {"from": f"{api_version}/{kind}/{name}"}}
    if kind == "Thing" and name == "shared":
        body = {}  # nothing to inject: Porch says so in the condition
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}} | body


@st.composite
def fleets(draw: st.DrawFn) -> dict[str, Any]:
    types = [(a, k) for a, k, _, _ in POINTS]
    objects = draw(st.lists(st.tuples(st.sampled_from(types), st.sampled_from(NAMES)),
                            max_size=8, unique=True))
    points = draw(st.lists(st.tuples(st.sampled_from(range(len(POINTS))),
                                     st.sampled_from(["required", "optional"])),
                           min_size=1, max_size=4, unique_by=lambda p: p[0]))
    injectors = []
    for _ in range(draw(st.integers(0, 3))):
        inj: dict[str, str] = {}
        for key, values in (("group", ["", "infra.nephio.org", "example.com", "apps"]),
                            ("version", ["v1", "v1alpha1", "v1beta1"]),
                            ("kind", ["ConfigMap", "WorkloadCluster", "Thing"])):
            if draw(st.booleans()):
                inj[key] = draw(st.sampled_from(values))
        if draw(st.booleans()):
            inj["nameExpr"] = "target.name"
        else:
            inj["name"] = draw(st.sampled_from(NAMES))
        injectors.append(inj)
    return {"objects": objects, "points": points, "injectors": injectors}


def porch(case: dict[str, Any], target: str) -> tuple[dict[str, Any], list[dict[str, str]],
                                                      list[str]]:
    """What each point receives (file -> object or None), the conditions and the gates."""
    present = {(a, k, n) for (a, k), n in case["objects"]} | {(WC, "WorkloadCluster", target)}
    received: dict[str, Any] = {}
    conditions = []
    gates = []
    for index, mode in case["points"]:
        api_version, kind, name, file = POINTS[index]
        group, _, version = api_version.rpartition("/")
        chosen = None
        for inj in case["injectors"]:
            if any(key in inj and inj[key] != value for key, value in
                   (("group", group), ("version", version), ("kind", kind))):
                continue
            wanted = target if "nameExpr" in inj else inj["name"]
            if (api_version, kind, wanted) in present:
                chosen = wanted
                break
        part = "data" if (api_version, kind) == ("v1", "ConfigMap") else "spec"
        if chosen is not None and part not in fleet_object(api_version, kind, chosen):
            why = f'field "{part}" not found in resource "{chosen}"'
            chosen = None
        elif not case["injectors"]:
            why = "no injectors defined"
        elif not any((a, k) == (api_version, kind) for a, k, _ in present):
            why = f"no resources of type {api_version}.{kind} in the fleet"
        else:
            why = "no resource matched any injection selector for this injection point"
        received[file] = chosen
        ctype = f"config.injection.{kind}.{name}"
        if mode == "required":
            gates.append(ctype)
        if chosen is not None:
            conditions.append({"type": ctype, "status": "True", "reason": "ConfigInjected",
                               "message": f"injected resource {chosen!r} from the fleet"})
        else:
            conditions.append({"type": ctype, "status": "False",
                               "reason": "NoResourceSelected", "message": why})
    return received, sorted(conditions, key=lambda c: c["type"]), sorted(gates)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=fleets())
def test_only_the_objects_the_injectors_select_are_injected(case: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Path(tmp) / "fleet"
        bp = fleet / "repositories" / "bp" / "nf"
        bp.mkdir(parents=True)
        (bp / "Kptfile").write_text(KPTFILE.format(name="nf"))
        for index, mode in case["points"]:
            api_version, kind, name, file = POINTS[index]
            (bp / file).write_text(point_text(api_version, kind, name, mode))
        objects = [fleet_object(a, k, n) for (a, k), n in case["objects"]
                   if not (a == WC and k == "WorkloadCluster" and n == "site-a")]
        target = cluster("site-a", role="target")
        variant = {"apiVersion": "config.porch.kpt.dev/v1alpha2", "kind": "PackageVariantSet",
                   "metadata": {"name": "nf"},
                   "spec": {"upstream": {"repo": "bp", "package": "nf"}, "targets": [{
                       "objectSelector": {"apiVersion": WC, "kind": "WorkloadCluster",
                                          "matchLabels": {"role": "target"}},
                       "template": {"injectors": case["injectors"]}}]}}
        write_fleet(fleet, [target, *objects], [variant])
        outcomes = render_variant_fleet(fleet, Path(tmp) / "out")
        assert [o.ok for o in outcomes] == [True], outcomes[0].messages
        package = Path(tmp) / "out" / "site-a" / "nf"
        received, conditions, gates = porch(case, "site-a")
        for index, _ in case["points"]:
            api_version, kind, _, file = POINTS[index]
            obj = yaml.safe_load((package / file).read_text())
            part = "data" if kind == "ConfigMap" and api_version == "v1" else "spec"
            name = received[file]
            annotations = obj["metadata"]["annotations"]
            if name is None:
                assert obj[part] == {"origin": "blueprint"}, file
                assert "kpt.dev/injected-resource" not in annotations
            else:
                assert obj[part] == fleet_object(api_version, kind, name)[part], file
                assert annotations["kpt.dev/injected-resource"] == name
        kptfile = yaml.safe_load((package / "Kptfile").read_text())
        got = [{k: c[k] for k in ("type", "status", "reason", "message")}
               for c in kptfile.get("status", {}).get("conditions", [])]
        assert got == conditions
        assert [g["conditionType"] for g in kptfile.get("info", {}).get(
            "readinessGates", [])] == gates


def test_two_points_of_one_condition_are_refused(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    bp = fleet / "repositories" / "bp" / "nf"
    bp.mkdir(parents=True)
    (bp / "Kptfile").write_text(KPTFILE.format(name="nf"))
    for file in ("a.yaml", "b.yaml"):
        (bp / file).write_text(point_text("v1", "ConfigMap", "settings", "optional"))
    variant = {"apiVersion": "config.porch.kpt.dev/v1alpha2", "kind": "PackageVariantSet",
               "metadata": {"name": "nf"},
               "spec": {"upstream": {"repo": "bp", "package": "nf"}, "targets": [{
                   "objectSelector": {"apiVersion": WC, "kind": "WorkloadCluster"}}]}}
    write_fleet(fleet, [cluster("site-a")], [variant])
    with pytest.raises(FleetError, match=r"b\.yaml: ConfigMap settings: .*second injection "
                                         r"point of condition config\.injection\.ConfigMap"
                                         r"\.settings \(the first is in a\.yaml\)"):
        render_variant_fleet(fleet, tmp_path / "out")
    assert not (tmp_path / "out").exists()
