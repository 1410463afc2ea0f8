"""Regenerate sdk/krmfn/_model/builtin_scope.py: the scope of Kubernetes' built-in kinds.

The source is Kubernetes' own API types, where every served kind carries a `+genclient`
tag and a cluster-scoped one also `+genclient:nonNamespaced` (the tags the API server's
clients and discovery are generated from). They live in three repositories, each tagged
per Kubernetes release (v0.32.x is Kubernetes 1.32, what kubectl 1.32 is built on):

    git clone --depth 1 --branch v0.32.13 https://github.com/kubernetes/api
    git clone --depth 1 --branch v0.32.13 https://github.com/kubernetes/apiextensions-apiserver
    git clone --depth 1 --branch v0.32.13 https://github.com/kubernetes/kube-aggregator
    python scripts/gen_builtin_scope.py --tag v0.32.13 api apiextensions-apiserver kube-aggregator

Each group-version directory (one holding a register.go with `GroupName`) is read; a kind
served by several versions must have one scope in all of them.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sdk" / "krmfn" / "_model" / "builtin_scope.py"
_GROUP = re.compile(r'^\s*(?:const\s+)?GroupName\s*=\s*"([^"]*)"', re.M)
_TYPE = re.compile(r"^type (\w+) struct\b")


def _tags_above(lines: list[str], at: int) -> set[str]:
    """The `// +tag` lines of the comment block above line `at` (blank lines included)."""
    tags = set()
    i = at - 1
    while i >= 0 and (not lines[i].strip() or lines[i].lstrip().startswith("//")):
        text = lines[i].strip()
        if text.startswith("// +"):
            tags.add(text[4:].strip())
        i -= 1
    return tags


def kinds(repo: Path) -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, for every `+genclient` kind under `repo`."""
    found: dict[tuple[str, str], bool] = {}
    for register in sorted(repo.rglob("register.go")):
        if "examples" in register.relative_to(repo).parts or "testdata" in register.parts:
            continue
        group = _GROUP.search(register.read_text())
        if group is None:
            continue
        for source in sorted(register.parent.glob("*.go")):
            if source.name.endswith("_test.go") or source.name.startswith("zz_generated"):
                continue
            lines = source.read_text().splitlines()
            for i, line in enumerate(lines):
                m = _TYPE.match(line)
                if m is None:
                    continue
                tags = _tags_above(lines, i)
                if "genclient" not in tags:
                    continue
                key = (group.group(1), m.group(1))
                namespaced = "genclient:nonNamespaced" not in tags
                if found.get(key, namespaced) != namespaced:
                    sys.exit(f"{key}: namespaced in one version, not in another")
                found[key] = namespaced
    return found


def _commit(repo: Path) -> str:
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    return proc.stdout.strip() if proc.returncode == 0 else "unknown"


def render(found: dict[tuple[str, str], bool], sources: list[str]) -> str:
    def table(namespaced: bool) -> str:
        rows = sorted(k for k, v in found.items() if v == namespaced)
        return "\n".join(f'    ("{g}", "{k}"),' for g, k in rows)

    origin = "\n".join(f"#   {s}" for s in sources)
    return f'''"""The scope of Kubernetes' built-in kinds, generated from Kubernetes' own API
types by scripts/gen_builtin_scope.py (do not edit by hand: run it on a newer release)."""

# Generated from the `+genclient` / `+genclient:nonNamespaced` tags of:
{origin}

__all__ = ["CLUSTER_SCOPED", "NAMESPACED"]

# (group, kind); "" is the core group
NAMESPACED: frozenset[tuple[str, str]] = frozenset({{
{table(True)}
}})

CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset({{
{table(False)}
}})
'''


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tag", required=True, help="the release tag the checkouts are at")
    p.add_argument("repos", nargs="+", type=Path,
                   help="checkouts of kubernetes/api, apiextensions-apiserver, kube-aggregator")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    found: dict[tuple[str, str], bool] = {}
    sources = []
    for repo in args.repos:
        own = kinds(repo)
        if not own:
            sys.exit(f"{repo}: no +genclient kinds found")
        found.update(own)
        sources.append(f"github.com/kubernetes/{repo.resolve().name} {args.tag},\n"
                       f"#     commit {_commit(repo)}")
    args.out.write_text(render(found, sources))
    print(f"{args.out}: {sum(found.values())} namespaced, "
          f"{len(found) - sum(found.values())} cluster-scoped kinds")


if __name__ == "__main__":
    main()
