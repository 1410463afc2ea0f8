"""The programs of `exec:` steps outside the blueprint and the images of `image:` steps are
inputs of the plan: one changed makes its packages changed (with the reason), and render
renders them again instead of skipping them with the old function's output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fleet_support import blueprint, cluster, pvs, write_fleet
from krmfn_fleet import render_variant_fleet
from krmfn_fleet.external import container_runtime
from krmfn_fleet.plan import plan, read_lock
from krmfn_fleet.programs import Programs

SETTINGS = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s # kept\ndata:\n  k: v\n"
LABEL = """#!{python}
import sys, yaml
rl = yaml.safe_load(sys.stdin)
for item in rl["items"]:
    item["metadata"].setdefault("labels", {{}})["team"] = {value!r}
yaml.safe_dump(rl, sys.stdout)
"""


def _fleet(tmp_path: Path, exec_ref: str, program: Path, value: str) -> Path:
    fleet = tmp_path / "fleet"
    bp = blueprint(fleet, "upf", extra={"settings.yaml": SETTINGS})
    (bp / "Kptfile").write_text((bp / "Kptfile").read_text() + yaml.safe_dump({
        "pipeline": {"mutators": [{"exec": exec_ref, "selectors": [{"name": "s"}]}]}}))
    _write_program(program, value)
    write_fleet(fleet, [cluster("edge-1"), cluster("edge-2")], [pvs("upf", "upf", [{
        "objectSelector": {"apiVersion": "infra.nephio.org/v1alpha1",
                           "kind": "WorkloadCluster"}}])])
    return fleet


def _write_program(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LABEL.format(python=sys.executable, value=value))
    path.chmod(0o755)


def _team(out: Path, site: str) -> str:
    doc = yaml.safe_load((out / site / "upf" / "settings.yaml").read_text())
    return str(doc["metadata"]["labels"]["team"])


@pytest.mark.parametrize("where", ["beside the fleet", "absolute"])
def test_an_exec_program_outside_the_blueprint_is_an_input(tmp_path: Path, where: str) -> None:
    program = tmp_path / "tools" / "label.py"
    ref = "../../../../tools/label.py" if where == "beside the fleet" else str(program)
    fleet, out = _fleet(tmp_path, ref, program, "one"), tmp_path / "out"
    first = render_variant_fleet(fleet, out, allow_exec=True)
    assert all(o.ok for o in first), [o.messages for o in first]
    assert _team(out, "edge-1") == "one"
    assert all("programs" in entry for entry in read_lock(out).values())
    assert {c.action for c in plan(fleet, out)} == {"unchanged"}

    _write_program(program, "two")
    changes = plan(fleet, out)
    assert {c.action for c in changes} == {"changed"}
    assert all(c.reasons == ["external functions changed (an exec program or image)"]
               for c in changes)
    again = render_variant_fleet(fleet, out, allow_exec=True)
    assert all(o.ok and not o.skipped for o in again)
    assert _team(out, "edge-1") == _team(out, "edge-2") == "two"
    assert {c.action for c in plan(fleet, out)} == {"unchanged"}

    program.unlink()  # a program gone is a change too (and the render says why it fails)
    assert {c.action for c in plan(fleet, out)} == {"changed"}


def test_a_fleet_without_external_steps_records_no_programs(tmp_path: Path) -> None:
    """(and so keeps the digests a lock written before programs were inputs holds)"""
    fleet = tmp_path / "fleet"
    blueprint(fleet, "upf", extra={"settings.yaml": SETTINGS})
    write_fleet(fleet, [cluster("edge-1")], [pvs("upf", "upf", [{"objectSelector": {
        "apiVersion": "infra.nephio.org/v1alpha1", "kind": "WorkloadCluster"}}])])
    assert all(o.ok for o in render_variant_fleet(fleet, tmp_path / "out"))
    assert all("programs" not in e for e in read_lock(tmp_path / "out").values())


def test_a_registered_function_is_no_external_program(tmp_path: Path) -> None:
    steps = [{"image": "ghcr.io/krmfn/set-namespace:v0.1.0"}, {"exec": "ipam-inject"}]
    assert Programs().of(steps, tmp_path) == []


BASE = "localhost/krmfn/base:v0.1.0"


@pytest.mark.container
def test_an_image_is_the_local_image_its_tag_names(tmp_path: Path) -> None:
    """Moving a tag to other contents changes what the plan sees; a missing image is
    'absent', not an error."""
    runtime = container_runtime()
    if runtime is None:
        pytest.skip("no container runtime (podman or docker)")
    if subprocess.run([runtime, "image", "exists", BASE], check=False).returncode:
        pytest.skip(f"{BASE} is not built (make image-base)")
    tag = "localhost/krmfn-test/moving:v1"
    ids = []
    for content in ("one", "two"):
        (tmp_path / "content").write_text(content)
        (tmp_path / "Containerfile").write_text(f"FROM {BASE}\nCOPY content /content\n")
        subprocess.run([runtime, "build", "--network=none", "--pull=never", "-q", "-t", tag,
                        str(tmp_path)], capture_output=True, check=True)
        ids.append(Programs().of([{"image": tag}], tmp_path))
    try:
        assert ids[0] != ids[1]
        assert all(found[0][:2] == ["image", tag] for found in ids)
        gone = Programs().of([{"image": "localhost/krmfn-test/no-such-image:v0"}], tmp_path)
        assert gone == [["image", "localhost/krmfn-test/no-such-image:v0", "absent"]]
    finally:
        subprocess.run([runtime, "rmi", "-f", tag], capture_output=True, check=False)
