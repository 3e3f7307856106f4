"""The streams a shipper drains, each with a cursor: how the store gives a batch after
a key (SQLite, keyset), and how the history database takes it (an upsert keyed by the
depot and the row's id in the store).

The journal is append-only: a row shipped again is kept as it is. Sessions and
telemetry minutes change after they are first shipped, so a round starts a little
before its cursor (:data:`SESSION_GRACE`, :data:`MINUTE_GRACE`) and their upserts
update the rows that differ; open sessions are shipped every round."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from depotctl.history.backlog import Row

#: Ended sessions shipped again for this long after their end: a charger's late word
#: may still raise their energy.
SESSION_GRACE = timedelta(hours=1)
#: Telemetry minutes shipped again for this long: the newest still gather readings.
MINUTE_GRACE = timedelta(minutes=5)

#: Session columns that are times (``timestamptz`` in the history database).
_SESSION_TIMES = ("started_at", "ended_at", "requirement_departure")
_MINUTE_VALUES = ("samples", "power_w_mean", "power_w_max", "l1_a_max", "l2_a_max", "l3_a_max")


def _first(row: Row) -> tuple[Any, ...]:
    return (row[0],)


@dataclass(frozen=True)
class Stream:
    """One kind of row with a cursor named ``name``."""

    name: str
    select: str  #: SQLite, params (*key, limit), rows in key order
    upsert: str  #: PostgreSQL, params (depot, *row)
    start: tuple[Any, ...]  #: the key before every row
    key: Callable[[Row], tuple[Any, ...]] = _first  #: a row's key (the next batch's start)
    grace: timedelta | None = None  #: how far back of its cursor a round starts
    json_last: bool = False  #: the row's last column is JSON text (jsonb there)

    def values(self, depot: str, row: Row) -> tuple[Any, ...]:
        if self.json_last:
            return (depot, *row[:-1], Jsonb(json.loads(row[-1])))
        return (depot, *row)

    def round_start(self, cursor: tuple[Any, ...]) -> tuple[Any, ...]:
        """Where a round starts: the cursor, a time key moved back by the grace (every
        row at that instant or after comes again)."""
        if self.grace is None or not cursor[0]:
            return cursor
        at = datetime.fromisoformat(cursor[0]) - self.grace
        return (at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z", "")


def _when_distinct(table: str, columns: tuple[str, ...]) -> str:
    """An upsert's update of ``columns``, only where they differ from the stored row."""
    return (
        " DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns)
        + f" WHERE ({', '.join(f'{table}.{c}' for c in columns)}) IS DISTINCT FROM"
        + f" ({', '.join(f'excluded.{c}' for c in columns)})"
    )


JOURNAL = Stream(
    "journal",
    "SELECT id, at, kind, evse, envelope, session, message, data FROM journal"
    " WHERE id > ? ORDER BY id LIMIT ?",
    "INSERT INTO journal (depot, id, at, kind, evse, envelope, session, message, data)"
    " VALUES (%s, %s, %s::timestamptz, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (depot, id) DO NOTHING",
    start=(0,),
    json_last=True,
)

TELEMETRY = Stream(
    "telemetry",
    # the store's minutes (migration 13: epoch minutes, node ids, mW and mA) as its
    # ISO text, node name and W/A; keyed as before (text), read by its minute index
    "SELECT strftime('%Y-%m-%dT%H:%M:00.000000Z', t.minute * 60, 'unixepoch') AS at,"
    " n.name, t.samples, t.power_mw_mean / 1000.0, t.power_mw_max / 1000.0,"
    " t.l1_ma_max / 1000.0, t.l2_ma_max / 1000.0, t.l3_ma_max / 1000.0"
    " FROM telemetry t JOIN telemetry_nodes n ON n.id = t.node"
    " WHERE t.minute >= coalesce(CAST(strftime('%s', ?1) AS INTEGER) / 60, -(1 << 62))"
    " AND (at, n.name) > (?1, ?2) ORDER BY t.minute, n.name LIMIT ?3",
    f"INSERT INTO telemetry_minutes (depot, minute, node, {', '.join(_MINUTE_VALUES)})"
    " VALUES (%s, %s::timestamptz, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (depot, node, minute)" + _when_distinct("telemetry_minutes", _MINUTE_VALUES),
    start=("", ""),
    key=lambda row: (row[0], row[1]),
    grace=MINUTE_GRACE,
)


