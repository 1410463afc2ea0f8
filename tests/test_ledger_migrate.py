"""`krmfn ledger migrate SRC DST`: an SQLite ledger the functions wrote, copied into
PostgreSQL and back, reads the same record for record, keeps the same taken ranges, and
gives the next package the same answers; a DST that holds allocations is refused unless
`--replace` is given, and a copy that fails leaves DST as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from krmfn._cli import main
from postgres_server import PASSWORD, PostgresServer
from test_ledger_cli import dump, krmfn
from test_ledger_owner import package, run

PACKAGES = [("upf", "edge-01", [("n3", "network"), ("n4", "pool"), ("n6", "network")]),
            ("smf", "edge-01", [("n3", "network"), ("n4", "network")]),
            ("upf", "edge-02", [("n3", "network"), ("n4", "pool")]),
            ("amf", "edge-03", [("n2", "network"), ("lo", "loopback")])]


def runs(location: str) -> list[tuple[object, ...]]:
    """The taken ranges, as (space, first, last) bytes, whatever the backend."""
    return [(str(a), bytes(b), bytes(c)) for a, b, c in  # type: ignore[call-overload]
            (row for row in dump(location) if len(row) == 3)]


def show(capsys: pytest.CaptureFixture[str], location: str) -> object:
    code, out, err = krmfn(capsys, "ledger", "show", "--ledger", location)
    assert code == 0, err
    return yaml.safe_load(out)


@pytest.fixture
def source(tmp_path: Path) -> str:
    path = str(tmp_path / "source.sqlite")
    for name, cluster, claims in PACKAGES:
        run(package(name, cluster, claims), path)  # type: ignore[arg-type]
    return path


def test_sqlite_to_postgres_and_back_reads_the_same_and_answers_the_same(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str, postgres_url: str
) -> None:
    held = show(capsys, source)
    assert isinstance(held, list)
    ip, vlan = (sum(r["type"] == kind for r in held) for kind in ("ip", "vlan"))
    assert vlan == 9 and ip > vlan  # a VLAN per claim; an IP per claim, and the subnets
    code, out, err = krmfn(capsys, "ledger", "migrate", source, postgres_url)
    assert code == 0, err
    assert out.startswith(f"copied {ip} IP and {vlan} VLAN allocation(s) from {source} to ")
    assert out.rstrip().endswith("verified record for record")
    back = str(tmp_path / "back.sqlite")
    code, out, err = krmfn(capsys, "ledger", "migrate", postgres_url, back)
    assert code == 0, err

    assert show(capsys, postgres_url) == held and show(capsys, back) == held
    assert runs(back) == runs(source) and sorted(runs(postgres_url)) == sorted(runs(source))
    with sqlite3.connect(back) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()

    # the next package gets the same answers from each of the three
    nrf = package("nrf", "edge-01", [("n3", "network"), ("n4", "pool")])
    answers = [run(nrf, location)[0] for location in (source, postgres_url, back)]  # type: ignore[arg-type]
    assert answers[0] == answers[1] == answers[2]


def test_a_destination_holding_allocations_is_refused_unless_replaced(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str, postgres_url: str
) -> None:
    run(package("other", "edge-09", [("n3", "network")]), postgres_url)  # type: ignore[arg-type]
    before = dump(postgres_url)
    code, out, err = krmfn(capsys, "ledger", "migrate", source, postgres_url)
    assert code == 1 and out == ""
    assert err.startswith("krmfn ledger: error: ledger postgresql://postgres@/")
    assert "already holds 3 allocation(s); give --replace" in err
    assert len(err.splitlines()) == 1
    assert dump(postgres_url) == before

    code, out, err = krmfn(capsys, "ledger", "migrate", source, postgres_url, "--replace")
    assert code == 0, err
    assert "(replacing 3 it held)" in out
    assert show(capsys, postgres_url) == show(capsys, source)


def test_what_cannot_be_copied_is_one_line_and_nothing_is_made(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str,
        postgres_server: PostgresServer) -> None:
    missing = tmp_path / "missing.sqlite"
    code, _, err = krmfn(capsys, "ledger", "migrate", str(missing), str(tmp_path / "x.sqlite"))
    assert code == 1 and "no such file" in err and len(err.splitlines()) == 1
    assert not missing.exists() and not (tmp_path / "x.sqlite").exists()

    code, _, err = krmfn(capsys, "ledger", "migrate", source, source)
    assert code == 1 and "SRC and DST are the same ledger" in err

    wrong = postgres_server.tcp_url("postgres", password="x" + PASSWORD)
    code, out, err = krmfn(capsys, "ledger", "migrate", source, wrong)
    assert code == 1 and "authentication failed" in err and len(err.splitlines()) == 1
    assert PASSWORD not in err + out


def test_migrate_needs_both_ends(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["ledger", "migrate", "only-one"])
    assert caught.value.code == 2
    assert "DST" in capsys.readouterr().err
