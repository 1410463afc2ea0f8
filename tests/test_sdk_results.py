"""Results in the shape of kpt's function specification, severity always written, and the
one-line summaries stderr shows."""

from __future__ import annotations

import pytest
import yaml
from krmfn import Field, File, KubeObject, ResourceList, Result, Severity

OBJ = KubeObject.from_yaml(
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n"
    "  annotations:\n    config.kubernetes.io/path: deploy.yaml\n"
    "    config.kubernetes.io/index: '1'\n")


def test_the_shape_of_a_full_result() -> None:
    res = Result.about("replicas too high", OBJ, severity="warning",
                       field=Field("spec.replicas", current_value=9, proposed_value=3),
                       tags={"rule": "max"})
    assert res.to_dict() == {
        "message": "replicas too high",
        "severity": "warning",
        "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                        "namespace": "prod"},
        "field": {"path": "spec.replicas", "currentValue": 9, "proposedValue": 3},
        "file": {"path": "deploy.yaml", "index": 1},
        "tags": {"rule": "max"},
    }
    assert list(res.to_dict()) == ["message", "severity", "resourceRef", "field", "file",
                                   "tags"]


@pytest.mark.parametrize("severity", list(Severity))
def test_severity_is_always_written(severity: Severity) -> None:
    assert Result("m", severity).to_dict() == {"message": "m", "severity": severity.value}


def test_minimal_results() -> None:
    assert Result("m").to_dict() == {"message": "m", "severity": "error"}
    assert Result.about("m", field="a.b").to_dict() == {"message": "m", "severity": "error",
                                                        "field": {"path": "a.b"}}
    unfiled = KubeObject.from_dict({"apiVersion": "v1", "kind": "A", "metadata": {"name": "x"}})
    assert "file" not in Result.about("m", unfiled).to_dict()
    assert File("f.yaml").to_dict() == {"path": "f.yaml", "index": 0}
    assert Field("p", current_value=False).to_dict() == {"path": "p", "currentValue": False}


def test_severity_names() -> None:
    assert Severity("error") is Severity.ERROR
    assert Result.about("m", severity="info").severity is Severity.INFO
    assert Result("m").is_error and not Result("m", Severity.WARNING).is_error
    with pytest.raises(ValueError):
        Severity("fatal")


@pytest.mark.parametrize(("result", "line"), [
    (Result("plain"), "plain"),
    (Result.about("bad", OBJ), "Deployment prod/web: bad"),
    (Result.about("bad", OBJ, field="spec.x"), "Deployment prod/web spec.x: bad"),
    (Result.about("spec.x: bad", OBJ, field="spec.x"), "Deployment prod/web: spec.x: bad"),
    (Result.about("bad", field="spec.x"), "spec.x: bad"),
])
def test_summary_is_one_line(result: Result, line: str) -> None:
    assert result.summary() == line


def test_resource_list_helpers_collect_results() -> None:
    rl = ResourceList([OBJ])
    rl.info("i", OBJ)
    rl.warning("w", field="x")
    assert not rl.has_errors
    err = rl.error("e", OBJ, field=Field("spec"))
    rl.result("t", tags={"k": "v"}, severity=Severity.INFO)
    assert rl.has_errors and err.is_error
    assert [r.severity for r in rl.results] == [Severity.INFO, Severity.WARNING,
                                                Severity.ERROR, Severity.INFO]
    assert rl.results[-1].tags == {"k": "v"}


@pytest.mark.parametrize(("field", "path"), [
    ("spec.selector", "spec.selector"),
    (("spec", "selector"), "spec.selector"),
    (["spec", "containers", 0, "image"], "spec.containers[0].image"),
    (("metadata", "labels", "app.kubernetes.io/name"),
     'metadata.labels["app.kubernetes.io/name"]'),
    (Field("spec.x", current_value=1), "spec.x"),
])
def test_field_takes_any_path(field: object, path: str) -> None:
    rl = ResourceList([OBJ])
    for report in (rl.info, rl.warning, rl.error):
        res = report("m", OBJ, field=field)  # type: ignore[arg-type]
        assert res.field is not None and res.field.path == path
        assert res.to_dict()["field"]["path"] == path
    assert Field(("a", 0)).path == "a[0]"  # type: ignore[arg-type]


def test_a_getter_error_names_the_resource_and_file() -> None:
    from krmfn import FieldError, function

    @function(name="read-type")
    def read_type(rl: ResourceList) -> None:
        for obj in rl.items:
            obj.get_str("spec.type")

    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            "- apiVersion: v1\n  kind: Service\n  metadata:\n    name: web\n"
            "    namespace: prod\n    annotations:\n      config.kubernetes.io/path: svc.yaml\n"
            "      config.kubernetes.io/index: '2'\n  spec:\n    ports: []\n")
    out = read_type.run_text(text)
    assert out.exit_code == 1
    assert out.stderr == ("read-type: error: Service prod/web: spec.type: is required but "
                          "missing\n")
    result = ResourceList.parse(out.stdout)
    raw = yaml.safe_load(out.stdout)["results"][0]
    assert raw == {"message": "spec.type: is required but missing", "severity": "error",
                   "resourceRef": {"apiVersion": "v1", "kind": "Service", "name": "web",
                                   "namespace": "prod"},
                   "field": {"path": "spec.type"},
                   "file": {"path": "svc.yaml", "index": 2}}
    assert result.items[0].name == "web"
    # every field error a KubeObject raises knows its resource
    obj = KubeObject.from_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                               "data:\n  k: v\n")
    for action in (lambda: obj.get_int("data.k"), lambda: obj.append("data.k", 1),
                   lambda: obj.set("data.k[0]", 1), lambda: obj.get_str("data..k"),
                   lambda: obj.delete("data[")):
        with pytest.raises(FieldError) as err:
            action()
        assert err.value.resource is obj
