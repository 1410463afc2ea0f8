"""merge3 against the real `kpt pkg update --strategy resource-merge`.

For each case an upstream git repository holds a real package of the corpus at v1 and an
edited copy at v2; `kpt pkg get` fetches v1, the local copy is edited by hand and
committed, and `kpt pkg update` brings it to v2. merge_package(v1, v2, local) must give
the same resources (compared as data, without kpt's own annotations and the Kptfile's
`upstream` and `upstreamLock`, which the fleet writes itself) and the same other files.
Only cases without a conflict are compared: where both sides change a field, kpt takes
upstream's value and merge3 reports a conflict instead (see the module `merge3`). The
named cases are the usual ones; the random ones edit Nephio's free5gc-operator package on
both sides (`merge3_edits`); the last tests pin down where the two differ on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from kpt_support import KPT, needs_kpt
from krmfn._errors import InputError
from krmfn._package import package_from_texts
from krmfn._package_paths import is_reserved
from krmfn_fleet.merge3 import merge_package
from merge3_edits import corpus_texts, edit_package

pytestmark = needs_kpt

CORPUS = Path(__file__).resolve().parent / "corpus"
OPERATOR = "nephio/free5gc-operator"
UPF = "nephio/pkg-example-upf-bp"
DEPLOY = "operator/deployment.yaml"
KPT_ONLY = ("internal.kpt.dev/upstream-identifier",)
Texts = dict[str, str]
Edit = Callable[[Texts], Texts]


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _texts(root: Path) -> Texts:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*")) if p.is_file()}


def _write(root: Path, texts: Texts) -> None:
    if root.exists():
        shutil.rmtree(root)
    for name, text in texts.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def _kpt(cwd: Path, *args: str) -> None:
    done = subprocess.run([KPT, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "HOME": str(cwd)})
    assert done.returncode == 0, done.stderr


def kpt_update(tmp: Path, v1: Texts, v2: Texts, by_hand: Edit) -> tuple[Texts, Texts]:
    """Ours as kpt fetched and the hand edited it, and ours after `kpt pkg update`."""
    up, local = tmp / "up", tmp / "local"
    up.mkdir()
    local.mkdir()
    _git(up, "init", "-q", "-b", "main")
    _write(up / "pkg", v1)
    _git(up, "add", "-A")
    _git(up, "commit", "-qm", "v1")
    _git(up, "tag", "v1")
    _write(up / "pkg", v2)
    _git(up, "add", "-A")
    _git(up, "commit", "-qm", "v2", "--allow-empty")
    _git(up, "tag", "v2")
    _git(local, "init", "-q", "-b", "main")
    _kpt(local, "pkg", "get", f"file://{up}.git/pkg@v1", "pkg")
    _write(local / "pkg", by_hand(_texts(local / "pkg")))
    _git(local, "add", "-A")
    _git(local, "commit", "-qm", "edited", "--allow-empty")
    ours = _texts(local / "pkg")
    _kpt(local, "pkg", "update", "pkg@v2", "--strategy", "resource-merge")
    return ours, _texts(local / "pkg")


def content(texts: Texts) -> tuple[dict[tuple[str, str, str, str], Any], Texts]:
    """Resources as data by identity, without the annotations kpt keeps for itself, and
    the files that are not resources."""
    resources: dict[tuple[str, str, str, str], Any] = {}
    others: Texts = {}
    for name, text in texts.items():
        try:
            if not name.endswith((".yaml", ".yml")) and not name.endswith("Kptfile"):
                raise InputError("not YAML")
            rl, _ = package_from_texts(Path("."), [(name, text)])
        except InputError:
            others[name] = text
            continue
        for obj in rl.items:
            data = obj.to_dict()
            meta = data.get("metadata", {})
            annotations = meta.get("annotations", {})
            for key in [k for k in annotations if is_reserved(k) or k in KPT_ONLY]:
                del annotations[key]
            if meta.get("annotations") == {}:
                del meta["annotations"]
            if obj.kind == "Kptfile":
                data.pop("upstream", None)
                data.pop("upstreamLock", None)
            resources[(obj.group, obj.kind, obj.namespace, obj.name)] = data
    return resources, others


def edit(name: str, old: str, new: str) -> Edit:
    def apply(texts: Texts) -> Texts:
        assert texts[name].count(old) == 1, (name, old)
        return {**texts, name: texts[name].replace(old, new)}
    return apply


def add(name: str, text: str) -> Edit:
    return lambda texts: {**texts, name: text}


def remove(name: str) -> Edit:
    return lambda texts: {k: v for k, v in texts.items() if k != name}


def both(*edits: Edit) -> Edit:
    def apply(texts: Texts) -> Texts:
        for e in edits:
            texts = e(texts)
        return texts
    return apply


def nothing(texts: Texts) -> Texts:
    return texts


IMAGE = edit(DEPLOY, "free5gc-operator:latest", "free5gc-operator:v2.1")
SIDECAR = edit(DEPLOY, "      - name: operator\n",
               "      - name: sidecar\n        image: busybox:1.36\n      - name: operator\n")
REPLICAS = edit(DEPLOY, "replicas: 1", "replicas: 3")
LABEL = edit(DEPLOY, "  namespace: free5gc\n",
             "  namespace: free5gc\n  labels:\n    site: ber1 # by hand\n")
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: free5gc\n" \
            "data:\n  mode: edge\n"

CASES: dict[str, tuple[str, Edit, Edit]] = {
    "label added by hand, image changed upstream": (OPERATOR, IMAGE, LABEL),
    "replicas changed by hand, container added upstream": (OPERATOR, SIDECAR, REPLICAS),
    "image changed upstream, nothing by hand": (OPERATOR, IMAGE, nothing),
    "container added upstream, another container's cpu by hand": (
        OPERATOR, SIDECAR, edit(DEPLOY, "cpu: 5m", "cpu: 50m")),
    "resource added by hand, image changed upstream": (
        OPERATOR, IMAGE, add("site-config.yaml", CONFIGMAP.format("site"))),
    "resource removed upstream, replicas by hand": (
        OPERATOR, remove("operator/role-leader-election.yaml"), REPLICAS),
    "resource added upstream in a new file": (
        OPERATOR, add("operator/config.yaml", CONFIGMAP.format("operator-config")), LABEL),
    "env added on both sides": (
        OPERATOR,
        edit(DEPLOY, "        - name: POD_NAMESPACE\n",
             "        - name: UPSTREAM\n          value: a\n        - name: POD_NAMESPACE\n"),
        edit(DEPLOY, "        - name: POD_NAMESPACE\n",
             "        - name: LOCAL\n          value: b\n        - name: POD_NAMESPACE\n")),
    "field deleted upstream, label by hand": (
        OPERATOR, edit(DEPLOY, "      serviceAccountName: free5gc-operator\n", ""), LABEL),
    "namespace changed by hand, image changed upstream": (
        OPERATOR, IMAGE, edit(DEPLOY, "  namespace: free5gc\n", "  namespace: site-ber1\n")),
    "README changed upstream, Kptfile description by hand": (
        OPERATOR, edit("README.md", "# free5gc-operator", "# free5gc-operator (v2)"),
        edit("Kptfile", "description: free5GC operator package",
             "description: free5GC operator at ber1")),
    "custom resource field upstream, label on it by hand": (
        UPF, edit("capacity.yaml", "maxUplinkThroughput: 5G", "maxUplinkThroughput: 10G"),
        edit("capacity.yaml", "  name: dataplane\n",
             "  name: dataplane\n  labels:\n    site: ber1\n")),
    "custom resource removed upstream, another edited by hand": (
        UPF, remove("network_vpc-ran.yaml"),
        edit("dnn.yaml", "name: vpc-internet", "name: vpc-internet2")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_merge_matches_kpt_pkg_update(case: str, tmp_path: Path) -> None:
    folder, upstream, by_hand = CASES[case]
    v1 = _texts(CORPUS / folder)
    v2 = upstream(v1)
    ours, updated = kpt_update(tmp_path, v1, v2, by_hand)
    assert ours != updated, "kpt changed nothing: the case tests nothing"
    result = merge_package(v1, v2, ours)
    assert result.conflicts == []
    assert content(result.files) == content(updated)


def _field(texts: Texts, ident: tuple[str, str, str, str], *path: str | int) -> Any:
    value: Any = content(texts)[0].get(ident)
    for step in path:
        if value is None:
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


OPERATOR_DEPLOY = ("apps", "Deployment", "free5gc", "free5gc-operator")
DNN = ("req.nephio.org", "DataNetwork", "", "internet")


def test_where_both_sides_change_a_field_kpt_takes_upstream_merge3_reports_it(
        tmp_path: Path) -> None:
    v1 = _texts(CORPUS / OPERATOR)
    v2 = IMAGE(v1)
    ours, updated = kpt_update(tmp_path, v1, v2, edit(DEPLOY, "free5gc-operator:latest",
                                                      "free5gc-operator:mine"))
    image = ("spec", "template", "spec", "containers", 1, "image")
    assert _field(updated, OPERATOR_DEPLOY, *image) == "docker.io/nephio/free5gc-operator:v2.1"
    [conflict] = merge_package(v1, v2, ours).conflicts
    assert conflict.field == "spec.template.spec.containers[name=operator].image"
    assert conflict.ours == "docker.io/nephio/free5gc-operator:mine"


def test_where_upstream_deletes_a_resource_edited_here_kpt_keeps_it_merge3_reports_it(
        tmp_path: Path) -> None:
    v1 = _texts(CORPUS / OPERATOR)
    v2 = remove(DEPLOY)(v1)
    ours, updated = kpt_update(tmp_path, v1, v2, REPLICAS)
    assert _field(updated, OPERATOR_DEPLOY, "spec", "replicas") == 3
    [conflict] = merge_package(v1, v2, ours).conflicts
    assert (conflict.file, conflict.field, conflict.theirs) == (DEPLOY, "", None)


def test_a_custom_resource_list_kpt_replaces_whole_merge3_merges_by_name(
        tmp_path: Path) -> None:
    v1 = _texts(CORPUS / UPF)
    v2 = edit("dnn.yaml", "    - name: pool3\n      prefixLength: 24\n",
              "    - name: pool3\n      prefixLength: 24\n    - name: pool4\n"
              "      prefixLength: 26\n")(v1)
    by_hand = edit("dnn.yaml", "    - name: pool1\n      prefixLength: 24\n",
                   "    - name: pool1\n      prefixLength: 28\n")
    ours, updated = kpt_update(tmp_path, v1, v2, by_hand)
    # kpt: upstream's list, the hand edit of pool1 lost
    assert _field(updated, DNN, "spec", "pools") == [
        {"name": f"pool{i}", "prefixLength": 26 if i == 4 else 24} for i in range(1, 5)]
    result = merge_package(v1, v2, ours)
    assert result.conflicts == []
    assert _field(result.files, DNN, "spec", "pools") == [
        {"name": f"pool{i}", "prefixLength": {1: 28, 4: 26}.get(i, 24)} for i in range(1, 5)]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_random_edits_merge_as_kpt_pkg_update_does(
        data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    v1 = corpus_texts(OPERATOR)
    v2 = edit_package(data, v1, redump=False, keep=("Kptfile",))
    ours, updated = kpt_update(tmp_path_factory.mktemp("kpt"), v1, v2,
                               lambda texts: edit_package(data, texts, redump=False,
                                                          keep=("Kptfile",)))
    result = merge_package(v1, v2, ours)
    event("conflicts: not compared" if result.conflicts else "compared")
    if not result.conflicts:
        _same_content(result.files, updated)


def _same_content(merged: Texts, updated: Texts) -> None:
    """merge3's package and kpt's hold the same, but for what Kubernetes reads as unset
    alike: a null field, an empty map (kpt deletes a field upstream set to null, and
    leaves `{}` where a map was deleted); a failure names what differs."""
    (ours, ours_files), (kpts, kpt_files) = content(merged), content(updated)
    assert ours_files == kpt_files
    assert set(ours) == set(kpts)
    for ident, data in ours.items():
        assert _set_only(data) == _set_only(kpts[ident]), ident


def _set_only(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _set_only(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {}}
    if isinstance(value, list):
        return [_set_only(v) for v in value]
    return value
