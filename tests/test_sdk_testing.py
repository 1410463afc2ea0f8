"""krmfn.testing: golden cases (input, config, expected output and exit code) and the switch
that rewrites expectations from what the function now does."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
import yaml
from krmfn import ResourceList, function
from krmfn.testing import GoldenCase, golden_cases, resource_list, run, run_golden


@function(name="stamp")
def stamp(rl: ResourceList) -> None:
    fc = rl.function_config
    value = fc.get("data.value", "stamped") if fc is not None else "stamped"
    if value == "fail":
        rl.error("asked to fail")
    for obj in rl.items:
        obj.set_annotation("example.com/stamp", value)


RESOURCES = dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: a  # first
    ---
    # second
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: b
    """)
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fc\ndata:\n  value: cfg\n"


def make_case(root: Path, name: str, files: dict[str, str]) -> GoldenCase:
    case = root / name
    case.mkdir(parents=True)
    for file, text in files.items():
        (case / file).write_text(text)
    return GoldenCase(case)


def test_resource_list_from_a_stream_and_a_config() -> None:
    text = resource_list(RESOURCES, CONFIG)
    rl = ResourceList.parse(text)
    assert [o.name for o in rl.items] == ["a", "b"]
    assert rl.function_config is not None and rl.function_config.get("data.value") == "cfg"
    assert "name: a  # first" in text and "# second" in text
    assert ResourceList.parse(resource_list("")).items == []


def test_run_is_the_console_script_in_memory() -> None:
    out = run(stamp, resource_list(RESOURCES))
    assert out.exit_code == 0 and out.stderr == ""
    assert [o.get_annotation("example.com/stamp") for o in
            ResourceList.parse(out.stdout).items] == ["stamped", "stamped"]


def test_golden_cases_are_the_directories_with_an_input(tmp_path: Path) -> None:
    make_case(tmp_path, "b-second", {"input.yaml": RESOURCES})
    make_case(tmp_path, "a-first", {"input.yaml": RESOURCES})
    (tmp_path / "not-a-case").mkdir()
    (tmp_path / "README.md").write_text("cases")
    assert [c.name for c in golden_cases(tmp_path)] == ["a-first", "b-second"]


def test_input_forms(tmp_path: Path) -> None:
    stream = make_case(tmp_path, "stream", {"input.yaml": RESOURCES, "config.yaml": CONFIG})
    assert ResourceList.parse(stream.input_text()).function_config is not None
    as_list = resource_list(RESOURCES)
    whole = make_case(tmp_path, "whole", {"input.yaml": as_list})
    assert whole.input_text() == as_list
    with_config = make_case(tmp_path, "with-config", {"input.yaml": as_list,
                                                      "config.yaml": CONFIG})
    rl = ResourceList.parse(with_config.input_text())
    assert [o.name for o in rl.items] == ["a", "b"]
    assert rl.function_config is not None and rl.function_config.get("data.value") == "cfg"


def test_run_golden_checks_output_and_exit_code(tmp_path: Path) -> None:
    good = make_case(tmp_path, "good", {"input.yaml": RESOURCES, "config.yaml": CONFIG})
    (good.path / "expected.yaml").write_text(run(stamp, good.input_text()).stdout)
    assert run_golden(stamp, good).exit_code == 0

    expected = (good.path / "expected.yaml").read_text()
    (good.path / "expected.yaml").write_text(expected.replace("cfg", "old", 1))
    with pytest.raises(AssertionError, match="good: output differs") as err:
        run_golden(stamp, good)
    diff = str(err.value).split("\n", 1)[1]  # a unified diff: the line that changed
    assert diff.startswith("--- good/expected.yaml\n+++ good (output)\n@@ ")
    changed = [ln for ln in diff.splitlines()[2:] if ln[:1] in "+-"]
    assert changed == ["-      example.com/stamp: old", "+      example.com/stamp: cfg"]

    failing = make_case(tmp_path, "failing", {
        "input.yaml": RESOURCES, "config.yaml": CONFIG.replace("cfg", "fail")})
    with pytest.raises(AssertionError, match="failing: exit 1, expected 0"):
        run_golden(stamp, failing)
    (failing.path / "expected-exit-code").write_text("1\n")
    with pytest.raises(AssertionError, match=r"failing: no expected\.yaml"):
        run_golden(stamp, failing)  # the exit code alone would hide what was written
    (failing.path / "expected.yaml").write_text(run(stamp, failing.input_text()).stdout)
    assert run_golden(stamp, failing).exit_code == 1


