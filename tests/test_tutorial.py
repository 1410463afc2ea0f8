"""The tutorial shows the files of examples/sdk/inject_sidecar as they are (a file block
is the whole file, byte for byte), its catalog entry says what the code says, its image
runs the function, and the README leads to it. Its commands run in test_doc_commands."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from krmfn.testing import golden_cases

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text()
PROJECT = ROOT / "examples" / "sdk" / "inject_sidecar"
FILE_BLOCK = re.compile(r"^\*\*`(?P<path>[^`]+)`\*\*\n\n```\w*\n(?P<text>.*?)^```\n", re.M | re.S)


def _module() -> typing.Any:
    spec = importlib.util.spec_from_file_location("tutorial_inject_sidecar",
                                                  PROJECT / "inject_sidecar.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


def test_every_file_block_is_the_file() -> None:
    blocks = list(FILE_BLOCK.finditer(TUTORIAL))
    paths = [m["path"] for m in blocks]
    for name in ("inject_sidecar.py", "test_inject_sidecar.py", "pyproject.toml",
                 "Dockerfile", "catalog.yaml", "package/Kptfile"):
        assert f"examples/sdk/inject_sidecar/{name}" in paths, name
    for m in blocks:
        assert (ROOT / m["path"]).read_text() == m["text"], m["path"]


def test_the_catalog_entry_is_the_code() -> None:
    fn = _module().inject_sidecar
    catalog = yaml.safe_load((PROJECT / "catalog.yaml").read_text())
    reference = yaml.safe_load((ROOT / "catalog.yaml").read_text())
    assert (catalog["apiVersion"], catalog["kind"]) == (reference["apiVersion"],
                                                        reference["kind"])
    (entry,) = catalog["functions"]
    assert entry["name"] == fn.name
    assert entry["description"] == fn.summary
    assert entry["configKinds"] == ["v1/ConfigMap", f"fn.kpt.dev/v1alpha1/{fn.config_kind}"]
    fields = dataclasses.fields(fn.config)
    assert [f["name"] for f in entry["configFields"]] == [f.name for f in fields]
    required = [f.name for f in fields if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    assert [f["name"] for f in entry["configFields"] if f.get("required")] == required
    assert set(entry) <= set(reference["functions"][0]) | {"tags"}
    for example in entry["examples"]:
        assert (ROOT / example / "Kptfile").is_file()
    assert entry["image"] in (PROJECT / "Dockerfile").read_text()


def test_the_readme_leads_to_the_tutorial() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A whole function", 1)[1].split("\n## ", 1)[0]
    assert "docs/tutorial.md" in section


def _runtime() -> str | None:
    for name in ("podman", "docker"):
        if shutil.which(name) and subprocess.run(
                [name, "image", "exists" if name == "podman" else "inspect",
                 "ghcr.io/krmfn/base:v0.1.0"], capture_output=True).returncode == 0:
            return name
    return None


@pytest.mark.container
@pytest.mark.skipif(_runtime() is None, reason="no container engine with the base image "
                    "(make image-base)")
def test_the_image_runs_the_function() -> None:
    runtime = _runtime()
    assert runtime is not None
    tag = "localhost/krmfn-tutorial/inject-sidecar:test"
    subprocess.run([runtime, "build", "--network=none", "-q", "-t", tag, str(PROJECT)],
                   check=True, capture_output=True)
    try:
        for case in golden_cases(PROJECT / "testdata"):
            proc = subprocess.run([runtime, "run", "--rm", "-i", "--network", "none",
                                   "--read-only", tag], input=case.input_text(),
                                  capture_output=True, text=True)
            code = case.path / "expected-exit-code"
            assert proc.returncode == (int(code.read_text()) if code.exists() else 0)
            assert proc.stdout == (case.path / "expected.yaml").read_text(), proc.stderr
    finally:
        subprocess.run([runtime, "rmi", "-f", tag], capture_output=True)
