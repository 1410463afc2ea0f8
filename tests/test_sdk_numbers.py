"""Integers of any length: Python converts more than 4,300 decimal digits to and from
text only in parts, and such a number in any field reached the catch-all as
"internal error: ValueError". Now it is read exactly (`KubeObject.get` gives the int),
written back digit for digit where a function leaves it alone, and written exactly
where an item is written whole from its data (an item with aliases)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from krmfn import KubeObject, ResourceList
from krmfn._run.cli_function import run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from oracle import catalog_functions, console

FUNCTIONS = catalog_functions()
DIGITS = "9" + "1234567890" * 500  # 5,001 digits
CONFIG = {"set-namespace": "{namespace: x-ns}",
          "site-specialize": "{clusterName: edge-7, siteCode: s7}"}
HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
POLICY = """\
- apiVersion: kyverno.io/v1
  kind: ClusterPolicy
  metadata:
    name: sizes
    annotations:
      config.kubernetes.io/local-config: "true"
  spec:
    validationFailureAction: Audit
    rules:
    - name: sized
      match:
        any:
        - resources:
            kinds: [ConfigMap]
      validate:
        message: "a size is required"
        pattern:
          data:
            size: "?*"
            count: ">1"
"""


def resource_list(function: str) -> str:
    """A number in a field nobody edits, in a label (site-specialize reads labels), in an
    item with aliases (written whole when edited), and checked by a
    policy (policy-validate reads every field its pattern names)."""
    config = CONFIG.get(function, "{}")
    return (HEAD + "items:\n" + POLICY
            + "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: plain\n"
            f"    labels:\n      big: \"{DIGITS[:60]}\"\n      size: {DIGITS}\n"
            f"  data:\n    size: {DIGITS}\n    count: -{DIGITS}\n"
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: aliased\n"
            f"    labels: &l {{app: web}}\n  data:\n    size: !!int {DIGITS}\n"
            f"    count: {DIGITS}\n    again: *l\n"
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: f}\n"
            f"  data: {config}\n")


@contextlib.contextmanager
def any_length() -> Iterator[None]:
    """PyYAML, reading what the test compares against, converts at once."""
    saved = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(saved)


def load(text: str) -> Any:
    with any_length():
        return yaml.safe_load(text)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_keeps_a_long_integer(function: str) -> None:
    text = resource_list(function)
    out = FUNCTIONS[function].run_text(text)
    assert out.exit_code == 0, out.stderr
    assert f"size: {DIGITS}\n" in out.stdout and f"count: -{DIGITS}\n" in out.stdout
    before, after = load(text)["items"], load(out.stdout)["items"]
    for old, new in zip(before, after, strict=True):
        assert new.get("data") == old.get("data")
    assert after[1]["metadata"]["labels"]["size"] == before[1]["metadata"]["labels"]["size"]


def test_a_long_integer_reads_exactly() -> None:
    rl = ResourceList.parse(resource_list("set-namespace"))
    plain, aliased = rl.items[1], rl.items[2]
    with any_length():
        want = int(DIGITS)
    assert plain.get("data.size") == want and plain.get("data.count") == -want
    assert aliased.get("data.size") == want
    assert plain.labels["size"] == DIGITS
    aliased.set("data.copy", plain.get("data.count"))  # written out whole, exactly
    assert f"copy: -{DIGITS}\n" in rl.to_text()
    obj = KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "n"}, "data": {"num": want, 7: -want}})
    assert obj.to_yaml().endswith(f"  num: {DIGITS}\n  \"7\": -{DIGITS}\n")


def test_a_file_holding_a_long_integer_is_read(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                      f"  name: c\ndata:\n  n: {DIGITS}\n  m: !!int {DIGITS}\n")
    with console(b"") as (_out, err):
        assert run_cli(FUNCTIONS["set-namespace"], [str(tmp_path), "namespace=x-ns",
                                                   "--in-place"]) == 0, err.getvalue()
    assert (tmp_path / "cm.yaml").read_text() == (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: x-ns\n"
        f"data:\n  n: {DIGITS}\n  m: !!int {DIGITS}\n")
