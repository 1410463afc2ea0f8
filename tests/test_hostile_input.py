"""Every function, fed hostile or broken input: exit 1, one clear line on stderr, no
traceback, and stdout either empty or a whole ResourceList that carries an error result;
within 5 s and 500 MB each. No YAML tag ever constructs an object."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from kpt_support import script

FUNCTIONS = ("set-namespace", "ipam-inject", "vlan-assign", "site-specialize", "policy-validate",
             "nfdeploy")
HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"


def _bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        ref = ", ".join(f"*a{i - 1}" for _ in range(9))
        lines.append(f"a{i}: &a{i} [{ref}]")
    body = "\n".join("    " + ln for ln in lines)
    item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: bomb\n  data:\n"
    return HEAD + "items:\n" + item + body + "\n"


def _deep(depth: int) -> str:
    return HEAD + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: deep\n" \
        + "  data: " + "[" * depth + "]" * depth + "\n"


CM = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: {name}\n"
HOSTILE: dict[str, bytes] = {
    "malformed-yaml": (HEAD + "items: [\n  - {a: b\n").encode(),
    "not-a-resource-list": b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n",
    "a-list-not-a-map": b"- a\n- b\n",
    "items-not-a-list": (HEAD + "items: {a: b}\n").encode(),
    "metadata-a-list": (HEAD + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: [a]\n"
                        ).encode(),
    "name-a-map": (HEAD + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
                   "    name: {a: b}\n").encode(),
    "kind-missing": (HEAD + "items:\n- apiVersion: v1\n  metadata:\n    name: x\n").encode(),
    "latin-1-bytes": (HEAD + "items:\n" + CM.format(name="caf\xe9")).encode("latin-1"),
    "binary-junk": bytes(range(256)) * 8,
    "empty": b"",
    "several-documents": (HEAD + "items: []\n---\n" + HEAD + "items: []\n").encode(),
    "duplicate-keys": (HEAD + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  kind: Secret\n"
                       "  metadata:\n    name: x\n").encode(),
    "alias-bomb": _bomb().encode(),
    "deep-nesting": _deep(20_000).encode(),
    "python-tag": (HEAD + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
                   "    name: x\n  data:\n"
                   "    x: !!python/object/apply:os.system ['touch /tmp/pwned']\n"
                   ).encode(),
    "config-of-wrong-kind": (HEAD + "items:\n" + CM.format(name="x") + "functionConfig:\n"
                             "  apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n"
                             "    name: nope\n").encode(),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("fn", FUNCTIONS)
def test_hostile_input_fails_cleanly(fn: str, case: str, tmp_path: Path) -> None:
    marker = Path("/tmp/pwned")
    marker.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(["prlimit", "--as=2000000000", script(fn)], input=HOSTILE[case],
                          capture_output=True, timeout=30)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, (proc.returncode, stderr)
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith(f"{fn}: error: ")
    assert elapsed < 5, f"took {elapsed:.1f}s"
    assert not marker.exists()
    if proc.stdout:
        out = yaml.safe_load(proc.stdout)
        assert out["kind"] == "ResourceList"
        assert any(r.get("severity") == "error" for r in out.get("results") or [])


@pytest.mark.parametrize("case", ["alias-bomb", "deep-nesting", "binary-junk"])
def test_hostile_input_stays_within_memory(case: str) -> None:
    proc = subprocess.Popen([script("set-namespace")], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None
    proc.stdin.write(HOSTILE[case])
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 1
    assert usage.ru_maxrss / 1024 < 500, f"{usage.ru_maxrss / 1024:.0f} MB"
