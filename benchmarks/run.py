"""krmfn benchmarks: every figure is a ratio against a baseline measured in the same run.

    make bench            # everything (10,000 resources, kpt, the ledger, the fleet: minutes)
    make bench-quick      # the 1,000-resource targets and cold start only
    python benchmarks/manifests.py [DIR]   # real install manifests alone
    python benchmarks/ledger_claims.py     # ledger claims/s alone (SQLite, PostgreSQL)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import fleet_variants
import ledger_claims
import manifests
import workloads
from corpus import package, resource_list
from measure import best, best_alternating

BIN = Path(sys.executable).parent
KPT = shutil.which("kpt")
REF = ("import sys, yaml; d = yaml.load(sys.stdin, Loader=yaml.CSafeLoader); "
       "yaml.dump(d, sys.stdout, Dumper=yaml.CSafeDumper)")
ROWS: list[tuple[str, str, str, str]] = []


def report(name: str, value: str, target: str, ok: bool | None) -> None:
    verdict = "n/a" if ok is None else ("met" if ok else "MISSED")
    ROWS.append((name, value, target, verdict))
    print(f"{name:<58} {value:<24} {target:<14} {verdict}", flush=True)


def vs_pyyaml(name: str, fn: str, text: str, tmp: Path, limit: float = 0.25) -> float:
    path = tmp / f"{fn}.yaml"
    path.write_text(text)
    ref, ours = best_alternating([sys.executable, "-c", REF], [str(BIN / fn)], stdin=path)
    ratio = ours.seconds / ref.seconds
    mb = path.stat().st_size / 1e6
    if ours.exit_code != 0:
        report(name, f"exit {ours.exit_code}", f"<= {limit}x", False)
        return ratio
    report(name, f"{ratio:.3f}x ({ours.seconds:.3f}s/{ref.seconds:.3f}s, {mb:.1f}MB)",
           f"<= {limit}x", ratio <= limit)
    # the check worker (krmfn._check_worker) uses a second core: say what that costs
    report("  CPU time (both cores) / PyYAML's", f"{ours.cpu_seconds / ref.cpu_seconds:.3f}x "
           f"({ours.cpu_seconds:.3f}s/{ref.cpu_seconds:.3f}s)", "", None)
    return ours.seconds


def fidelity(tmp: Path) -> None:
    text = resource_list(1000)
    proc = subprocess.run([str(BIN / "set-namespace")], input=text, capture_output=True,
                          text=True)
    changed = [(a, b) for a, b in zip(text.splitlines(), proc.stdout.splitlines(), strict=False)
               if a != b]
    others = [c for c in changed if "namespace: " not in c[0]]
    added = len(proc.stdout.splitlines()) - len(text.splitlines())
    report("fidelity: lines changed that are not namespaces", f"{len(others)}", "0",
           not others and added >= 0)


def through_kpt(tmp: Path) -> None:
    if not KPT:
        report("kpt fn eval --exec set-namespace / --exec cat", "kpt missing", "<= 1.10x", None)
        return
    pkg = tmp / "pkg"
    package(1000, pkg)
    env = {"PATH": f"{BIN}:{os.environ['PATH']}"}
    subprocess.run([KPT, "fn", "eval", str(pkg), "--exec", "cat"], capture_output=True, env=env)
    subprocess.run([KPT, "fn", "eval", str(pkg), "--exec", str(BIN / "set-namespace"), "--",
                    "namespace=x"], capture_output=True, env=env)
    # kpt's own time drifts with the disk and moves by a tenth from run to run (more than
    # set-namespace takes): alternate the two, and take the best of each
    cat_runs, our_runs = [], []
    for _ in range(15):
        cat_runs.append(best([KPT, "fn", "eval", str(pkg), "--exec", "cat"], repeat=1, env=env))
        our_runs.append(best([KPT, "fn", "eval", str(pkg), "--exec", str(BIN / "set-namespace"),
                              "--", "namespace=x"], repeat=1, env=env))
    cat = min(cat_runs, key=lambda s: s.seconds)
    ours = min(our_runs, key=lambda s: s.seconds)
    ratio = ours.seconds / cat.seconds
    report("kpt fn eval --exec set-namespace / --exec cat (1,000)",
           f"{ratio:.2f}x ({ours.seconds:.2f}s/{cat.seconds:.2f}s)", "<= 1.10x", ratio <= 1.10)


def scaling(tmp: Path) -> None:
    small, large = tmp / "rl1k.yaml", tmp / "rl10k.yaml"
    small.write_text(resource_list(1000))
    large.write_text(resource_list(10000))
    s = best([str(BIN / "set-namespace")], stdin=small, repeat=3)
    big = best([str(BIN / "set-namespace")], stdin=large, repeat=3)
    size_mb = large.stat().st_size / 2**20
    report("10,000 resources: peak RSS / input size",
           f"{big.peak_rss_mb / size_mb:.1f}x ({big.peak_rss_mb:.0f}MB/{size_mb:.1f}MB)",
           "<= 10x", big.peak_rss_mb / size_mb <= 10)
    report("10,000 resources: time / time at 1,000",
           f"{big.seconds / s.seconds:.1f}x ({big.seconds:.2f}s/{s.seconds:.2f}s)", "<= 11x",
           big.seconds / s.seconds <= 11)


def cold_start() -> None:
    help_run = best([str(BIN / "set-namespace"), "--help"], repeat=10)
    report("set-namespace --help (cold start)", f"{help_run.seconds * 1000:.0f} ms", "< 150 ms",
           help_run.seconds < 0.150)
    probe = ("import sys, krmfn_catalog.set_namespace.function as m; "
             "print(','.join(x for x in ('netaddr', 'jsonpatch', 'sqlite3') if x in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    report("set-namespace imports netaddr/jsonpatch/sqlite3", loaded.stdout.strip() or "none",
           "none", not loaded.stdout.strip())


def fleet(tmp: Path, sites: int) -> None:
    blueprint = Path(__file__).resolve().parents[1] / "examples" / "blueprint" / "upf-lite"
    if not blueprint.is_dir():
        report("fleet render", "no demo blueprint", "", None)
        return
    inventory = tmp / "sites.yaml"
    inventory.write_text("".join(
        f"- name: site-{i:05d}\n  clusterName: site-{i:05d}\n  siteCode: s{i:05d}\n"
        f"  region: r{i % 7}\n  cnis: [macvlan, ipvlan, sriov]\n  masterInterface: eth1\n"
        for i in range(sites)))
    out = tmp / "fleet"
    run = best([str(BIN / "krmfn"), "fleet", "render", str(blueprint), "--sites", str(inventory),
                "--out", str(out), "--ledger", str(tmp / "ledger.sqlite"), "--jobs", "2",
                "--no-progress"], repeat=1)
    per_site = run.seconds / sites
    report(f"krmfn fleet render, {sites} sites, 2 jobs",
           f"{run.seconds:.0f}s ({per_site * 1000:.0f} ms/site)",
           "< 600s" if sites >= 10000 else "", run.seconds < 600 if sites >= 10000 else None)
    if not KPT:
        return
    kpt_sites = tmp / "kpt-sites"
    for i in range(20):
        src = out / f"site-{i:05d}"
        dst = kpt_sites / src.name
        shutil.copytree(src, dst)
        kptfile = dst / "Kptfile"
        text = kptfile.read_text()
        for fn in ("site-specialize", "set-namespace", "ipam-inject", "vlan-assign",
                   "policy-validate"):
            text = text.replace(f"image: ghcr.io/krmfn/{fn}:v0.1.0", f"exec: {BIN / fn}")
        kptfile.write_text(text)
    import time
    from concurrent.futures import ThreadPoolExecutor

    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda d: subprocess.run([KPT, "fn", "render", str(d), "--allow-exec"],
                                               capture_output=True), sorted(kpt_sites.iterdir())))
    kpt_per_site = (time.perf_counter() - start) / 20
    ratio = kpt_per_site / per_site
    report("per site: kpt fn render --allow-exec / krmfn fleet (2 jobs each)",
           f"{ratio:.0f}x ({kpt_per_site * 1000:.0f}/{per_site * 1000:.0f} ms)", ">= 30x",
           ratio >= 30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1,000-resource targets and cold start")
    p.add_argument("--sites", type=int, default=10000, help="fleet size (default 10,000)")
    p.add_argument("--manifests", type=Path, default=manifests.DEFAULT,
                   help="real install manifests, one package per file or directory "
                        "(default tests/corpus/manifests; skipped when missing)")
    args = p.parse_args()
    print(f"{os.cpu_count()} CPUs, {sys.version.split()[0]}, kpt {'yes' if KPT else 'no'}\n")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        vs_pyyaml("set-namespace < rl.yaml / PyYAML C load+dump (1,000)", "set-namespace",
                  resource_list(1000), tmp)
        fidelity(tmp)
        vs_pyyaml("site-specialize (setters, labels) / PyYAML (1,000)", "site-specialize",
                  workloads.setters(1000), tmp)
        vs_pyyaml("policy-validate (3 policies) / PyYAML (1,000)", "policy-validate",
                  workloads.policies(1000), tmp)
        vs_pyyaml("ipam-inject (300 claims) / PyYAML (1,000)", "ipam-inject",
                  workloads.ipam(1000), tmp)
        vs_pyyaml("vlan-assign (300 claims) / PyYAML (1,000)", "vlan-assign",
                  workloads.vlan(1000), tmp)
        cold_start()
        if args.quick:
            return
        through_kpt(tmp)
        scaling(tmp)
        manifests.run(report, args.manifests)
        ledger_claims.run(report, tmp)
        fleet(tmp, args.sites)
        fleet_variants.run(report, tmp, args.sites)


if __name__ == "__main__":
    main()
