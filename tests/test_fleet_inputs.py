"""`krmfn fleet render` on bad input: site names that are not DNS-1123 labels, inventories
that are not YAML or not shaped as one, an `--out` that cannot be a directory. Every case
is one line on stderr and exit 1 (2 for a usage error), no traceback, and nothing written:
not under `--out`, and above all not outside it."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpt_support import script
from krmfn import KubeObject
from krmfn._run.cli import main
from krmfn_fleet.site_inventory import is_dns_label

KPTFILE = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: bp\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n"


def _blueprint(root: Path) -> Path:
    """A blueprint with no pipeline: rendering it costs next to nothing."""
    bp = root / "bp"
    bp.mkdir()
    (bp / "Kptfile").write_text(KPTFILE)
    (bp / "cm.yaml").write_text(CONFIGMAP)
    return bp


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """`krmfn ...` in process: an exception escaping it fails the test (a traceback)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def _one_error_line(code: int, err: str) -> str:
    assert code in (1, 2), err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    if code == 1:
        assert len(lines) == 1, err
    else:  # argparse: the usage, then the error
        assert lines[-1].startswith(("krmfn", "usage")), err
    return lines[-1]


@pytest.fixture()
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


# -- site names -------------------------------------------------------------------------

BAD_NAMES = ["../escaped", "/tmp/absolute", ".", "..", "", "a/b", "Edge-01", "edge_01",
             "-edge", "edge-", "x" * 64, "edge 01", "edge\n01", "ünicode", "a..b/../c"]
HOSTILE = st.one_of(
    st.sampled_from(BAD_NAMES),
    st.text(alphabet="abc./-_ AZ\\0", min_size=0, max_size=20),
    st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(["..", "", ".", "x"]),
              st.sampled_from(["escaped", "..", "", "y"])),
).filter(lambda n: n != "" and not is_dns_label(n))


