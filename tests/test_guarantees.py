"""## Guarantees

- **Byte fidelity.** What a function does not change comes out byte for byte: comments,
  quoting, key order, indentation, untouched resources.
- **Encodings, line breaks and aliases kept.** A file that starts with a byte order mark
  is read and written back (`--in-place`) with it, a CRLF file or ResourceList stays CRLF,
  and neither (nor multi-byte text or tabs) moves an edit off its place. Where an item
  ends is never taken from a node an alias names: items with anchors, aliases or merge
  keys come out with the same data, written whole from it when a function changes them.
  Integers of any length are read exactly and kept digit for digit.
- **Clear errors, never a traceback.** Malformed, non-UTF-8 or wrongly shaped input, or a
  bad config, exits 1 with one `<function>: error: ...` line on stderr.
- **A whole ResourceList or nothing.** stdout is empty or one complete ResourceList; when
  a function fails, the items are the input's, unchanged, plus the error results.
- **Atomic in-place writes.** `--in-place` writes no file when anything fails: new
  contents go to fsynced temporary files, old files are kept as backups listed in a
  journal, then the renames run; a failure (a full disk, a directory in the way) undoes
  them all and names the file. A run killed mid-write leaves every file whole, old or
  new; the next `--in-place` run first restores the old ones and removes the
  `.krmfn.*.tmp|bak` files of ours left behind; a run without `--in-place` refuses the
  package until then.
- **Nothing written outside the package.** Every path written (a new resource's file, a
  path a function sets) stays inside the package and names a `.yaml`/`.yml` file, or the
  run fails naming the resource and writes nothing. A file name made from a resource's
  name is one safe component (`A-Z a-z 0-9 . _ -`, at most 100 of them before `.yaml`)
  that no other file has; a directory, or a file the package did not read, is never
  replaced.
- **Symbolic links.** Files are read through links; a file is written through its link
  only when the target lies inside the package: a change behind a link (to a file or a
  directory) that leads out of it is an error, and nothing is written.
- **`.krmignore` as kpt reads it.** The same files are read as `kpt fn source` reads
  (generated trees and patterns, compared with kpt), and an ignored file is never written.
- **No YAML tag constructs an object.** Only YAML's core tags are read (`!!python/...` and
  custom tags are refused); a tag its text does not fit (`!!int abc`) is an error.
- **Bounded on hostile input.** Alias bombs, 20,000-deep nesting and binary junk fail
  within a 2 GB address-space limit, without a traceback.
- **Deterministic and idempotent mutators.** The same input gives the same output in any
  process; a mutator's output, run again, changes nothing.
- **Large lists read lazily, same result.** Lists of 100 items or more are read item by
  item, and in parts where a function only touches an item's metadata (what a function
  never reads whole is checked meanwhile by a worker process), with exactly the output a
  whole read gives.
- **Unique allocations.** Sites sharing a ledger never get the same address, subnet or
  (within a VLAN index) VLAN, even rendered by many processes at once.
- **Allocations released.** A package rendered again without a claim frees, in the
  ledger, what that claim held, so the next claim gets it; a run that cannot tell its
  package, or that fails, releases nothing; `krmfn ledger release` frees the rest by
  site, package or claim (`--dry-run` shows what would go).
- **Locked-down containers.** The images run as `nobody`, with `--network none` and a
  read-only root filesystem.
"""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import krmfn
import krmfn._large.lazy_list as lazy
import netaddr  # type: ignore[import-untyped,unused-ignore]
import pytest
import yaml
from kpt_support import KPT, needs_kpt, script
from krmfn import read_package
from krmfn._run.commit import JOURNAL

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fuzz"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus import package, resource_list  # noqa: E402
from oracle import (  # noqa: E402
    NOOP,
    catalog_functions,
    check_mutator_laws,
    check_resource_list,
    items_span,
    lazy_limits,
    seed_inputs,
)
from test_hostile_input import HOSTILE  # noqa: E402
from test_in_place import _kill_during_write, snapshot  # noqa: E402
from test_ledger_fleet import answers, cluster_of, render_one, write_site  # noqa: E402

