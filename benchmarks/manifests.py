"""set-namespace on real install manifests, against PyYAML's C round trip of the same input.

The generated corpus holds many small resources; real install manifests (Argo CD,
kube-prometheus, Calico, CustomResourceDefinitions) hold a few huge ones, with shell
snippets in their descriptions, and take other paths through the reader. Each `*.yaml`
file directly in the directory, and each subdirectory, is one package: `kpt fn source`
makes it the ResourceList a function gets under kpt.

    python benchmarks/manifests.py [DIR]     # default: tests/corpus/manifests
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import best, best_alternating

BIN = Path(sys.executable).parent
KPT = shutil.which("kpt")
DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "manifests"
REF = ("import sys, yaml; d = yaml.load(sys.stdin, Loader=yaml.CSafeLoader); "
       "yaml.dump(d, sys.stdout, Dumper=yaml.CSafeDumper)")
TINY = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n"
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: fn\n"
        "  data:\n    namespace: bench\n")
CONFIG = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: fn\n" \
    "  data:\n    namespace: bench\n"

Report = Callable[[str, str, str, "bool | None"], None]


def packages(directory: Path) -> list[Path]:
    """The packages of `directory`: its YAML files and its subdirectories, by name."""
    return sorted(p for p in directory.iterdir()
                  if p.is_dir() or p.suffix in (".yaml", ".yml"))


def resource_list(package: Path, tmp: Path) -> str | None:
    """The ResourceList kpt gives a function for `package`, with set-namespace's config."""
    if package.is_file():
        copy = tmp / "one" / package.stem
        shutil.rmtree(copy.parent, ignore_errors=True)
        copy.mkdir(parents=True)
        shutil.copy(package, copy)
        package = copy
    assert KPT is not None
    proc = subprocess.run([KPT, "fn", "source", str(package)], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return proc.stdout + CONFIG


def run(report: Report, directory: Path | None = None) -> None:
    """Report set-namespace's time and peak memory on every package of `directory`."""
    directory = directory or DEFAULT
    name = "real manifests"
    if not directory.is_dir():
        report(name, f"skipped: no {directory}", "", None)
        return
    if not KPT:
        report(name, "skipped: kpt missing (it makes the ResourceLists)", "", None)
        return
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        tiny = tmp / "tiny.yaml"
        tiny.write_text(TINY)
        floor = best([str(BIN / "set-namespace")], stdin=tiny, repeat=3).peak_rss_mb
        report("  set-namespace on one resource: peak RSS", f"{floor:.0f}MB", "", None)
        for package in packages(directory):
            text = resource_list(package, tmp)
            if text is None:
                report(f"{package.name}", "kpt fn source failed", "", None)
                continue
            path = tmp / "rl.yaml"
            path.write_text(text)
            mb = path.stat().st_size / 2**20
            ref, ours = best_alternating([sys.executable, "-c", REF],
                                         [str(BIN / "set-namespace")], stdin=path, repeat=5)
            if ours.exit_code != 0:
                report(f"{package.name}: set-namespace", f"exit {ours.exit_code}", "", False)
                continue
            ratio = ours.seconds / ref.seconds
            report(f"{package.name} ({mb:.1f}MB): set-namespace / PyYAML",
                   f"{ratio:.3f}x ({ours.seconds:.3f}s/{ref.seconds:.3f}s)", "<= 0.25x",
                   ratio <= 0.25)
            report("  CPU time (both cores) / PyYAML's",
                   f"{ours.cpu_seconds / ref.cpu_seconds:.3f}x", "", None)
            above = (ours.peak_rss_mb - floor) / mb
            report("  peak RSS / input (above one resource's)",
                   f"{ours.peak_rss_mb / mb:.1f}x ({above:.1f}x)", "", None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("directory", nargs="?", type=Path, default=DEFAULT)
    args = p.parse_args()

    def report(name: str, value: str, target: str, ok: bool | None) -> None:
        verdict = "n/a" if ok is None else ("met" if ok else "MISSED")
        print(f"{name:<58} {value:<24} {target:<14} {verdict}", flush=True)

    run(report, args.directory)


if __name__ == "__main__":
    main()
