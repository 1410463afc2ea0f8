"""Testing helpers: run a function in process on text, and golden cases from directories.

A golden case is a directory holding `input.yaml` (a ResourceList, or plain resources as a
multi-document stream), optionally `config.yaml` (the functionConfig), and the expectations
`expected.yaml` (the output ResourceList, required) and `expected-exit-code` (default 0).
Run with `KRMFN_UPDATE_GOLDEN=1` to write expectations from what the function now does.

The harness fails loudly rather than pass on nothing: a mismatch shows a unified diff, a
case without `expected.yaml` fails (unless updating), and a folder without any case is an
error (pytest would otherwise skip an empty parametrization, and a typo in the folder's
name would test nothing).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from krmfn._errors import InputError
from krmfn._model.object import KubeObject
from krmfn._model.resource_list import ResourceList
from krmfn._run.function import Function, RunOutput
from krmfn._run.package import _documents, _is_blank

__all__ = ["GoldenCase", "golden_cases", "resource_list", "run", "run_golden"]


def run(fn: Function, text: str) -> RunOutput:
    """Run `fn` on ResourceList text as the console script would; a bug in the function
    (an exception that is not a KrmfnError) is raised as it is, for pytest to show."""
    return fn.run_text(text, raise_bugs=True)


def resource_list(resources: str, config: str | None = None) -> str:
    """A ResourceList text from a multi-document YAML stream and an optional config."""
    items = [KubeObject.from_yaml(d) for d in _documents(resources) if not _is_blank(d)]
    fc = KubeObject.from_yaml(config) if config else None
    return ResourceList(items, fc).to_text()


@dataclass(frozen=True)
class GoldenCase:
    """One golden case: a directory with `input.yaml` and its expectations."""

    path: Path

    @property
    def name(self) -> str:
        """The case's directory name (a pytest id)."""
        return self.path.name

    def input_text(self) -> str:
        """The ResourceList to run: `input.yaml`, with `config.yaml` as its functionConfig."""
        text = (self.path / "input.yaml").read_text(encoding="utf-8")
        cfg = self.path / "config.yaml"
        config = cfg.read_text(encoding="utf-8") if cfg.exists() else None
        try:
            rl = ResourceList.parse(text)
        except InputError:  # not a ResourceList: a stream of resources
            return resource_list(text, config)
        if config is None:
            return text
        rl.function_config = KubeObject.from_yaml(config)
        return rl.to_text()


def golden_cases(directory: str | Path) -> list[GoldenCase]:
    """Every case directory under `directory` (for pytest.mark.parametrize)."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such directory of golden cases")
    cases = [GoldenCase(p) for p in sorted(root.iterdir()) if (p / "input.yaml").exists()]
    if not cases:
        raise LookupError(f"{root}: no golden case (a directory holding input.yaml)")
    return cases


def run_golden(fn: Function, case: GoldenCase) -> RunOutput:
    """Run a case and assert its expectations (or rewrite them when updating)."""
    out = fn.run_text(case.input_text(), raise_bugs=True)
    expected = case.path / "expected.yaml"
    code_file = case.path / "expected-exit-code"
    if os.environ.get("KRMFN_UPDATE_GOLDEN"):
        expected.write_text(out.stdout, encoding="utf-8")
        if out.exit_code:
            code_file.write_text(f"{out.exit_code}\n", encoding="utf-8")
        elif code_file.exists():
            code_file.unlink()
        return out
    want_code = int(code_file.read_text()) if code_file.exists() else 0
    assert out.exit_code == want_code, (
        f"{case.name}: exit {out.exit_code}, expected {want_code}\n{out.stderr}")
    assert expected.exists(), (
        f"{case.name}: no expected.yaml (KRMFN_UPDATE_GOLDEN=1 writes it from this run)")
    want = expected.read_text(encoding="utf-8")
    if out.stdout != want:
        diff = "".join(difflib.unified_diff(
            want.splitlines(keepends=True), out.stdout.splitlines(keepends=True),
            f"{case.name}/expected.yaml", f"{case.name} (output)"))
        raise AssertionError(f"{case.name}: output differs from expected.yaml\n{diff}")
    return out
