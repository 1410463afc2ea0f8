"""Random edits of real packages, as a hand or an upstream makes them: what the merge3
tests draw their cases from.

`edit_package` makes a new version of a package by a few random edits (a scalar changed,
a key added or deleted, a list item appended, a label set, a resource added or removed, a
README line), made through the SDK so that the version keeps the package's own text,
comments and layout, or written out again by another YAML library (`redump`), as an
upstream that reformats its files. `resources` reads a version back as data by identity,
without kpt's own annotations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from krmfn._errors import InputError
from krmfn._object import KubeObject
from krmfn._package import package_from_texts
from krmfn._package_paths import is_reserved
from krmfn._resource_list import ResourceList

Ident = tuple[str, str, str, str]

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


def corpus_texts(folder: str) -> dict[str, str]:
    root = CORPUS / folder
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            try:
                out[p.relative_to(root).as_posix()] = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return out


SEED_TEXTS = {folder: corpus_texts(folder) for folder in SEEDS}


def parsed_files(texts: dict[str, str]) -> dict[str, tuple[Any, list[KubeObject]]]:
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


def resource_files(texts: dict[str, str]) -> dict[str, list[KubeObject]]:
    return {name: objs for name, (_, objs) in parsed_files(texts).items()}


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


def kpt_own(key: Any) -> bool:
    """kpt's annotations, which a merge neither matches nor merges on."""
    return isinstance(key, str) and (is_reserved(key) or key.startswith("internal.kpt.dev/"))


def _edit_resource(data: st.DataObject, obj: KubeObject) -> None:
    nodes = [(p, v) for p, v in _nodes(obj.to_dict()) if p and p not in IDENTITY
             and not (len(p) > 2 and p[:2] == ("metadata", "annotations")
                      and kpt_own(p[2]))]
    op = data.draw(st.sampled_from(["set", "delete", "add", "append", "label"]))
    if op == "label":
        obj.set(("metadata", "labels", data.draw(KEYS)), data.draw(st.sampled_from(["x", "y"])))
        return
    if op == "set":
        leaves = [p for p, v in nodes if not isinstance(v, (dict, list))]
        if leaves and data.draw(st.booleans()):
            leaves = leaves[-3:]  # (a few fields both sides pick often: conflicts)
        if leaves:
            path, value = data.draw(st.sampled_from(leaves)), data.draw(SCALARS)
            if path[:2] in (("metadata", "labels"), ("metadata", "annotations")):
                value = str(value)  # (their values are strings)
            obj.set(path, value)
        return
    if op == "delete":
        if nodes:
            obj.delete(data.draw(st.sampled_from([p for p, _ in nodes])))
        return
    if op == "add":
        maps = [p for p, v in nodes if isinstance(v, dict)] or [("metadata",)]
        value = data.draw(st.one_of(SCALARS, st.dictionaries(KEYS, SCALARS, max_size=2)))
        where = data.draw(st.sampled_from(maps))
        if where in (("metadata", "labels"), ("metadata", "annotations")):
            value = str(value)
        obj.set((*where, data.draw(KEYS)), value)
        return
    named = [p for p, v in nodes if isinstance(v, list) and v
             and all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in v)]
    if named:
        path = data.draw(st.sampled_from(named))
        have = {i["name"] for i in obj.get(path)}
        name = data.draw(NAMES)
        if name not in have:
            obj.append(path, {"name": name, "value": data.draw(SCALARS)})


def edit_package(data: st.DataObject, texts: dict[str, str], *, redump: bool,
                 keep: tuple[str, ...] = ()) -> dict[str, str]:
    """A new version of the package; resources of the kinds in `keep` stay as they are."""
    out = dict(texts)
    parsed = parsed_files(texts)
    files = {name: list(objs) for name, (_, objs) in parsed.items()}
    added: dict[str, list[KubeObject]] = {}
    changed: set[str] = set()
    removed: set[int] = set()
    for _ in range(data.draw(st.integers(0, 4))):
        kind = data.draw(st.sampled_from(["field", "field", "field", "remove", "add", "file"]))
        every = [(n, o) for n, os_ in files.items() for o in os_
                 if id(o) not in removed and o.kind not in keep]
        objs = every[:1] if data.draw(st.booleans()) else every  # (one resource both
        # sides edit often: conflicts)
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
            target = data.draw(st.sampled_from(
                [*(f for f in files if not f.endswith("Kptfile")), "extra.yaml"]))
            if any(o.kind == "ConfigMap" and o.name == cm.name and not o.namespace
                   for _, o in every):
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


def resources(texts: dict[str, str]) -> dict[Ident, Any]:
    out = {}
    for objs in resource_files(texts).values():
        for obj in objs:
            data = obj.to_dict()
            ann = data.get("metadata", {}).get("annotations")
            if isinstance(ann, dict) and ann:
                for k in [k for k in ann if kpt_own(k)]:
                    del ann[k]
                if not ann:  # (a map of kpt's annotations only counts as none)
                    del data["metadata"]["annotations"]
            out[(obj.group, obj.kind, obj.namespace, obj.name)] = data
    return out
