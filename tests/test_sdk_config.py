"""Typed functionConfig: ConfigMap strings converted to the field types, typed kinds checked
as they are, every problem reported at once and named by its field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from krmfn import ConfigError, KubeObject, load_config


@dataclass
class Port:
    port: int
    name: str = ""


@dataclass
class Limits:
    cpu: str = "1"
    burst: bool = False


@dataclass
class AppConfig:
    namespace: str
    replicas: int = 1
    enabled: bool = False
    ratio: float = 1.0
    tags: list[str] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    owner_team: str | None = None
    max_surge: int | None = None
    target: int | str = 0
    renamed: str = field(default="", metadata={"name": "legacy-name"})

    def validate(self) -> list[tuple[str, str]]:
        problems = []
        if self.replicas < 1:
            problems.append(("replicas", "must be at least 1"))
        if self.namespace == "default":
            problems.append(("namespace", "must not be default"))
        return problems


def config_map(data: dict[str, str] | None) -> KubeObject:
    value: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    if data is not None:
        value["data"] = data
    return KubeObject.from_dict(value)


def typed(**fields: Any) -> KubeObject:
    return KubeObject.from_dict({"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "AppConfig",
                                 "metadata": {"name": "c"}, **fields})


def load(fc: KubeObject | None) -> AppConfig:
    return load_config(fc, AppConfig, "AppConfig")


def problems(fc: KubeObject | None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        load(fc)
    return info.value.problems


def test_config_map_strings_become_the_field_types() -> None:
    cfg = load(config_map({
        "namespace": "prod", "replicas": "3", "enabled": "yes", "ratio": "0.5",
        "tags": "a, b ,c", "ports": "[{port: 80, name: http}]", "weights": "{a: 1}",
        "limits": "{cpu: '2', burst: true}", "ownerTeam": "ran", "maxSurge": "2",
        "target": "web", "legacy-name": "x",
    }))
    assert cfg == AppConfig(namespace="prod", replicas=3, enabled=True, ratio=0.5,
                            tags=["a", "b", "c"], ports=[Port(80, "http")], weights={"a": 1},
                            limits=Limits("2", True), owner_team="ran", max_surge=2,
                            target="web", renamed="x")


@pytest.mark.parametrize(("text", "value"), [("true", True), ("True", True), ("1", True),
                                             ("on", True), ("false", False), ("no", False),
                                             ("0", False), ("", False)])
def test_config_map_booleans(text: str, value: bool) -> None:
    assert load(config_map({"namespace": "x", "enabled": text})).enabled is value


@pytest.mark.parametrize(("text", "tags"), [("a", ["a"]), ("a,b", ["a", "b"]),
                                            ("[a, b]", ["a", "b"]), ("", []), ("80", ["80"])])
def test_config_map_lists(text: str, tags: list[str]) -> None:
    assert load(config_map({"namespace": "x", "tags": text})).tags == tags


def test_config_map_list_items_and_empty_optionals() -> None:
    @dataclass
    class Ports:
        ports: list[int] = field(default_factory=list)
        limit: int | None = 5
        note: str | None = None

    assert load_config(config_map({"ports": "80, 443", "limit": ""}), Ports, "Ports") == Ports(
        [80, 443], None, None)
    assert load_config(config_map({"note": ""}), Ports, "Ports").note == ""


def test_defaults_fill_what_is_not_given() -> None:
    assert load(config_map({"namespace": "x"})) == AppConfig(namespace="x")
    assert load(typed(namespace="x")) == AppConfig(namespace="x")


def test_typed_kind_is_checked_as_it_is() -> None:
    cfg = load(typed(namespace="x", replicas=2, ratio=2, ports=[{"port": 1}],
                     limits={"burst": True}, target=7))
    assert cfg.replicas == 2 and cfg.ratio == 2.0 and isinstance(cfg.ratio, float)
    assert cfg.ports == [Port(1)] and cfg.limits == Limits(burst=True) and cfg.target == 7
    assert problems(typed(namespace="x", replicas="2")) == [
        ("replicas", "expected an integer, got a string")]
    assert problems(typed(namespace="x", replicas=True)) == [
        ("replicas", "expected an integer, got a boolean")]


def test_unknown_fields_name_the_known_ones() -> None:
    (where, message), = problems(config_map({"namespace": "x", "replica": "2"}))
    assert where == "data.replica"
    assert message.startswith("unknown field (known: enabled, legacy-name, limits, maxSurge,")


def test_required_fields() -> None:
    assert problems(config_map({})) == [("data.namespace", "is required")]
    assert problems(config_map(None)) == [("data.namespace", "is required")]
    assert problems(typed()) == [("namespace", "is required")]
    assert problems(None) == [("namespace", "is required")]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(config_map({"replicas": "many", "enabled": "perhaps", "bogus": "1",
                                 "ports": "[{port: x}, {name: y}]", "ratio": "fast"}))
    assert found == [
        ("data.replicas", "expected an integer, got 'many'"),
        ("data.enabled", "expected true or false, got 'perhaps'"),
        ("data.bogus", found[2][1]),
        ("data.ports[0].port", "expected an integer, got 'x'"),
        ("data.ports[1].port", "is required"),
        ("data.ratio", "expected a number, got 'fast'"),
        ("data.namespace", "is required"),
    ]
    assert found[2][1].startswith("unknown field")


def test_nested_problems_in_typed_kinds() -> None:
    assert problems(typed(namespace="x", ports=[{"port": 1}, {"port": "2", "extra": 1}],
                          weights={"a": "heavy"}, limits=[1], target=[1])) == [
        ("ports[1].port", "expected an integer, got a string"),
        ("ports[1].extra", "unknown field (known: name, port)"),
        ("weights.a", "expected an integer, got a string"),
        ("limits", "expected a map, got a list"),
        ("target", "expected one of an integer, a string"),
    ]


def test_validate_runs_after_decoding_and_names_fields_where_they_live() -> None:
    assert problems(config_map({"namespace": "default", "replicas": "0"})) == [
        ("data.replicas", "must be at least 1"), ("data.namespace", "must not be default")]
    assert problems(typed(namespace="default")) == [("namespace", "must not be default")]


def test_validate_does_not_run_on_a_config_that_did_not_decode() -> None:
    assert problems(config_map({"namespace": "default", "replicas": "x"})) == [
        ("data.replicas", "expected an integer, got 'x'")]


@pytest.mark.parametrize(("fc", "message"), [
    (KubeObject.from_dict({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
     "v1/Secret is not supported: use a v1 ConfigMap or fn.kpt.dev/v1alpha1 AppConfig"),
    (KubeObject.from_dict({"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "Other",
                           "metadata": {"name": "s"}}),
     "fn.kpt.dev/v1alpha1/Other is not supported"),
    (KubeObject.from_dict({"apiVersion": "example.com/v1", "kind": "AppConfig",
                           "metadata": {"name": "s"}}), "example.com/v1/AppConfig"),
])
def test_other_kinds_are_refused(fc: KubeObject, message: str) -> None:
    (where, text), = problems(fc)
    assert where == "" and text.startswith(message)


def test_config_map_data_must_be_a_map() -> None:
    fc = KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "c"}, "data": ["x"]})
    assert problems(fc) == [("data", "expected a map")]


def test_config_error_message_lists_every_problem() -> None:
    err = ConfigError([("data.a", "is required"), ("", "general")])
    assert str(err) == "data.a: is required; general"


@dataclass
class Resources:
    cpu: str = ""
    memory: str = ""
    names: list[str] = field(default_factory=list)
    by_name: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    either: int | str = 0
    text_first: str | float = ""


def typed_text(body: str) -> KubeObject:
    return KubeObject.from_yaml("apiVersion: fn.kpt.dev/v1alpha1\nkind: Resources\n"
                                "metadata:\n  name: r\n" + body)


@pytest.mark.parametrize(("written", "value"), [
    ("1", "1"), ("1.0", "1.0"), ("0.5", "0.5"), ("250", "250"), ("1e3", "1e3"),
    ("0x1F", "0x1F"), ("010", "010"), ("1_000", "1_000"), ("-2", "-2"), ("+3", "+3"),
    (".5", ".5"), ("1.50", "1.50"), (".inf", ".inf"), ("'1'", "1"), ("500m", "500m"),
])
def test_a_number_for_a_str_field_keeps_its_text(written: str, value: str) -> None:
    cfg = load_config(typed_text(f"cpu: {written}\nnames: [{written}, x]\n"
                                 f"byName: {{a: {written}}}\nlimits: {{cpu: {written}}}\n"),
                      Resources, "Resources")
    assert (cfg.cpu, cfg.names, cfg.by_name, cfg.limits.cpu) == (
        value, [value, "x"], {"a": value}, value)


def test_a_number_in_a_union_goes_to_its_number_type() -> None:
    cfg = load_config(typed_text("either: 3\ntextFirst: 2.5\n"), Resources, "Resources")
    assert (cfg.either, cfg.text_first) == (3, 2.5)
    cfg = load_config(typed_text("either: '3'\ntextFirst: x\n"), Resources, "Resources")
    assert (cfg.either, cfg.text_first) == ("3", "x")


def test_a_number_without_its_text_is_written_as_yaml_would() -> None:
    fc = KubeObject.from_dict({"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "Resources",
                               "metadata": {"name": "r"}, "cpu": 2, "memory": 0.25})
    cfg = load_config(fc, Resources, "Resources")
    assert (cfg.cpu, cfg.memory) == ("2", "0.25")
    # a ConfigMap's data are strings already; inside a YAML value they are numbers again
    cfg = load_config(config_map({"cpu": "1.0", "limits": "{cpu: 1.0}"}), Resources,
                      "Resources")
    assert (cfg.cpu, cfg.limits.cpu) == ("1.0", "1.0")


@pytest.mark.parametrize(("body", "where", "got"), [
    ("cpu: {a: 1}\n", "cpu", "a map"),
    ("cpu: [1]\n", "cpu", "a list"),
    ("names: [[1]]\n", "names[0]", "a list"),
    ("byName: {a: {b: 1}}\n", "byName.a", "a map"),
])
def test_maps_and_lists_are_still_refused_for_a_str_field(body: str, where: str,
                                                         got: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(typed_text(body), Resources, "Resources")
    assert info.value.problems == [(where, f"expected a string, got {got}")]


@pytest.mark.parametrize("written", ["true", "yes", "on", "False"])
def test_a_boolean_for_a_str_field_is_refused_with_a_hint(written: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(typed_text(f"cpu: {written}\n"), Resources, "Resources")
    assert info.value.problems == [
        ("cpu", f'expected a string, got a boolean (quote it if the text was meant: '
                f'"{written}")')]
