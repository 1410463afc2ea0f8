"""Running a function on ResourceList text: exit codes, the one stderr line, stdout that is
the whole ResourceList or nothing, and the input left as it came when a function fails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest
import yaml
from krmfn import (
    ConfigError,
    FieldError,
    Function,
    FunctionError,
    KubeObject,
    ResourceList,
    function,
)

INPUT = dedent("""\
    apiVersion: config.kubernetes.io/v1
    kind: ResourceList
    items:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: a  # first
        annotations:
          config.kubernetes.io/path: a.yaml
      data:
        k: v
    - apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
        namespace: prod
    """)


def with_config(data: dict[str, str]) -> str:
    fc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fc"}, "data": data}
    return INPUT + yaml.safe_dump({"functionConfig": fc}, sort_keys=False)


@function(name="label-all")
def label_all(rl: ResourceList) -> None:
    """Label every resource."""
    for obj in rl.items:
        obj.set_label("team", "ran")
    rl.info("labelled")


@dataclass
class Limit:
    max_items: int = 10
    fail_with: str = ""

    def validate(self) -> list[tuple[str, str]]:
        return [("maxItems", "must be positive")] if self.max_items < 1 else []


@function(name="limit-items", config=Limit)
def limit_items(rl: ResourceList, cfg: Limit) -> None:
    for obj in rl.items:
        obj.set_annotation("touched", "yes")  # half-done work, to be thrown away on failure
    if cfg.fail_with == "function":
        raise FunctionError("cannot go on")
    if cfg.fail_with == "field":
        rl.items[0].get_int("data.k")
    if cfg.fail_with == "bug":
        raise KeyError("oops")
    if cfg.fail_with == "recursion":
        raise RecursionError
    if len(rl.items) > cfg.max_items:
        for obj in rl.items[cfg.max_items:]:
            rl.error("too many items", obj, field="metadata.name")


def test_success_writes_the_list_and_exits_0() -> None:
    out = label_all.run_text(INPUT)
    assert out.exit_code == 0 and out.stderr == ""
    rl = ResourceList.parse(out.stdout)
    assert [o.labels for o in rl.items] == [{"team": "ran"}, {"team": "ran"}]
    assert "name: a  # first" in out.stdout
    assert yaml.safe_load(out.stdout)["results"] == [{"message": "labelled",
                                                      "severity": "info"}]


def test_warnings_and_infos_exit_0() -> None:
    @function(name="warn")
    def warn(rl: ResourceList) -> None:
        rl.warning("careful", rl.items[0])

    out = warn.run_text(INPUT)
    assert out.exit_code == 0 and out.stderr == "" and out.stdout.startswith("apiVersion")


def test_error_results_exit_1_with_one_stderr_line() -> None:
    out = limit_items.run_text(with_config({"maxItems": "0"}))
    assert out.exit_code == 1
    assert out.stderr == ("limit-items: error: functionConfig.data.maxItems: "
                          "must be positive\n")
    out = limit_items.run_text(with_config({"maxItems": "1"}))
    assert out.exit_code == 1
    assert out.stderr == "limit-items: error: Deployment prod/web metadata.name: too many items\n"
    results = yaml.safe_load(out.stdout)["results"]
    assert results == [{"message": "too many items", "severity": "error",
                        "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": "web", "namespace": "prod"},
                        "field": {"path": "metadata.name"}}]


def test_several_errors_are_counted_on_the_one_line() -> None:
    out = limit_items.run_text(with_config({"maxItems": "x", "bogus": "1"}))
    assert out.exit_code == 1
    assert out.stderr.count("\n") == 1
    assert out.stderr.startswith("limit-items: error: functionConfig.data.maxItems: expected")
    assert out.stderr.endswith("(and 1 more error)\n")


@pytest.mark.parametrize(("fail_with", "message", "field"), [
    ("function", "cannot go on", None),
    ("field", "data.k: expected an integer, got a string", "data.k"),
    ("bug", "internal error: KeyError: 'oops'", None),
    ("recursion", "input nested too deeply", None),
])
def test_a_function_that_raises_leaves_the_input_as_it_came(
        fail_with: str, message: str, field: str | None) -> None:
    text = with_config({"failWith": fail_with})
    out = limit_items.run_text(text)
    assert out.exit_code == 1
    first, _, rest = out.stderr.partition("\n")
    where = "ConfigMap a: " if fail_with == "field" else ""  # a getter knows its resource
    assert first == f"limit-items: error: {where}{message}"
    if fail_with == "bug":  # a bug shows where it happened, after the one line
        assert rest.startswith("Traceback (most recent call last):\n")
        assert rest.endswith("KeyError: 'oops'\n")
        assert ", in limit_items\n" in rest and 'raise KeyError("oops")' in rest
    else:  # bad input or config: one line, nothing else
        assert rest == ""
    rl = ResourceList.parse(out.stdout)
    assert all(o.get_annotation("touched") is None for o in rl.items)
    assert out.stdout.startswith(text.partition("functionConfig:")[0])
    result = yaml.safe_load(out.stdout)["results"][-1]
    assert result["message"] == message and result["severity"] == "error"
    assert result.get("field") == ({"path": field} if field else None)
    if fail_with == "field":
        assert result["resourceRef"] == {"apiVersion": "v1", "kind": "ConfigMap", "name": "a"}
        assert result["file"] == {"path": "a.yaml", "index": 0}


def test_a_bug_raises_as_it_is_in_process_and_in_the_testing_helpers() -> None:
    from krmfn import testing

    text = with_config({"failWith": "bug"})
    with pytest.raises(KeyError, match="oops"):
        limit_items.run_text(text, raise_bugs=True)
    with pytest.raises(KeyError, match="oops"):
        testing.run(limit_items, text)
    with pytest.raises(KeyError, match="oops"):
        limit_items(ResourceList.parse(text))
    # bad config stays a result, even there
    assert testing.run(limit_items, with_config({"maxItems": "many"})).exit_code == 1


def test_config_errors_name_the_functionconfig_field() -> None:
    out = limit_items.run_text(with_config({"maxItems": "many"}))
    result = yaml.safe_load(out.stdout)["results"][0]
    assert result == {"message": "functionConfig.data.maxItems: expected an integer, "
                                 "got 'many'", "severity": "error",
                      "field": {"path": "functionConfig.data.maxItems"}}


@pytest.mark.parametrize(("text", "message"), [
    ("", "input is empty"),
    ("{", "invalid YAML"),
    ("apiVersion: v1\nkind: List\n", "kind is List"),
])
def test_unreadable_input_writes_nothing_to_stdout(text: str, message: str) -> None:
    out = label_all.run_text(text)
    assert out.exit_code == 1 and out.stdout == ""
    assert out.stderr.startswith("label-all: error: ") and message in out.stderr
    assert out.stderr.count("\n") == 1


def test_items_of_the_wrong_shape_are_reported_and_the_function_not_run() -> None:
    text = INPUT + "- apiVersion: v1\n  kind: Broken\n"
    out = label_all.run_text(text)
    assert out.exit_code == 1
    assert out.stderr == ("label-all: error: metadata: items[2]: metadata is missing or "
                          "not a map\n")
    rl = ResourceList.parse(out.stdout)
    assert all(not o.labels for o in rl.items)


def test_a_function_can_be_called_in_process() -> None:
    rl = ResourceList.parse(INPUT)
    label_all(rl)
    assert rl.items[1].labels == {"team": "ran"}
    with pytest.raises(ConfigError):
        limit_items(ResourceList.parse(with_config({"maxItems": "0"})))
    with pytest.raises(FieldError):
        limit_items(ResourceList.parse(with_config({"failWith": "field"})))


def test_config_kind_defaults_to_the_name_in_camel_case() -> None:
    assert limit_items.config_kind == "LimitItems"
    typed = INPUT + dedent("""\
        functionConfig:
          apiVersion: fn.kpt.dev/v1alpha1
          kind: LimitItems
          metadata:
            name: fc
          maxItems: 1
        """)
    assert limit_items.run_text(typed).exit_code == 1


def test_usage_comes_from_the_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(dedent("""\
        # label-all

        Labels every resource.

        More detail that --help leaves out.

        ## Usage

        ```shell
        kpt fn eval --image label-all
        ```

        ## Examples

        Not part of the usage.
        """))
    fn = Function(label_all.fn, name="label-all", readme=readme)
    assert fn.usage() == ("label-all\n\nLabels every resource.\n\n## Usage\n\n```shell\n"
                          "kpt fn eval --image label-all\n```\n")
    assert label_all.usage() == "label-all: Label every resource.\n"


def test_new_items_get_a_path_and_keep_their_order() -> None:
    @function(name="add")
    def add(rl: ResourceList) -> None:
        rl.items.append(KubeObject.from_dict({"apiVersion": "v1", "kind": "Service",
                                              "metadata": {"name": "svc"}}))

    out = add.run_text(INPUT)
    rl = ResourceList.parse(out.stdout)
    assert [o.name for o in rl.items] == ["a", "web", "svc"]
    assert rl.items[2].path == "service_svc.yaml"
    assert out.stdout.startswith(INPUT)


@dataclass
class Sidecar:
    image: str = "proxy:1"


def config_of(api_version: str, kind: str) -> str:
    return INPUT + dedent(f"""\
        functionConfig:
          apiVersion: {api_version}
          kind: {kind}
          metadata:
            name: fc
          image: proxy:2
        """)


def test_a_config_kind_of_any_group() -> None:
    @function(name="inject-sidecar", config=Sidecar, config_kind="example.com/v1/SidecarConfig")
    def inject(rl: ResourceList, config: Sidecar) -> None:
        for obj in rl.items:
            obj.set_annotation("sidecar", config.image)

    assert (inject.config_api_version, inject.config_kind) == ("example.com/v1",
                                                               "SidecarConfig")
    out = inject.run_text(config_of("example.com/v1", "SidecarConfig"))
    assert out.exit_code == 0, out.stderr
    assert ResourceList.parse(out.stdout).items[0].get_annotation("sidecar") == "proxy:2"
    for api, kind in (("fn.kpt.dev/v1alpha1", "SidecarConfig"), ("example.com/v2",
                      "SidecarConfig"), ("other.io/v1", "SidecarConfig")):
        out = inject.run_text(config_of(api, kind))
        assert out.exit_code == 1
        assert out.stderr == (f"inject-sidecar: error: functionConfig: {api}/{kind} is not "
                              "supported: use a v1 ConfigMap or example.com/v1 SidecarConfig\n")
    assert inject.run_text(with_config({"image": "proxy:3"})).exit_code == 0


@pytest.mark.parametrize(("kind", "problem"), [
    ("example.com/SidecarConfig", "give Kind or group/version/Kind"),
    ("a/b/c/Kind", "give Kind or group/version/Kind"),
    ("", "is not a Kind"),
    ("sidecarConfig", "'sidecarConfig' is not a Kind"),
    ("example.com/v1/sidecar-config", "is not a Kind"),
    ("Example.com/v1/Sidecar", "'Example.com' is not an API group"),
    ("example/v1/Sidecar", "'example' is not an API group"),
    ("example.com//Sidecar", "'' is not an API version"),
    ("example.com/V1/Sidecar", "'V1' is not an API version"),
])
def test_a_malformed_config_kind_fails_when_the_decorator_runs(kind: str,
                                                               problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)) as err:
        function(name="f", config=Sidecar, config_kind=kind)
    assert repr(kind) in str(err.value)


def test_default_config_kinds_come_from_the_name() -> None:
    assert function(name="add_team.x", config=Sidecar)(lambda rl, c: None).config_kind \
        == "AddTeamX"
    with pytest.raises(ValueError, match="is not a Kind"):
        function(name="2fa", config=Sidecar)(lambda rl, c: None)
    assert function(name="2fa")(lambda rl: None).name == "2fa"  # no config, nothing to refuse
