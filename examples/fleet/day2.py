#!/usr/bin/env python3
"""`make demo-day2`: day two of the example fleet, from publish to a blueprint upgrade.

1. Render the fleet and publish it: a bare git repository with a directory per cluster,
   one commit.
2. Edit one site by hand, in OUT: a label on edge-par-01's UPF and a ConfigMap of its own.
3. Upgrade the UPF blueprint: a new ConfigMap naming a new image tag, and more capacity.
4. `krmfn fleet plan`: every UPF changes (blueprint changed), and so do the SMFs and AMFs
   that depend on them; edge-par-01 has drift, with its diff (exit 3).
5. `krmfn fleet render --publish`: every package upgraded, edge-par-01's hand edits
   merged in; one more commit: `git log` shows the two.
6. A hand edit that conflicts: edge-lyo-01's capacity is set by hand while the next
   blueprint revision changes it too. Render names the conflict (package, resource,
   field), leaves that package as it was, upgrades the others, and publishes nothing.

Everything happens in a work directory (default `demo-day2-out/`, emptied first).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABEL = "  labels:\n    nephio.org/cluster-name: edge-par-01\n"
TUNING = """apiVersion: v1
kind: ConfigMap
metadata:
  name: upf-tuning # added by hand on this site only
  namespace: free5gc-upf
data:
  hugepages: "4Gi"
"""
IMAGE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: upf-image
  namespace: example
data:
  image: docker.io/free5gc/upf:v3.4.2
"""


def run(*args: str, code: int = 0) -> str:
    """Run a command, print it and its output; its exit code must be `code`."""
    print(f"\n$ {' '.join(args)}", flush=True)
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    sys.stdout.write(proc.stdout + proc.stderr)
    if proc.returncode != code:
        raise SystemExit(f"day2: `{' '.join(args)}` exited {proc.returncode}, not {code}")
    return proc.stdout + proc.stderr


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"day2: {path}: {old!r} not found")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="demo-day2-out", help="the work directory")
    work = Path(parser.parse_args(argv).work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    fleet, out, repo = work / "fleet", work / "out", work / "fleet.git"
    shutil.copytree(HERE, fleet, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    krmfn = [sys.executable, "-m", "krmfn_fleet"]
    render = [*krmfn, "render", str(fleet), "--out", str(out), "--ledger",
              str(work / "ledger.sqlite"), "--quiet"]
    plan = [*krmfn, "plan", str(fleet), "--out", str(out), "--detailed-exitcode"]
    upf = fleet / "repositories" / "free5gc" / "upf"
    par = out / "edge-par-01" / "free5gc-upf"
    lyo = out / "edge-lyo-01" / "free5gc-upf"

    print("== 1. render and publish")
    run(*render, "--publish", str(repo))

    print("\n== 2. edit edge-par-01 by hand: a label, and a ConfigMap of its own")
    replace(par / "upfdeployment.yaml", LABEL, LABEL + "    team: ran-ops\n")
    (par / "upf-tuning.yaml").write_text(TUNING, encoding="utf-8")

    print("== 3. upgrade the UPF blueprint: a new image tag (a new ConfigMap), more capacity")
    (upf / "upf-image.yaml").write_text(IMAGE, encoding="utf-8")
    replace(upf / "capacity.yaml", "maxUplinkThroughput: 5G", "maxUplinkThroughput: 10G")

    print("\n== 4. the plan: the upgrade, and the drift (exit 3)")
    run(*plan, code=3)

    print("\n== 5. render: the upgrade merged with the hand edits, published")
    run(*render, "--publish", str(repo))
    run("git", "--git-dir", str(repo), "log", "--format=%h %s", "main")
    run("git", "--git-dir", str(repo), "show", "--format=", "main", "--",
        "edge-par-01/free5gc-upf/upfdeployment.yaml")

    print("\n== 6. a conflicting hand edit: edge-lyo-01's capacity, changed upstream too")
    replace(lyo / "capacity.yaml", "maxUplinkThroughput: 10G", "maxUplinkThroughput: 8G")
    before = {p: p.read_bytes() for p in sorted(lyo.iterdir())}
    replace(upf / "capacity.yaml", "maxUplinkThroughput: 10G", "maxUplinkThroughput: 20G")
    run(*render, "--publish", str(repo), code=1)
    if {p: p.read_bytes() for p in sorted(lyo.iterdir())} != before:
        raise SystemExit("day2: edge-lyo-01 changed despite its conflict")
    run("git", "--git-dir", str(repo), "log", "--format=%h %s", "main")
    print("\nedge-lyo-01 was left as it was and nothing was published: resolve the "
          "conflict in\nits capacity.yaml (or --discard-drift) and render again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
