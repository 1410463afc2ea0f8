"""merge3 against an oracle, on random edits of real packages.

Each example takes a real package of the corpus as base, makes theirs and ours from it by
random edits (a scalar changed, a key added or deleted, a list item appended or removed, a
label set, a resource added or removed, a README line), made through the SDK so that
ours keeps the package's own text, comments and layout; theirs is sometimes written out
again by another YAML library, as an upstream that reformats its files. Then:

- the merged resources equal `merge3_oracle`'s, and the conflicts stand where the
  oracle's do (each reported field is, or holds, a field both sides changed differently);
- merging with nothing changed upstream, even with upstream's files reformatted, gives
  ours byte for byte; merging into ours equal to base gives theirs (into base's files
  reformatted, theirs' content); merging into ours equal to theirs gives theirs byte for
  byte;
- merging the result again changes nothing;
- a file of ours whose resources the merge leaves as they were keeps its bytes.
"""

from __future__ import annotations

from typing import Any

import merge3_oracle as oracle
import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from krmfn._path import Match, parse_path
from krmfn_fleet.merge3 import merge_package
from merge3_edits import SEED_TEXTS, SEEDS, edit_package, resource_files, resources


def _flat_path(field: str) -> tuple[Any, ...]:
    out: list[Any] = []
    for seg in parse_path(field) if field else ():
        if isinstance(seg, Match):
            out.append(("item", seg.key, seg.value))
        else:
            out.append(seg)
    return tuple(out)


def _loose(path: tuple[Any, ...]) -> tuple[Any, ...]:
    """An oracle path with item keys as text, as a conflict's field names them."""
    return tuple(("item", s[1], str(s[2][1])) if isinstance(s, tuple) else s for s in path)


def _canon_pkg(resources: dict[oracle.Ident, Any]) -> dict[oracle.Ident, Any]:
    return {k: oracle.canon(v) for k, v in resources.items()}


@st.composite
def versions(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    data = draw(st.data())
    base = SEED_TEXTS[draw(st.sampled_from(SEEDS))]
    theirs = edit_package(data, base, redump=draw(st.booleans()))
    ours = edit_package(data, base, redump=False)
    return base, theirs, ours


PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(versions())
def test_merge_equals_the_oracle(case: tuple[dict[str, str], dict[str, str], dict[str, str]]
                                 ) -> None:
    base, theirs, ours = case
    rb, rt, ro = resources(base), resources(theirs), resources(ours)
    assume(all(oracle.consistent(*(oracle.flatten(r[i]) if i in r else None
                                   for r in (rb, rt, ro)))
               for i in set(rb) | set(rt) | set(ro)))
    expected, expected_conflicts = oracle.merge_packages(rb, rt, ro)
    result = merge_package(base, theirs, ours)
    found = {}
    for c in result.conflicts:
        if c.resource:
            found.setdefault(c.resource, []).append(_flat_path(c.field))
    whole = {c.file for c in result.conflicts if not c.resource}
    readme = [base.get("README.md"), theirs.get("README.md"), ours.get("README.md")]
    assert whole == ({"README.md"} if len(set(readme)) == 3 else set())
    wanted = {_label(ident, ro.get(ident) or rt.get(ident) or rb[ident]):
              [_loose(p) for p in paths] for ident, paths in expected_conflicts.items()}
    assert set(found) == set(wanted)
    for resource, paths in found.items():
        for p in paths:  # each reported field is, or holds, a field changed both ways
            assert any(q[:len(p)] == p for q in wanted[resource]), (resource, p)
        for q in wanted[resource]:
            assert any(q[:len(p)] == p for p in paths), (resource, q)
    event("conflicts" if result.conflicts else "merged"
          if result.files != ours else "nothing to do")
    if result.conflicts:
        assert result.files == ours
        return
    assert _canon_pkg(resources(result.files)) == _canon_pkg(expected)
    # merging again changes nothing
    again = merge_package(base, theirs, result.files)
    assert again.conflicts == [] and again.files == result.files
    if ours == base:  # nothing changed here: upstream's package as it is
        assert result.files == theirs
        return
    # an ours file whose resources the merge left alone keeps its bytes
    for name, objs in resource_files(ours).items():
        idents = [(o.group, o.kind, o.namespace, o.name) for o in objs]
        untouched = all(i in expected and oracle.canon(expected[i]) == oracle.canon(ro[i])
                        for i in idents)
        arrived = any(i not in ro for i in _idents_in(theirs, name))
        if untouched and not arrived:
            assert result.files.get(name) == ours[name], name


def _idents_in(texts: dict[str, str], name: str) -> list[oracle.Ident]:
    objs = resource_files({name: texts[name]}).get(name, []) if name in texts else []
    return [(o.group, o.kind, o.namespace, o.name) for o in objs]


def _label(ident: oracle.Ident, data: dict[str, Any]) -> str:
    ns = f"{ident[2]}/" if ident[2] else ""
    return f"{data.get('apiVersion', '')}/{ident[1]} {ns}{ident[3]}"


@PROPERTY
@given(versions())
def test_identities(case: tuple[dict[str, str], dict[str, str], dict[str, str]]) -> None:
    base, theirs, ours = case
    # nothing changed upstream, even with every file written out again: ours, as it is
    reformatted = {n: (yaml.safe_dump_all([o.to_dict() for o in objs], sort_keys=False)
                       if (objs := resource_files({n: t}).get(n)) else t)
                   for n, t in base.items()}
    kept = merge_package(base, reformatted, ours)
    assert kept.conflicts == [] and kept.files == (reformatted if ours == base else ours)
    # ours untouched: theirs as it is; and ours untouched but written out again: theirs'
    # content
    assert merge_package(base, theirs, dict(base)).files == theirs
    taken = merge_package(base, theirs, reformatted)
    assert taken.conflicts == []
    assert _canon_pkg(resources(taken.files)) == _canon_pkg(resources(theirs))
    assert {n: t for n, t in taken.files.items() if n not in resource_files(taken.files)} \
        == {n: t for n, t in theirs.items() if n not in resource_files(theirs)}
    # ours already theirs: theirs, byte for byte
    same = merge_package(base, theirs, dict(theirs))
    assert same.conflicts == [] and same.files == theirs


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_reads_asresources(seed: str) -> None:
    assert resource_files(SEED_TEXTS[seed]), seed
