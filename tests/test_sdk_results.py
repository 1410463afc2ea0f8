"""Results in the shape of kpt's function specification, severity always written, and the
one-line summaries stderr shows."""

from __future__ import annotations

import pytest
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
