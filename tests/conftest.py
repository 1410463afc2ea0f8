"""Fixtures shared across test files: a PostgreSQL server (see `postgres_server`), and a
ledger file and database a module's property tests share."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import PostgresServer, binaries


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, stopped and removed at the end."""
    found = binaries()
    if found is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin")
    server = PostgresServer(found)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database for this test alone."""
    return postgres_server.database()


@pytest.fixture(scope="module")
def shared_file() -> Iterator[Path]:
    """One SQLite file for a module's examples (each rolls its session back)."""
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / "ledger.sqlite"


@pytest.fixture(scope="module")
def shared_database(postgres_server: PostgresServer) -> str:
    """One database for a module's examples (each rolls its session back)."""
    return postgres_server.database()
