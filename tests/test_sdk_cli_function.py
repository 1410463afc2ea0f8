"""The command line every function gets: --help, kpt's stdin/stdout protocol with
key=value or --config, and standalone runs over files and directories (to stdout, or
--in-place: atomic, unchanged files untouched)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

import pytest
import yaml
from krmfn import KubeObject, ResourceList, function
from krmfn._run.cli_function import run_cli


@dataclass
class Config:
    team: str
    drop: str = ""


README = dedent("""\
    # set-team

    Sets the team label.

    ## Usage

    set-team team=NAME
    """)


@function(name="set-team", config=Config)
def set_team(rl: ResourceList, cfg: Config) -> None:
    """Set the team label on every resource."""
    if cfg.team == "bad":
        rl.error("bad team", rl.items[-1], field="metadata.labels.team")
    if cfg.team == "crash":
        raise RuntimeError("crashed")
    rl.items[:] = [o for o in rl.items if o.name != cfg.drop]
    for obj in rl.items:
        if obj.kind != "Kptfile":
            obj.set_label("team", cfg.team)
    if cfg.team == "many":
        rl.items.append(KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"name": "added"}}))


INPUT = dedent("""\
    apiVersion: config.kubernetes.io/v1
    kind: ResourceList
    items:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: a  # keep me
    functionConfig: {apiVersion: v1, kind: ConfigMap, metadata: {name: fc}, data: {team: x}}
    """)


def cli(argv: list[str], stdin: bytes = b"", monkeypatch: pytest.MonkeyPatch | None = None,
        ) -> int:
    assert monkeypatch is not None
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    return run_cli(set_team, argv)


def test_help_prints_the_readme_usage_and_the_options(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README)
    fn = type(set_team)(set_team.fn, name="set-team", config=Config, readme=readme)
    for flag in ("--help", "-h"):
        assert run_cli(fn, ["dir", flag]) == 0
        out = capsys.readouterr()
        assert out.out.startswith(
            "set-team\n\nSets the team label.\n\n## Usage\n\nset-team team=NAME\n\n"
            "Config (a v1 ConfigMap's data, `-- key=value`, or the kind fn.kpt.dev/v1alpha1 "
            "SetTeam):\n  team  str  required\n  drop  str  \"\"\n\nusage: set-team [-h]")
        assert out.err == ""


def test_stdin_mode(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([], INPUT.encode(), monkeypatch) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert ResourceList.parse(out.out).items[0].labels == {"team": "x"}
    assert "name: a  # keep me\n" in out.out


def test_key_value_pairs_replace_the_function_config(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--", "team=ran"], INPUT.encode(), monkeypatch) == 0
    out = capsys.readouterr().out
    assert ResourceList.parse(out).items[0].labels == {"team": "ran"}
    assert yaml.safe_load(out)["functionConfig"]["data"] == {"team": "ran"}


def test_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "fc.yaml"
    cfg.write_text("apiVersion: fn.kpt.dev/v1alpha1\nkind: SetTeam\nmetadata:\n  name: c\n"
                   "team: core\n")
    for argv in (["--config", str(cfg)], [f"--config={cfg}"]):
        assert cli(argv, INPUT.encode(), monkeypatch) == 0
        assert ResourceList.parse(capsys.readouterr().out).items[0].labels == {"team": "core"}
    assert cli(["--config", str(tmp_path / "nope.yaml")], INPUT.encode(), monkeypatch) == 1
    assert capsys.readouterr().err == \
        f"set-team: error: {tmp_path / 'nope.yaml'}: No such file or directory\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["--frobnicate"], "unknown option --frobnicate (see --help)"),
    (["--config"], "--config needs a FILE"),
    (["--config", "f.yaml", "team=x"], "give either --config or KEY=VALUE pairs, not both"),
])
def test_bad_arguments_exit_2(argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(argv, INPUT.encode(), monkeypatch) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err == f"set-team: error: {message}\n"


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["--in-place"], b"", "--in-place needs PATHs"),
    ([], b"\xff\xfe", "input is not UTF-8 text (byte 0)"),
    (["team=x"], b"kind: List\n", "input is not a ResourceList"),
    (["no/such/dir"], b"", "no/such/dir: no such file or directory"),
])
def test_unusable_input_is_one_line_exit_1(argv: list[str], stdin: bytes, message: str,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(argv, stdin, monkeypatch) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith(f"set-team: error: {message}") and out.err.count("\n") == 1


# ------------------------------------------------------------------ standalone


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                  "  name: pkg\n")
    (root / "two.yaml").write_text(dedent("""\
        # two config maps
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: a  # first
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: b
          labels:
            team: core
        """))
    (root / "sub" / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n"
                                           "  name: s\n")
    (root / "notes.txt").write_text("not yaml")
    (root / ".hidden.yaml").write_text("not: read")
    (root / ".krmignore").write_text(".hidden.yaml\n")  # kpt reads hidden files, less these
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_standalone_to_stdout(package: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(package)
    assert cli([str(package), "team=ran"], b"", monkeypatch) == 0
    out = capsys.readouterr()
    assert out.err == ""
    rl = ResourceList.parse(out.out)
    assert [(o.path, o.index, o.name) for o in rl.items] == [
        ("Kptfile", 0, "pkg"), ("sub/svc.yaml", 0, "s"), ("two.yaml", 0, "a"),
        ("two.yaml", 1, "b")]
    assert [o.get_label("team") for o in rl.items] == [None, "ran", "ran", "ran"]
    assert snapshot(package) == before


def test_standalone_over_single_files(package: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([str(package / "two.yaml"), str(package / "sub"), "team=t"], b"",
               monkeypatch) == 0
    rl = ResourceList.parse(capsys.readouterr().out)
    assert sorted(o.path for o in rl.items) == ["sub/svc.yaml", "two.yaml", "two.yaml"]


def test_in_place_changes_only_what_changed(package: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(package)
    assert cli([str(package), "team=core", "--in-place"], b"", monkeypatch) == 0
    assert capsys.readouterr().err == "set-team: 2 file(s) changed\n"
    after = snapshot(package)
    assert after["Kptfile"] == before["Kptfile"]  # untouched: same inode, same mtime
    assert after["notes.txt"] == before["notes.txt"]
    assert (package / "two.yaml").read_text() == dedent("""\
        # two config maps
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: a  # first
          labels:
            team: core
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: b
          labels:
            team: core
        """)
    assert after["two.yaml"][1] != before["two.yaml"][1]  # replaced by rename, not rewritten
    assert not [p for p in package.rglob(".*")
                if p.name not in (".hidden.yaml", ".krmignore")]  # no temp files
    # a second run finds nothing to do and touches nothing
    assert cli([str(package), "team=core", "--in-place"], b"", monkeypatch) == 0
    assert capsys.readouterr().err == "set-team: 0 file(s) changed\n"
    assert snapshot(package) == after


def test_in_place_removes_and_adds_resources(package: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([str(package), "team=many", "drop=s", "--in-place"], b"", monkeypatch) == 0
    assert not (package / "sub" / "svc.yaml").exists()
    assert (package / "configmap_added.yaml").read_text() == (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n")
    assert cli([str(package), "team=many", "drop=b", "--in-place"], b"", monkeypatch) == 0
    assert (package / "two.yaml").read_text() == dedent("""\
        # two config maps
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: a  # first
          labels:
            team: many
        """)
    capsys.readouterr()


@pytest.mark.parametrize(("team", "message"), [
    ("bad", "set-team: error: ConfigMap b metadata.labels.team: bad team\n"),
    ("crash", "set-team: error: internal error: RuntimeError: crashed\n"),
])
def test_in_place_writes_nothing_when_the_function_fails(
        team: str, message: str, package: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(package)
    assert cli([str(package), f"team={team}", "--in-place"], b"", monkeypatch) == 1
    err = capsys.readouterr().err
    first, rest = err[: len(message)], err[len(message):]
    assert first == message
    if team == "crash":  # a bug: its traceback follows the one line
        assert rest.startswith("Traceback (most recent call last):\n")
        assert rest.endswith("RuntimeError: crashed\n")
    else:
        assert rest == ""
    assert snapshot(package) == before


def test_in_place_refuses_a_package_that_does_not_parse(
        package: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (package / "broken.yaml").write_text("a: [\n")
    before = snapshot(package)
    assert cli([str(package), "team=x", "--in-place"], b"", monkeypatch) == 1
    err = capsys.readouterr().err
    assert err.startswith("set-team: error: broken.yaml: invalid YAML") and err.count("\n") == 1
    assert snapshot(package) == before


def test_main_is_a_console_script(tmp_path: Path) -> None:
    """A real process: exit code, stdout, stderr, and on a crash one line, then the
    traceback (a bug in the function, not in the input)."""
    script = tmp_path / "set_team.py"
    script.write_text(dedent(f"""\
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_sdk_cli_function import set_team
        set_team.main()
        """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    ok = subprocess.run([sys.executable, str(script), "team=ran"], input=INPUT, text=True,
                        capture_output=True, env=env, timeout=60)
    assert ok.returncode == 0 and ok.stderr == ""
    assert ResourceList.parse(ok.stdout).items[0].labels == {"team": "ran"}
    crash = subprocess.run([sys.executable, str(script), "team=crash"], input=INPUT,
                           text=True, capture_output=True, env=env, timeout=60)
    assert crash.returncode == 1
    line, _, trace = crash.stderr.partition("\n")
    assert line == "set-team: error: internal error: RuntimeError: crashed"
    assert trace.startswith("Traceback (most recent call last):\n")
    assert trace.endswith("RuntimeError: crashed\n") and "set_team" in trace
    assert ResourceList.parse(crash.stdout).items[0].labels == {}


@dataclass
class Port:
    number: int  # the port's number
    name: str = "http"


@dataclass
class SidecarConfig:
    image: str  # the sidecar's image, with its tag
    cpu: str | None = None  # a Kubernetes quantity
    ports: list[Port] = field(default_factory=lambda: [Port(80)])
    inject_into: list[str] = field(default_factory=list,
                                   metadata={"doc": "container names (all when empty)"})
    dry_run: bool = False


def test_help_lists_the_config_fields(capsys: pytest.CaptureFixture[str]) -> None:
    @function(name="inject-sidecar", config=SidecarConfig,
              config_kind="example.com/v1/SidecarConfig")
    def inject(rl: ResourceList, config: SidecarConfig) -> None:
        """Add a sidecar container."""

    assert run_cli(inject, ["--help"]) == 0
    out = capsys.readouterr().out
    section = out.split("\n\n")[1]
    assert section == dedent("""\
        Config (a v1 ConfigMap's data, `-- key=value`, or the kind example.com/v1 SidecarConfig):
          image           str         required                    the sidecar's image, with its tag
          cpu             str | null  null                        a Kubernetes quantity
          ports           list[Port]  [{number: 80, name: http}]
          ports[].number  int         required                    the port's number
          ports[].name    str         http
          injectInto      list[str]   []                          container names (all when empty)
          dryRun          bool        false""")
