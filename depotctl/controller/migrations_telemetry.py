"""Store migration 13 (listed in :mod:`depotctl.controller.migrations`): telemetry kept
compactly (docs/retention.md, store/telemetry_keys.py) — a node table, and the minutes
and quarter hours keyed by the node's integer id and the epoch minute they start,
power in integer mW and current in integer mA (a quarter hour keeps the sum of its
minutes' mean power: exact); the existing rows converted in place.
Minutes and quarters keep one index each, by time (the history shipper reads them in
that order); every other reader goes by node, the primary key."""

from __future__ import annotations

SUMMARY = (
    "telemetry keyed compactly: node ids, epoch minutes, milliwatts and milliamps "
    "(a day at full resolution within 200 kB per charger)"
)


def _as_epoch_minute(column: str) -> str:
    return f"CAST(strftime('%s', {column}) AS INTEGER) / 60"


def _as_milli(*columns: str) -> str:
    return ", ".join(f"CAST(round({c} * 1000) AS INTEGER)" for c in columns)


_PEAKS = ("power_w_max", "l1_a_max", "l2_a_max", "l3_a_max")

STATEMENTS = (
    "CREATE TABLE telemetry_nodes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "INSERT INTO telemetry_nodes (name)"
    " SELECT node FROM telemetry UNION SELECT node FROM telemetry_quarters ORDER BY 1",
    """
    CREATE TABLE telemetry_minutes (
        node INTEGER NOT NULL,
        minute INTEGER NOT NULL,
        samples INTEGER NOT NULL CHECK (samples >= 1),
        power_samples INTEGER NOT NULL DEFAULT 0,
        power_mw_mean INTEGER,
        power_mw_max INTEGER,
        l1_ma_max INTEGER,
        l2_ma_max INTEGER,
        l3_ma_max INTEGER,
        PRIMARY KEY (node, minute)
    ) WITHOUT ROWID
    """,
    f"""
    INSERT INTO telemetry_minutes
    SELECT n.id, {_as_epoch_minute("t.minute")}, t.samples, t.power_samples,
           {_as_milli("t.power_w_mean", *_PEAKS)}
    FROM telemetry t JOIN telemetry_nodes n ON n.name = t.node
    """,
    "DROP TABLE telemetry",
    "ALTER TABLE telemetry_minutes RENAME TO telemetry",
    "CREATE INDEX telemetry_by_minute ON telemetry (minute)",
    """
    CREATE TABLE telemetry_quarter_hours (
        node INTEGER NOT NULL,
        start INTEGER NOT NULL,
        minutes INTEGER NOT NULL CHECK (minutes >= 1),
        samples INTEGER NOT NULL,
        power_samples INTEGER NOT NULL,
        power_minutes INTEGER NOT NULL,
        power_mw_sum INTEGER,
        power_mw_max INTEGER,
        l1_ma_max INTEGER, l2_ma_max INTEGER, l3_ma_max INTEGER,
        PRIMARY KEY (node, start)
    ) WITHOUT ROWID
    """,
    f"""
    INSERT INTO telemetry_quarter_hours
    SELECT n.id, {_as_epoch_minute("q.start")}, q.minutes, q.samples, q.power_samples,
           q.power_minutes, {_as_milli("q.power_w_mean * q.power_minutes", *_PEAKS)}
    FROM telemetry_quarters q JOIN telemetry_nodes n ON n.name = q.node
    """,
    "DROP TABLE telemetry_quarters",
    "ALTER TABLE telemetry_quarter_hours RENAME TO telemetry_quarters",
    "CREATE INDEX telemetry_quarters_by_start ON telemetry_quarters (start)",
)
