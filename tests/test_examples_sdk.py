"""examples/sdk: each example is a directory `<name>/` holding its function module
`<name>.py` and golden cases (`testdata/<case>/`), run here through krmfn.testing.
Beyond the goldens, every mutation is idempotent (its output, run again, gives the same
items and no error) and a validator's output items are its input's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import krmfn
import pytest
from krmfn import ResourceList
from krmfn.testing import GoldenCase, golden_cases, run, run_golden

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "sdk"
NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / f"{p.name}.py").is_file())


def load(name: str) -> ModuleType:
    """The example's module, imported from its file (the examples are not installed)."""
    module_name = f"krmfn_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / name / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def function_of(name: str) -> krmfn.Function:
    fn = getattr(load(name), name)
    assert isinstance(fn, krmfn.Function)
    return fn


CASES = [(name, case) for name in NAMES for case in golden_cases(EXAMPLES / name / "testdata")]
IDS = [f"{name}/{case.name}" for name, case in CASES]


def test_the_examples_cover_what_they_should() -> None:
    for name in ("inject_sidecar", "generate_dashboards", "require_limits",
                 "migrate_app_label", "set_labels", "scale_replicas", "annotate_selected",
                 "mark_image_setters"):
        assert name in NAMES, name
    for name in NAMES:  # each is a console script's entry point too
        assert load(name).main == function_of(name).main


@pytest.mark.parametrize(("name", "case"), CASES, ids=IDS)
def test_golden(name: str, case: GoldenCase) -> None:
    run_golden(function_of(name), case)


def _items(text: str) -> list[str]:
    """The items of a ResourceList, each as its YAML text."""
    return [obj.to_yaml() for obj in ResourceList.parse(text).items]


@pytest.mark.parametrize(("name", "case"), CASES, ids=IDS)
def test_idempotent(name: str, case: GoldenCase) -> None:
    fn = function_of(name)
    first = run(fn, case.input_text())
    if first.exit_code:
        # a failed run leaves the items as they came in
        assert _items(first.stdout) == _items(case.input_text())
        return
    rl = ResourceList.parse(first.stdout)
    rl.results.clear()
    second = run(fn, rl.to_text())
    assert second.exit_code == 0, second.stderr
    assert _items(second.stdout) == _items(first.stdout)


def test_a_validator_never_edits() -> None:
    fn = function_of("require_limits")
    for case in golden_cases(EXAMPLES / "require_limits" / "testdata"):
        out = run(fn, case.input_text())
        assert _items(out.stdout) == _items(case.input_text())
