"""`krmfn ledger list|show|release` on a ledger the functions wrote, in an SQLite file and
in a PostgreSQL database alike."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml
from kpt_support import script
from krmfn._cli import main
from test_ledger_owner import package, run


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """upf and smf on edge-01 (the same claim names), upf on edge-02."""
    path = str(tmp_path / "ledger.sqlite")
    if request.param == "postgres":
        path = request.getfixturevalue("postgres_url")
    run(package("upf", "edge-01", [("n3", "network"), ("n4", "pool")]), path)
    run(package("smf", "edge-01", [("n3", "network")]), path)
    run(package("upf", "edge-02", [("n3", "network")]), path)
    return path


def krmfn(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def table(out: str) -> list[list[str]]:
    """The rows under the table's header line."""
    lines = out.strip().splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("TYPE ")), len(lines))
    return [line.split() for line in lines[start:]]


def dump(path: str) -> list[tuple[object, ...]]:
    if str(path).startswith("postgresql:"):
        import psycopg

        with psycopg.connect(str(path)) as server:
            return [row for table in ("ip_allocations", "vlan_allocations", "taken_runs")
                    for row in sorted(server.execute(f"SELECT * FROM {table}").fetchall())]
    with sqlite3.connect(path) as db:
        found = sorted(db.execute("SELECT * FROM ip_allocations")) + \
            sorted(db.execute("SELECT * FROM vlan_allocations")) + \
            sorted(db.execute("SELECT * FROM taken_runs"))
    db.close()
    return found


def test_list_shows_every_allocation_and_filters_by_site_package_and_claim(
        capsys: pytest.CaptureFixture[str], ledger: str) -> None:
    code, out, _ = krmfn(capsys, "ledger", "list", "--ledger", str(ledger))
    assert code == 0
    rows = table(out)
    assert out.splitlines()[0].split() == ["TYPE", "CLUSTER", "PACKAGE", "CLAIM", "IN", "KIND",
                                           "VALUE"]
    # 4 IP claims, 2 subnets (one per cluster), 4 VLAN claims
    assert sorted((r[0], r[1], r[2], r[3]) for r in rows) == sorted([
        ("ip", "edge-01", "upf", "core/n3"), ("ip", "edge-01", "upf", "core/n4"),
        ("ip", "edge-01", "smf", "core/n3"), ("ip", "edge-02", "upf", "core/n3"),
        ("ip", "edge-01", "-", "-"), ("ip", "edge-02", "-", "-"),
        ("vlan", "edge-01", "upf", "core/n3"), ("vlan", "edge-01", "upf", "core/n4"),
        ("vlan", "edge-01", "smf", "core/n3"), ("vlan", "edge-02", "upf", "core/n3")])
    _, out, _ = krmfn(capsys, "ledger", "list", "--ledger", str(ledger), "--site", "edge-01",
                      "--package", "upf", "--type", "ip")
    assert [(r[3], r[5]) for r in table(out)] == [("core/n3", "network"), ("core/n4", "pool")]
    for claim in ("n3", "core/n3"):
        _, out, _ = krmfn(capsys, "ledger", "list", "--ledger", str(ledger), "--claim", claim)
        assert len(table(out)) == 6 and all(r[3] == "core/n3" for r in table(out))
    _, out, _ = krmfn(capsys, "ledger", "list", "--ledger", str(ledger), "--claim", "other/n3")
    assert out == ""


def test_show_gives_every_field_as_yaml(capsys: pytest.CaptureFixture[str],
                                        ledger: str) -> None:
    code, out, _ = krmfn(capsys, "ledger", "show", "--ledger", str(ledger), "--cluster",
                         "edge-01", "--package", "smf")
    assert code == 0
    shown = yaml.safe_load(out)
    ip = next(r for r in shown if r["type"] == "ip")
    assert ip["owner"] == "edge-01/smf/core/n3" and ip["kind"] == "network"
    assert ip["prefix"].endswith("/24") and ip["gateway"].endswith(".1")
    vlan = next(r for r in shown if r["type"] == "vlan")
    assert vlan["owner"] == "edge-01/smf/core/n3" and isinstance(vlan["vlanID"], int)
    _, out, _ = krmfn(capsys, "ledger", "show", "--ledger", str(ledger), "--package", "none")
    assert yaml.safe_load(out) == []


