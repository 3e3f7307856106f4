"""A throwaway PostgreSQL 15 server for the history tests (fixtures ``postgres``,
``history_database``, ``history_url``, offered to all tests by tests/conftest.py), one
per test session (per xdist worker): ``initdb`` into a temporary directory and
``pg_ctl start`` on a Unix socket only. As root (CI) both run as the ``postgres`` user through ``runuser``:
PostgreSQL refuses to run as root. Missing binaries FAIL the tests, never skip them.

Local connections are trusted, except the role ``shipper``, which must give its
password (scram-sha-256): the password sources are tested against a real check."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

#: The password of the role ``shipper`` (a test's own).
SHIPPER_PASSWORD = "ship-it-7"
_PORT = 5432  # the socket's name only: no TCP listener
_databases = itertools.count(1)


def _binaries() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if versions:
        return Path(versions[-1]).parent
    pytest.fail(
        "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: the history tests"
        " need a real server (apt-get install postgresql-15)"
    )


@dataclass
class PostgresServer:
    """A running throwaway server in ``root``: its cluster in ``data``, its socket in
    ``sockets``; :meth:`stop` and :meth:`start` take it down and up."""

    root: Path
    bin: Path
    data: Path = field(init=False)
    sockets: Path = field(init=False)

    def __post_init__(self) -> None:
        self.data, self.sockets = self.root / "data", self.root / "sockets"

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={self.sockets}&port={_PORT}"

    def _run(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*as_postgres, str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            pytest.fail(f"{args[0]} failed ({done.returncode}): {done.stderr}\n{tail}")

    def initialize(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        (self.data / "pg_hba.conf").write_text(
            "local all shipper scram-sha-256\nlocal all all trust\n"
        )

    def start(self) -> None:
        options = f"-k {self.sockets} -p {_PORT} -c listen_addresses='' -c fsync=off"
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def create_database(self) -> str:
        name = f"history_{os.getpid()}_{next(_databases)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"'.encode())
            admin.execute(f'GRANT ALL ON DATABASE "{name}" TO shipper'.encode())
        with psycopg.connect(self.url(name), autocommit=True) as database:
            database.execute(b"GRANT ALL ON SCHEMA public TO shipper")
        return name


def start_server(root: Path) -> PostgresServer:
    """A new server in the empty directory ``root`` (owned by ``postgres`` as root),
    started, with the role ``shipper``."""
    os.chmod(root, 0o755)
    (root / "sockets").mkdir()
    if os.geteuid() == 0:
        postgres_user = pwd.getpwnam("postgres")
        for path in (root, root / "sockets"):
            os.chown(path, postgres_user.pw_uid, postgres_user.pw_gid)
    server = PostgresServer(root, _binaries())
    server.initialize()
    server.start()
    with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE shipper LOGIN PASSWORD '{SHIPPER_PASSWORD}'".encode())
    return server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's server (started once, stopped and removed at the end)."""
    root = Path(tempfile.mkdtemp(prefix="depotctl-pg-"))
    try:
        server = start_server(root)
        yield server
    finally:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        stop = [str(_binaries() / "pg_ctl"), "stop", "-w", "-m", "immediate", "-D"]
        subprocess.run([*as_postgres, *stop, str(root / "data")], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def history_database(postgres: PostgresServer) -> str:
    """A new, empty database on the session's server: its name."""
    return postgres.create_database()


@pytest.fixture
def history_url(postgres: PostgresServer, history_database: str) -> str:
    """The URL of a new, empty database (its superuser, on the socket)."""
    return postgres.url(history_database)
