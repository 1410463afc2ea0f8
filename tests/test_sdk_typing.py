"""The decorator is typed: mypy --strict refuses a handler of the wrong shape or a config
of the wrong class, and the README's install gives a user's mypy a typed krmfn to read."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HEAD = """\
from dataclasses import dataclass

import krmfn
from krmfn import ResourceList


@dataclass
class Config:
    team: str


@dataclass
class Other:
    size: int
"""

SNIPPETS = {
    "plain_ok": """
@krmfn.function(name="plain")
def plain(rl: ResourceList) -> None:
    rl.info("ran")


fn: krmfn.Function = plain
""",
    "config_ok": """
@krmfn.function(name="with-config", config=Config)
def with_config(rl: ResourceList, config: Config) -> None:
    rl.info(config.team)
""",
    "config_kind_ok": """
@krmfn.function(name="kinded", config=Config, config_kind="example.com/v1/Team")
def kinded(rl: ResourceList, config: Config) -> None:
    rl.info(config.team)
""",
    "config_not_taken": """
@krmfn.function(name="forgot", config=Config)
def forgot(rl: ResourceList) -> None:
    rl.info("ran")
""",
    "config_not_given": """
@krmfn.function(name="extra")
def extra(rl: ResourceList, config: Config) -> None:
    rl.info(config.team)
""",
    "config_of_another_class": """
@krmfn.function(name="mixed-up", config=Config)
def mixed_up(rl: ResourceList, config: Other) -> None:
    rl.info(str(config.size))
""",
    "not_a_resource_list": """
@krmfn.function(name="wrong")
def wrong(items: list[str]) -> None:
    print(items)
""",
}
BAD = {"config_not_taken", "config_not_given", "config_of_another_class",
       "not_a_resource_list"}


def test_mypy_refuses_handlers_of_the_wrong_shape(tmp_path: Path) -> None:
    for name, body in SNIPPETS.items():
        (tmp_path / f"{name}.py").write_text(HEAD + body)
    config = tmp_path / "mypy.ini"
    config.write_text(f"[mypy]\nstrict = True\nmypy_path = {ROOT / 'sdk'}\n"
                      f"cache_dir = {tmp_path / 'cache'}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config),
         *sorted(f"{n}.py" for n in SNIPPETS)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    errors: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        found = re.match(r"(\w+)\.py:\d+: error: (.*)", line)
        if found:
            errors.setdefault(found[1], []).append(found[2])
    assert set(errors) == BAD, proc.stdout + proc.stderr
    for name in BAD:
        assert any("krmfn.function" in e or "incompatible type" in e for e in errors[name])


@pytest.mark.slow
def test_the_readme_install_gives_mypy_a_typed_package(tmp_path: Path) -> None:
    """A fresh virtualenv, the README's install command, and a user's file outside the
    project: `mypy --strict` finds krmfn and its types (a plain `pip install -e .` hides
    it behind setuptools' import hook)."""
    readme = (ROOT / "README.md").read_text()
    install = re.search(r"\.venv/bin/pip install (-e \.[^\n]*)", readme)
    assert install, "the README's install command"
    project = tmp_path / "krmfn"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for part in ("sdk", "functions"):
        shutil.copytree(ROOT / part, project / part, ignore=ignore)
    for file in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / file, project / file)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    args = install[1].split()
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args],
                          cwd=project, capture_output=True, text=True, timeout=600)
    if proc.returncode and ("No matching distribution" in proc.stderr
                            or "Could not find a version" in proc.stderr):
        pytest.skip(f"no package index to install from: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 0, proc.stderr
    user = tmp_path / "user"
    user.mkdir()
    (user / "my_function.py").write_text(HEAD + SNIPPETS["config_ok"]
                                         + "\nreveal_type(with_config)\n")
    env = {k: v for k, v in os.environ.items() if k != "MYPYPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-executable", str(python),
         "--cache-dir", str(tmp_path / "cache"), "my_function.py"],
        cwd=user, capture_output=True, text=True, timeout=600, env=env)
    assert 'Revealed type is "krmfn._run.function.Function"' in proc.stdout, proc.stdout
    assert "error" not in proc.stdout.replace("Revealed", ""), proc.stdout
