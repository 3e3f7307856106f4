"""The history database's versioned migrations."""

from __future__ import annotations

import psycopg
import pytest

from depotctl.domain.refusal import Refusal
from depotctl.history.schema import LATEST, MIGRATIONS, migrate
from tests.history.postgres import PostgresServer


def test_migrations_apply_once_and_are_listed(
    postgres: PostgresServer, history_database: str
) -> None:
    with psycopg.connect(postgres.url(history_database), autocommit=True) as connection:
        assert migrate(connection) == LATEST
        assert migrate(connection) == LATEST  # again: nothing to do
        listed = connection.execute(
            b"SELECT version, description FROM history_schema ORDER BY version"
        ).fetchall()
        tables = {
            row[0]
            for row in connection.execute(
                b"SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
    assert listed == [(m.version, m.description) for m in MIGRATIONS]
    assert {"history_cursors", "journal", "sessions", "telemetry_minutes"} <= tables


def test_a_database_of_a_newer_depotctl_is_refused(
    postgres: PostgresServer, history_database: str
) -> None:
    with psycopg.connect(postgres.url(history_database), autocommit=True) as connection:
        migrate(connection)
        connection.execute(
            b"INSERT INTO history_schema (version, description) VALUES (%s, 'from the future')",
            (LATEST + 1,),
        )
        with pytest.raises(Refusal) as refused:
            migrate(connection)
    assert refused.value.exit_code == 3
    assert f"version {LATEST + 1}" in refused.value.message
    assert "upgrade depotctl" in refused.value.message
