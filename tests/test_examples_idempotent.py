"""Every example package, rendered by kpt: a second render changes nothing, and two fresh
renders (separate copies, separate processes, so separate hash seeds) give the same tree.

Examples are the catalog's `functions/krmfn_catalog/*/examples/*` and the blueprints under
`examples/blueprint/`. A render that fails (a validator example) must fail the same way
every time and leave the same tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kpt_support import needs_kpt, render, scratch_package

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(
    p.parent for pattern in ("functions/krmfn_catalog/*/examples/*/Kptfile",
                             "examples/blueprint/*/Kptfile")
    for p in ROOT.glob(pattern)
)

pytestmark = [pytest.mark.kpt, needs_kpt]


def tree(pkg: Path) -> dict[str, bytes]:
    """Every file of a rendered package (git's own files aside)."""
    return {str(p.relative_to(pkg)): p.read_bytes() for p in sorted(pkg.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(pkg).parts}


def test_there_are_examples_to_render() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"nephio-upf-like", "vlan-attachments", "edge-site", "require-labels",
            "upf-lite"} <= names


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_rendering_again_changes_nothing_and_renders_agree(example: Path,
                                                           tmp_path: Path) -> None:
    first = scratch_package(example, tmp_path / "first" / example.name)
    second = scratch_package(example, tmp_path / "second" / example.name)
    untouched = tree(first)

    one = render(first, check=False)
    rendered = tree(first)
    if one.returncode == 0:
        assert rendered != untouched, "the example's pipeline changed nothing at all"

    again = render(first, check=False)
    assert again.returncode == one.returncode, again.stderr
    assert tree(first) == rendered, "a second render changed the package"

    fresh = render(second, check=False)
    assert fresh.returncode == one.returncode, fresh.stderr
    assert tree(second) == rendered, "two renders of the same package differ"
