"""One-way layers: the SDK (`sdk/krmfn`) imports neither the catalog nor the fleet, and the
catalog does not import the fleet; they meet through entry points (`krmfn.functions`,
`krmfn.commands`). Checked in the source (imports, and module names handed to importlib)
and in a fresh interpreter that imports every SDK module.

Inside the SDK the same holds between its own layers (`SDK_LAYERS`), and no module imports
itself through others: every import statement counts, at the top of a module, inside a
function or under TYPE_CHECKING, for a circle of types is a circle of the design too."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SDK = ROOT / "sdk"
# The SDK's layers, lowest first; a module may import its own layer and those below.
SDK_LAYERS = (
    ("krmfn._errors",),  # the errors every layer raises
    ("krmfn._text",),  # the YAML text engine
    ("krmfn._large",),  # large lists read lazily
    ("krmfn._model",),  # KubeObject, ResourceList, results, config, selectors, scope
    ("krmfn._run",),  # functions, their command line, package files
    ("krmfn", "krmfn.testing"),  # the public names
)
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


def _module_name(path: Path, top: Path) -> str:
    return ".".join(path.relative_to(top).with_suffix("").parts).removesuffix(".__init__")


def _import_graph(top: Path) -> dict[str, set[str]]:
    """Each module under `top` (a folder holding packages) and the modules of `top` that
    any of its import statements names, wherever the statement stands."""
    files = {_module_name(path, top): path for path in top.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, `level - 1` packages up
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                found.add(base)  # `from pkg import mod` names the module mod
                found |= {f"{base}.{alias.name}" for alias in node.names}
        graph[module] = {name for name in found if name in files and name != module}
    return graph


def _layer(module: str) -> int | None:
    for i, names in enumerate(SDK_LAYERS):
        if any(module == n or (n != "krmfn" and module.startswith(f"{n}.")) for n in names):
            return i
    return None


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for dep in sorted(graph[module]):
            if dep not in index:
                visit(dep)
                low[module] = min(low[module], low[dep])
            elif dep in on_stack:
                low[module] = min(low[module], index[dep])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_every_sdk_module_belongs_to_a_layer() -> None:
    assert sorted(m for m in _import_graph(SDK) if _layer(m) is None) == []


def test_sdk_imports_point_down_the_layers() -> None:
    graph = _import_graph(SDK)
    upward = sorted(f"{module} imports {dep}" for module, deps in graph.items()
                    for dep in deps if (_layer(dep) or 0) > (_layer(module) or 0))
    assert upward == []


def test_the_sdk_has_no_import_circles() -> None:
    assert _circles(_import_graph(SDK)) == []


def test_each_sdk_layer_says_what_it_is_and_imports_nothing() -> None:
    """A layer's `__init__` is its description: importing one of its modules loads no
    other module of the SDK through it."""
    for names in SDK_LAYERS[1:-1]:
        init = SDK.joinpath(*names[0].split("."), "__init__.py")
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), init
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]


def test_the_circle_check_sees_imports_inside_functions_and_under_type_checking(
        tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from pkg.b import B\n")
    (pkg / "b.py").write_text("def f() -> None:\n    from pkg.sub import c\n")
    (pkg / "sub" / "c.py").write_text("from ..a import A\n")
    (pkg / "d.py").write_text("import pkg.a\n")
    graph = _import_graph(tmp_path)
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert _circles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]


def test_importing_every_sdk_module_loads_neither_the_catalog_nor_the_fleet() -> None:
    modules = sorted(_import_graph(SDK))
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('krmfn_catalog', 'krmfn_fleet')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_krmfn_command_reaches_the_catalog_and_the_fleet_through_entry_points(
        capsys: pytest.CaptureFixture[str]) -> None:
    from krmfn._run.cli import main

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