FUNCTIONS = catalog_functions()
CATALOG = ("set-namespace", "ipam-inject", "vlan-assign", "site-specialize", "policy-validate",
           "nfdeploy")


def run(fn: str, data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["prlimit", "--as=2000000000", script(fn), *args], input=data,
                          capture_output=True, timeout=120)


def test_guarantee_byte_fidelity() -> None:
    text = resource_list(60)  # comments, quoting styles, flow maps, kpt's annotations
    assert NOOP.run_text(text).stdout == text
    out = FUNCTIONS["set-namespace"].run_text(text)
    assert out.exit_code == 0, out.stderr
    changed = [(a, b) for a, b in zip(text.splitlines(), out.stdout.splitlines(), strict=False)
               if a != b]
    assert changed and all(a.replace("staging", "prod") == b for a, b in changed)


@pytest.mark.parametrize("case", ["malformed-yaml", "latin-1-bytes", "kind-missing",
                                  "duplicate-keys", "config-of-wrong-kind"])
def test_guarantee_clear_errors(case: str) -> None:
    for fn in CATALOG:
        proc = run(fn, HOSTILE[case])
        stderr = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 1
        assert stderr.startswith(f"{fn}: error: ") and len(stderr.splitlines()) == 1, stderr
        assert "Traceback" not in stderr


def test_guarantee_whole_resource_list_or_nothing() -> None:
    for case in ("error-unknown-instance", "error-overlap"):
        text = seed_for("ipam-inject", case)
        out = FUNCTIONS["ipam-inject"].run_text(text)
        assert out.exit_code == 1
        doc = check_resource_list(out.stdout)
        assert items_span(out.stdout) == items_span(text)
        assert any(r["severity"] == "error" for r in doc["results"])
    for data in HOSTILE.values():
        proc = run("set-namespace", data, "namespace=prod")
        assert not proc.stdout or check_resource_list(proc.stdout.decode())


def seed_for(function: str, case: str) -> str:
    from krmfn.testing import GoldenCase

    return GoldenCase(ROOT / "functions" / "krmfn_catalog" / function.replace("-", "_")
                      / "testdata" / case).input_text()


def test_guarantee_atomic_in_place_writes(tmp_path: Path) -> None:
    pkg, finished = tmp_path / "pkg", tmp_path / "finished"
    package(900, pkg)
    shutil.copytree(pkg, finished)
    assert run("set-namespace", b"", str(finished), "namespace=prod", "--in-place").returncode == 0
    old, new = snapshot(pkg), snapshot(finished)
    (pkg / "zz-broken.yaml").write_text("kind: [\n")
    failed = snapshot(pkg)
    proc = run("set-namespace", b"", str(pkg), "namespace=prod", "--in-place")
    assert proc.returncode == 1 and snapshot(pkg) == failed
    (pkg / "zz-broken.yaml").unlink()
    _kill_during_write(pkg, "replacing")  # SIGKILL while files are being replaced
    after = snapshot(pkg)
    assert all(after[name] in (old[name], new[name]) for name in old)
    if (pkg / JOURNAL).exists():  # killed between renames: a read refuses the mix
        assert run("set-namespace", b"", str(pkg), "namespace=x").returncode == 1
    assert run("set-namespace", b"", str(pkg), "namespace=prod", "--in-place").returncode == 0
    assert snapshot(pkg) == new  # restored, finished, and nothing of ours left


def test_guarantee_nothing_written_outside_the_package(tmp_path: Path) -> None:
    """An Interface named to escape: vlan-assign's VLANClaim and NAD stay inside, in files
    of their own; a path a function sets outside fails naming the resource."""
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "functions" / "krmfn_catalog" / "vlan_assign" / "examples"
                    / "vlan-attachments", pkg, ignore=shutil.ignore_patterns(".expected"))
    upf = pkg / "upf.yaml"
    upf.write_text(upf.read_text().replace("name: n3\n", "name: ../../../outside/pwn\n"))
    before = set(snapshot(pkg))
    assert run("vlan-assign", b"", str(pkg), "--in-place").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]
    added = sorted(set(snapshot(pkg)) - before)
    assert len(added) == 2 and all("/" not in name for name in added)
    assert sorted(yaml.safe_load((pkg / n).read_text())["kind"] for n in added) == [
        "NetworkAttachmentDefinition", "VLANClaim"]
    rl, _ = read_package([str(pkg)])
    with pytest.raises(krmfn.FieldError, match="outside the package"):
        rl.items[1].set_file("../escaped.yaml")


