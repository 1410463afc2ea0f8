"""The API reference: every public name has a docstring, and the site builds from them
(`make docs`, the same script) with no warning, the tutorial included."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import krmfn
import krmfn.testing
import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = (krmfn, krmfn.testing)


def _own_doc(obj: object) -> str:
    """The docstring a reader sees, less what Python writes for a class without one
    (a dataclass's signature) or what it takes from a base."""
    if inspect.isclass(obj):  # its own, not a base's (an Enum's or an exception's)
        doc = obj.__dict__.get("__doc__") or ""
        return "" if doc.startswith(f"{obj.__name__}(") else doc.strip()
    return (inspect.getdoc(obj) or "").strip()


def _members(cls: type) -> Iterator[tuple[str, object]]:
    """Public attributes a class defines itself or takes from one of krmfn's classes
    (what Python's own bases give, like an exception's `args`, is theirs to document)."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("krmfn"):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, property):
                yield attr, value.fget
            elif isinstance(value, staticmethod | classmethod):
                yield attr, value.__func__
            elif inspect.isfunction(value):
                yield attr, getattr(cls, attr)


def public_names() -> Iterator[tuple[str, object]]:
    for module in PUBLIC_MODULES:
        yield module.__name__, module
        for name in module.__all__:
            obj = getattr(module, name)
            yield f"{module.__name__}.{name}", obj
            if inspect.isclass(obj):
                for attr, member in _members(obj):
                    yield f"{module.__name__}.{name}.{attr}", member


def test_the_check_sees_the_whole_api() -> None:
    names = dict(public_names())
    # inherited from a private base, from a dataclass, from a property and a classmethod
    for name in ("krmfn.KubeObject.get_str", "krmfn.KubeObject.kind", "krmfn.Field",
                 "krmfn.ResourceList.parse", "krmfn.testing.GoldenCase.input_text"):
        assert name in names, name
    assert len(names) > 100


def test_every_public_name_has_a_docstring() -> None:
    missing = [name for name, obj in public_names() if not _own_doc(obj)]
    assert not missing, "no docstring: " + ", ".join(missing)


def _has_pdoc() -> bool:
    return importlib.util.find_spec("pdoc") is not None


@pytest.mark.skipif(not _has_pdoc() and not os.environ.get("CI"),
                    reason="pdoc is not installed (pip install -e '.[docs]'; make test does)")
def test_the_site_builds_without_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "site"
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    api = (out / "krmfn.html").read_text()
    for name in krmfn.__all__:
        assert f'id="{name}"' in api, name
    assert 'id="GoldenCase"' in (out / "krmfn" / "testing.html").read_text()
    tutorial = (out / "tutorial.html").read_text()
    assert "kpt fn render" in tutorial
    assert "tutorial.html" in (out / "index.html").read_text()


@pytest.mark.skipif(not _has_pdoc() and not os.environ.get("CI"),
                    reason="pdoc is not installed (pip install -e '.[docs]'; make test does)")
def test_the_build_finds_an_undocumented_name(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import pdoc.doc

    (tmp_path / "undocumented_example.py").write_text(
        '"""A module."""\n__all__ = ["A", "f"]\n\n\nclass A:\n    """Documented."""\n\n'
        "    def m(self) -> None:\n        pass\n\n    def _private(self) -> None:\n"
        "        pass\n\n\ndef f() -> None:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = importlib.util.spec_from_file_location("docs_build", ROOT / "docs" / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    module = pdoc.doc.Module(importlib.import_module("undocumented_example"))
    assert sorted(build._undocumented(module)) == ["undocumented_example.A.m",
                                                    "undocumented_example.f"]
