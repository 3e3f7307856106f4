"""The store's schema, as numbered migrations; ``PRAGMA user_version`` is the number
of the last one applied.

Each migration runs in one ``BEGIN IMMEDIATE`` transaction together with the bump
of ``user_version``, so a store is always at exactly one version (a crash mid
migration leaves the previous one). Never edit a released migration: add one.
Times are ISO 8601 UTC text (fixed width, so they sort as text), telemetry's epoch
minutes; quantities are in base units (W, A, Wh, s), telemetry's in thousandths.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from depotctl.controller import migrations_telemetry

#: ``PRAGMA application_id`` of a depotctl store ("DEPO").
APPLICATION_ID = 0x4445504F


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    summary: str
    statements: tuple[str, ...]


class StoreVersionError(RuntimeError):
    """The store was written by a newer depotctl (or is not a depotctl store)."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "revisions, journal, envelopes, sources, sessions, chargers, readings, overrides",
        (
            f"PRAGMA application_id = {APPLICATION_ID}",
            """
            CREATE TABLE revisions (
                number INTEGER PRIMARY KEY CHECK (number >= 1),
                hash TEXT NOT NULL CHECK (length(hash) = 64),
                created_at TEXT NOT NULL,
                author TEXT NOT NULL,
                message TEXT NOT NULL,
                site_text TEXT NOT NULL,
                rollback_of INTEGER REFERENCES revisions (number)
            )
            """,
            """
            CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
            BEGIN SELECT RAISE(ABORT, 'revisions are never rewritten'); END
            """,
            """
            CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
            BEGIN SELECT RAISE(ABORT, 'revisions are never rewritten'); END
            """,
            """
            CREATE TABLE journal (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind <> ''),
                evse TEXT,
                envelope TEXT,
                session TEXT,
                message TEXT NOT NULL,
                data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
            )
            """,
            "CREATE INDEX journal_at ON journal (at, id)",
            "CREATE INDEX journal_evse ON journal (evse, at) WHERE evse IS NOT NULL",
            "CREATE INDEX journal_envelope ON journal (envelope, at) WHERE envelope IS NOT NULL",
            "CREATE INDEX journal_session ON journal (session, at) WHERE session IS NOT NULL",
            """
            CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END
            """,
            """
            CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END
            """,
            """
            CREATE TABLE envelopes (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                target TEXT NOT NULL,
                direction TEXT NOT NULL CHECK (direction IN ('import', 'export')),
                limit_value REAL NOT NULL,
                unit TEXT NOT NULL CHECK (unit IN ('W', 'A')),
                start_at TEXT NOT NULL,
                end_at TEXT CHECK (end_at IS NULL OR end_at > start_at),
                received_at TEXT NOT NULL,
                mode TEXT NOT NULL CHECK (mode IN ('normal', 'fallback')),
                phases TEXT,
                priority INTEGER NOT NULL DEFAULT 0,
                withdrawn_at TEXT,
                state TEXT NOT NULL DEFAULT 'received',
                state_reason TEXT
            )
            """,
            "CREATE INDEX envelopes_end ON envelopes (end_at)",
            """
            CREATE TABLE sources (
                source TEXT PRIMARY KEY,
                last_heard TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                evse_id TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT CHECK (ended_at IS NULL OR ended_at >= started_at),
                energy_delivered_wh REAL NOT NULL DEFAULT 0 CHECK (energy_delivered_wh >= 0),
                requirement_energy_wh REAL,
                requirement_departure TEXT,
                requirement_source TEXT,
                vehicle_max_current_a REAL,
                planned_rate_a REAL,
                priority_class INTEGER NOT NULL DEFAULT 0,
                CHECK ((requirement_energy_wh IS NULL) = (requirement_departure IS NULL))
            )
            """,
            # at most one open session per EVSE
            "CREATE UNIQUE INDEX sessions_open ON sessions (evse_id) WHERE ended_at IS NULL",
            """
            CREATE TABLE charger_states (
                charger_id TEXT PRIMARY KEY,
                online INTEGER NOT NULL CHECK (online IN (0, 1)),
                last_outcome TEXT
                    CHECK (last_outcome IN ('accepted', 'rejected', 'timeout', 'offline')),
                last_accepted_limit_a REAL,
                last_command_at TEXT,
                reason TEXT
            )
            """,
            """
            CREATE TABLE readings (
                node TEXT PRIMARY KEY,
                at TEXT NOT NULL,
                power_w REAL,
                current_a TEXT CHECK (current_a IS NULL OR json_valid(current_a))
            )
            """,
            """
            CREATE TABLE overrides (
                evse_id TEXT PRIMARY KEY,
                paused INTEGER NOT NULL CHECK (paused IN (0, 1)),
                cap_a REAL CHECK (cap_a IS NULL OR cap_a >= 0),
                set_at TEXT NOT NULL,
                author TEXT NOT NULL,
                reason TEXT,
                CHECK (paused = 1 OR cap_a IS NOT NULL)
            )
            """,
        ),
    ),
    Migration(
        2,
        "telemetry history: one row per node and minute (mean power, peaks)",
        (
            """
            CREATE TABLE telemetry (
                node TEXT NOT NULL,
                minute TEXT NOT NULL,
                samples INTEGER NOT NULL CHECK (samples >= 1),
                power_samples INTEGER NOT NULL DEFAULT 0,
                power_w_mean REAL,
                power_w_max REAL,
                l1_a_max REAL,
                l2_a_max REAL,
                l3_a_max REAL,
                PRIMARY KEY (node, minute)
            ) WITHOUT ROWID
            """,
            "CREATE INDEX telemetry_by_minute ON telemetry (minute)",
        ),
    ),
    Migration(
        3,
        "revision files: the tariff and carbon files a revision refers to, bundled",
        (
            """
            CREATE TABLE revision_files (
                revision INTEGER NOT NULL REFERENCES revisions (number),
                path TEXT NOT NULL CHECK (length(path) > 0),
                content TEXT NOT NULL,
                PRIMARY KEY (revision, path)
            ) WITHOUT ROWID
            """,
            """
            CREATE TRIGGER revision_files_no_update BEFORE UPDATE ON revision_files
            BEGIN SELECT RAISE(ABORT, 'revisions are never rewritten'); END
            """,
        ),
    ),
    Migration(
        4,
        "alerts: open and recently cleared conditions (controller/alerts.py)",
        (
            # ``absent_since``: the condition stopped holding then; the alert clears
            # once it has stayed away long enough (the debounce), else it is resumed
            """
            CREATE TABLE alerts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL CHECK (kind <> ''),
                subject_kind TEXT NOT NULL CHECK (subject_kind <> ''),
                subject_id TEXT NOT NULL,
                since TEXT NOT NULL,
                cleared_at TEXT CHECK (cleared_at IS NULL OR cleared_at >= since),
                absent_since TEXT,
                reason TEXT NOT NULL,
                data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
            )
            """,
            # at most one open alert per condition
            "CREATE UNIQUE INDEX alerts_open ON alerts (kind, subject_kind, subject_id)"
            " WHERE cleared_at IS NULL",
            "CREATE INDEX alerts_cleared ON alerts (cleared_at) WHERE cleared_at IS NOT NULL",
        ),
    ),
    Migration(
        5,
        "source states: each envelope source's last evaluated health (controller/lifecycle.py)",
        (
            # online (1) or offline (0) as the control loop last found it, and since
            # when (that evaluation's time): a restart journals no change twice
            """
            CREATE TABLE source_states (
                source TEXT PRIMARY KEY,
                online INTEGER NOT NULL CHECK (online IN (0, 1)),
                since TEXT NOT NULL
            )
            """,
        ),
    ),
    Migration(
        6,
        "charger states: whether the fallback profile was accepted, and the limits each "
        "EVSE may be under with when they lapse (an uncontrollable charger's assumed draw)",
        (
            "ALTER TABLE charger_states ADD COLUMN fallback_accepted INTEGER NOT NULL"
            " DEFAULT 1 CHECK (fallback_accepted IN (0, 1))",
            "ALTER TABLE charger_states ADD COLUMN held TEXT NOT NULL DEFAULT '{}'"
            " CHECK (json_valid(held))",
        ),
    ),
    Migration(
        7,
        "OSCP peers: each OSCP source's registration and handshake, the request ids it "
        "sent (answered once), and the outbox of messages to it until acknowledged",
        (
            # the deadline a source's last message named (OSCP's offline_mode_at); NULL:
            # its offline_after counts from last_heard
            "ALTER TABLE sources ADD COLUMN deadline TEXT",
            # the tokens themselves live in the state directory's token files, never here
            """
            CREATE TABLE oscp_peers (
                source TEXT PRIMARY KEY,
                base_url TEXT,
                registered_at TEXT,
                awaiting_register INTEGER NOT NULL DEFAULT 0
                    CHECK (awaiting_register IN (0, 1)),
                handshake_at TEXT,
                heartbeat_interval_s REAL CHECK (heartbeat_interval_s > 0),
                measurement_configuration TEXT NOT NULL DEFAULT '[]'
                    CHECK (json_valid(measurement_configuration)),
                offline_mode_at TEXT
            )
            """,
            """
            CREATE TABLE oscp_requests (
                source TEXT NOT NULL,
                request_id TEXT NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (source, request_id)
            ) WITHOUT ROWID
            """,
            "CREATE INDEX oscp_requests_at ON oscp_requests (at)",
            """
            CREATE TABLE oscp_outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                source TEXT NOT NULL,
                message TEXT NOT NULL CHECK (message <> ''),
                request_id TEXT NOT NULL UNIQUE,
                correlation_id TEXT,
                body TEXT NOT NULL CHECK (json_valid(body)),
                initial_token INTEGER NOT NULL DEFAULT 0 CHECK (initial_token IN (0, 1)),
                created_at TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT NOT NULL,
                last_error TEXT
            )
            """,
            "CREATE INDEX oscp_outbox_due ON oscp_outbox (next_attempt_at)",
        ),
    ),
    Migration(
        8,
        "OSCP out: each source's last measured period and running totals, the forecast "
        "block behind each OSCP envelope, and the compliance errors reported",
        (
            # the last period whose measurements were queued (a restart never sends one
            # twice); the totals since ``since`` (CONTINUOUS: cumulative since then)
            """
            CREATE TABLE oscp_measured (
                source TEXT PRIMARY KEY,
                since TEXT NOT NULL,
                period_end TEXT NOT NULL,
                import_wh REAL NOT NULL DEFAULT 0 CHECK (import_wh >= 0),
                export_wh REAL NOT NULL DEFAULT 0 CHECK (export_wh >= 0)
            )
            """,
            # the block (as the peer sent it) and request id of each envelope a forecast
            # made: what a compliance error names and correlates to
            """
            CREATE TABLE oscp_forecast_blocks (
                envelope_id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                request_id TEXT NOT NULL,
                block TEXT NOT NULL CHECK (json_valid(block)),
                block_end TEXT NOT NULL
            )
            """,
            "CREATE INDEX oscp_forecast_blocks_end ON oscp_forecast_blocks (block_end)",
            # a compliance error is reported once per block and cause
            """
            CREATE TABLE oscp_compliance (
                envelope_id TEXT NOT NULL,
                cause TEXT NOT NULL,
                source TEXT NOT NULL,
                since TEXT NOT NULL,
                PRIMARY KEY (envelope_id, cause)
            ) WITHOUT ROWID
            """,
        ),
    ),
    Migration(
        9,
        "sessions: the vehicle and fleet they charge, and the idTag / idToken they began with",
        (
            "ALTER TABLE sessions ADD COLUMN vehicle_id TEXT",
            "ALTER TABLE sessions ADD COLUMN fleet_id TEXT",
            "ALTER TABLE sessions ADD COLUMN id_token TEXT",
            "CREATE INDEX sessions_by_vehicle ON sessions (vehicle_id, started_at)",
        ),
    ),
    Migration(
        10,
        "the control cycles' inputs over time (time travel): a keyframe every so often, "
        "and each cycle's changes since the one before",
        (
            """
            CREATE TABLE cycle_inputs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                revision INTEGER NOT NULL,
                lead_s REAL NOT NULL,
                keyframe INTEGER NOT NULL CHECK (keyframe IN (0, 1)),
                body BLOB NOT NULL
            )
            """,
            "CREATE INDEX cycle_inputs_at ON cycle_inputs (at)",
            "CREATE INDEX cycle_inputs_keyframes ON cycle_inputs (keyframe, id)",
        ),
    ),
    Migration(
        11,
        "the journal by kind: a page of one kind, and the count of the rest, read from an "
        "index in the journal's order (time, then id) instead of the whole journal",
        ("CREATE INDEX journal_kind ON journal (kind, at)",),
    ),
    Migration(
        12,
        "retention (docs/retention.md): telemetry minutes downsampled into quarter hours, "
        "and the journal's horizon — entries before it may be forgotten, none after",
        (
            """
            CREATE TABLE telemetry_quarters (
                node TEXT NOT NULL,
                start TEXT NOT NULL,
                minutes INTEGER NOT NULL CHECK (minutes >= 1),
                samples INTEGER NOT NULL,
                power_samples INTEGER NOT NULL,
                power_minutes INTEGER NOT NULL,
                power_w_mean REAL,
                power_w_max REAL,
                l1_a_max REAL, l2_a_max REAL, l3_a_max REAL,
                PRIMARY KEY (node, start)
            ) WITHOUT ROWID
            """,
            "CREATE TABLE journal_horizon (id INTEGER PRIMARY KEY CHECK (id = 1), cut TEXT NOT NULL)",
            "DROP TRIGGER journal_no_delete",
            """
            CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
            WHEN old.at >= coalesce((SELECT cut FROM journal_horizon WHERE id = 1), '')
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only: only entries before its horizon go'); END
            """,
        ),
    ),
    Migration(13, migrations_telemetry.SUMMARY, migrations_telemetry.STATEMENTS),
)

#: The newest schema this code knows.
LATEST = MIGRATIONS[-1].version


def migrate(connection: sqlite3.Connection, path: Path) -> int:
    """Bring the store at ``path`` up to :data:`LATEST`, one transaction per migration,
    and return its version. ``connection`` must be in autocommit mode
    (``isolation_level=None``). Raises :class:`StoreVersionError` for a store newer
    than this code, or a file that is some other application's database."""
    _check(connection, path)
    for migration in MIGRATIONS:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # re-read under the write lock: another process may have migrated meanwhile
            version = _check(connection, path)
            if version >= migration.version:
                connection.execute("ROLLBACK")
                continue
            for statement in migration.statements:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {migration.version}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    return _version(connection)


def _check(connection: sqlite3.Connection, path: Path) -> int:
    version = _version(connection)
    if version > LATEST:
        raise StoreVersionError(
            f"the store {path} has schema version {version}, newer than this depotctl "
            f"knows ({LATEST}); it was written by a newer depotctl: upgrade depotctl, "
            "or use a different --state-dir"
        )
    app_id = int(connection.execute("PRAGMA application_id").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise StoreVersionError(f"{path} is not a depotctl store (application id {app_id:#x})")
    return version


def _version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])
