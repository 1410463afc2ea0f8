"""Keys deeper in an item found from indentation (`_large.parts.key_lines`): where a guess is
given it must be the key the whole tree has there, with exactly its lines; hostile
layouts (multi-line quoted scalars and flow collections, block scalars holding lines
that look like keys) must give no guess rather than a wrong one."""

from __future__ import annotations

import random

import pytest
import yaml
from krmfn._large.parts import key_lines
from krmfn._text.nodes import MappingNode, SequenceNode, construct

NEEDLE = "# kpt-set: ${x}"


def scalar(rng: random.Random, pad: str) -> str:
    """A value on a key's line; a few go on over lines that look like keys beside it."""
    if rng.random() < 0.96:
        return rng.choice(["plain", "a b c", "'single'", '"double"', "[1, 2]", "{a: b}",
                           '["x", "y # not a comment"]', "3", "null", "a#b", "''"])
    return rng.choice([f'"open\n{pad}close"', f'"open\n{pad}k99: 1 {NEEDLE}\n{pad}close"',
                       f"[open,\n{pad}k98: 1 {NEEDLE}\n{pad}]", f"&a{rng.randrange(10**9)} v",
                       "!!str tagged", f"'it''s\n{pad}k97: 2 {NEEDLE}'"])


def block(rng: random.Random, indent: int, depth: int) -> list[str]:
    """Lines of a block mapping at `indent` (some values nested, some hostile)."""
    lines: list[str] = []
    pad = " " * indent
    for k in range(rng.randint(1, 4)):
        key = f"k{depth}{k}"
        note = f" {NEEDLE}" if rng.random() < 0.4 else rng.choice(["", " # other"])
        kind = rng.random() if depth < 4 else 0
        if kind < 0.5:
            value = scalar(rng, pad)
            lines.append(f"{pad}{key}: {value}{note}")
        elif kind < 0.7:
            lines.append(f"{pad}{key}:{note}")
            lines += block(rng, indent + 2, depth + 1)
        elif kind < 0.95:
            lines.append(f"{pad}{key}:{note}")
            dash = indent if rng.random() < 0.5 else indent + 2
            for _ in range(rng.randint(1, 3)):
                entry = block(rng, dash + 2, depth + 1)
                lines.append(" " * dash + "- " + entry[0][dash + 2 :])
                lines += entry[1:]
        elif kind < 0.97:
            lines.append(f"{pad}{key}: |{note}")
            lines += [f"{pad}  looks: like a key {NEEDLE}", f"{pad}    deeper: too {NEEDLE}"]
        else:
            lines.append(f"{pad}# a comment line {NEEDLE}")
            lines.append(f"{pad}{key}: v")
    return lines


def item_text(rng: random.Random) -> str:
    spec = "\n".join(block(rng, 4, 0))
    return f"- apiVersion: v1\n  kind: Thing\n  metadata:\n    name: t\n  spec:\n{spec}\n"


@pytest.mark.parametrize("seed", range(300))
def test_a_key_found_from_indentation_is_the_trees(seed: int) -> None:
    """Its path leads to its key in the whole tree, and its lines alone hold that key and
    the same value (or do not compose at all)."""
    rng = random.Random(seed)
    text = item_text(rng)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader).value[0]
    except yaml.YAMLError:
        pytest.skip("the generator wrote invalid YAML")
    start = text.index("  spec:\n")
    at = text.find("kpt-set", start)
    while at >= 0:
        guess = key_lines(text, at, start, len(text), 2)
        here, at = at, text.find("kpt-set", at + 1)
        if guess is None:
            continue
        path, first, end = guess
        assert first <= here < end
        node, key = root, None
        for seg in path:
            if isinstance(seg, int):
                assert isinstance(node, SequenceNode)
                node, key = node.value[seg], None
            else:
                assert isinstance(node, MappingNode)
                key, node = next((k, v) for k, v in node.value if k.value == seg)
        assert key is not None and key.start_mark.index == text.index(path[-1], first)
        try:  # lines cut short inside a value do not compose: the item is read whole then
            alone = yaml.compose(text[first:end], Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            continue
        assert isinstance(alone, MappingNode) and len(alone.value) == 1
        assert construct(alone.value[0][1]) == construct(node)


def test_the_generator_gives_guesses_and_traps() -> None:
    """The property above is not vacuous: most seeds give guesses, some lines none."""
    guessed = refused = 0
    for seed in range(300):
        text = item_text(random.Random(seed))
        start = text.index("  spec:\n")
        at = text.find("kpt-set", start)
        while at >= 0:
            if key_lines(text, at, start, len(text), 2) is None:
                refused += 1
            else:
                guessed += 1
            at = text.find("kpt-set", at + 1)
    assert guessed > 500 and refused > 1000
