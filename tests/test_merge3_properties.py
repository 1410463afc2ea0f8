"""merge3 against an oracle, on random edits of real packages.

Each example takes a real package of the corpus as base, makes theirs and ours from it by
random edits (a scalar changed, a key added or deleted, a list item appended or removed, a
label set, a resource added or removed, a README line), made through the SDK so that
ours keeps the package's own text, comments and layout; theirs is sometimes written out
again by another YAML library, as an upstream that reformats its files. Then:

- the merged resources equal `merge3_oracle`'s, and the conflicts stand where the
  oracle's do (each reported field is, or holds, a field both sides changed differently);
- merging with nothing changed upstream, even with upstream's files reformatted, gives
  ours byte for byte; merging into ours equal to base gives theirs' content; merging
  into ours equal to theirs gives theirs byte for byte;
- merging the result again changes nothing;
- a file of ours whose resources the merge leaves as they were keeps its bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import merge3_oracle as oracle
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from krmfn._errors import InputError
from krmfn._object import KubeObject
from krmfn._package import package_from_texts
from krmfn._package_paths import is_reserved
from krmfn._path import Match, parse_path
from krmfn._resource_list import ResourceList
from krmfn_fleet.merge3 import merge_package

CORPUS = Path(__file__).resolve().parent / "corpus"
SEEDS = ["nephio/free5gc-operator", "nephio/pkg-example-upf-bp", "nephio/kindnet",
         "nephio/local-path-provisioner", "nephio/ueransim", "nephio/vlanindex",
         "kpt-functions-catalog/starlark-inject-sidecar",
         "kpt-functions-catalog/set-labels-full-coverage", "gateway-api/http-routing",
         "cert-manager/istio-csr-example"]
SCALARS = st.sampled_from(["a", "b", "latest", 1, 2, 8080, True, None])
KEYS = st.sampled_from(["k1", "k2", "team"])
NAMES = st.sampled_from(["n1", "n2", "n3"])
IDENTITY = {("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"),
            ("metadata", "namespace")}


def _texts(folder: str) -> dict[str, str]:
    root = CORPUS / folder
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            try:
                out[p.relative_to(root).as_posix()] = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return out


_SEED_TEXTS = {folder: _texts(folder) for folder in SEEDS}


def _parsed(texts: dict[str, str]) -> dict[str, tuple[Any, list[KubeObject]]]:
    """Each resource file's Package and objects (files that are not resources left out)."""
    out = {}
    for name, text in texts.items():
        if not name.endswith((".yaml", ".yml")) and name.rsplit("/", 1)[-1] != "Kptfile":
            continue
        try:
            rl, pkg = package_from_texts(Path("."), [(name, text)])
        except InputError:
            continue
        out[name] = (pkg, list(rl.items))
    return out


def _resource_files(texts: dict[str, str]) -> dict[str, list[KubeObject]]:
    return {name: objs for name, (_, objs) in _parsed(texts).items()}


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(path, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                out += _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _nodes(v, (*path, i))
    return out


def _edit_resource(data: st.DataObject, obj: KubeObject) -> None:
    nodes = [(p, v) for p, v in _nodes(obj.to_dict()) if p and p not in IDENTITY
             and not (len(p) > 2 and p[:2] == ("metadata", "annotations")
                      and isinstance(p[2], str) and is_reserved(p[2]))]
    op = data.draw(st.sampled_from(["set", "delete", "add", "append", "label"]))
    if op == "label":
        obj.set(("metadata", "labels", data.draw(KEYS)), data.draw(st.sampled_from(["x", "y"])))
        return
    if op == "set":
        leaves = [p for p, v in nodes if not isinstance(v, (dict, list))]
        if leaves:
            obj.set(data.draw(st.sampled_from(leaves)), data.draw(SCALARS))
        return
    if op == "delete":
        if nodes:
            obj.delete(data.draw(st.sampled_from([p for p, _ in nodes])))
        return
    if op == "add":
        maps = [p for p, v in nodes if isinstance(v, dict)] or [("metadata",)]
        value = data.draw(st.one_of(SCALARS, st.dictionaries(KEYS, SCALARS, max_size=2)))
        obj.set((*data.draw(st.sampled_from(maps)), data.draw(KEYS)), value)
        return
    named = [p for p, v in nodes if isinstance(v, list) and v
             and all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in v)]
    if named:
        path = data.draw(st.sampled_from(named))
        have = {i["name"] for i in obj.get(path)}
        name = data.draw(NAMES)
        if name not in have:
            obj.append(path, {"name": name, "value": data.draw(SCALARS)})


