"""catalog.yaml agrees with the code: every function listed, examples present, versions
and images consistent, one Dockerfile per function."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import krmfn
import yaml
from krmfn_catalog import CATALOG, VERSION

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import catalog as generator  # noqa: E402

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_catalog_yaml_is_what_the_code_says() -> None:
    committed = (ROOT / "catalog.yaml").read_text()
    assert committed == generator.render(), "run: python scripts/catalog.py > catalog.yaml"


def test_every_console_script_is_in_the_catalog_and_back() -> None:
    scripts = {k for k in PYPROJECT["project"]["scripts"] if k != "krmfn"}
    assert scripts == {e.name for e in CATALOG}
    for e in CATALOG:
        assert PYPROJECT["project"]["scripts"][e.name] == f"krmfn_catalog.{e.module}:main"


def test_versions_agree() -> None:
    assert VERSION == "v" + PYPROJECT["project"]["version"] == "v" + krmfn.__version__
    data = yaml.safe_load((ROOT / "catalog.yaml").read_text())
    for fn in data["functions"]:
        assert fn["version"] == VERSION
        assert fn["image"] == f"ghcr.io/krmfn/{fn['name']}:{VERSION}"


def test_examples_and_docs_exist() -> None:
    data = yaml.safe_load((ROOT / "catalog.yaml").read_text())
    for fn in data["functions"]:
        readme = ROOT / fn["readme"]
        assert "## Usage" in readme.read_text(), readme
        assert fn["examples"], f"{fn['name']} has no example package"
        for example in fn["examples"]:
            pkg = ROOT / example
            assert (pkg / "Kptfile").is_file()
            assert (pkg / ".expected").is_dir(), f"{example} has no .expected/"
            assert f"ghcr.io/krmfn/{fn['name']}:{VERSION}" in (pkg / "Kptfile").read_text()


def test_one_dockerfile_per_function() -> None:
    for e in CATALOG:
        dockerfile = (ROOT / "Dockerfiles" / f"{e.name}.Dockerfile").read_text()
        assert f'ENTRYPOINT ["/opt/venv/bin/{e.name}"]' in dockerfile
        assert "USER 65534" in dockerfile


def test_krmfn_catalog_command_lists_every_function(capsys: object) -> None:
    from krmfn._run.cli import main

    assert main(["catalog"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    for e in CATALOG:
        assert e.name in out and e.image in out
