"""Map keys longer than YAML's 1,024-character limit for implicit keys.

YAML readers (PyYAML, libyaml, go-yaml as kpt uses it) look for a key's `:` within 1,024
characters of its start, so a longer key written as `key: value` makes text that no
reader reads back. Every way a key reaches the text (set into a block or flow map, a new
object, a nested value, a rename) must write one that reads back as the same data: an
explicit `? key` entry where the key is too long, the usual form otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn import KubeObject

BLOCK = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x  # keep me\ndata:\n  b: c\n"
FLOW = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x  # keep me\ndata: {b: c}\n"
IN_LIST = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x  # keep me\nspec:\n"
           "  containers:\n  - name: a\n    image: i\n")

# around the limit: the longest implicit key, the first explicit one, and well beyond;
# plain text, text that needs quotes, and multi-byte text (the limit counts characters)
keys = st.builds(lambda n, c: (c * n)[:n], st.sampled_from([1, 1000, 1022, 1024, 1025,
                                                             1026, 1500, 3000]),
                 st.sampled_from(["a", "k: ", "é", "\"'", "x\n"]))
scalars = st.one_of(st.text(max_size=5), st.integers(), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(keys, st.text(max_size=3)),
                                                  inner, max_size=3)), max_leaves=6)


def read(text: str) -> Any:
    return yaml.safe_load(text)


@settings(max_examples=150, deadline=None)
@given(source=st.sampled_from([BLOCK, FLOW]), key=keys, value=values)
def test_a_key_set_into_a_map_reads_back(source: str, key: str, value: Any) -> None:
    obj = KubeObject.from_yaml(source)
    obj.set(("data", key), value)
    text = obj.to_yaml()
    expected = read(source)
    expected["data"][key] = value
    assert read(text) == expected
    assert "# keep me" in text
    again = KubeObject.from_yaml(text)
    again.set(("data", key), value)
    assert again.to_yaml() == text  # a second run changes nothing


@settings(max_examples=100, deadline=None)
@given(key=keys, value=values)
def test_a_key_in_a_new_object_or_nested_value_reads_back(key: str, value: Any) -> None:
    data = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
            "data": {key: value, "z": {key: [value]}}}
    assert read(KubeObject.from_dict(data).to_yaml()) == data
    obj = KubeObject.from_yaml(IN_LIST)
    obj.set(("spec", "containers", 0, "env"), [{key: value}])
    expected = read(IN_LIST)
    expected["spec"]["containers"][0]["env"] = [{key: value}]
    assert read(obj.to_yaml()) == expected


@settings(max_examples=100, deadline=None)
@given(source=st.sampled_from([BLOCK, FLOW, BLOCK.replace("  b: c", "  - b: c")]),
       first=keys, second=keys)
def test_a_key_renamed_once_or_twice_reads_back_in_place(source: str, first: str,
                                                         second: str) -> None:
    in_list = "  - b: c" in source
    path: tuple[str | int, ...] = ("data", 0) if in_list else ("data",)
    obj = KubeObject.from_yaml(source)
    assert obj.rename_key((*path, "b"), first)
    expected = read(source)
    holder = expected["data"][0] if in_list else expected["data"]
    holder[first] = holder.pop("b")
    assert read(obj.to_yaml()) == expected
    if second != first:
        assert obj.rename_key((*path, first), second)
        holder[second] = holder.pop(first)
        assert read(obj.to_yaml()) == expected
    obj.set((*path, "after"), 1)  # a key added after the renamed one lands after it
    holder["after"] = 1
    assert read(obj.to_yaml()) == expected
    assert list(read(obj.to_yaml())["data"][0] if in_list
                 else read(obj.to_yaml())["data"]) == list(holder)


@pytest.mark.skipif(shutil.which("kpt") is None, reason="kpt is not installed")
@pytest.mark.parametrize("length", [1024, 1025, 4000])
def test_kpt_reads_a_long_key_back(tmp_path: Path, length: int) -> None:
    key = "k" * length
    obj = KubeObject.from_yaml(BLOCK)
    obj.set(("data", key), "v")
    (tmp_path / "cm.yaml").write_text(obj.to_yaml())
    out = subprocess.run(["kpt", "fn", "source", str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout
    item = read(out)["items"][0]
    assert item["data"] == {"b": "c", key: "v"}
