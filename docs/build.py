"""Build the API reference and the tutorial into one static site with pdoc.

    python docs/build.py OUT      (what `make docs` runs; OUT defaults to site/)

The reference is generated from the docstrings of `krmfn` (its `__all__`) and
`krmfn.testing`; `docs/*.md` pages are rendered by the same templates, as pages of their
own beside the modules. Any warning is an error (an annotation pdoc cannot resolve, a
page it cannot place), and so is a public name the site would show without a docstring:
the build prints them all and exits 1, writing nothing half.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import pdoc
import pdoc.doc
import pdoc.render

HERE = Path(__file__).resolve().parent
MODULES = ("krmfn", "krmfn.testing")
PAGES = ("tutorial",)  # docs/<page>.md, in the order the index lists them


def _page(name: str) -> pdoc.doc.Module:
    """A Markdown page as a module whose docstring is the page (pdoc renders docstrings
    as Markdown, with the same code highlighting and links to the API)."""
    module = types.ModuleType(name, (HERE / f"{name}.md").read_text(encoding="utf-8"))
    return pdoc.doc.Module(module)


def _load(name: str) -> pdoc.doc.Module:
    """A module with its lazily imported public names loaded (pdoc reads a module's
    namespace, where krmfn puts a name only once it is first used)."""
    module = importlib.import_module(name)
    for public in getattr(module, "__all__", ()):
        getattr(module, public)
    return pdoc.doc.Module(module)


def _undocumented(module: pdoc.doc.Module) -> Iterator[str]:
    """Public classes and functions, and the methods of those classes, shown without a
    docstring (fields and properties are checked by tests/test_docs.py)."""
    kinds = (pdoc.doc.Class, pdoc.doc.Function)
    for member in module.members.values():
        if isinstance(member, kinds) and not member.docstring.strip():
            yield member.fullname
        if isinstance(member, pdoc.doc.Class):
            for sub in member.own_members:
                if (isinstance(sub, kinds) and not sub.name.startswith("_")
                        and not sub.docstring.strip()):
                    yield sub.fullname


def build(out: Path) -> list[str]:
    """Render every page into `out`; the problems found (nothing is written if any)."""
    problems: list[str] = []
    pdoc.render.configure(docformat="markdown", show_source=False,
                          footer_text="krmfn API reference and tutorial")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        modules = {name: _load(name) for name in MODULES}
        for name in MODULES:
            problems += [f"{n}: no docstring" for n in _undocumented(modules[name])]
        modules |= {name: _page(name) for name in PAGES}
        staging = Path(tempfile.mkdtemp(prefix=".site-", dir=out.parent))
        try:
            for module in modules.values():
                html = pdoc.render.html_module(module, modules)
                target = staging / f"{module.fullname.replace('.', '/')}.html"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(html, encoding="utf-8")
            (staging / "index.html").write_text(pdoc.render.html_index(modules),
                                                encoding="utf-8")
            (staging / "search.js").write_text(pdoc.render.search_index(modules),
                                               encoding="utf-8")
        except BaseException:
            shutil.rmtree(staging)
            raise
    problems += [f"warning: {w.message}" for w in caught]
    if problems:
        shutil.rmtree(staging)
        return problems
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return []


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "site").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    problems = build(out)
    for problem in problems:
        print(f"docs: {problem}", file=sys.stderr)
    if not problems:
        print(f"docs: {out}/index.html")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
