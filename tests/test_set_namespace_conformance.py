"""set-namespace against kpt's own catalog fixtures, run by the real `kpt fn render`.

Every v0.4.1 case (the version Nephio blueprints pin) and every master-branch case: each
package's Kptfile is pointed at our executable, and the `git diff` the render leaves must
match `.expected/diff.patch` hunk for hunk. Every master case agrees with our behaviour
(namespaceMatcher, depends-on, package context); the one place master's expectations
contradict it, the exit code of `no-fnconfig-resource`, is explained at that test.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kpt_support import (
    CONFORMANCE,
    diff,
    git,
    hunks,
    kpt,
    needs_kpt,
    needs_shared,
    scratch_package,
    script,
    use_exec,
)

pytestmark = [pytest.mark.kpt, needs_kpt, needs_shared]

ROOT = CONFORMANCE / "kpt-catalog-set-namespace"
V041 = [
    "examples/set-namespace-depends-on",
    "examples/set-namespace-kpt-package-context",
    "examples/set-namespace-simple",
    "tests/set-namespace/squash-namespaces",
    "tests/set-namespace/wysiwyg-add-blueprint-resource",
    "tests/set-namespace/wysiwyg-authroing-blueprint-from-basens",
]
MASTER = [
    "examples/set-namespace-depends-on",
    "examples/set-namespace-kpt-package-context",
    "examples/set-namespace-simple",
    "tests/set-namespace/replace-all",
    "tests/set-namespace/replace-local-raw-edit",
    "tests/set-namespace/replace-match",
    "tests/set-namespace/wysiwyg-add-blueprint-resource",
    "tests/set-namespace/wysiwyg-authroing-blueprint-from-basens",
]
NO_CONFIG = "master/tests/set-namespace/no-fnconfig-resource"
DIFF_CASES = [f"v0.4.1/{c}" for c in V041] + [f"master/{c}" for c in MASTER]


@dataclass
class Expected:
    """`.expected/config.yaml` as the catalog's harness reads it (defaults when absent)."""

    exit_code: int = 0
    test_type: str = "render"
    args: dict[str, str] = field(default_factory=dict)
    stderr: str = ""

    @classmethod
    def of(cls, case: Path) -> Expected:
        path = case / ".expected" / "config.yaml"
        data: dict[str, Any] = yaml.safe_load(path.read_text()) or {} if path.exists() else {}
        return cls(int(data.get("exitCode", 0)), str(data.get("testType", "render")),
                   {str(k): str(v) for k, v in (data.get("args") or {}).items()},
                   str(data.get("stdErr", "")))


def _prepare(case: Path, dst: Path) -> Path:
    pkg = scratch_package(case, dst)
    kptfile = yaml.safe_load((pkg / "Kptfile").read_text())
    paths = [fn.get("configPath") for fn in kptfile.get("pipeline", {}).get("mutators", [])]
    if "package-context.yaml" in paths and not (pkg / "package-context.yaml").exists():
        # The catalog's harness got each package through kpt, which writes the package
        # context; its expected diff therefore shows package-context.yaml as a new file.
        # `kpt pkg init` writes that file from kpt's own template (and a README.md, which
        # is no part of the case); doing it after the base commit reproduces that hunk.
        readme = (pkg / "README.md").exists()
        kpt("pkg", "init", str(pkg), check=True)
        if not readme:
            (pkg / "README.md").unlink()
    use_exec(pkg)
    return pkg


def _run(pkg: Path, expected: Expected, *extra: str) -> subprocess.CompletedProcess[str]:
    if expected.test_type == "eval":
        args = [f"{k}={v}" for k, v in sorted(expected.args.items())]
        return kpt("fn", "eval", str(pkg), "--exec", script("set-namespace"), *extra, "--",
                   *args)
    return kpt("fn", "render", str(pkg), "--allow-exec", *extra)


def _commit(pkg: Path) -> None:
    git(pkg, "add", "-A")
    git(pkg, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "run",
        "--allow-empty")


def test_every_fixture_is_covered() -> None:
    """A case added to the fixtures cannot go unchecked."""
    for version, names in (("v0.4.1", V041), ("master", [*MASTER, NO_CONFIG.split("/", 1)[1]])):
        found = sorted(str(p.parent.relative_to(ROOT / version))
                       for p in (ROOT / version).glob("*/**/Kptfile"))
        assert found == sorted(names), version


@pytest.mark.parametrize("name", DIFF_CASES)
def test_case_matches_expected_diff(name: str, tmp_path: Path) -> None:
    case = ROOT / name
    expected = Expected.of(case)
    pkg = _prepare(case, tmp_path / "pkg")
    proc = _run(pkg, expected)
    assert proc.returncode == expected.exit_code, proc.stderr
    assert expected.stderr in proc.stderr
    got = diff(pkg)
    assert hunks(got) == hunks((case / ".expected" / "diff.patch").read_text()), got


@pytest.mark.parametrize("name", DIFF_CASES)
def test_case_is_idempotent_and_deterministic(name: str, tmp_path: Path) -> None:
    """The catalog's harness runs each case twice on fresh copies; we also run the output
    again, which must change nothing."""
    case = ROOT / name
    expected = Expected.of(case)
    first, second = _prepare(case, tmp_path / "a"), _prepare(case, tmp_path / "b")
    assert _run(first, expected).returncode == expected.exit_code
    assert _run(second, expected).returncode == expected.exit_code
    assert diff(first) == diff(second)
    _commit(first)
    proc = _run(first, expected)
    assert proc.returncode == expected.exit_code, proc.stderr
    assert diff(first) == ""
    assert "nothing to change" in proc.stdout + proc.stderr


def test_missing_function_config_is_an_error_result(tmp_path: Path) -> None:
    """`.expected/results.yaml` of master's case: one error result, no resource, saying the
    functionConfig is missing and naming both accepted kinds. It records exit code 0, which
    our behaviour contradicts on purpose: an error result means exit 1 (kpt then writes
    nothing), as everywhere else in the catalog."""
    case = ROOT / NO_CONFIG
    want = yaml.safe_load((case / ".expected" / "results.yaml").read_text())
    pkg = _prepare(case, tmp_path / "pkg")
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    proc = _run(pkg, Expected.of(case), "--results-dir", str(results_dir))
    assert proc.returncode == 1, proc.stderr
    assert diff(pkg) == ""
    got = yaml.safe_load((results_dir / "results.yaml").read_text())
    assert got["kind"] == want["kind"] == "FunctionResultList"
    assert len(got["items"]) == len(want["items"]) == 1
    ours, theirs = got["items"][0]["results"], want["items"][0]["results"]
    assert len(ours) == len(theirs) == 1
    assert ours[0]["severity"] == theirs[0]["severity"] == "error"
    assert not ours[0].get("resourceRef") and not theirs[0]["resourceRef"]
    assert "file" not in ours[0]  # kpt's {index: -1}: about no file
    message = ours[0]["message"]
    assert "functionConfig is missing" in message
    assert "FunctionConfig is missing" in theirs[0]["message"]
    for kind in ("ConfigMap", "SetNamespace", "fn.kpt.dev"):
        assert kind in message and kind in theirs[0]["message"]
