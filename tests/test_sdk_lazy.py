"""Large ResourceLists are read lazily; the output must be what reading them whole gives."""

from __future__ import annotations

import sys
from pathlib import Path

import krmfn
import krmfn._large.check_worker as check_worker
import krmfn._large.lazy_list as lazy
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
    monkeypatch.setattr(lazy, "EVICT_MIN_ITEMS", 50)
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


@krmfn.function(name="count-kinds")
def count_kinds(rl: ResourceList) -> None:
    """Reads identities only, and one item in full: the rest is left to the check."""
    rl.info(f"{len({o.kind for o in rl.items})} kinds")
    rl.items[0].get("metadata")


@pytest.fixture
def worker_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_worker, "MIN_TEXT", 0)
    monkeypatch.delenv("KRMFN_CHECK_WORKER", raising=False)


def test_the_check_worker_checks_what_the_function_did_not_read(worker_always: None) -> None:
    text = resource_list(300)
    rl = ResourceList.parse(text, _worker=True)
    assert rl._worker is not None
    count_kinds.process(rl)
    assert rl._worker.stop(wait=True) == 0  # it checked every item, the last one first
    rl.verify()
    assert rl.items[0]._d is not None
    assert all(o._checked and o._d is None for o in rl.items[1:])  # none composed here
    assert rl.to_text().startswith(text.rstrip("\n"))


def test_a_worker_stopped_early_leaves_the_rest_to_the_process(worker_always: None) -> None:
    text = resource_list(300)
    rl = ResourceList.parse(text, _worker=True)
    assert rl._worker is not None
    checked_from = rl.stop_worker()  # at once: it has done few items, or none
    assert 0 <= checked_from <= len(rl.items)
    rl.verify()
    assert all(o._checked for o in rl.items)
    assert sum(o._d is not None for o in rl.items) == checked_from  # the rest, composed here


@pytest.mark.parametrize("problem", [
    ("    log.level: info\n", "    log.level: info\n    log.level: debug\n"),  # duplicate key
    ("  kind: ConfigMap\n", "  kind: ConfigMap\n  kind: Secret\n"),  # identity not as scanned
    ("    enabled: \"true\"\n", "    enabled: !!int \"true\"\n"),  # a tag its text does not fit
])
def test_a_problem_the_worker_finds_gives_the_whole_read_answer(
        worker_always: None, problem: tuple[str, str]) -> None:
    head, _, last = resource_list(300).rpartition("\n- ")
    text = head + "\n- " + last.replace(*problem, 1)
    assert text.count(problem[1]) == 1
    rl = ResourceList.parse(text, _worker=True)
    assert rl._worker is not None
    with pytest.raises(lazy.LayoutChanged):
        rl._worker.stop(wait=True)
    out = count_kinds.run_text(text)
    eager = count_kinds._run_parsed(text, lazy=False)
    split = lazy.split_items(text)
    assert split is not None
    last = len(split.bounds) - 2
    assert out == eager and out.exit_code == 1 and f"items[{last}]" in out.stderr


def test_no_worker_when_switched_off(worker_always: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRMFN_CHECK_WORKER", "0")
    rl = ResourceList.parse(resource_list(300), _worker=True)
    assert rl._worker is None
    count_kinds.process(rl)
    rl.verify()
    assert all(o._checked and o._d is not None for o in rl.items)


@krmfn.function(name="add-one")
def add_one(rl: ResourceList) -> None:
    """Appends an item: it goes after the last item, before what follows the items."""
    rl.items.append(krmfn.KubeObject.from_dict(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "added"}}))


@pytest.mark.parametrize("tail", ["", "\n", "\n\n", " ", "\n  ", "# next\n", "\n# next\n",
                                  "  # the last item's\n"])
def test_what_ends_the_items_block_is_kept_as_a_whole_read_keeps_it(
        small_limits: None, tail: str) -> None:
    """Found by fuzzing: blank lines or a column-0 comment after the last item belong to
    what follows the items, where a whole read puts them (after added items)."""
    text = resource_list(60).partition("functionConfig:")[0] + tail
    out = add_one.run_text(text)
    assert out == add_one._run_parsed(text, lazy=False) and out.exit_code == 0


def test_identity_and_local_config_come_from_the_text_until_an_item_is_read(
        small_limits: None) -> None:
    flow = ("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: flow\n"
            "    annotations: {config.kubernetes.io/local-config: 'true'}\n")
    text = resource_list(60).replace("items:\n", "items:\n" + flow, 1)
    rl = ResourceList.parse(text)
    first, second = rl.items[0], rl.items[1]
    assert (first.kind, first.name) == ("ConfigMap", "flow") and first._d is None
    assert first.is_local_config and first._d is not None  # the text left it open: read
    assert not second.is_local_config and second._d is None  # the text said so
    rl.verify()
    assert [o.is_local_config for o in rl.items] == [
        o.is_local_config for o in ResourceList.parse(text, lazy=False).items]
