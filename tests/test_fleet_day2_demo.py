"""`make demo-day2` (examples/fleet/day2.py) runs as documented: two commits, the hand
edits of one site kept through the upgrade, a conflicting one reported and its package
left as it was."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "fleet" / "day2.py"


def test_the_day2_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("krmfn_day2", SCRIPT)
    assert spec is not None and spec.loader is not None
    day2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(day2)
    work = tmp_path / "work"
    assert day2.main(["--work", str(work)]) == 0
    shown = capsys.readouterr().out
    log = subprocess.run(["git", "--git-dir", str(work / "fleet.git"), "log",
                          "--format=%s", "main"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert log == ["fleet: 0 created, 11 changed, 0 removed",
                   "fleet: 14 created, 0 changed, 0 removed"]
    assert "drift     edge-par-01/free5gc-upf: upfdeployment.yaml changed" in shown
    assert "changed   edge-lyo-01/free5gc-upf (blueprint changed)" in shown
    assert ("edge-lyo-01/free5gc-upf: capacity.yaml: req.nephio.org/v1alpha1/Capacity "
            "dataplane: spec.maxUplinkThroughput: edited by hand to 8G, rendered now as "
            "20G (was 10G)") in shown
    par = work / "out" / "edge-par-01" / "free5gc-upf"
    nf = yaml.safe_load((par / "upfdeployment.yaml").read_text())
    assert nf["metadata"]["labels"]["team"] == "ran-ops"
    assert nf["spec"]["capacity"]["maxUplinkThroughput"] == "20G"  # the second upgrade
    assert (par / "upf-tuning.yaml").is_file() and (par / "upf-image.yaml").is_file()
    lyo = yaml.safe_load((work / "out" / "edge-lyo-01" / "free5gc-upf" /
                          "upfdeployment.yaml").read_text())
    assert lyo["spec"]["capacity"]["maxUplinkThroughput"] == "10G"  # left as it was
