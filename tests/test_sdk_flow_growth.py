"""A one-line flow list that grows past its line is written as a block list; every item
added on the way, by `set` or by `append`, must be in it. Setting `parametersRefs: []` to
two long references used to keep only the first: the list was replaced by a block list at
the first item, and the second was added to the list no longer in the tree."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn import ResourceList

# words written plain in the input must read as strings: not `true`, `null`, `y`, `off`...
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=40).filter(
    lambda w: not w.startswith("-") and w not in {"y", "n"}
    and isinstance(yaml.safe_load(w), str))
items = st.one_of(words, st.fixed_dictionaries({"name": words, "kind": words}))


def flow(values: list[Any]) -> str:
    def one(v: Any) -> str:
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}: {x}" for k, x in v.items()) + "}"
        return str(v)
    return "[" + ", ".join(one(v) for v in values) + "]"


def resource_list(start: list[Any]) -> str:
    return ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n"
            f"  spec:\n    refs: {flow(start)} # kept\n    after: 1\n")


@settings(max_examples=150, deadline=None)
@given(start=st.lists(items, max_size=3), added=st.lists(items, min_size=1, max_size=6),
       by_append=st.booleans())
def test_every_item_added_to_a_growing_flow_list_is_kept(
    start: list[Any], added: list[Any], by_append: bool,
) -> None:
    rl = ResourceList.parse(resource_list(start))
    obj = rl.items[0]
    if by_append:
        for value in added:
            obj.append("spec.refs", value)
    else:
        obj.set("spec.refs", [*start, *added])
    text = rl.to_text()
    data = yaml.safe_load(text)["items"][0]
    assert data["spec"] == {"refs": [*start, *added], "after": 1}
    assert "# kept" in text
    again = ResourceList.parse(text)
    again.items[0].set("spec.refs", [*start, *added])
    assert again.to_text() == text
