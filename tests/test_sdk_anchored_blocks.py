"""An entry added to a block map or list that carries an anchor or a tag goes at the column
of its entries, not at the column where the node starts (at its `&anchor` or `!!tag`, past
its key). Written there, a label added after `app: |` became part of the block scalar: the
labels were lost into a string, exit 0."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from krmfn import ResourceList

PROPERTIES = ["&a1", "!!map", "&a1 !!map", "!!map &a1"]
# the text of the collection's last value (`{i}`: the indentation of that value's own
# entries or lines), and what it reads as
LAST_VALUES: dict[str, tuple[str, Any]] = {
    "literal": ("|\n{i}web\n\n{i}web", "web\n\nweb\n"),
    "folded": (">-\n{i}a\n{i}b", "a b"),
    "plain": ("web", "web"),
    "map": ("\n{i}x: 1\n{i}y: [2]", {"x": 1, "y": [2]}),
    "empty": ("", None),
}


def item(prop: str, last: str, seq: bool, dash_column: int) -> tuple[str, str, Any]:
    """A ResourceList item whose `data` holds the collection, then `after: 1`."""
    text, value = LAST_VALUES[last]
    if seq:
        prop = prop.replace("!!map", "!!seq")
        lead = " " * dash_column + "- "
        inner = " " * (dash_column + 2)
        last_line = lead.rstrip() + (" " + text.format(i=inner) if text else "")
        if last == "map":
            last_line = lead + text.format(i=inner).lstrip("\n").lstrip()
        body = f"{lead}first\n{last_line}"
        key, want = "list", ["first", value]
    else:
        inner = " " * 6
        body = f"{inner}first: 1\n{inner}app:" + (" " + text.format(i=inner + "  ")
                                                     if text else "")
        key, want = "labels", {"first": 1, "app": value}
    return (f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n"
            f"  data:\n    {key}: {prop}\n{body}\n    after: 1\n"), key, want


@settings(max_examples=120, deadline=None)
@given(prop=st.sampled_from(PROPERTIES), last=st.sampled_from(sorted(LAST_VALUES)),
       seq=st.booleans(), dash_column=st.sampled_from([4, 6]),
       added=st.lists(st.text("abcxyz", min_size=1, max_size=8), min_size=1, max_size=3,
                      unique=True))
def test_an_entry_added_to_an_anchored_or_tagged_block_collection_lands_in_it(
    prop: str, last: str, seq: bool, dash_column: int, added: list[str],
) -> None:
    text, key, want = item(prop, last, seq, dash_column)
    doc = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + text
    loaded = yaml.safe_load(doc)["items"][0]["data"]
    assert loaded[key] == want, "the generated input is not what the test means"
    rl = ResourceList.parse(doc)
    obj = rl.items[0]
    for word in added:
        if seq:
            obj.append(("data", key), word)
        else:
            obj.set(("data", key, f"k-{word}"), word)
    out = yaml.safe_load(rl.to_text())["items"][0]["data"]
    expected = ([*want, *added] if seq else {**want, **{f"k-{w}": w for w in added}})
    assert out == {key: expected, "after": 1}
