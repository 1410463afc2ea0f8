"""Day two at scale: the fleet of `fleet_variants` (N edge sites, 30 core sites) rendered,
one UPF in a hundred edited by hand, then the UPF blueprint upgraded.

Two figures: the plan with drift detection (every file of every package compared with
the lock, the edited ones diffed), and the render of the upgrade (every package rendered
again, the edited ones three-way merged) as a multiple of the full render on a fresh
output and ledger, measured in the same run.

    python benchmarks/fleet_day2.py [SITES]      # alone (default 10,000)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fleet_variants import BIN, REGIONS, Report, make_fleet
from measure import best

LABEL = "    nephio.org/cluster-name: {site}\n"
SETTINGS = """apiVersion: v1
kind: ConfigMap
metadata:
  name: upf-image
  namespace: example
data:
  image: docker.io/free5gc/upf:v3.4.2
"""


def run(report: Report, tmp: Path, sites: int) -> None:
    fleet, out, ledger = tmp / "day2-fleet", tmp / "day2-out", tmp / "day2-ledger.sqlite"
    make_fleet(fleet, sites)
    krmfn = str(BIN / "krmfn")
    render = [krmfn, "fleet", "render", str(fleet), "--out", str(out), "--ledger",
              str(ledger), "--quiet"]
    full = best(render, repeat=1)
    big = sites >= 10000
    edited = 0
    for i in range(0, sites, 100):  # one UPF in a hundred edited by hand
        site = f"edge-{i:05d}"
        nf = out / site / "free5gc-upf" / "upfdeployment.yaml"
        text = nf.read_text()
        nf.write_text(text.replace(LABEL.format(site=site),
                                   LABEL.format(site=site) + "    team: ran-ops\n"))
        edited += 1
    upf = fleet / "repositories" / "free5gc" / "upf"
    (upf / "upf-image.yaml").write_text(SETTINGS)
    capacity = upf / "capacity.yaml"
    capacity.write_text(capacity.read_text().replace("maxUplinkThroughput: 5G",
                                                     "maxUplinkThroughput: 10G"))
    plan = best([krmfn, "fleet", "plan", str(fleet), "--out", str(out),
                 "--detailed-exitcode"], repeat=1)
    packages = sites + 2 * REGIONS
    report(f"krmfn fleet plan with drift, {packages} packages, {edited} edited",
           f"{plan.seconds:.1f}s (exit {plan.exit_code})", "< 60s" if big else "",
           (plan.seconds < 60 and plan.exit_code == 3) if big else plan.exit_code == 3)
    upgrade = best(render, repeat=1)
    ratio = upgrade.seconds / full.seconds
    report(f"  upgrade of the UPF blueprint / full render ({full.seconds:.0f}s)",
           f"{ratio:.2f} ({upgrade.seconds:.0f}s, exit {upgrade.exit_code})", "<= 2",
           ratio <= 2 and upgrade.exit_code == 0)


if __name__ == "__main__":
    def _print(name: str, value: str, target: str, ok: bool | None) -> None:
        verdict = "n/a" if ok is None else ("met" if ok else "MISSED")
        print(f"{name:<58} {value:<30} {target:<10} {verdict}", flush=True)

    with tempfile.TemporaryDirectory() as name:
        run(_print, Path(name), int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
