"""The history database's schema, versioned: ``history_schema`` lists the migrations
applied, and :func:`migrate` applies the missing ones in order, under an advisory lock
(two shippers starting together migrate once).

Every table is keyed by ``depot`` first: many controllers share one database. Times are
``timestamptz`` (UTC), quantities in base units (W, A, Wh), as in the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from depotctl.domain.refusal import Refusal

#: The advisory lock migrations hold (any constant the fleet's other users avoid).
_MIGRATION_LOCK = 0x6465706F74  # "depot"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "journal, sessions, telemetry minutes and the shippers' cursors, per depot",
        (
            """
            CREATE TABLE history_cursors (
                depot text NOT NULL,
                stream text NOT NULL,
                position jsonb NOT NULL,
                moved_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (depot, stream)
            )
            """,
            """
            CREATE TABLE journal (
                depot text NOT NULL,
                id bigint NOT NULL,
                at timestamptz NOT NULL,
                kind text NOT NULL,
                evse text,
                envelope text,
                session text,
                message text NOT NULL,
                data jsonb NOT NULL,
                PRIMARY KEY (depot, id)
            )
            """,
            "CREATE INDEX journal_at ON journal (at)",
            "CREATE INDEX journal_evse ON journal (depot, evse, at) WHERE evse IS NOT NULL",
            """
            CREATE TABLE sessions (
                depot text NOT NULL,
                id text NOT NULL,
                evse_id text NOT NULL,
                started_at timestamptz NOT NULL,
                ended_at timestamptz,
                energy_delivered_wh double precision NOT NULL,
                requirement_energy_wh double precision,
                requirement_departure timestamptz,
                requirement_source text,
                vehicle_max_current_a double precision,
                planned_rate_a double precision,
                priority_class integer NOT NULL,
                vehicle_id text,
                fleet_id text,
                PRIMARY KEY (depot, id)
            )
            """,
            "CREATE INDEX sessions_started ON sessions (started_at)",
            "CREATE INDEX sessions_vehicle ON sessions (vehicle_id, started_at)"
            " WHERE vehicle_id IS NOT NULL",
            """
            CREATE TABLE telemetry_minutes (
                depot text NOT NULL,
                node text NOT NULL,
                minute timestamptz NOT NULL,
                samples integer NOT NULL,
                power_w_mean double precision,
                power_w_max double precision,
                l1_a_max double precision,
                l2_a_max double precision,
                l3_a_max double precision,
                PRIMARY KEY (depot, node, minute)
            )
            """,
            "CREATE INDEX telemetry_minutes_minute ON telemetry_minutes (minute)",
        ),
    ),
    Migration(
        2,
        "telemetry quarter hours and site revisions (what the reports price with), per depot",
        (
            """
            CREATE TABLE telemetry_quarters (
                depot text NOT NULL,
                node text NOT NULL,
                quarter timestamptz NOT NULL,
                minutes integer NOT NULL,
                samples integer NOT NULL,
                power_minutes integer NOT NULL,
                power_w_mean double precision,
                power_w_max double precision,
                l1_a_max double precision,
                l2_a_max double precision,
                l3_a_max double precision,
                PRIMARY KEY (depot, node, quarter)
            )
            """,
            "CREATE INDEX telemetry_quarters_quarter ON telemetry_quarters (quarter)",
            """
            CREATE TABLE revisions (
                depot text NOT NULL,
                number integer NOT NULL,
                created_at timestamptz NOT NULL,
                site_text text NOT NULL,
                files jsonb NOT NULL,
                PRIMARY KEY (depot, number)
            )
            """,
        ),
    ),
)

#: The schema version this depotctl writes.
LATEST = MIGRATIONS[-1].version


def migrate(connection: psycopg.Connection[tuple[Any, ...]]) -> int:
    """Apply the pending migrations, each with its ``history_schema`` row, in one
    transaction; the version now. A database of a newer depotctl is refused (exit 3)."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        connection.execute(
            "CREATE TABLE IF NOT EXISTS history_schema ("
            " version integer PRIMARY KEY, description text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        row = connection.execute("SELECT max(version) FROM history_schema").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > LATEST:
            raise Refusal(
                f"the history database's schema is version {current}, newer than this"
                f" depotctl's {LATEST}: upgrade depotctl where it ships",
                3,
            )
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            for statement in migration.statements:
                connection.execute(statement.encode())
            connection.execute(
                "INSERT INTO history_schema (version, description) VALUES (%s, %s)",
                (migration.version, migration.description),
            )
        return max(current, LATEST)