def test_guarantee_symbolic_links(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "ns.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n")
    pkg = tmp_path / "pkg"
    package(3, pkg)
    (pkg / "ns.yaml").symlink_to("../shared/ns.yaml")
    (pkg / "inside.yaml").symlink_to("api-0.yaml")
    (pkg / ".krmignore").write_text("api-0.yaml\n")  # read once, through the link
    before = snapshot(tmp_path)
    proc = run("set-namespace", b"", str(pkg), "namespace=prod", "--in-place")
    assert proc.returncode == 1 and b"ns.yaml: a symbolic link" in proc.stderr
    assert snapshot(tmp_path) == before
    (pkg / "ns.yaml").unlink()
    assert run("set-namespace", b"", str(pkg), "namespace=prod", "--in-place").returncode == 0
    assert (pkg / "inside.yaml").is_symlink() and b"namespace: prod" in (
        pkg / "api-0.yaml").read_bytes()


@needs_kpt
def test_guarantee_krmignore_as_kpt_reads_it(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    package(6, pkg)
    (pkg / "chart").mkdir()
    (pkg / "chart" / "values.yaml").write_text("replicaCount: 1\n")
    (pkg / ".krmignore").write_text("chart/\napi-1.yaml\n")
    source = subprocess.run([KPT, "fn", "source", str(pkg)], capture_output=True, check=True)
    kpt_paths = [i["metadata"]["annotations"]["config.kubernetes.io/path"]
                 for i in yaml.safe_load(source.stdout)["items"]]
    assert [o.path for o in read_package([str(pkg)])[0].items] == kpt_paths
    ignored = (pkg / "api-1.yaml").read_bytes()
    assert run("set-namespace", b"", str(pkg), "namespace=prod", "--in-place").returncode == 0
    assert (pkg / "api-1.yaml").read_bytes() == ignored
    assert (pkg / "chart" / "values.yaml").read_text() == "replicaCount: 1\n"


def test_guarantee_encodings_line_breaks_and_aliases_kept(tmp_path: Path) -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: old\n"
    (tmp_path / "bom.yaml").write_bytes(("\ufeff" + cm.format("a")).encode())
    (tmp_path / "crlf.yaml").write_bytes(cm.format("b 😀").replace("\n", "\r\n").encode())
    assert run("set-namespace", b"", str(tmp_path), "namespace=prod", "--in-place"
               ).returncode == 0
    assert (tmp_path / "bom.yaml").read_bytes().decode() == "\ufeff" + cm.format(
        "a").replace("old", "prod")
    assert (tmp_path / "crlf.yaml").read_bytes().decode() == cm.format(
        "b 😀").replace("old", "prod").replace("\n", "\r\n")
    digits = "9" * 5000
    text = (HEAD_ITEMS + "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n"
            "    name: web\n    labels: &l {app: web}\n  spec:\n"
            f"    replicas: {digits}\n    selector:\n      matchLabels: *l\n")
    proc = run("set-namespace", text.encode(), "namespace=prod")
    assert proc.returncode == 0, proc.stderr
    item = check_resource_list(proc.stdout.decode())["items"][0]
    assert item["metadata"] == {"name": "web", "labels": {"app": "web"}, "namespace": "prod"}
    assert item["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert f"replicas: {digits}\n".encode() in proc.stdout


HEAD_ITEMS = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"


def test_guarantee_no_tag_constructs_an_object(tmp_path: Path) -> None:
    marker = Path("/tmp/pwned")
    marker.unlink(missing_ok=True)
    head = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    item = b"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n  data:\n    x: "
    for value in (b"!!python/object/apply:os.system ['touch /tmp/pwned']", b"!custom x",
                  b"!!int abc", b'!!int ""', b'!!float ""', b"!!binary not-base64"):
        proc = run("set-namespace", head + item + value + b"\n", "namespace=prod")
        assert proc.returncode == 1, proc.stderr
        assert not proc.stdout and b"Traceback" not in proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize("case", ["alias-bomb", "deep-nesting", "binary-junk"])
def test_guarantee_bounded_on_hostile_input(case: str) -> None:
    proc = run("policy-validate", HOSTILE[case])  # within `prlimit --as=2000000000`
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr and b"MemoryError" not in proc.stderr


@pytest.mark.parametrize("name", CATALOG)
def test_guarantee_deterministic_and_idempotent(name: str) -> None:
    for text in seed_inputs(name):
        check_mutator_laws(FUNCTIONS[name], text)


def test_guarantee_large_lists_read_lazily_give_the_same_result() -> None:
    text = resource_list(lazy.EVICT_MIN_ITEMS + 100)  # some trees evicted, a check worker
    assert lazy.split_items(text) is not None  # really read lazily
    out = FUNCTIONS["set-namespace"].run_text(text)
    with lazy_limits(10**9, lazy.RESIDENT):
        whole = FUNCTIONS["set-namespace"].run_text(text)
    assert out == whole and out.exit_code == 0


def test_guarantee_unique_allocations(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    sites = [write_site(tmp_path, c + k * 125, ledger) for c in range(10) for k in range(3)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert all(not error for _, error in pool.imap_unordered(render_one, map(str, sites)))
    found = {pkg: answers(pkg) for pkg in sites}
    assert len({netaddr.IPNetwork(prefix).ip for prefix, *_ in found.values()}) == len(sites)
    subnets: dict[str, set[object]] = defaultdict(set)
    vlans: dict[str, set[int]] = defaultdict(set)
    for pkg, (prefix, _, vlan, _) in found.items():
        cluster = cluster_of(int(pkg.name.removeprefix("site-")))
        subnets[cluster].add(netaddr.IPNetwork(prefix).cidr)
        vlans[cluster].add(vlan)
    assert all(len(s) == 1 for s in subnets.values())
    assert len(set().union(*subnets.values())) == 10
    assert all(len(v) == 3 for v in vlans.values())


def test_guarantee_locked_down_containers() -> None:
    for fn in CATALOG:
        dockerfile = (ROOT / "Dockerfiles" / f"{fn}.Dockerfile").read_text()
        assert "USER 65534:65534" in dockerfile.splitlines()
    from test_containers import RUN_FLAGS

    assert {"--network=none", "--user=nobody", "--read-only"} <= set(RUN_FLAGS)


@pytest.mark.container
@pytest.mark.parametrize("fn", CATALOG)
def test_guarantee_images_work_locked_down(fn: str) -> None:
    from test_containers import INPUTS, _find_runtime, _require_image, _run_image

    runtime = _find_runtime()
    if runtime is None:
        pytest.skip("no container runtime")
    outcome = _run_image(runtime, _require_image(runtime, fn), INPUTS[fn])
    assert outcome.returncode == 0, outcome.stderr
    check_resource_list(outcome.stdout.decode())


def test_guarantee_allocations_released(tmp_path: Path) -> None:
    from test_ledger_owner import package, run

    ledger = tmp_path / "ledger.sqlite"
    before, _ = run(package("upf", "edge-01", [("n3", "network"), ("n4", "network")]), ledger)
    after, _ = run(package("upf", "edge-01", [("n3", "network")]), ledger)
    assert after["ip n3"] == before["ip n3"]
    other, _ = run(package("smf", "edge-01", [("n9", "network")]), ledger)
    assert other["ip n9"] == before["ip n4"]  # n4's address was free again
    listed = subprocess.run(
        [sys.executable, "-m", "krmfn._run.cli", "ledger", "release", "--ledger", str(ledger),
         "--package", "smf", "--dry-run"], capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stderr
    assert "n9" in listed.stdout
    assert run(package("web", "edge-01", [("n1", "network")]), ledger)[0]["ip n1"] != \
        other["ip n9"]  # a dry run kept it
