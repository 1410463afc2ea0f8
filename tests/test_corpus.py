"""Every catalog function over every package of the corpus of real packages (tests/corpus,
see its PROVENANCE.md): standalone to stdout and `--in-place`, in process for all of them
and as console scripts, `kpt fn eval --exec` and `kpt fn render` for a representative
subset. Each run must make exactly the intended edit (checked against `corpus_oracle`),
keep every other line byte for byte, change nothing when run again, and fail, where it
must, with one line on stderr and nothing written.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

import corpus_oracle as oracle
import pytest
from corpus_allocation import allocation_problems
from corpus_support import (
    CORPUS,
    FUNCTIONS,
    NAMESPACE,
    SITE,
    Run,
    assert_bytes_kept,
    assert_clean_error,
    changed_keys,
    docs_of_output,
    kpt_eval,
    kpt_render,
    layout,
    packages,
    snapshot,
    standalone,
    write_pipeline,
)
from kpt_support import needs_kpt

PACKAGES = packages()
# Run through the console scripts and kpt as well: each kind of trouble the corpus holds
# (a Nephio blueprint, custom kinds without their CRD, files that are not resources,
# `.krmignore`, CRLF, a large manifest), kept few because each run starts processes.
SCRIPTS = ("nephio/pkg-example-upf-bp", "gateway-api/basic-http", "cert-manager/acme-example",
           "kpt-functions-catalog/render-helm-chart-local", "argo-cd/prometheus-health")
KPT_EVAL = ("nephio/pkg-example-upf-bp", "kpt-functions-catalog/set-labels-full-coverage",
            "argo-cd/prometheus-health")
KPT_EVAL_SET_NAMESPACE = ("gateway-api/basic-http", "kpt-functions-catalog/render-helm-chart-local",
                          "manifests/cert-manager")
ALLOCATION = {"ipam-inject": ("IPClaim",), "vlan-assign": ("VLANClaim",)}

def cases(fns: tuple[str, ...], pkgs: list[str] | tuple[str, ...], mode: str) -> list[Any]:
    out = []
    for pkg in pkgs:
        for fn in fns:
            out.append(pytest.param(fn, pkg, id=f"{fn}-{pkg}"))
    return out


@functools.cache
def pristine(pkg: str) -> oracle.Package:
    """The corpus package as loaded documents, read once (never edited: the oracle copies
    what it changes)."""
    return oracle.read_package(CORPUS / pkg)


def copy(pkg: str, tmp_path: Path) -> Path:
    dst = tmp_path / "pkg"
    shutil.copytree(CORPUS / pkg, dst, symlinks=True)
    return dst


def expected_error(fn: str, before: oracle.Package) -> list[str] | None:
    """What the error must name when `fn` must refuse the package, else None."""
    if before.not_resources:
        return sorted(set(before.not_resources))
    objs = list(oracle.resources([d.data for d in before.docs]))
    clusters = [o for o in objs if o["kind"] == "WorkloadCluster"]
    if fn == "vlan-assign" and any(
            o["kind"] == "Interface" and o.get("spec", {}).get("attachmentType") == "vlan"
            for o in objs) and any(not o.get("spec", {}).get("masterInterface")
                                   for o in clusters):
        return ["masterInterface"]
    if fn == "nfdeploy" and any(
            oracle.group(o) == "workload.nephio.org" and o["kind"].endswith("Deployment")
            for o in objs) and any(o["kind"] == "Interface" and not o.get("status")
                                   for o in objs):
        return ["Interface"]  # a blueprint not yet allocated: nothing to fill the spec from
    if fn == "policy-validate" and any(
            oracle.annotations_of(o).get("kpt.dev/config-injection") == "required"
            and "kpt.dev/injected-resource" not in oracle.annotations_of(o) for o in clusters):
        return ["config-injection"]
    return None


def intended(fns: tuple[str, ...], root: Path, before: oracle.Package) -> oracle.Package:
    """The package after the edits `fns` mean to make (allocations aside: they have many
    right answers, see `assert_intended`)."""
    current = before
    for fn in fns:
        files = [d.file for d in current.docs]
        docs = [d.data for d in current.docs]
        if fn == "set-namespace":
            docs = oracle.set_namespace(docs, NAMESPACE)
        elif fn == "site-specialize":
            docs = oracle.site_specialize(docs, before.texts, files, SITE)
        counts: dict[str, int] = {}
        new = []
        for name, data in zip(files, docs, strict=True):
            new.append(oracle.Doc(name, counts.get(name, 0), data))
            counts[name] = counts.get(name, 0) + 1
        current = oracle.Package(new, current.not_resources, current.lists, current.texts)
    return current


def expected_errors(fns: tuple[str, ...], root: Path, before: oracle.Package,
                    validate: bool = False) -> list[str] | None:
    """What the first failing step must name, each step seeing the previous one's
    intended output (and the validator the last one's)."""
    current = before
    for i, fn in enumerate((*fns, *(["policy-validate"] if validate else []))):
        names = expected_error(fn, current)
        if names is not None:
            return names
        current = intended(fns[: i + 1], root, before) if fn not in ALLOCATION else current
    return None


def assert_intended(fns: tuple[str, ...], root: Path, before: oracle.Package,
                    after: list[oracle.Doc]) -> dict[str, list[Any]]:
    """The output, loaded, is the input with the functions' edits applied; returns the
    documents of the input files as they were meant to become."""
    want = layout(intended(tuple(f for f in fns if f not in ALLOCATION), root, before).docs)
    kinds = tuple(k for f in fns for k in ALLOCATION.get(f, ()))
    if kinds:
        problems = allocation_problems(want, layout(after), kinds)
        assert not problems, problems
        return want
    got = layout(after)
    for name in sorted(want.keys() | got.keys()):
        assert got.get(name) == want.get(name), f"{name}: output differs from the intended edit"
    return want


# ------------------------------------------------------------------ standalone, in process
# The allocation functions find nothing to allocate in the large install manifests: their
# in-place runs (which must leave every byte) cover them there.
STDOUT = [c for c in cases(FUNCTIONS, PACKAGES, "stdout")
          if not (c.values[0] in ALLOCATION and str(c.values[1]).startswith("manifests/"))]


@pytest.mark.parametrize(("fn", "pkg"), STDOUT)
def test_standalone_stdout(fn: str, pkg: str, tmp_path: Path) -> None:
    """`fn PKG`: a ResourceList on stdout holding the intended edit; no file written."""
    root = copy(pkg, tmp_path)
    files = snapshot(root)
    before = pristine(pkg)
    run = standalone(fn, root, tmp_path, in_place=False, process=False)
    _judge_stdout(fn, root, before, run)
    assert snapshot(root) == files


@pytest.mark.parametrize(("fn", "pkg"), cases(FUNCTIONS, PACKAGES, "in-place"))
def test_standalone_in_place(fn: str, pkg: str, tmp_path: Path) -> None:
    """`fn PKG --in-place`: the files hold the intended edit and nothing else; a second
    run changes nothing; a refused package is left as it was."""
    root = copy(pkg, tmp_path)
    _judge_in_place(fn, root, pristine(pkg), standalone, tmp_path)


# ------------------------------------------------------------------ byte-level variants
# No public package of the corpus starts with a byte order mark and only one uses CRLF:
# the same packages with every YAML file so encoded must give the same edits.
VARIANTS = {
    "bom": lambda data: b"\xef\xbb\xbf" + data,
    "crlf": lambda data: data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
}
VARIANT_PACKAGES = ("nephio/pkg-example-upf-bp", "nephio/free5gc-cp",
                    "kpt-functions-catalog/set-labels-full-coverage")
def variant_cases() -> list[Any]:
    out = []
    for variant in VARIANTS:
        for mode in ("stdout", "in-place"):
            for fn, pkg, *_ in (c.values for c in cases(("set-namespace", "site-specialize"),
                                                        VARIANT_PACKAGES, mode)):
                out.append(pytest.param(variant, mode, fn, pkg,
                                        id=f"{variant}-{mode}-{fn}-{pkg}"))
    return out


@pytest.mark.parametrize(("variant", "mode", "fn", "pkg"), variant_cases())
def test_encoding_variant(variant: str, mode: str, fn: str, pkg: str, tmp_path: Path) -> None:
    """A BOM or CRLF line ends change nothing about what is edited: the intended edit,
    the other bytes kept (the BOM and line ends included), idempotent."""
    root = copy(pkg, tmp_path)
    for path in oracle.package_files(root):
        path.write_bytes(VARIANTS[variant](path.read_bytes()))
    if mode == "in-place":
        _judge_in_place(fn, root, pristine(pkg), standalone, tmp_path)
        return
    files = snapshot(root)
    _judge_stdout(fn, root, pristine(pkg), standalone(fn, root, tmp_path, in_place=False,
                                                      process=False))
    assert snapshot(root) == files


# ------------------------------------------------------------------ console scripts
@pytest.mark.parametrize(("fn", "pkg"), cases(FUNCTIONS, SCRIPTS, "script"))
def test_console_script(fn: str, pkg: str, tmp_path: Path) -> None:
    """The console scripts give what the in-process runs give, to stdout and in place."""
    root = copy(pkg, tmp_path)
    files = snapshot(root)
    before = pristine(pkg)
    _judge_stdout(fn, root, before, standalone(fn, root, tmp_path, in_place=False,
                                               process=True))
    assert snapshot(root) == files

    def script_run(fn: str, pkg: Path, config_dir: Path, *, in_place: bool,
                   process: bool) -> Run:
        return standalone(fn, pkg, config_dir, in_place=in_place, process=True)

    _judge_in_place(fn, root, before, script_run, tmp_path)


def _judge_stdout(fn: str, root: Path, before: oracle.Package, run: Run) -> None:
    names = expected_error(fn, before)
    if names is not None or (before.lists and run.code != 0):
        assert_clean_error(fn, run, names or sorted(set(before.lists)))
        return
    assert run.code == 0, run.stderr
    assert_intended((fn,), root, before, docs_of_output(run.stdout))


def _judge_in_place(fn: str, root: Path, before: oracle.Package, runner: Any,
                    tmp_path: Path) -> None:
    files = snapshot(root)
    run = runner(fn, root, tmp_path, in_place=True, process=False)
    names = expected_error(fn, before)
    if names is not None or (before.lists and run.code != 0):
        assert_clean_error(fn, run, names or sorted(set(before.lists)))
        assert snapshot(root) == files, "a refused run wrote files"
        return
    assert run.code == 0, run.stderr
    written = snapshot(root)
    after = oracle.read_package(root) if written != files else before
    want = assert_intended((fn,), root, before, after.docs)
    assert files.keys() <= written.keys(), f"files gone: {files.keys() - written.keys()}"
    new = written.keys() - files.keys()
    assert not new or fn in ALLOCATION, f"files created: {sorted(new)}"
    was = layout(before.docs)
    # an allocation has many right answers: the lines it may touch are those of the fields
    # `assert_intended` allowed it to change
    meant = layout(after.docs) if fn in ALLOCATION else want
    for name, data in files.items():
        keys: set[str] = set()
        for a, b in zip(was.get(name, []), meant.get(name, []), strict=False):
            keys |= changed_keys(a, b)
        assert_bytes_kept(data, written[name], keys, name)
    again = runner(fn, root, tmp_path, in_place=True, process=False)
    assert again.code == 0, again.stderr
    assert snapshot(root) == written, "a second run changed the package"


# ------------------------------------------------------------------ kpt
@pytest.mark.kpt
@needs_kpt
@pytest.mark.parametrize(("fn", "pkg"), [*cases(FUNCTIONS, KPT_EVAL, "kpt-eval"),
                                        *cases(("set-namespace",), KPT_EVAL_SET_NAMESPACE,
                                               "kpt-eval")])
def test_kpt_fn_eval(fn: str, pkg: str, tmp_path: Path) -> None:
    """`kpt fn eval PKG --exec fn`: the intended edit; again, nothing changes."""
    root = copy(pkg, tmp_path)
    _judge_kpt(("exec", fn), root, tmp_path)


RENDER = [*(("set-namespace", p) for p in ("gateway-api/basic-http", "nephio/free5gc-cp",
                                          "kpt-functions-catalog/render-helm-chart-local")),
          *(("site-specialize", p) for p in ("kpt-functions-catalog/set-labels-full-coverage",
                                             "nephio/pkg-example-upf-bp")),
          *(("site-specialize,vlan-assign,ipam-inject", p) for p in (
              "nephio/pkg-example-upf-bp", "nephio/pkg-example-du-bp"))]


@pytest.mark.kpt
@needs_kpt
@pytest.mark.parametrize(("fns", "pkg"), [
    pytest.param(fns, pkg, id=f"{fns}-{pkg}") for fns, pkg in RENDER])
def test_kpt_fn_render(fns: str, pkg: str, tmp_path: Path) -> None:
    """`kpt fn render` of a Kptfile pipeline that `exec:`s our functions, with
    policy-validate as validator: the intended edits, accepted by the validator;
    rendering again changes nothing."""
    root = copy(pkg, tmp_path)
    write_pipeline(root, fns.split(","), ["policy-validate"])
    _judge_kpt(("render", fns), root, tmp_path)


def _judge_kpt(how: tuple[str, str], root: Path, tmp_path: Path) -> None:
    mode, what = how
    fns = tuple(what.split(","))
    files = snapshot(root)
    before = oracle.read_package(root)

    def go() -> Run:
        return kpt_eval(what, root, tmp_path) if mode == "exec" else kpt_render(root)

    run = go()
    errors = expected_errors(fns, root, before, validate=mode == "render")
    if errors is not None or (before.lists and run.code != 0):
        assert run.code != 0, "kpt accepted a package it must refuse"
        assert "Traceback" not in run.stderr + run.stdout
        assert snapshot(root) == files, "a failed kpt run wrote files"
        return
    assert run.code == 0, run.stdout + run.stderr
    after = oracle.read_package(root)
    assert_intended(fns, root, before, after.docs)
    written = snapshot(root)
    again = go()
    assert again.code == 0, again.stdout + again.stderr
    assert oracle.read_package(root).docs == after.docs, "a second run changed the package"
    assert snapshot(root) == written, "a second run rewrote the package"
