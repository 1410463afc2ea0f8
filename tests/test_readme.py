"""The README says what is true: its first lines are the two commands, its guarantees are
the ones the tests check, and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

import test_guarantees
from krmfn import ResourceList

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_first_lines_are_the_two_commands() -> None:
    lines = [ln.strip() for ln in README.splitlines()[1:6] if ln.strip()]
    assert lines[0].startswith("make demo")
    assert lines[1].startswith("make test")
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_guarantees_section_is_the_tested_one() -> None:
    assert test_guarantees.__doc__ is not None
    assert test_guarantees.__doc__.strip() in README


def test_the_whole_function_example_runs() -> None:
    block = README.split("## A whole function", 1)[1].split("```python", 1)[1].split("```")[0]
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    fn = namespace["add_team"]
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a # keep\n"
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
            "    name: x\n  data: {team: ran}\n")
    out = fn.run_text(text)  # type: ignore[attr-defined]
    assert out.exit_code == 0
    rl = ResourceList.parse(out.stdout)
    assert rl.items[0].get_label("team") == "ran"
    assert "name: a # keep" in out.stdout
