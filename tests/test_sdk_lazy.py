"""Large ResourceLists are read lazily; the output must be what reading them whole gives."""

from __future__ import annotations

import sys
from pathlib import Path

import krmfn
import krmfn._lazy as lazy
import pytest
from krmfn import ResourceList

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from corpus import resource_list


@krmfn.function(name="relabel")
def relabel(rl: ResourceList) -> None:
    """Two passes over every item, as many functions make."""
    kinds = {o.kind for o in rl.items}
    for obj in rl.items:
        if "Service" in kinds and not obj.is_local_config:
            obj.set_label("pass", "one")
    for obj in rl.items:
        obj.set_label("pass", "two")


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazy, "LAZY_MIN_ITEMS", 50)
    monkeypatch.setattr(lazy, "RESIDENT", 7)


def _eager(text: str) -> str:
    rl = ResourceList.parse(text, lazy=False)
    relabel.process(rl)
    return rl.to_text()


def test_lazy_reading_gives_the_eager_output(small_limits: None) -> None:
    text = resource_list(300)
    assert lazy.split_items(text) is not None
    rl = ResourceList.parse(text)
    relabel.process(rl)
    evicted = [o for o in rl.items if o._d is None]
    assert evicted and all(o._dirty for o in evicted)  # edited, written back, dropped
    assert sum(o._d is not None for o in rl.items) <= lazy.RESIDENT
    assert rl.to_text() == _eager(text)
    out = relabel.run_text(text)
    assert out.exit_code == 0
    assert out.stdout == _eager(text)


def test_untouched_large_list_is_byte_identical(small_limits: None) -> None:
    text = resource_list(300)
    noop = krmfn.Function(lambda rl: None, name="noop")
    assert noop.run_text(text).stdout == text


def test_a_fake_item_inside_a_quoted_scalar_falls_back(small_limits: None) -> None:
    """A multi-line quoted scalar whose lines look like an item must not fool the cut."""
    text = resource_list(120)
    trap = ('  data:\n    trap: "first line\n- apiVersion: v1\n  kind: Fake\n  metadata:\n'
            '    name: fake\n  end"\n')
    text = text.replace("  data:\n", trap, 1)
    out = relabel.run_text(text)
    assert out.exit_code == 0, out.stderr
    assert out.stdout == _eager(text)
    assert "name: fake\n  end" in out.stdout


def test_bad_item_in_a_large_list_is_reported(small_limits: None) -> None:
    text = resource_list(120).replace("kind: Service", "kind: [Service]", 1)
    out = relabel.run_text(text)
    assert out.exit_code == 1
    assert "kind" in out.stderr