def _edit_package(data: st.DataObject, texts: dict[str, str], *, redump: bool
                  ) -> dict[str, str]:
    out = dict(texts)
    parsed = _parsed(texts)
    files = {name: list(objs) for name, (_, objs) in parsed.items()}
    added: dict[str, list[KubeObject]] = {}
    changed: set[str] = set()
    removed: set[int] = set()
    for _ in range(data.draw(st.integers(0, 4))):
        kind = data.draw(st.sampled_from(["field", "field", "field", "remove", "add", "file"]))
        objs = [(n, o) for n, os_ in files.items() for o in os_ if id(o) not in removed]
        if kind == "field" and objs:
            name, obj = data.draw(st.sampled_from(objs))
            _edit_resource(data, obj)
            changed.add(name)
        elif kind == "remove" and objs:
            name, obj = data.draw(st.sampled_from(objs))
            removed.add(id(obj))
            changed.add(name)
        elif kind == "add":
            cm = KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": data.draw(NAMES)},
                                       "data": {"k": str(data.draw(SCALARS))}})
            target = data.draw(st.sampled_from([*files, "extra.yaml"]))
            if any(o.kind == "ConfigMap" and o.name == cm.name and not o.namespace
                   for _, o in objs):
                continue
            files.setdefault(target, []).append(cm)
            added.setdefault(target, []).append(cm)
            changed.add(target)
        elif kind == "file":
            out["README.md"] = out.get("README.md", "") + data.draw(
                st.sampled_from(["one\n", "two\n"]))
    for name in changed:
        kept = [o for o in files[name] if id(o) not in removed]
        if redump:
            text = yaml.safe_dump_all([o.to_dict() for o in kept], sort_keys=False)
        else:
            new = [o for o in added.get(name, []) if id(o) not in removed]
            text = ""
            if name in parsed:
                pkg, objs = parsed[name]
                text = pkg.render_files(ResourceList(
                    [o for o in objs if id(o) not in removed])).get(name, "")
            for obj in new:
                text = (text if not text or text.endswith("\n") else text + "\n") + (
                    "---\n" if text.strip() else "") + obj.to_yaml()
        if kept:
            out[name] = text
        else:
            out.pop(name, None)
    return out


def _resources(texts: dict[str, str]) -> dict[oracle.Ident, Any]:
    out = {}
    for objs in _resource_files(texts).values():
        for obj in objs:
            data = obj.to_dict()
            ann = data.get("metadata", {}).get("annotations")
            if isinstance(ann, dict):
                for k in [k for k in ann if is_reserved(k)]:
                    del ann[k]
            out[(obj.group, obj.kind, obj.namespace, obj.name)] = data
    return out


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
    base = _SEED_TEXTS[draw(st.sampled_from(SEEDS))]
    theirs = _edit_package(data, base, redump=draw(st.booleans()))
    ours = _edit_package(data, base, redump=False)
    return base, theirs, ours


PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(versions())
def test_merge_equals_the_oracle(case: tuple[dict[str, str], dict[str, str], dict[str, str]]
                                 ) -> None:
    base, theirs, ours = case
    rb, rt, ro = _resources(base), _resources(theirs), _resources(ours)
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
    if result.conflicts:
        assert result.files == ours
        return
    assert _canon_pkg(_resources(result.files)) == _canon_pkg(expected)
    # merging again changes nothing
    again = merge_package(base, theirs, result.files)
    assert again.conflicts == [] and again.files == result.files
    # an ours file whose resources the merge left alone keeps its bytes
    for name, objs in _resource_files(ours).items():
        idents = [(o.group, o.kind, o.namespace, o.name) for o in objs]
        untouched = all(i in expected and oracle.canon(expected[i]) == oracle.canon(ro[i])
                        for i in idents)
        arrived = any(i not in ro for i in _idents_in(theirs, name))
        if untouched and not arrived:
            assert result.files.get(name) == ours[name], name


def _idents_in(texts: dict[str, str], name: str) -> list[oracle.Ident]:
    objs = _resource_files({name: texts[name]}).get(name, []) if name in texts else []
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
                       if (objs := _resource_files({n: t}).get(n)) else t)
                   for n, t in base.items()}
    kept = merge_package(base, reformatted, ours)
    assert kept.conflicts == [] and kept.files == ours
    # ours untouched: theirs' content
    taken = merge_package(base, theirs, dict(base))
    assert taken.conflicts == []
    assert _canon_pkg(_resources(taken.files)) == _canon_pkg(_resources(theirs))
    assert {n: t for n, t in taken.files.items() if n not in _resource_files(taken.files)} \
        == {n: t for n, t in theirs.items() if n not in _resource_files(theirs)}
    # ours already theirs: theirs, byte for byte
    same = merge_package(base, theirs, dict(theirs))
    assert same.conflicts == [] and same.files == theirs


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_reads_as_resources(seed: str) -> None:
    assert _resource_files(_SEED_TEXTS[seed]), seed
