"""The ledger on a PostgreSQL server: the functions' answers are the SQLite ledger's,
`KRMFN_LEDGER` and the config's `ledger` take precedence as documented, and a database
that cannot be used (wrong password, no server, someone else's tables, another schema
version) stops the run with one line that never shows the password."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kpt_support import script
from krmfn_catalog.allocation import _postgres_schema
from krmfn_catalog.allocation.backends import is_postgres, open_ledger, password_of, shown
from krmfn_catalog.allocation.ledger import LedgerError, VLANRecord
from krmfn_catalog.allocation.postgres_ledger import PostgresLedger
from postgres_server import PASSWORD, PostgresServer
from test_ledger_fleet import answers, assert_refused, render_by_scripts, snapshot, write_site

FUNCTIONS = ["ipam-inject", "vlan-assign"]


def dbname(url: str) -> str:
    return url.split("@/", 1)[1].split("?", 1)[0]


def run(fn: str, pkg: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    import os

    environment = {k: v for k, v in os.environ.items() if k != "KRMFN_LEDGER"}
    environment.update(env or {})
    return subprocess.run([script(fn), str(pkg), *args, "--in-place"], capture_output=True,
                          text=True, timeout=120, env=environment)


def held(location: str) -> list[str]:
    """Every owner key the ledger at `location` holds, IP and VLAN."""
    ledger = open_ledger(location)
    with ledger.session() as session:
        keys = [r.key for r in session.ip_where()] + [r.key for r in session.vlan_where()]
    ledger.close()
    return sorted(keys)


# -- the same answers -----------------------------------------------------------------------


def test_the_functions_answer_on_postgres_as_on_sqlite(tmp_path: Path, postgres_url: str) -> None:
    sqlite = tmp_path / "ledger.sqlite"
    on_file = [write_site(tmp_path / "file", i, sqlite) for i in range(5)]
    on_server = [write_site(tmp_path / "server", i, Path("unused")) for i in range(5)]
    for pkg in on_file:
        assert render_by_scripts(pkg, sqlite).returncode == 0
    for pkg in on_server:
        proc = render_by_scripts(pkg, postgres_url)  # type: ignore[arg-type]
        assert proc.returncode == 0, proc.stderr
    assert [answers(p) for p in on_server] == [answers(p) for p in on_file]
    assert held(postgres_url) == held(str(sqlite)) != []
    # and again: nothing moves
    before = snapshot(on_server[3])
    assert render_by_scripts(on_server[3], postgres_url).returncode == 0  # type: ignore[arg-type]
    assert snapshot(on_server[3]) == before


def test_every_form_of_location_reaches_the_server(postgres_server: PostgresServer,
                                                   tmp_path: Path) -> None:
    url = postgres_server.database()
    name = dbname(url)
    forms = [  # the `ledger` role creates the tables; the superuser may use them too
        postgres_server.tcp_url(name),
        f"host=127.0.0.1 port={postgres_server.port} dbname={name} user=ledger"
        f" password='{PASSWORD}'",
        url,
        url.replace("postgresql://", "postgres://", 1),
        f"host={postgres_server.socket_dir} port={postgres_server.port} dbname={name}"
        " user=postgres",
    ]
    for i, location in enumerate(forms):
        assert is_postgres(location)
        pkg = write_site(tmp_path, i, Path("unused"))
        proc = run("vlan-assign", pkg, f"ledger={location}")
        assert proc.returncode == 0, (location, proc.stderr)
    assert len(held(url)) == len(forms)


# -- precedence -----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_krmfn_ledger_supplies_the_ledger_a_config_does_not_name(
        fn: str, tmp_path: Path, postgres_server: PostgresServer) -> None:
    from_env = postgres_server.database()
    proc = run(fn, write_site(tmp_path / "a", 1, Path("unused")),
               env={"KRMFN_LEDGER": from_env})
    assert proc.returncode == 0, proc.stderr
    assert len(held(from_env)) >= 1

    # a config that names a ledger wins over the environment
    configured = tmp_path / "configured.sqlite"
    other = postgres_server.database()
    proc = run(fn, write_site(tmp_path / "b", 2, configured), f"ledger={configured}",
               env={"KRMFN_LEDGER": other})
    assert proc.returncode == 0, proc.stderr
    assert len(held(str(configured))) >= 1
    assert held(other) == []


def test_krmfn_ledger_may_name_an_sqlite_file(tmp_path: Path) -> None:
    ledger = tmp_path / "from-env.sqlite"
    proc = run("vlan-assign", write_site(tmp_path, 3, Path("unused")),
               env={"KRMFN_LEDGER": str(ledger)})
    assert proc.returncode == 0, proc.stderr
    assert len(held(str(ledger))) == 1


# -- databases that cannot be used ----------------------------------------------------------


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("via", ["config", "environment"])
def test_a_wrong_password_is_one_line_that_never_shows_a_password(
        fn: str, via: str, tmp_path: Path, postgres_server: PostgresServer) -> None:
    name = dbname(postgres_server.database())
    wrong = "Wr0ng-" + PASSWORD
    url = postgres_server.tcp_url(name, password=wrong)
    pkg = write_site(tmp_path, 5, Path("unused"))
    before = snapshot(pkg)
    args, env = ([f"ledger={url}"], {}) if via == "config" else ([], {"KRMFN_LEDGER": url})
    proc = run(fn, pkg, *args, env=env)
    assert_refused(fn, proc, f"127.0.0.1:{postgres_server.port}/{name}")
    assert "authentication failed" in proc.stderr
    for text in (proc.stderr, proc.stdout):
        assert wrong not in text and PASSWORD not in text
    assert snapshot(pkg) == before


def test_the_password_stays_out_of_every_message(postgres_server: PostgresServer) -> None:
    url = postgres_server.database()
    name = dbname(url)
    postgres_server.sql(name, "CREATE TABLE invoices (id int)")
    postgres_server.sql(name, "GRANT ALL ON invoices TO ledger")
    for location in (postgres_server.tcp_url(name),
                     f"host=127.0.0.1 port={postgres_server.port} password={PASSWORD}"
                     f" user=ledger dbname={name}",
                     f"postgresql://ledger@127.0.0.1:{postgres_server.port}/{name}"
                     f"?password={PASSWORD}"):
        assert password_of(location) == PASSWORD
        assert PASSWORD not in shown(location)
        with pytest.raises(LedgerError, match=r"other tables.*invoices") as caught:
            PostgresLedger(location)
        assert PASSWORD not in str(caught.value)
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("location", "reason"), [
    ("postgresql://ledger:{password}@127.0.0.1:1/ledger", "cannot connect: connection refused"),
    ("postgresql://postgres@/nope?host={socket}&port={port}", 'database "nope" does not exist'),
    ("postgresql://postgres@/x?host=/nonexistent-dir&port=5", "no server at that socket"),
    ("postgresql://ledger:{password}@127.0.0.1:{port}/postgres?sslmode=bogus",
     "invalid sslmode value"),
])
def test_a_server_that_cannot_be_reached_is_one_line(
        location: str, reason: str, postgres_server: PostgresServer) -> None:
    location = location.format(password=PASSWORD, socket=postgres_server.socket_dir,
                               port=postgres_server.port)
    with pytest.raises(LedgerError) as caught:
        open_ledger(location)
    message = str(caught.value)
    assert reason in message and "\n" not in message and PASSWORD not in message
    assert message.startswith(f"ledger {shown(location)}: ")


def test_without_psycopg_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "krmfn_catalog.allocation.postgres_ledger")
    with pytest.raises(LedgerError, match=r"krmfn\[postgres\]") as caught:
        open_ledger(f"postgresql://ledger:{PASSWORD}@db.example/ipam")
    assert PASSWORD not in str(caught.value)


def tables(server: PostgresServer, url: str) -> set[str]:
    rows = server.sql(dbname(url), "SELECT tablename FROM pg_tables WHERE schemaname='public'")
    return {str(row[0]) for row in rows}


def test_a_database_holding_other_tables_is_refused_and_left_alone(
        postgres_server: PostgresServer, postgres_url: str) -> None:
    postgres_server.sql(dbname(postgres_url), "CREATE TABLE users (name text)")
    with pytest.raises(LedgerError, match=r"not a krmfn ledger \(tables: users\)"):
        PostgresLedger(postgres_url)
    assert tables(postgres_server, postgres_url) == {"users"}


def test_a_ledger_in_a_schema_of_its_own_beside_other_tables(
        postgres_server: PostgresServer, postgres_url: str) -> None:
    postgres_server.sql(dbname(postgres_url), "CREATE TABLE users (name text)")
    postgres_server.sql(dbname(postgres_url), "CREATE SCHEMA ipam")
    location = postgres_url + "&options=-csearch_path%3Dipam"
    ledger = PostgresLedger(location)
    with ledger.session() as session:
        session.put_vlan([VLANRecord("a", "fabric", 10)])
    ledger.close()
    assert tables(postgres_server, postgres_url) == {"users"}
    assert held(location) == ["a"]


@pytest.mark.parametrize(("statement", "pattern"), [
    ("UPDATE schema_version SET version = 4", r"schema version 4, this krmfn reads version 3"),
    ("UPDATE schema_version SET application = 'billing'", r"another application"),
    ("DROP TABLE taken_runs", r"damaged, missing tables: taken_runs"),
    ("UPDATE schema_version SET version = 2", r"schema version 2.*knows no way from it"),
])
def test_a_ledger_of_another_version_or_damaged_is_refused(
        statement: str, pattern: str, postgres_server: PostgresServer, postgres_url: str
) -> None:
    PostgresLedger(postgres_url).close()
    postgres_server.sql(dbname(postgres_url), statement)
    with pytest.raises(LedgerError, match=pattern):
        PostgresLedger(postgres_url)


def test_an_older_ledger_is_migrated_in_one_transaction(
        monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer, postgres_url: str
) -> None:
    ledger = PostgresLedger(postgres_url)
    with ledger.session() as session:
        session.put_vlan([VLANRecord("a", "fabric", 10)])
    ledger.close()
    name = dbname(postgres_url)
    monkeypatch.setattr(_postgres_schema, "SCHEMA_VERSION", 4)
    monkeypatch.setitem(_postgres_schema.MIGRATIONS, 3, (
        "ALTER TABLE vlan_allocations ADD COLUMN note TEXT",
        "ALTER TABLE no_such_table ADD COLUMN note TEXT",  # fails: nothing may stay
    ))
    with pytest.raises(LedgerError, match='relation "no_such_table" does not exist'):
        PostgresLedger(postgres_url)
    assert postgres_server.sql(name, "SELECT version FROM schema_version") == [(3,)]
    assert postgres_server.sql(name, "SELECT * FROM vlan_allocations") == [
        ("a", "fabric", 10, "", "", "")]

    monkeypatch.setitem(_postgres_schema.MIGRATIONS, 3, (
        "ALTER TABLE vlan_allocations ADD COLUMN note TEXT",))
    PostgresLedger(postgres_url).close()
    assert postgres_server.sql(name, "SELECT version FROM schema_version") == [(4,)]
    assert postgres_server.sql(name, "SELECT * FROM vlan_allocations") == [
        ("a", "fabric", 10, "", "", "", None)]


# -- sessions -------------------------------------------------------------------------------


def test_a_writer_waits_for_the_lock_and_one_that_will_not_wait_is_told(
        postgres_url: str) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another thread: another connection
        ledger = PostgresLedger(postgres_url)
        with ledger.session() as session:
            session.put_vlan([VLANRecord("first", "fabric", 10)])
            holding.set()
            release.wait(60)
        ledger.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(60)
        with pytest.raises(LedgerError, match="timed out waiting for another writer"):
            PostgresLedger(postgres_url, timeout=0)
    finally:
        release.set()
        holder.join(60)
    ledger = PostgresLedger(postgres_url, timeout=0)
    with ledger.session() as session:  # the first writer's commit is seen after its lock
        assert session.vlan_lowest_free("fabric", 10, 20) == 11
    ledger.close()


def test_a_connection_the_server_dropped_is_opened_again(
        postgres_server: PostgresServer, postgres_url: str) -> None:
    ledger = PostgresLedger(postgres_url)
    with ledger.session() as session:
        session.put_vlan([VLANRecord("a", "fabric", 10)])
    postgres_server.sql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                    f" WHERE datname = '{dbname(postgres_url)}'")
    with ledger.session() as session:
        assert session.vlan_records("fabric") == [VLANRecord("a", "fabric", 10)]
    ledger.close()


# -- the fleet and `krmfn ledger` -----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".krmfn-fleet.lock"}


def fleet(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    environment = {k: v for k, v in os.environ.items() if k != "KRMFN_LEDGER"}
    environment.update(env or {})
    return subprocess.run([script("krmfn"), "fleet", "render", *argv], capture_output=True,
                          text=True, timeout=300, env=environment)


def test_a_fleet_on_postgres_renders_what_it_renders_on_sqlite(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    import yaml

    inventory = tmp_path / "sites.yaml"
    inventory.write_text(yaml.safe_dump([
        {"name": f"site-{i:02d}", "clusterName": f"cluster-{i % 3}", "siteCode": f"s{i}",
         "cnis": ["macvlan"], "masterInterface": "eth1"} for i in range(9)]))
    blueprint = str(ROOT / "examples" / "blueprint" / "upf-lite")
    common = [blueprint, "--sites", str(inventory), "--jobs", "2", "--no-progress"]
    sqlite = fleet(*common, "--out", str(tmp_path / "file"), "--ledger",
                   str(tmp_path / "ledger.sqlite"))
    assert sqlite.returncode == 0, sqlite.stderr
    url = postgres_server.database()
    server = fleet(*common, "--out", str(tmp_path / "server"), "--ledger", url)
    assert server.returncode == 0, server.stderr
    from_env = postgres_server.database()
    env = fleet(*common, "--out", str(tmp_path / "env"), env={"KRMFN_LEDGER": from_env})
    assert env.returncode == 0, env.stderr
    expected = tree(tmp_path / "file")
    assert len(expected) > 9 * 5
    assert tree(tmp_path / "server") == expected and tree(tmp_path / "env") == expected
    assert held(url) == held(from_env) == held(str(tmp_path / "ledger.sqlite"))


def test_a_fleet_of_variants_on_postgres_renders_what_it_renders_on_sqlite(
        tmp_path: Path, postgres_url: str) -> None:
    example = str(ROOT / "examples" / "fleet")
    sqlite = fleet(example, "--out", str(tmp_path / "file"), "--ledger",
                   str(tmp_path / "ledger.sqlite"), "--quiet")
    assert sqlite.returncode == 0, sqlite.stderr
    server = fleet(example, "--out", str(tmp_path / "server"), "--ledger", postgres_url,
                   "--quiet")
    assert server.returncode == 0, server.stderr
    assert tree(tmp_path / "server") == tree(tmp_path / "file") != {}
    assert held(postgres_url) == held(str(tmp_path / "ledger.sqlite")) != []


def test_the_fleet_takes_a_database_location_as_it_is(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    from krmfn_fleet.ledger_location import ledger_location

    url = f"postgresql://ledger:{PASSWORD}@db.example.net/ipam?sslmode=verify-full"
    monkeypatch.delenv("KRMFN_LEDGER", raising=False)
    assert ledger_location(url) == url
    assert ledger_location("host=/run/postgresql dbname=ipam") == \
        "host=/run/postgresql dbname=ipam"
    assert ledger_location(None) == ""
    monkeypatch.chdir(tmp_path)
    assert ledger_location("ledger.sqlite") == str(tmp_path / "ledger.sqlite")
    monkeypatch.setenv("KRMFN_LEDGER", url)
    assert ledger_location(None) == url
    assert ledger_location("ledger.sqlite") == str(tmp_path / "ledger.sqlite")  # flag wins


def test_krmfn_ledger_reads_krmfn_ledger(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch,
                                         postgres_url: str) -> None:
    from krmfn._cli import main

    ledger = PostgresLedger(postgres_url)
    with ledger.session() as session:
        session.put_vlan([VLANRecord("edge-01/upf/core/n3", "edge-01", 10, "edge-01", "upf",
                                     "core/n3")])
    ledger.close()
    monkeypatch.setenv("KRMFN_LEDGER", postgres_url)
    assert main(["ledger", "list"]) == 0
    assert "edge-01  upf      core/n3  edge-01  vlan  10" in capsys.readouterr().out
    monkeypatch.delenv("KRMFN_LEDGER")
    with pytest.raises(SystemExit) as caught:
        main(["ledger", "list"])
    assert caught.value.code == 2
    assert "--ledger is required when KRMFN_LEDGER is not set" in capsys.readouterr().err


def test_a_fleet_with_a_wrong_password_never_shows_it(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    wrong = postgres_server.tcp_url("postgres", password="Wr0ng-" + PASSWORD)
    blueprint = str(ROOT / "examples" / "blueprint" / "upf-lite")
    inventory = tmp_path / "sites.yaml"
    inventory.write_text("- {name: site-a, cnis: [macvlan], masterInterface: eth1}\n")
    for argv in ([blueprint, "--sites", str(inventory), "--no-progress"],
                 [str(ROOT / "examples" / "fleet"), "--quiet"]):
        proc = fleet(*argv, "--out", str(tmp_path / "out"), "--ledger", wrong)
        assert proc.returncode == 1
        assert "authentication failed" in proc.stdout + proc.stderr
        assert PASSWORD not in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("failures", "opens"), [(2, True), (5, False)])
def test_opening_a_session_is_retried_a_bounded_number_of_times(
        failures: int, opens: bool, monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> None:
    """A serialization failure or deadlock while the session opens (injected here, in the
    schema check that follows the lock) is retried up to five times in all."""
    from krmfn_catalog.allocation import postgres_ledger
    from psycopg import errors

    real, calls = postgres_ledger.prepare, []

    def flaky(db: object, shown: str, *, checked: bool = False) -> None:
        calls.append(checked)
        if len(calls) <= failures:
            raise (errors.SerializationFailure if len(calls) % 2 else errors.DeadlockDetected)(
                "could not serialize access")
        real(db, shown, checked=checked)

    monkeypatch.setattr(postgres_ledger, "prepare", flaky)
    monkeypatch.setattr(postgres_ledger.time, "sleep", lambda _: None)
    if opens:
        PostgresLedger(postgres_url).close()
        assert len(calls) == failures + 1
    else:
        with pytest.raises(LedgerError, match="could not serialize access"):
            PostgresLedger(postgres_url)
        assert len(calls) == postgres_ledger.ATTEMPTS == 5
