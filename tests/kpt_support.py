"""Running packages under the real kpt: what the examples and conformance tests share.

`render(pkg)` copies nothing: callers pass a scratch copy (see `scratch_package`). Kptfile
functions given as `image:` are rewritten to `exec:` the console script from this
environment, so the same package runs as a container elsewhere and as a local executable
here (`--allow-exec`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

KPT = shutil.which("kpt") or "/usr/bin/kpt"
HAS_KPT = os.access(KPT, os.X_OK)
needs_kpt = pytest.mark.skipif(not HAS_KPT, reason="kpt is not installed (/usr/bin/kpt)")
BIN = Path(sys.executable).parent
# Packages and goldens of kpt's function catalog and of Nephio, kept unchanged in the
# repository (see tests/conformance/README.md for where each comes from).
CONFORMANCE = Path(__file__).resolve().parent / "conformance"
needs_shared = pytest.mark.skipif(not CONFORMANCE.is_dir(),
                                  reason="tests/conformance is not present")

# image name (any registry, any tag) of a catalog function -> its console script
_IMAGE = re.compile(
    r"^(\s*-?\s*)image:\s*['\"]?(?:[\w.-]+(?::\d+)?/)*(?P<fn>[\w-]+)(?::[\w.-]+)?['\"]?[ \t]*$",
    re.M,
)
FUNCTIONS = ("set-namespace", "ipam-inject", "vlan-assign", "site-specialize", "policy-validate",
             "nfdeploy",
             "apply-setters")


def script(name: str) -> str:
    """Absolute path of a console script of this environment."""
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or name


def use_exec(pkg: Path, aliases: dict[str, str] | None = None) -> None:
    """Point every Kptfile (recursively) at our executables instead of images.
    `aliases` maps another function name (e.g. the catalog's `apply-setters`) to ours."""
    aliases = aliases or {}
    for kptfile in pkg.rglob("Kptfile"):
        text = kptfile.read_text()

        def repl(m: re.Match[str]) -> str:
            fn = aliases.get(m.group("fn"), m.group("fn"))
            if fn not in FUNCTIONS:
                return m.group(0)
            return f"{m.group(1)}exec: {script(fn)}"

        kptfile.write_text(_IMAGE.sub(repl, text))


def scratch_package(src: Path, dst: Path) -> Path:
    """A git-tracked copy of `src` at `dst` (so `git diff` shows what a render changed)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".expected"))
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base",
        "--allow-empty")
    return dst


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def kpt(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        check: bool = False) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", **(env or {})}
    proc = subprocess.run([KPT, *args], cwd=cwd, capture_output=True, text=True, env=full_env,
                          timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"kpt {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def render(pkg: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`kpt fn render --allow-exec` (after pointing the Kptfile at our executables)."""
    use_exec(pkg)
    return kpt("fn", "render", str(pkg), "--allow-exec", check=check)


def diff(pkg: Path) -> str:
    """What changed since the scratch copy was made, excluding the Kptfile edit that
    `use_exec` made (the pipeline itself is not the function's output)."""
    git(pkg, "add", "-A")
    return git(pkg, "diff", "--cached", "--", ".", ":(exclude)Kptfile", ":(exclude)**/Kptfile")


def hunks(patch: str) -> list[tuple[str, list[str]]]:
    """A patch as (file, changed lines) per hunk: compared hunk for hunk, ignoring index
    lines, line numbers and context, which depend on git versions and not on the function."""
    out: list[tuple[str, list[str]]] = []
    current = ""
    for line in patch.splitlines():
        if line.startswith("+++ "):
            current = line[4:].removeprefix("b/")
        elif line.startswith("@@"):
            out.append((current, []))
        elif out and line[:1] in "+-" and not line.startswith(("+++", "---")):
            out[-1][1].append(line)
    return out