@pytest.mark.parametrize("shape", ["plain", "site-specialize", "cluster-name-only"])
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=HOSTILE, position=st.integers(0, 2))
def test_a_site_name_that_is_not_a_dns_label_is_refused_before_anything_is_written(
        capsys: pytest.CaptureFixture[str], shape: str, bad: str, position: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        bp = _blueprint(root)
        names = ["edge-a", "edge-b"]
        names.insert(position, bad)
        sites: list[dict[str, Any]] = []
        for n in names:
            if shape == "plain":
                sites.append({"name": n, "siteCode": "x"})
            elif shape == "cluster-name-only":
                sites.append({"clusterName": n})
            else:
                sites.append({"kind": "SiteSpecialize", "metadata": {"name": n},
                              "site": {"clusterName": "c"}})
        inventory = root / "sites.yaml"
        inventory.write_text(yaml.safe_dump(sites))
        before = _tree(root)
        code, err = _run(capsys, "fleet", "render", str(bp), "--sites", str(inventory),
                         "--out", str(root / "out" / "deeper"), "--jobs", "1",
                         "--no-progress")
        line = _one_error_line(code, err)
        assert code == 1
        assert f"site {position} " in line
        field = {"plain": "name", "cluster-name-only": "clusterName",
                 "site-specialize": "metadata.name"}[shape]
        assert f"): {field} must be a DNS-1123 label" in line
        assert _tree(root) == before  # not even --out was created
        assert not (root.parent / "escaped").exists()


def test_the_names_that_used_to_escape_or_overwrite(scratch: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """`..`-names wrote beside --out, an absolute name anywhere, `.` over every site."""
    bp = _blueprint(scratch)
    out = scratch / "out"
    inventory = scratch / "sites.yaml"
    inventory.write_text(yaml.safe_dump([{"name": "edge-a"}]))
    assert _run(capsys, "fleet", "render", str(bp), "--sites", str(inventory), "--out",
                str(out), "--jobs", "1", "--no-progress")[0] == 0
    rendered = _tree(out)
    for bad in ("../escaped", str(scratch / "absolute"), "."):
        inventory.write_text(yaml.safe_dump([{"name": "edge-b"}, {"name": bad}]))
        code, err = _run(capsys, "fleet", "render", str(bp), "--sites", str(inventory),
                         "--out", str(out), "--jobs", "1", "--no-progress")
        assert code == 1 and "site 1 " in err, err
        assert _tree(out) == rendered
        assert not (scratch / "escaped").exists() and not (scratch / "absolute").exists()


def test_the_api_checks_names_too(scratch: Path) -> None:
    from krmfn_fleet.sites import FleetError, FleetSite, render_fleet

    with pytest.raises(FleetError, match=r"site 0 \('\.\./x'\): name must be"):
        render_fleet(_blueprint(scratch), [FleetSite("../x", {})], scratch / "out")
    assert not (scratch / "out").exists()


# -- inventories ------------------------------------------------------------------------

NOT_YAML = ["- name: a\n  b: [\n", "{a: b", "- name: edge-a\n\t- x\n", "key: 'open\n",
            "a: b\na: [c\n", "---\n- name: a\n---\n- name: b\n", "[" * 2000 + "]" * 2000,
            "\x00\x01", "- &a name: x\n- *b\n"]
MISSHAPEN: list[Any] = [None, 5, "sites", {"sites": 3}, {"other": []}, [5], [None],
                        [["edge-a"]], [{"name": 7}], [{"name": True}], [{"name": None}],
                        [{"name": "edge-a", "values": [1]}], [{"name": "edge-a",
                                                               "clusterName": 5}],
                        [{"site": "edge-a"}], [{"site": {}}], [{"metadata": "x", "site": {}}],
                        [{"site": {"clusterName": ["a"]}}], [{"name": "a"}, {"name": "a"}],
                        [{"name": "edge-a", "values": "x"}], {"items": [{"nope": 1}]}]


@pytest.mark.parametrize("text", NOT_YAML)
def test_an_inventory_that_is_not_yaml(scratch: Path, capsys: pytest.CaptureFixture[str],
                                       text: str) -> None:
    inventory = scratch / "sites.yaml"
    inventory.write_text(text)
    code, err = _run(capsys, "fleet", "render", str(_blueprint(scratch)), "--sites",
                     str(inventory), "--out", str(scratch / "out"), "--no-progress")
    line = _one_error_line(code, err)
    assert code == 1 and str(inventory) in line
    assert not (scratch / "out").exists()


@pytest.mark.parametrize("data", MISSHAPEN, ids=repr)
def test_an_inventory_of_the_wrong_shape(scratch: Path, capsys: pytest.CaptureFixture[str],
                                         data: Any) -> None:
    inventory = scratch / "sites.yaml"
    inventory.write_text(yaml.safe_dump(data))
    code, err = _run(capsys, "fleet", "render", str(_blueprint(scratch)), "--sites",
                     str(inventory), "--out", str(scratch / "out"), "--no-progress")
    line = _one_error_line(code, err)
    assert code == 1 and line.startswith(f"krmfn fleet: error: {inventory}: ")
    assert not (scratch / "out").exists()


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["edge-a", "edge-b", "../x", "."]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["name", "clusterName", "site", "metadata", "values",
                                       "sites", "items", "siteCode"]), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(data=YAML_VALUES)
def test_any_inventory_renders_or_is_one_clear_line(data: Any) -> None:
    """Generated inventories: either every site is rendered under --out, or one line and
    nothing written."""
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        bp = _blueprint(root)
        inventory = root / "sites.yaml"
        inventory.write_text(yaml.safe_dump(data))
        import contextlib
        import io

        err, outs = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(outs):
            code = main(["fleet", "render", str(bp), "--sites", str(inventory), "--out",
                         str(root / "out"), "--jobs", "1", "--no-progress"])
        outside = _tree(root) - {"bp", "bp/Kptfile", "bp/cm.yaml", "sites.yaml"}
        if code == 0:
            assert all(p == "out" or p.startswith("out/") for p in outside)
            for site in (root / "out").iterdir():
                assert is_dns_label(site.name)
                assert (site / "cm.yaml").read_text() == CONFIGMAP
        else:
            _one_error_line(code, err.getvalue())
            assert not outside


# -- the output directory ---------------------------------------------------------------


def test_an_out_that_cannot_be_a_directory(scratch: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bp = _blueprint(scratch)
    inventory = scratch / "sites.yaml"
    inventory.write_text(yaml.safe_dump([{"name": "edge-a"}]))
    afile = scratch / "file"
    afile.write_text("keep me\n")
    for out, words in ((afile, "exists and is not a directory"),
                       (afile / "sub", "cannot create the directory")):
        code, err = _run(capsys, "fleet", "render", str(bp), "--sites", str(inventory),
                         "--out", str(out), "--no-progress")
        line = _one_error_line(code, err)
        assert code == 1 and f"--out {out}: {words}" in line
    assert afile.read_text() == "keep me\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_out_in_a_read_only_directory(scratch: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    bp = _blueprint(scratch)
    inventory = scratch / "sites.yaml"
    inventory.write_text(yaml.safe_dump([{"name": "edge-a"}]))
    locked = scratch / "locked"
    locked.mkdir(mode=0o555)
    try:
        code, err = _run(capsys, "fleet", "render", str(bp), "--sites", str(inventory),
                         "--out", str(locked / "out"), "--no-progress")
    finally:
        locked.chmod(0o755)
    assert code == 1 and "cannot create the directory" in _one_error_line(code, err)


def test_a_ledger_in_the_output_directory_the_run_creates(
        scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = scratch / "sites.yaml"
    inventory.write_text(yaml.safe_dump([{"name": "edge-a"}]))
    out = scratch / "out"
    code, err = _run(capsys, "fleet", "render", str(_blueprint(scratch)), "--sites",
                     str(inventory), "--out", str(out), "--ledger", str(out / "l.sqlite"),
                     "--jobs", "1", "--no-progress")
    assert code == 0, err
    assert (out / "edge-a" / "cm.yaml").read_text() == CONFIGMAP


def test_a_site_directory_that_is_a_link_out_of_out_is_not_written_through(
        scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bp = _blueprint(scratch)
    inventory = scratch / "sites.yaml"
    inventory.write_text(yaml.safe_dump([{"name": "edge-a"}, {"name": "edge-b"}]))
    elsewhere = scratch / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "Kptfile").write_text(KPTFILE)
    out = scratch / "out"
    out.mkdir()
    (out / "edge-a").symlink_to(elsewhere)
    code, err = _run(capsys, "fleet", "render", str(bp), "--sites", str(inventory), "--out",
                     str(out), "--jobs", "1", "--no-progress")
    assert code == 1 and "edge-a: write failed:" in err and "symbolic link" in err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["Kptfile"]
    assert (out / "edge-b" / "cm.yaml").read_text() == CONFIGMAP  # the others still render


@pytest.mark.parametrize("again", [False, True], ids=["new", "in place"])
def test_a_function_naming_a_file_outside_the_site_writes_nothing(
        scratch: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        again: bool) -> None:
    """Defence in depth: whatever path a function gives a resource, the fleet writes only
    inside the site's directory."""
    import krmfn_fleet.sites as fleet

    bp = _blueprint(scratch)
    inventory = scratch / "sites.yaml"
    inventory.write_text(yaml.safe_dump([{"name": "edge-a"}]))
    out = scratch / "out"
    args = ("fleet", "render", str(bp), "--sites", str(inventory), "--out", str(out),
            "--jobs", "1", "--no-progress")
    if again:
        assert _run(capsys, *args)[0] == 0
    real = fleet.render_package

    def hostile(*a: Any, **kw: Any) -> Any:
        result = real(*a, **kw)
        rl, _ = kw["read"]
        rl.items.append(KubeObject.from_dict({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "pwn", "annotations": {
                "config.kubernetes.io/path": "../../pwn.yaml"}}}))
        return result

    monkeypatch.setattr(fleet, "render_package", hostile)
    before = _tree(scratch)
    code, err = _run(capsys, *args)
    assert code == 1 and "ConfigMap pwn: " in err and "'../../pwn.yaml'" in err, err
    assert "outside the package" in err
    assert not (scratch / "pwn.yaml").exists() and not (out / "pwn.yaml").exists()
    if again:
        assert _tree(scratch) == before


# -- every command of `krmfn` -----------------------------------------------------------


def test_every_command_fails_with_a_clear_line(scratch: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bp = _blueprint(scratch)
    good = scratch / "sites.yaml"
    good.write_text(yaml.safe_dump([{"name": "edge-a"}]))
    afile = scratch / "file"
    afile.write_text("x")
    base = ["fleet", "render", str(bp), "--sites", str(good), "--out", str(scratch / "o")]
    cases: list[list[str]] = [
        ["nope"], ["fleet", "nope"], ["fleet"], ["fleet", "render"],
        ["fleet", "render", str(bp)], ["fleet", "render", str(bp), "--sites", str(good)],
        [*base, "--jobs", "0"], [*base, "--jobs", "-2"], [*base, "--jobs", "x"],
        [*base, "--limit", "-1"], [*base, "--limit", "1.5"], [*base, "--bogus"],
        ["fleet", "render", str(scratch / "missing"), *base[3:]],
        ["fleet", "render", str(afile), *base[3:]],
        ["fleet", "render", str(scratch), *base[3:]],  # a directory without a Kptfile
        [*base[:4], str(scratch / "missing.yaml"), *base[5:]],
        [*base[:4], str(scratch), *base[5:]],
        [*base, "--ledger", str(scratch)],
        [*base, "--ledger", str(scratch / "missing" / "l.db")],
        ["catalog", "--bogus"], ["catalog", "extra"],
    ]
    for argv in cases:
        code, err = _run(capsys, *argv)
        _one_error_line(code, err)
    assert not (scratch / "o").exists()


def test_the_console_script_shows_no_traceback(scratch: Path) -> None:
    inventory = scratch / "sites.yaml"
    inventory.write_text("- name: [unclosed\n")
    proc = subprocess.run([script("krmfn"), "fleet", "render", str(_blueprint(scratch)),
                           "--sites", str(inventory), "--out", str(scratch / "o")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "not valid YAML" in proc.stderr
    assert "Traceback" not in proc.stderr
