"""Every shell command the README and the tutorial show runs as written, on a fresh copy
of the repository: their shell blocks (the README's indented blocks of commands, the
tutorial's `sh` fences) are extracted and run in order in one bash process each, with
`set -euo pipefail`, from the copy's root, on a PATH that holds only the system's
directories (so what the README installs is what runs). The tutorial starts where the
README's 30 seconds end, as it says: with their virtualenv on the PATH.

The README writes `PKG` for "your package": the copy gets a package directory of that
name (the demo blueprint, its Kptfile pointing at the catalog's executables by name, as the
README's `exec:` comment says) and the `site.yaml` a command names. Commands that are not
run here say why in SKIPPED; any other command runs, so a block added later is checked
too. The venv line runs as written (about 15 s): it is the first step of a fresh machine.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from kpt_support import needs_kpt

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLUEPRINT = ROOT / "examples" / "blueprint" / "upf-lite"

SKIPPED = {
    r"^make ": "a make target: `make test` is this suite, and the others have tests of "
               "their own (test_demo, test_lint, test_containers) or are benchmarks",
    r"docker run|^podman build": "needs a container engine and the images "
                                 "(tests/test_containers.py, tests/test_tutorial.py)",
    r"^kpt fn render PKG\s*(#|$)|^kpt fn eval \S+ --image": "images (tests/test_containers.py)",
}
TUTORIAL = ROOT / "docs" / "tutorial.md"


def shell_blocks(text: str) -> list[list[str]]:
    """The README's top-level indented blocks that hold commands, as lists of commands
    (continued lines joined). Blocks inside list items (indented further) are examples
    of Python and path syntax, not commands."""
    lines = text.split("\n")
    blocks: list[list[str]] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence or not re.match(r"^    \S", line) or (i and lines[i - 1].strip()):
            i += 1
            continue
        commands: list[str] = []
        while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
            if not lines[i].strip():
                if i + 1 < len(lines) and lines[i + 1].startswith("    "):
                    i += 1
                    continue
                break
            part = lines[i].strip()
            if commands and commands[-1].endswith("\\"):
                commands[-1] = commands[-1][:-1].rstrip() + " " + part
            else:
                commands.append(part)
            i += 1
        blocks.append(commands)
    return blocks


def skipped(command: str) -> str | None:
    for pattern, reason in SKIPPED.items():
        if re.search(pattern, command):
            return reason
    return None


def test_the_blocks_are_found() -> None:
    blocks = shell_blocks(README.read_text())
    commands = [c for block in blocks for c in block]
    assert any(c.startswith("python3 -m venv .venv") for c in commands)
    assert any(c.startswith("kpt fn eval my-app") for c in commands)
    assert not any(c.startswith(("from ", "import ", "for ", "metadata.")) for c in commands)
    assert any(skipped(c) is None and "PKG" in c for c in commands)


def _copy_of_the_repository(dst: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    return dst


def _package_named_pkg(repo: Path) -> None:
    pkg = repo / "PKG"
    shutil.copytree(BLUEPRINT, pkg)
    kptfile = pkg / "Kptfile"
    kptfile.write_text(re.sub(r"image: ghcr\.io/krmfn/([\w-]+):\S+", r"exec: \1",
                              kptfile.read_text()))
    shutil.copy(BLUEPRINT / "site.yaml", repo / "site.yaml")


def tutorial_blocks(text: str) -> list[list[str]]:
    """The tutorial's ```sh fences, as lists of commands."""
    return [[line for line in block.splitlines() if line.strip()]
            for block in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S)]


def _script(blocks: list[list[str]]) -> tuple[str, int]:
    lines = ["set -euo pipefail"]
    count = 0
    for block in blocks:
        for command in block:
            if skipped(command) is None:
                lines += [f"echo {shlex.quote('$ ' + command)}", command]
                count += 1
    return "\n".join(lines), count


def _run(script: str, cwd: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("KRMFN")}
    env["PATH"] = path
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A fresh copy of the repository where the README's commands have run (their output)."""
    repo = _copy_of_the_repository(tmp_path_factory.mktemp("checkout") / "krmfn")
    _package_named_pkg(repo)
    script, count = _script(shell_blocks(README.read_text()))
    proc = _run(script, repo, SYSTEM_PATH)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.count("$ ") >= count, proc.stdout
    return repo, proc.stdout


@needs_kpt
@pytest.mark.kpt
@pytest.mark.slow
def test_every_readme_command_runs_as_written(checkout: tuple[Path, str]) -> None:
    repo, _ = checkout
    # what the commands did, not only that they exited 0
    assert "namespace: prod" in (repo / "my-app" / "upf.yaml").read_text()
    assert (repo / "ledger.sqlite").is_file()


def test_the_tutorial_blocks_are_found() -> None:
    commands = [c for block in tutorial_blocks(TUTORIAL.read_text()) for c in block]
    assert any(c.startswith("kpt fn eval my-shop --exec") for c in commands)
    assert any(c.startswith("kpt fn render my-shop --allow-exec") for c in commands)
    assert any(c.startswith("pip install -e examples/sdk/inject_sidecar") for c in commands)
    assert sum(skipped(c) is not None for c in commands) == 3  # the image's commands


@needs_kpt
@pytest.mark.kpt
@pytest.mark.slow
def test_every_tutorial_command_runs_as_written(checkout: tuple[Path, str]) -> None:
    repo, _ = checkout
    goldens = sorted((repo / "examples/sdk/inject_sidecar/testdata").rglob("expected*"))
    before = {p: p.read_bytes() for p in goldens}
    script, count = _script(tutorial_blocks(TUTORIAL.read_text()))
    proc = _run(script, repo, f"{repo / '.venv' / 'bin'}:{SYSTEM_PATH}")
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.count("$ ") >= count, proc.stdout
    # the goldens rewritten from the function are the ones committed
    assert {p: p.read_bytes() for p in goldens} == before
    web = (repo / "my-shop" / "web.yaml").read_text()
    assert web.count("name: log-shipper") == 1 and "name: web # the storefront" in web
    assert "name: log-shipper" in (repo / "my-shop" / "report.yaml").read_text()
    assert (repo / ".venv" / "bin" / "inject-sidecar").exists()
