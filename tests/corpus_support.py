"""Running a catalog function over a copy of a corpus package, and judging what it did.

A run is judged three ways: the output, loaded, equals what the function is meant to make
of the input (`corpus_oracle`); the lines of each file that the intended edit does not
reach are byte for byte what they were; and a failed run is one line on stderr, exit code
1, no traceback and no file written.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import corpus_oracle as oracle
import yaml
from kpt_support import kpt, script
from krmfn._run.cli_function import run_cli

CORPUS = Path(__file__).resolve().parent / "corpus"
NAMESPACE = "corpus-ns"
SITE = oracle.Site(cluster="edge-01", site_code="ber1", region="eu-central",
                   cnis=["macvlan", "ipvlan", "sriov"], master="eth1",
                   values={"bmh-name": "edge-01-bmh"})
SITE_CONFIG = {
    "apiVersion": "fn.kpt.dev/v1alpha1", "kind": "SiteSpecialize",
    "metadata": {"name": "corpus-site", "annotations": {oracle.LOCAL: "true"}},
    "site": {"clusterName": SITE.cluster, "siteCode": SITE.site_code, "region": SITE.region,
             "cnis": SITE.cnis, "masterInterface": SITE.master},
    "values": SITE.values,
}
# Kyverno rules that real packages break now and then (Audit: warnings, never a failure)
POLICIES = {
    "apiVersion": "fn.kpt.dev/v1alpha1", "kind": "PolicyValidate",
    "metadata": {"name": "corpus-policies", "annotations": {oracle.LOCAL: "true"}},
    "policies": [{
        "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
        "metadata": {"name": "workload-hygiene"},
        "spec": {"validationFailureAction": "Audit", "rules": [
            {"name": "pinned-images",
             "match": {"any": [{"resources": {"kinds": ["Pod", "Deployment", "StatefulSet",
                                                        "DaemonSet", "Job"]}}]},
             "validate": {"message": "images must be pinned", "pattern": {"spec": {
                 "=(template)": {"spec": {"containers": [{"image": "!*:latest"}]}}}}}},
            {"name": "app-label",
             "match": {"any": [{"resources": {"kinds": ["Deployment", "Service"]}}]},
             "validate": {"message": "an app label is required",
                          "pattern": {"metadata": {"labels": {"app": "?*"}}}}},
            {"name": "memory-limits",
             "match": {"any": [{"resources": {"kinds": ["Deployment"],
                                              "namespaces": ["*"]}}]},
             "validate": {"message": "containers need a memory limit", "pattern": {"spec": {
                 "template": {"spec": {"containers": [
                     {"resources": {"limits": {"memory": "?*"}}}]}}}}}},
        ]},
    }],
}
FUNCTIONS = ("set-namespace", "site-specialize", "ipam-inject", "vlan-assign",
             "policy-validate", "nfdeploy")
# functionConfig of each function, as KEY=VALUE pairs or a whole object
PAIRS = {"set-namespace": {"namespace": NAMESPACE}, "ipam-inject": {"clusterName": SITE.cluster}}
CONFIGS = {"site-specialize": SITE_CONFIG, "policy-validate": POLICIES}


def packages() -> list[str]:
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*") if p.is_dir())


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root`, hidden ones included."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def function_object(name: str) -> Any:
    module = __import__(f"krmfn_catalog.{name.replace('-', '_')}", fromlist=["x"])
    return getattr(module, name.replace("-", "_"))


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def config_args(fn: str, config_dir: Path) -> list[str]:
    """The standalone command line's config for `fn` (a file written to `config_dir`)."""
    if fn in CONFIGS:
        path = config_dir / f"{fn}.yaml"
        path.write_text(yaml.safe_dump(CONFIGS[fn]))
        return ["--config", str(path)]
    return [f"{k}={v}" for k, v in PAIRS.get(fn, {}).items()]


def standalone(fn: str, pkg: Path, config_dir: Path, *, in_place: bool, process: bool
               ) -> Run:
    """`fn PKG [config] [--in-place]`, in process (the same code the console script runs
    after it starts) or as the console script of this environment."""
    args = [str(pkg), *config_args(fn, config_dir), *(["--in-place"] if in_place else [])]
    if process:
        proc = subprocess.run([script(fn), *args], capture_output=True, text=True,
                              timeout=300)
        return Run(proc.returncode, proc.stdout, proc.stderr)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(function_object(fn), args)
    return Run(code, out.getvalue(), err.getvalue())


def kpt_eval(fn: str, pkg: Path, config_dir: Path) -> Run:
    args = ["fn", "eval", str(pkg), "--exec", script(fn)]
    if fn in CONFIGS:
        path = config_dir / f"{fn}.yaml"
        path.write_text(yaml.safe_dump(CONFIGS[fn]))
        args += ["--fn-config", str(path)]
    pairs = [f"{k}={v}" for k, v in PAIRS.get(fn, {}).items()]
    proc = kpt(*args, *(["--", *pairs] if pairs else []))
    return Run(proc.returncode, proc.stdout, proc.stderr)


