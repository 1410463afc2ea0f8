"""A real PostgreSQL server for the tests: started from the machine's binaries in a
temporary directory, reachable only on its own unix socket and on a random loopback port,
and removed afterwards.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
(through `runuser`), in a directory that user owns. Every test gets a database of its own
(`PostgresServer.database`), so tests never see each other's ledgers.

Two roles: the superuser `postgres`, trusted on the socket, and `ledger`, who logs in over
TCP with a password (scram-sha-256), for the tests of authentication and of credentials
kept out of messages.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

__all__ = ["PASSWORD", "PostgresServer", "binaries"]

PASSWORD = "s3cret-Pa55word"  # the `ledger` role's (it must never show up in a message)
_CANDIDATES = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (15, 16, 17, 14)]


def binaries() -> Path | None:
    """The directory holding initdb and pg_ctl, if any (15 first, as the machines have)."""
    found = os.environ.get("KRMFN_PG_BIN")
    candidates = [Path(found)] if found else _CANDIDATES
    return next((d for d in candidates if (d / "initdb").is_file() and (d / "pg_ctl").is_file()),
                None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One server for a test session; `stop()` shuts it down and removes its directory."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="krmfn-pg-"))
        self.data = self.root / "data"
        self.socket_dir = str(self.root)
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        self._names = itertools.count()
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o755)
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                      "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256")
            settings = [f"-p {self.port}", f"-k {self.socket_dir}",
                        "-c listen_addresses=127.0.0.1", "-c max_connections=100"]
            if not durable:  # a test server: a lost file after a power cut does not matter
                settings += ["-c fsync=off", "-c synchronous_commit=off",
                             "-c full_page_writes=off"]
            self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data),
                      "-l", str(self.root / "server.log"), "-o", " ".join(settings))
            self.sql("postgres", f"CREATE ROLE ledger LOGIN PASSWORD '{PASSWORD}'")
        except BaseException:
            self.stop()
            raise

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=self.root,
                              timeout=120, check=False)
        if proc.returncode:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.is_file() else ""
            raise RuntimeError(f"{program} failed: {proc.stderr.strip()} {tail}")

    def url(self, dbname: str = "postgres") -> str:
        """The superuser's URL for `dbname`, over the unix socket."""
        return f"postgresql://postgres@/{dbname}?host={quote(self.socket_dir)}&port={self.port}"

    def tcp_url(self, dbname: str, password: str = PASSWORD) -> str:
        """The `ledger` role's URL for `dbname`, over TCP with a password."""
        return f"postgresql://ledger:{quote(password)}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, dbname: str, statement: str) -> list[tuple[object, ...]]:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as db:
            cursor = db.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def database(self) -> str:
        """A new empty database that the `ledger` role owns; its superuser URL.

        Its text sorts as English does (ICU's en-US, where `a_b` comes before `a-b` and
        `B` between `a` and `c`), as on most managed servers, unlike the byte order of
        SQLite: a ledger must not depend on the database's collation."""
        name = f"ledger_{os.getpid()}_{next(self._names)}"
        self.sql("postgres", f"CREATE DATABASE {name} OWNER ledger TEMPLATE template0"
                             " LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
        return self.url(name)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)
