"""The three-way package merge (krmfn_fleet.merge3) on a real package: what each kind of
change on each side becomes, which are conflicts, and that ours' bytes are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from krmfn._errors import InputError
from krmfn_fleet.merge3 import Conflict, merge_package

CORPUS = Path(__file__).resolve().parent / "corpus"
PKG = CORPUS / "nephio" / "free5gc-operator"
DEPLOY = "operator/deployment.yaml"


def texts(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*")) if p.is_file()}


def edit(pkg: dict[str, str], name: str, old: str, new: str) -> dict[str, str]:
    assert pkg[name].count(old) == 1, (name, old)
    return {**pkg, name: pkg[name].replace(old, new)}


def docs(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


@pytest.fixture
def base() -> dict[str, str]:
    return texts(PKG)


def test_hand_edits_kept_and_upstream_changes_taken(base: dict[str, str]) -> None:
    ours = edit(base, DEPLOY, "  name: free5gc-operator\nspec:",
                "  name: free5gc-operator\n  labels:\n    site: ber1 # by hand\nspec:")
    ours = edit(ours, DEPLOY, "replicas: 1", "replicas: 3")
    theirs = edit(base, DEPLOY, "free5gc-operator:latest", "free5gc-operator:v2.0")
    result = merge_package(base, theirs, ours)
    assert result.conflicts == []
    # exactly the image line differs from ours: every other byte (the comment too) stays
    assert result.files == edit(ours, DEPLOY, "free5gc-operator:latest",
                                "free5gc-operator:v2.0")


def test_container_added_upstream_is_appended(base: dict[str, str]) -> None:
    ours = edit(base, DEPLOY, "cpu: 5m", "cpu: 7m")
    sidecar = "      - name: sidecar\n        image: busybox:1.36\n"
    theirs = {**base, DEPLOY: base[DEPLOY] + sidecar}
    result = merge_package(base, theirs, ours)
    assert result.conflicts == []
    merged = docs(result.files[DEPLOY])[0]
    containers = merged["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["kube-rbac-proxy", "operator", "sidecar"]
    assert containers[0]["resources"]["requests"]["cpu"] == "7m"
    assert result.files[DEPLOY] == ours[DEPLOY] + sidecar


def test_same_change_on_both_sides_is_no_conflict(base: dict[str, str]) -> None:
    both = edit(base, DEPLOY, "replicas: 1", "replicas: 2")
    result = merge_package(base, both, both)
    assert result.conflicts == [] and result.files == both


def test_a_field_changed_on_both_sides_is_a_conflict_and_ours_is_returned(
        base: dict[str, str]) -> None:
    ours = edit(base, DEPLOY, "free5gc-operator:latest", "free5gc-operator:mine")
    ours = edit(ours, DEPLOY, "replicas: 1", "replicas: 4")
    theirs = edit(base, DEPLOY, "free5gc-operator:latest", "free5gc-operator:v2")
    result = merge_package(base, theirs, ours)
    assert result.conflicts == [Conflict(
        DEPLOY, "apps/v1/Deployment free5gc/free5gc-operator",
        "spec.template.spec.containers[name=operator].image",
        "docker.io/nephio/free5gc-operator:latest", "docker.io/nephio/free5gc-operator:mine",
        "docker.io/nephio/free5gc-operator:v2")]
    assert result.files == ours


def test_label_keys_with_dots_are_named_in_brackets(base: dict[str, str]) -> None:
    old = "        app.kubernetes.io/component: controller\n    spec:"
    ours = edit(base, DEPLOY, old, old.replace("controller", "ctl"))
    theirs = edit(base, DEPLOY, old, old.replace("controller", "manager"))
    [conflict] = merge_package(base, theirs, ours).conflicts
    assert conflict.field == 'spec.template.metadata.labels["app.kubernetes.io/component"]'
    assert (conflict.base, conflict.ours, conflict.theirs) == ("controller", "ctl", "manager")


def test_env_and_ports_merge_by_their_keys(base: dict[str, str]) -> None:
    env = "        - name: POD_NAMESPACE\n"
    ours = edit(base, DEPLOY, env, "        - name: LOCAL\n          value: x\n" + env)
    theirs = edit(base, DEPLOY, env, "        - name: UPSTREAM\n          value: y\n" + env)
    theirs = edit(theirs, DEPLOY, "        - containerPort: 8443\n",
                  "        - containerPort: 9443\n          name: alt\n"
                  "        - containerPort: 8443\n")
    result = merge_package(base, theirs, ours)
    assert result.conflicts == []
    c = docs(result.files[DEPLOY])[0]["spec"]["template"]["spec"]["containers"]
    assert [e["name"] for e in c[1]["env"]] == ["LOCAL", "POD_NAMESPACE", "UPSTREAM"]
    assert [p["containerPort"] for p in c[0]["ports"]] == [8443, 9443]


def test_atomic_lists_conflict_when_both_change_them(base: dict[str, str]) -> None:
    ours = edit(base, DEPLOY, "        - --v=10\n", "        - --v=2\n")
    theirs = edit(base, DEPLOY, "        - --logtostderr=true\n", "")
    [conflict] = merge_package(base, theirs, ours).conflicts
    assert conflict.field == "spec.template.spec.containers[name=kube-rbac-proxy].args"


def test_resource_added_by_hand_survives_and_one_added_upstream_arrives(
        base: dict[str, str]) -> None:
    mine = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\n"
    new = "# upstream's\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n"
    ours = {**base, "mine.yaml": mine}
    theirs = {**base, "new.yaml": new,
              "operator/namespace.yaml": base["operator/namespace.yaml"] + "---\n" + new
              .replace("name: new", "name: new2")}
    result = merge_package(base, theirs, ours)
    assert result.conflicts == []
    assert result.files == {**theirs, "mine.yaml": mine}


def test_resource_removed_upstream(base: dict[str, str]) -> None:
    theirs = {k: v for k, v in base.items() if k != "operator/namespace.yaml"}
    ours = edit(base, DEPLOY, "replicas: 1", "replicas: 3")
    result = merge_package(base, theirs, ours)
    assert result.conflicts == [] and result.files == {
        k: v for k, v in ours.items() if k != "operator/namespace.yaml"}


def test_resource_removed_from_a_file_of_several() -> None:
    a = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # first\n"
    b = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"
    base = {"all.yaml": a + "---\n" + b}
    ours = {"all.yaml": a.replace("# first", "# mine") + "---\n" + b}
    result = merge_package(base, {"all.yaml": a}, ours)
    assert result.conflicts == []
    assert result.files == {"all.yaml": a.replace("# first", "# mine")}


def test_removed_upstream_but_edited_by_hand_is_a_conflict(base: dict[str, str]) -> None:
    theirs = {k: v for k, v in base.items() if k != DEPLOY}
    ours = edit(base, DEPLOY, "replicas: 1", "replicas: 3")
    [conflict] = merge_package(base, theirs, ours).conflicts
    assert (conflict.file, conflict.field, conflict.theirs) == (DEPLOY, "", None)
    assert conflict.resource == "apps/v1/Deployment free5gc/free5gc-operator"


def test_removed_by_hand_stays_removed_unless_upstream_changed_it(
        base: dict[str, str]) -> None:
    ours = {k: v for k, v in base.items() if k != DEPLOY}
    theirs = edit(base, "operator/serviceaccount.yaml", "name: free5gc-operator",
                  "name: free5gc-operator\n  labels:\n    a: b")
    assert merge_package(base, theirs, ours).files == {
        **ours, "operator/serviceaccount.yaml": theirs["operator/serviceaccount.yaml"]}
    theirs = edit(base, DEPLOY, "replicas: 1", "replicas: 2")
    [conflict] = merge_package(base, theirs, ours).conflicts
    assert (conflict.field, conflict.ours) == ("", None)


def test_added_on_both_sides_merges_as_two_way() -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n"
    ours = {"c.yaml": cm + "  b: '2'\n"}
    theirs = {"other.yaml": cm + "  c: '3'\n"}
    result = merge_package({}, theirs, ours)
    assert result.conflicts == []
    [(name, text)] = result.files.items()
    assert name == "c.yaml" and text.startswith(ours["c.yaml"])  # ours' bytes, then c
    assert docs(text)[0]["data"] == {"a": "1", "b": "2", "c": "3"}
    theirs = {"c.yaml": cm.replace("'1'", "'9'")}
    [conflict] = merge_package({}, theirs, ours).conflicts
    assert (conflict.field, conflict.base, conflict.ours, conflict.theirs) == (
        "data.a", None, "'1'", "'9'")


def test_field_deleted_upstream(base: dict[str, str]) -> None:
    theirs = edit(base, DEPLOY, "      serviceAccountName: free5gc-operator\n", "")
    ours = edit(base, DEPLOY, "replicas: 1", "replicas: 3")
    result = merge_package(base, theirs, ours)
    assert result.files == edit(ours, DEPLOY, "      serviceAccountName: free5gc-operator\n",
                                "")
    ours = edit(base, DEPLOY, "serviceAccountName: free5gc-operator",
                "serviceAccountName: mine")
    [conflict] = merge_package(base, theirs, ours).conflicts
    assert (conflict.field, conflict.theirs) == ("spec.template.spec.serviceAccountName", None)


def test_other_files_are_merged_whole(base: dict[str, str]) -> None:
    theirs = {**base, "README.md": base["README.md"] + "upstream\n"}
    ours = {**base, "notes.txt": "mine\n"}
    result = merge_package(base, theirs, ours)
    assert result.files == {**theirs, "notes.txt": "mine\n"}
    ours = {**base, "README.md": "mine\n"}
    [conflict] = merge_package(base, theirs, ours).conflicts
    assert (conflict.file, conflict.resource, conflict.field) == ("README.md", "", "")


def test_kpt_file_annotations_take_no_part() -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n{}data:\n  a: '1'\n"
    held = "  annotations:\n    config.kubernetes.io/index: '0'\n"
    base = {"c.yaml": cm.format("")}
    theirs = {"c.yaml": cm.format("").replace("'1'", "'2'")}
    ours = {"c.yaml": cm.format(held)}
    result = merge_package(base, theirs, ours)
    assert result.conflicts == []
    assert result.files == {"c.yaml": cm.format(held).replace("'1'", "'2'")}


def test_crlf_file_stays_crlf() -> None:
    cm = "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: c\r\ndata:\r\n  a: '1'\r\n"
    base = {"c.yaml": cm}
    theirs = {"c.yaml": cm.replace("'1'", "'2'")}
    ours = {"c.yaml": cm + "  b: x\r\n"}
    assert merge_package(base, theirs, ours).files == {
        "c.yaml": cm.replace("'1'", "'2'") + "  b: x\r\n"}


def test_a_resource_twice_in_one_version_is_an_error_naming_it() -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
    with pytest.raises(InputError, match=r"b\.yaml: v1/ConfigMap c is defined twice in the "
                                         r"theirs package \(also in a\.yaml\)"):
        merge_package({}, {"a.yaml": cm, "b.yaml": cm}, {"c.yaml": cm.replace(": c", ": d")})


def test_nothing_changed_upstream_returns_ours_as_it_is(base: dict[str, str]) -> None:
    ours = edit(base, DEPLOY, "replicas: 1", "replicas: 3  # mine")
    assert merge_package(base, dict(base), ours).files == ours


def test_a_kpt_merge_comment_names_the_upstream_identity() -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:{}\n  name: {}\ndata:\n  a: '1'\n"
    base = {"c.yaml": cm.format("", "c")}
    theirs = {"c.yaml": cm.format("", "c").replace("'1'", "'2'")}
    ours = {"c.yaml": cm.format(" # kpt-merge: /c", "site-c")}
    result = merge_package(base, theirs, ours)
    assert result.conflicts == []
    assert result.files == {"c.yaml": ours["c.yaml"].replace("'1'", "'2'")}
    # without it, c was deleted here (and site-c added) while upstream changed c
    ours = {"c.yaml": cm.format("", "site-c")}
    [conflict] = merge_package(base, theirs, ours).conflicts
    assert (conflict.resource, conflict.field, conflict.ours) == ("v1/ConfigMap c", "", None)


def test_kpt_bookkeeping_annotation_is_not_a_hand_edit() -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n"
    kept = "  annotations:\n    internal.kpt.dev/upstream-identifier: '|ConfigMap|default|{}'\n"
    base = {"a.yaml": cm.format("a"), "b.yaml": cm.format("b")}
    ours = {"a.yaml": cm.format("a") + kept.format("a"),
            "b.yaml": cm.format("b") + kept.format("b")}
    theirs = {"b.yaml": cm.format("b") + "  annotations:\n    team: ran\n"}
    result = merge_package(base, theirs, ours)
    assert result.conflicts == []  # a.yaml: deleted upstream, not edited here
    assert result.files == {"b.yaml": ours["b.yaml"] + "    team: ran\n"}


def test_a_yaml_file_without_resources_is_merged_whole(base: dict[str, str]) -> None:
    theirs = {**base, "notes.yaml": "# upstream's note, v2\n"}
    ours = edit({**base, "notes.yaml": "# upstream's note\n"}, DEPLOY, "replicas: 1",
                "replicas: 2")
    result = merge_package({**base, "notes.yaml": "# upstream's note\n"}, theirs, ours)
    assert result.files == {**ours, "notes.yaml": "# upstream's note, v2\n"}


def test_service_ports_merge_by_port() -> None:
    service = texts(CORPUS / "cert-manager" / "acme-example")["service.yaml"]
    base = {"service.yaml": service}
    theirs = {"service.yaml": service.replace(
        "    protocol: TCP\n", "    protocol: TCP\n  - port: 443\n    targetPort: 8443\n")}
    ours = {"service.yaml": service.replace("targetPort: 8080", "targetPort: 9090")}
    result = merge_package(base, theirs, ours)
    assert result.conflicts == []
    assert docs(result.files["service.yaml"])[0]["spec"]["ports"] == [
        {"port": 80, "targetPort": 9090, "protocol": "TCP"},
        {"port": 443, "targetPort": 8443}]
    theirs = {"service.yaml": service.replace("targetPort: 8080", "targetPort: 8081")}
    [conflict] = merge_package(base, theirs, ours).conflicts
    assert conflict.field == "spec.ports[port=80].targetPort"