def write_pipeline(pkg: Path, mutators: list[str], validators: list[str]) -> None:
    """Give the package a Kptfile whose pipeline `exec:`s our functions (each with its
    config in a local-config file of the package), keeping its name and info."""
    kptfile = pkg / "Kptfile"
    data = yaml.safe_load(kptfile.read_text()) if kptfile.exists() else {
        "apiVersion": "kpt.dev/v1", "kind": "Kptfile",
        "metadata": {"name": pkg.name, "annotations": {oracle.LOCAL: "true"}}}

    def step(fn: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"exec": script(fn)}
        if fn in CONFIGS:
            (pkg / f"corpus-{fn}.yaml").write_text(yaml.safe_dump(CONFIGS[fn]))
            entry["configPath"] = f"corpus-{fn}.yaml"
        elif fn in PAIRS:
            entry["configMap"] = PAIRS[fn]
        return entry

    data["pipeline"] = {"mutators": [step(f) for f in mutators],
                        "validators": [step(f) for f in validators]}
    data.pop("status", None)
    kptfile.write_text(yaml.safe_dump(data, sort_keys=False))


def kpt_render(pkg: Path) -> Run:
    proc = kpt("fn", "render", str(pkg), "--allow-exec")
    return Run(proc.returncode, proc.stdout, proc.stderr)


# ------------------------------------------------------------------ judging
def assert_clean_error(fn: str, run: Run, names: list[str]) -> None:
    """Exit 1, exactly one line on stderr naming the function and one of `names`."""
    assert run.code == 1, (run.code, run.stderr[-2000:])
    assert "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith(f"{fn}: error: "), run.stderr
    assert run.stderr.endswith("\n") and run.stderr.count("\n") == 1, run.stderr
    assert any(n in run.stderr for n in names), f"none of {names} in {run.stderr!r}"


def layout(docs: list[oracle.Doc]) -> dict[str, list[Any]]:
    """Documents by file, in order, without the reader's origin annotations."""
    out: dict[str, list[Any]] = {}
    for doc in docs:
        out.setdefault(doc.file, []).append(oracle.strip_origin(doc.data))
    return out


_ORIGIN_KEYS = ("config.kubernetes.io/path", "internal.config.kubernetes.io/path")
_INDEX_KEYS = ("config.kubernetes.io/index", "internal.config.kubernetes.io/index")


def docs_of_output(stdout: str) -> list[oracle.Doc]:
    """A ResourceList's items as documents of the files they came from (kpt's path and
    index annotations); items of no file (created) go to `<new>`."""
    rl = yaml.load(stdout, Loader=oracle.Loader)
    docs = []
    for item in rl.get("items") or []:
        notes = oracle.annotations_of(item)
        path = next((notes[k] for k in _ORIGIN_KEYS if k in notes), "<new>")
        index = next((int(notes[k]) for k in _INDEX_KEYS if k in notes), 0)
        docs.append(oracle.Doc(path, index, item))
    docs.sort(key=lambda d: (d.file, d.index))
    return docs


Expect = Callable[[list[oracle.Doc]], dict[str, list[Any]]]


def changed_keys(before: Any, after: Any, path: tuple[Any, ...] = ()) -> set[str]:
    """The keys on every path where two loaded documents differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys: set[str] = set()
        for key in before.keys() | after.keys():
            if before.get(key, _MISSING) != after.get(key, _MISSING):
                keys |= {str(key), *map(str, path)}
                keys |= changed_keys(before.get(key), after.get(key), (*path, key))
        return keys
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        keys = set()
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            keys |= changed_keys(a, b, (*path, i)) if a != b else set()
        return keys
    return set()


_MISSING = object()


def assert_bytes_kept(before: bytes, after: bytes, keys: set[str], name: str) -> None:
    """Only lines carrying a changed key may go; every other line stays byte for byte."""
    if not keys:
        assert after == before, f"{name}: changed, but nothing in it was meant to"
        return
    old_docs = _SEPARATOR.split(before.decode("utf-8"))
    new_docs = _SEPARATOR.split(after.decode("utf-8"))
    if len(old_docs) != len(new_docs):  # documents added or removed: compare it whole
        old_docs, new_docs = ["".join(old_docs)], ["".join(new_docs)]
    key = re.compile(r"^\s*(?:-\s+)?[\"']?(" + "|".join(re.escape(k) for k in keys)
                     + r")[\"']?\s*:")
    line_no = 0
    for old_doc, new_doc in zip(old_docs, new_docs, strict=True):
        old = old_doc.splitlines(keepends=True)
        if old_doc != new_doc:
            _assert_lines_kept(old, new_doc.splitlines(keepends=True), key, name, line_no)
        line_no += len(old)


# a document separator line, kept with the document it ends
_SEPARATOR = re.compile(r"(?<=\n)(?=---[ \t]*(?:#[^\n]*)?\r?\n)")


def _assert_lines_kept(old: list[str], new: list[str], key: re.Pattern[str], name: str,
                       offset: int) -> None:
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new,
                                                       autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            for k in range(i1, i2):
                line = old[k]
                last = k == len(old) - 1 and not line.endswith("\n")
                assert key.match(line) or (last and line + _eol(old) in new[j1:j2]), (
                    f"{name}: line {offset + k + 1} lost or rewritten: {line!r}")


def _eol(lines: list[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