def session_upsert(columns: tuple[str, ...]) -> str:
    """The sessions' upsert of ``columns`` (the store's, :meth:`StoreBacklog.session_columns`)."""
    values = ", ".join("%s::timestamptz" if c in _SESSION_TIMES else "%s" for c in columns)
    return (
        f"INSERT INTO sessions (depot, {', '.join(columns)}) VALUES (%s, {values})"
        " ON CONFLICT (depot, id)" + _when_distinct("sessions", columns[1:])
    )


def ended_sessions(columns: tuple[str, ...]) -> Stream:
    """Ended sessions, by (ended_at, id)."""
    return Stream(
        "sessions",
        f"SELECT {', '.join(columns)} FROM sessions WHERE ended_at IS NOT NULL"
        " AND (ended_at, id) > (?, ?) ORDER BY ended_at, id LIMIT ?",
        session_upsert(columns),
        start=("", ""),
        key=lambda row: (row[3], row[0]),
        grace=SESSION_GRACE,
    )


def open_sessions(columns: tuple[str, ...]) -> str:
    """The store's open sessions, shipped every round."""
    return f"SELECT {', '.join(columns)} FROM sessions WHERE ended_at IS NULL"


#: Telemetry quarter hours shipped again for this long: a minute that arrives late
#: merges into its quarter (the store's compaction).
QUARTER_GRACE = timedelta(hours=1)
_QUARTER_VALUES = (
    "minutes",
    "samples",
    "power_minutes",
    "power_w_mean",
    "power_w_max",
    "l1_a_max",
    "l2_a_max",
    "l3_a_max",
)
#: The minutes older than the store's raw retention, folded into quarter hours (node
#: ids, epoch minutes, the minutes' summed mean power in mW, peaks in mW and mA: its
#: migration 13) as shipped: ISO start, node name, the mean power over the minutes with
#: one in W (so mean × power_minutes is the energy; divided as the store's API divides:
#: equal to the bit), peaks in W and A.
QUARTERS = Stream(
    "quarters",
    "SELECT strftime('%Y-%m-%dT%H:%M:%S.000000Z', q.start * 60, 'unixepoch'),"
    " n.name, q.minutes, q.samples, q.power_minutes,"
    " CAST(q.power_mw_sum AS REAL) / nullif(q.power_minutes, 0) / 1000.0,"
    " q.power_mw_max / 1000.0,"
    " q.l1_ma_max / 1000.0, q.l2_ma_max / 1000.0, q.l3_ma_max / 1000.0"
    " FROM telemetry_quarters q JOIN telemetry_nodes n ON n.id = q.node"
    " WHERE (q.start, n.name) > (coalesce(CAST(strftime('%s', ?) AS INTEGER) / 60, -1), ?)"
    " ORDER BY q.start, n.name LIMIT ?",
    f"INSERT INTO telemetry_quarters (depot, quarter, node, {', '.join(_QUARTER_VALUES)})"
    f" VALUES (%s, %s::timestamptz, %s, {', '.join(['%s'] * len(_QUARTER_VALUES))})"
    " ON CONFLICT (depot, node, quarter)" + _when_distinct("telemetry_quarters", _QUARTER_VALUES),
    start=("", ""),
    key=lambda row: (row[0], row[1]),
    grace=QUARTER_GRACE,
)

#: The site revisions with their bundled files (what a report prices with): never
#: rewritten, so a row shipped again is kept as it is.
REVISIONS = Stream(
    "revisions",
    "SELECT number, created_at, site_text, (SELECT json_group_object(path, content)"
    " FROM revision_files WHERE revision = number) FROM revisions"
    " WHERE number > ? ORDER BY number LIMIT ?",
    "INSERT INTO revisions (depot, number, created_at, site_text, files)"
    " VALUES (%s, %s, %s::timestamptz, %s, %s) ON CONFLICT (depot, number) DO NOTHING",
    start=(0,),
    json_last=True,
)
