"""A bug in a function the in-process pipeline runs (ours or an installed package's) fails
that step and its package, keeps the other packages going, and shows its traceback, so it
can be fixed; and a step's `configPath` names the file as kpt does (`./x.yaml` is
`x.yaml`; a file whose name starts with a dot keeps it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from krmfn import ResourceList, function
from krmfn_fleet.pipeline import render_package

KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: pkg
pipeline:
  mutators:
  - image: example.com/buggy:v1
{extra}"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n"


@function(name="buggy")
def buggy(rl: ResourceList) -> None:
    """Reads a key that is not there: a bug, not bad input."""
    {}["missing"]


@function(name="labeller")
def labeller(rl: ResourceList) -> None:
    """Labels every item with the functionConfig's data.value."""
    assert rl.function_config is not None
    value = rl.function_config.get_str("data.value")
    for obj in rl.items:
        if obj.kind != "ConfigMap" or obj.name == "fn-config":
            continue
        obj.set_label("set-by", value)


def package(tmp_path: Path, extra: str = "", files: dict[str, str] | None = None) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text(KPTFILE.format(extra=extra))
    (pkg / "cm.yaml").write_text(CM)
    for name, text in (files or {}).items():
        (pkg / name).write_text(text)
    return pkg


def test_a_bug_in_a_function_fails_the_package_with_its_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = package(tmp_path)
    before = (pkg / "cm.yaml").read_bytes()
    result = render_package(pkg, resolver=lambda name: buggy if "buggy" in name else None)
    assert not result.ok
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'missing'" in err and "in buggy" in err
    assert (pkg / "cm.yaml").read_bytes() == before  # nothing written


@pytest.mark.parametrize("config_path", ["./.fn-config.yaml", ".fn-config.yaml"])
def test_config_path_names_a_dot_file_as_kpt_does(tmp_path: Path, config_path: str) -> None:
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fn-config\ndata:\n  value: x\n"
    pkg = package(tmp_path, f"    configPath: {config_path}\n", {".fn-config.yaml": config})
    result = render_package(pkg, resolver=lambda name: labeller if "buggy" in name else None)
    assert result.ok, result.error
    assert "set-by: x" in (pkg / "cm.yaml").read_text()