def test_a_case_without_expectations_fails_unless_updating(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = make_case(tmp_path, "new", {"input.yaml": RESOURCES})
    with pytest.raises(AssertionError, match=r"new: no expected\.yaml"):
        run_golden(stamp, case)
    monkeypatch.setenv("KRMFN_UPDATE_GOLDEN", "1")
    run_golden(stamp, case)
    monkeypatch.delenv("KRMFN_UPDATE_GOLDEN")
    assert run_golden(stamp, case).exit_code == 0


def test_a_folder_without_cases_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no golden case"):
        golden_cases(tmp_path)
    (tmp_path / "empty-case").mkdir()  # a case missing its input is no case
    with pytest.raises(LookupError, match="no golden case"):
        golden_cases(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        golden_cases(tmp_path / "tesdata")


def test_the_update_switch_rewrites_expectations(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    case = make_case(tmp_path, "case", {"input.yaml": RESOURCES,
                                        "config.yaml": CONFIG.replace("cfg", "fail"),
                                        "expected.yaml": "stale\n"})
    monkeypatch.setenv("KRMFN_UPDATE_GOLDEN", "1")
    run_golden(stamp, case)
    assert (case.path / "expected-exit-code").read_text() == "1\n"
    results = yaml.safe_load((case.path / "expected.yaml").read_text())["results"]
    assert results == [{"message": "asked to fail", "severity": "error"}]

    (case.path / "config.yaml").write_text(CONFIG)
    run_golden(stamp, case)
    assert not (case.path / "expected-exit-code").exists()
    monkeypatch.delenv("KRMFN_UPDATE_GOLDEN")
    assert run_golden(stamp, case).exit_code == 0  # what was written now passes


@function(name="buggy")
def buggy(rl: ResourceList) -> None:
    {}["x"]  # a bug, as an author would make it


def test_a_bug_in_the_function_is_raised_with_its_traceback(tmp_path: Path) -> None:
    case = make_case(tmp_path, "case", {"input.yaml": RESOURCES})
    with pytest.raises(KeyError, match="'x'") as err:
        run_golden(buggy, case)
    assert err.traceback[-1].name == "buggy"
    with pytest.raises(KeyError, match="'x'"):
        run(buggy, resource_list(RESOURCES))


FLOW_CONFIG = dedent("""\
    # the case's config
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: fc}
    data:
      value: cfg  # kept
      list: [a, b]
    """)


@function(name="echo-comment")
def echo_comment(rl: ResourceList) -> None:
    fc = rl.function_config
    assert fc is not None
    rl.info(f"comment: {fc.line_comment('data.value')}")


@pytest.mark.parametrize("as_list", [False, True])
def test_a_case_config_reaches_the_function_as_its_own_text(tmp_path: Path,
                                                            as_list: bool) -> None:
    text = resource_list(RESOURCES) if as_list else RESOURCES
    case = make_case(tmp_path, "case", {"input.yaml": text, "config.yaml": FLOW_CONFIG})
    given = case.input_text()
    indented = "".join(f"  {ln}" for ln in FLOW_CONFIG.splitlines(keepends=True))
    assert "functionConfig:\n" + indented in given
    out = run(echo_comment, given)
    assert yaml.safe_load(out.stdout)["results"] == [{"message": "comment: kept",
                                                      "severity": "info"}]
    assert "functionConfig:\n" + indented in out.stdout
    assert ResourceList.parse(given).function_config.to_dict() == yaml.safe_load(FLOW_CONFIG)


@pytest.mark.parametrize("config", [
    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fc\n",
    "%YAML 1.1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fc\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fc\ndata:\n  s: |\n    a\n\n    b\n",
])
def test_config_texts_that_do_not_nest_as_they_are_still_give_the_same_data(
        config: str) -> None:
    text = resource_list(RESOURCES, config)
    rl = ResourceList.parse(text)
    assert rl.function_config is not None
    assert rl.function_config.to_dict() == yaml.safe_load(config.split("---\n")[-1])