def test_release_dry_run_changes_nothing_and_says_what_release_does(
        capsys: pytest.CaptureFixture[str], ledger: str) -> None:
    before = dump(ledger)
    code, dry, _ = krmfn(capsys, "ledger", "release", "--ledger", str(ledger), "--site",
                         "edge-02", "--dry-run")
    assert code == 0 and dry.startswith("would release 3 allocation(s) (dry run")
    assert dump(ledger) == before
    code, done, _ = krmfn(capsys, "ledger", "release", "--ledger", str(ledger), "--site",
                          "edge-02")
    assert code == 0 and done.startswith("released 3 allocation(s)\n")
    assert table(done) == table(dry)
    assert dump(ledger) != before
    _, left, _ = krmfn(capsys, "ledger", "list", "--ledger", str(ledger), "--site", "edge-02")
    assert left == ""


def test_release_frees_addresses_for_new_claims_and_empty_subnets_with_them(
        capsys: pytest.CaptureFixture[str], ledger: str) -> None:
    _, out, _ = krmfn(capsys, "ledger", "show", "--ledger", str(ledger), "--package", "upf",
                      "--cluster", "edge-01")
    held = {r["claim"] + " " + r["type"]: r.get("prefix", r.get("vlanID"))
            for r in yaml.safe_load(out)}
    code, out, _ = krmfn(capsys, "ledger", "release", "--ledger", str(ledger), "--package",
                         "upf", "--cluster", "edge-01")
    assert code == 0 and out.startswith("released 4 allocation(s)")  # the smf keeps the subnet
    new, _ = run(package("nrf", "edge-01", [("n3", "network"), ("n4", "pool")]), ledger)
    assert new["ip n3"] == held["core/n3 ip"] and new["ip n4"] == held["core/n4 ip"]
    assert {new["vlan n3"], new["vlan n4"]} == {held["core/n3 vlan"], held["core/n4 vlan"]}
    # the subnet of edge-01 goes once its last address does
    krmfn(capsys, "ledger", "release", "--ledger", str(ledger), "--cluster", "edge-01",
          "--package", "nrf")
    code, out, _ = krmfn(capsys, "ledger", "release", "--ledger", str(ledger), "--claim",
                         "core/n3", "--package", "smf", "--type", "ip")
    assert code == 0 and [r[2] for r in table(out)] == ["-", "smf"]  # the subnet, the claim


@pytest.mark.parametrize("argv, code, words", [
    (["ledger"], 2, "required"),
    (["ledger", "list"], 2, "--ledger"),
    (["ledger", "drop", "--ledger", "x"], 2, "invalid choice"),
    (["ledger", "release", "--ledger", "LEDGER"], 2, "release needs"),
    (["ledger", "list", "--ledger", "LEDGER", "--type", "mpls"], 2, "invalid choice"),
    (["ledger", "list", "--ledger", "MISSING"], 1, "no such file"),
    (["ledger", "list", "--ledger", "DIR"], 1, "is not a file"),
    (["ledger", "list", "--ledger", "TEXT"], 1, "not an SQLite database"),
    (["ledger", "list", "--ledger", "FOREIGN"], 1, "foreign SQLite database"),
])
def test_bad_input_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     argv: list[str], code: int, words: str) -> None:
    ledger = tmp_path / "ledger.sqlite"
    run(package("upf", "edge-02", [("n3", "network")]), ledger)
    text = ledger.parent / "text.yaml"
    text.write_text("apiVersion: v1\n" * 300)
    foreign = ledger.parent / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    db.close()
    names = {"LEDGER": ledger, "MISSING": ledger.parent / "missing.db", "DIR": ledger.parent,
             "TEXT": text, "FOREIGN": foreign}
    got, out, err = krmfn(capsys, *[str(names.get(a, a)) for a in argv])
    assert got == code and words in err.strip().splitlines()[-1], err
    assert "Traceback" not in err and out == ""
    if code == 1:
        assert len(err.strip().splitlines()) == 1
    assert not (ledger.parent / "missing.db").exists()  # never created by a look


def test_the_console_script(ledger: str) -> None:
    proc = subprocess.run([script("krmfn"), "ledger", "list", "--ledger", str(ledger),
                           "--package", "smf"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 3, proc.stderr
