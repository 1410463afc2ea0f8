"""set-namespace: golden cases for every rule, idempotency and determinism on each, the
example package under kpt, and the promise that on a kpt-formatted package only the
lines that hold a namespace change."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from kpt_support import diff, git, hunks, kpt, needs_kpt, render, scratch_package, script
from krmfn.testing import GoldenCase, golden_cases, resource_list, run, run_golden
from krmfn_catalog.set_namespace.function import SetNamespaceConfig, set_namespace

HERE = Path(__file__).resolve().parents[1] / "functions" / "krmfn_catalog" / "set_namespace"
CASES = golden_cases(HERE / "testdata")
PASSING = [c for c in CASES if not (c.path / "expected-exit-code").exists()]
EXAMPLE = HERE / "examples" / "simple"


def _ids(cases: list[GoldenCase]) -> list[str]:
    return [c.name for c in cases]


def _items(text: str) -> str:
    """A ResourceList without its results (a rerun appends its own to the old ones)."""
    return text.split("\nresults:\n", 1)[0] + "\n"


def _message(text: str) -> str:
    found = re.search(r"^- message: (.*)$", text.split("\nresults:\n", 1)[1], re.M)
    assert found, text
    return found.group(1)


def _commit(pkg: Path) -> None:
    git(pkg, "add", "-A")
    git(pkg, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "step",
        "--allow-empty")


# ---------------------------------------------------------------- golden cases
def test_every_rule_has_a_case() -> None:
    names = set(_ids(CASES))
    for rule in ("replace-all", "namespace-object", "namespace-matcher", "typed-config",
                 "package-context", "rbac-subjects", "service-refs", "crd-scope",
                 "cluster-scoped-builtin", "local-config", "depends-on", "comments",
                 "flow-style", "already-in-namespace", "error-missing-config",
                 "error-empty-namespace", "error-unknown-config-kind"):
        assert rule in names


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_golden(case: GoldenCase) -> None:
    run_golden(set_namespace, case)


@pytest.mark.parametrize("case", PASSING, ids=_ids(PASSING))
def test_second_run_changes_nothing(case: GoldenCase) -> None:
    first = run(set_namespace, case.input_text())
    again = _items(first.stdout)
    second = run(set_namespace, again)
    assert second.exit_code == 0, second.stderr
    assert _items(second.stdout) == again
    assert _message(second.stdout).strip("'\"").startswith("nothing to change")


@pytest.mark.parametrize("case", PASSING, ids=_ids(PASSING))
def test_output_does_not_depend_on_the_run_or_the_item_order(case: GoldenCase) -> None:
    text = case.input_text()
    assert run(set_namespace, text).stdout == run(set_namespace, text).stdout
    head, items = text.split("items:\n", 1)
    body, tail = re.split(r"^(?=functionConfig:)", items, maxsplit=1, flags=re.M)
    entries = re.split(r"^(?=- )", body, flags=re.M)[1:]
    reordered = head + "items:\n" + "".join(reversed(entries)) + tail
    assert _message(run(set_namespace, reordered).stdout) == _message(
        run(set_namespace, text).stdout)


def test_old_namespaces_are_listed_sorted() -> None:
    resources = "".join(f"apiVersion: v1\nkind: Service\nmetadata:\n  name: s{ns}\n"
                        f"  namespace: {ns}\n---\n" for ns in ("zeta", "alpha", "mid"))
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: x\n"

    out = run(set_namespace, resource_list(resources, config))
    assert _message(out.stdout) == 'namespace "x" set on 3 resources (was "alpha", "mid", "zeta")'


# ---------------------------------------------------------------- usage
def test_help_prints_the_readme_usage() -> None:
    proc = subprocess.run([script("set-namespace"), "--help"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0
    assert proc.stdout.startswith("set-namespace\n")
    for text in ("## Usage", "kpt fn eval PKG --exec set-namespace -- namespace=prod",
                 "namespaceMatcher", "kptfile.kpt.dev", "usage: set-namespace"):
        assert text in proc.stdout


def test_readme_lists_exactly_the_config_fields() -> None:
    readme = (HERE / "README.md").read_text()
    table = re.findall(r"^\| `(\w+)` \|", readme, re.M)
    fields = {f.split("_")[0] + "".join(p.title() for p in f.split("_")[1:])
              for f in SetNamespaceConfig.__dataclass_fields__}
    assert set(table) == fields


# ---------------------------------------------------------------- kpt
@pytest.mark.kpt
@needs_kpt
def test_example_renders_to_its_expected_diff(tmp_path: Path) -> None:
    pkg = scratch_package(EXAMPLE, tmp_path / "simple")
    render(pkg)
    got = diff(pkg)
    assert hunks(got) == hunks((EXAMPLE / ".expected" / "diff.patch").read_text()), got
    _commit(pkg)
    render(pkg)
    assert diff(pkg) == ""


def _golden_package(dst: Path) -> Path:
    """A package of the golden inputs whose layout is hardest to keep: comments, flow
    style, quoting, block scalars, CRD scopes, bindings and depends-on."""
    dst.mkdir()
    for name in ("comments", "flow-style", "crd-scope", "rbac-subjects", "depends-on",
                 "local-config", "cluster-scoped-builtin"):
        shutil.copy(HERE / "testdata" / name / "input.yaml", dst / f"{name}.yaml")
    (dst / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                 "  name: golden\n")
    return dst


_WORDS = re.compile(r"""([\s/,:#"'{}\[\]])""")
_NAMESPACE_HOLDER = re.compile(r"\b(namespace|name): |/namespaces/")
_ADDED = re.compile(r"\s*namespace: prod")


def _only_namespace_changed(x: str, y: str, old: tuple[str, ...]) -> bool:
    """`y` is `x` with old namespaces replaced by `prod`, or, for a flow-style
    `metadata: {...}`, with `namespace: prod` appended."""
    if not _NAMESPACE_HOLDER.search(x):
        return False
    xs, ys = _WORDS.split(x), _WORDS.split(y)
    if len(xs) == len(ys):
        return all(u == v or (u in old and v == "prod") for u, v in zip(xs, ys, strict=True))
    return x.lstrip().startswith("metadata: {") and y == x[:-1] + ", namespace: prod}"


def _namespace_lines_only(before: str, after: str, old: tuple[str, ...]) -> int:
    """Assert `after` differs from `before` only in lines that hold a namespace (an old
    namespace became `prod`) and in added `namespace: prod` lines; count those lines."""
    changed = 0
    a, b = before.splitlines(), after.splitlines()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "insert":
            added = b[j1:j2]
            if added[0] == "" and i1 > 0 and a[i1 - 1].lstrip().startswith("#"):
                # kpt keeps a comment that ends a mapping as a foot comment and writes a
                # blank line before a key appended after it (its own wire input shows the
                # same blank line before the annotations it appends there)
                added = added[1:]
            assert added and all(_ADDED.fullmatch(line) for line in added), added
            changed += len(added)
        elif op == "replace":
            assert i2 - i1 == j2 - j1, (a[i1:i2], b[j1:j2])
            for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
                assert _only_namespace_changed(x, y, old), (x, y)
            changed += j2 - j1
        else:
            assert op == "equal", (op, a[i1:i2])
    return changed


@pytest.mark.kpt
@needs_kpt
@pytest.mark.parametrize(("source", "old", "lines"), [
    ("example", ("example",), 9),
    ("golden", ("staging",), 23),
])
def test_on_a_kpt_formatted_package_only_namespace_lines_change(
        source: str, old: tuple[str, ...], lines: int, tmp_path: Path) -> None:
    src = EXAMPLE if source == "example" else _golden_package(tmp_path / "src")
    pkg = scratch_package(src, tmp_path / "pkg")
    kpt("fn", "eval", str(pkg), "--exec", "cat", check=True)  # kpt's own formatting, once
    _commit(pkg)
    files = sorted(p.name for p in pkg.glob("*.yaml"))
    before = {f: (pkg / f).read_text() for f in files}
    kpt("fn", "eval", str(pkg), "--exec", script("set-namespace"), "--", "namespace=prod",
        check=True)
    changed = sum(_namespace_lines_only(before[f], (pkg / f).read_text(), old) for f in files)
    assert changed == lines
    assert git(pkg, "status", "--porcelain", "--", "Kptfile") == ""
