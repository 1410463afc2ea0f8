"""One-way layers: the SDK (`sdk/krmfn`) imports neither the catalog nor the fleet, and the
catalog does not import the fleet; they meet through entry points (`krmfn.functions`,
`krmfn.commands`). Checked in the source (imports, and module names handed to importlib)
and in a fresh interpreter that imports every SDK module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ABOVE = {"sdk/krmfn": ("krmfn_catalog", "krmfn_fleet"),
         "functions/krmfn_catalog": ("krmfn_fleet",)}


def _imports(path: Path) -> list[str]:
    """Every module an import statement names, and every string literal that starts with a
    package name followed by a dot or nothing (what importlib would be given)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            if isinstance(node.args[0].value, str):
                found.append(node.args[0].value)
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(first.value)
    return found


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_a_layer_never_imports_the_layers_above_it(layer: str) -> None:
    forbidden = ABOVE[layer]
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / layer).rglob("*.py")
        for name in _imports(path)
        if any(name == f or name.startswith(f"{f}.") for f in forbidden))
    assert offenders == []


def test_importing_every_sdk_module_loads_neither_the_catalog_nor_the_fleet() -> None:
    modules = sorted(f"krmfn.{p.stem}" for p in (ROOT / "sdk" / "krmfn").glob("*.py")
                     if p.stem != "__init__")
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('krmfn_catalog', 'krmfn_fleet')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_krmfn_command_reaches_the_catalog_and_the_fleet_through_entry_points(
        capsys: pytest.CaptureFixture[str]) -> None:
    from krmfn._cli import main

    assert main(["catalog"]) == 0
    assert "ipam-inject" in capsys.readouterr().out
    assert main(["fleet", "-h"]) == 0
    assert "krmfn fleet plan FLEET --out OUT" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:  # argparse's own help
        main(["ledger", "-h"])
    assert exit_.value.code == 0
    assert "krmfn ledger" in capsys.readouterr().out
    assert main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err
