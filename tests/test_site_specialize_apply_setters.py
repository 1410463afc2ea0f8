"""site-specialize against apply-setters v0.2.0's own test table, row by row.

The rows below are the data of `TestApplySetters` in kptdev/krm-functions-catalog,
functions/go/apply-setters/applysetters/apply_setters_test.go at tag
functions/go/apply-setters/v0.2.0 (commit 9b6ce80e355a53727d21b2b336f8da55e760e20c): a
ConfigMap's `data` and one resource. Where apply-setters fails and site-specialize does
not, the row says what we do instead; the README's "Setters and apply-setters" says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from krmfn.testing import resource_list, run
from krmfn_catalog.site_specialize import site_specialize


def deployment(spec: str) -> str:
    return f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx-deployment\n{spec}"


CONTAINER = ("spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n"
             "        - name: nginx\n          image: {image} # kpt-set: {pattern}\n")
IMAGES = "spec:\n  images: # kpt-set: {pattern}\n    - nginx\n    - ubuntu\n"
ODD = 'image-~!@#$%^&*()<>?"|'


@dataclass(frozen=True)
class Row:
    data: dict[str, str]
    resource: str
    field: str
    want: Any  # the field afterwards
    theirs: str = ""  # apply-setters' error, where it fails
    ours: str = ""  # then: the words of our warning ("" when we set the field silently)


ROWS = {
    "derive missing values from pattern - special characters in name and value": Row(
        {ODD: 'ubuntu-~!@#$%^&*()<>?"|'},
        deployment(CONTAINER.format(image="nginx:1.7.9", pattern="${" + ODD + "}:${tag}")),
        "spec.template.spec.containers[0].image", 'ubuntu-~!@#$%^&*()<>?"|:1.7.9'),
    "derive missing values from pattern": Row(
        {"image": "ubuntu"},
        deployment(CONTAINER.format(image="nginx:1.7.9", pattern="${image}:${tag}")),
        "spec.template.spec.containers[0].image", "ubuntu:1.7.9"),
    "don't set if no relevant setter values are provided": Row(
        {"project": "my-project-foo"},
        deployment(CONTAINER.format(image="nginx:1.7.9", pattern="${image}:${tag}")),
        "spec.template.spec.containers[0].image", "nginx:1.7.9"),
    "apply array setter": Row(
        {"images": "- ubuntu\n- hbase\n"}, deployment(IMAGES.format(pattern="${images}")),
        "spec.images", ["ubuntu", "hbase"]),
    "error if values not provided and can't be derived": Row(
        {"image": "ubuntu"},
        deployment(CONTAINER.format(image="irrelevant_value", pattern="${image}:${tag}")),
        "spec.template.spec.containers[0].image", "irrelevant_value",
        theirs="values for setters [${tag}] must be provided",
        ours="does not match the setter pattern"),
    "apply array setter with scalar error": Row(
        {"images": "ubuntu"}, deployment(IMAGES.format(pattern="${images}")),
        "spec.images", ["ubuntu"],
        theirs="input to array setter must be an array of values"),
    "apply array setter interpolation error": Row(
        {"images": "[ubuntu, hbase]\n"}, deployment(IMAGES.format(pattern="${images}:${tag}")),
        "spec.images", ["nginx", "ubuntu"],
        theirs='invalid setter pattern for array node: "${images}:${tag}"',
        ours="only a whole `${name}` can set a list"),
}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_apply_setters_row(name: str) -> None:
    row = ROWS[name]
    config = yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "setters"}, "data": row.data})
    out = run(site_specialize, resource_list(row.resource, config))
    assert out.exit_code == 0, out.stderr
    output = yaml.safe_load(out.stdout)
    value: Any = output["items"][0]
    for key in row.field.replace("[0]", ".0").split("."):
        value = value[int(key)] if key.isdigit() else value[key]
    assert value == row.want
    warnings = [r["message"] for r in output.get("results") or [] if r["severity"] == "warning"]
    if row.ours:
        assert any(row.ours in w for w in warnings), warnings
    else:
        assert warnings == []
