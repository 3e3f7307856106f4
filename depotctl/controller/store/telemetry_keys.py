"""How telemetry history is keyed and valued in the store (store migration 13): a node
by its integer id in ``telemetry_nodes``, a minute or a quarter hour by its start in
minutes since the Unix epoch (UTC), power in integer milliwatts and current in integer
milliamps — a few bytes each where the ISO text and the floats took 27 and 8."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from depotctl.controller.store.database import Store

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
#: the minutes of a quarter hour, which telemetry minutes fold into past the raw retention
QUARTER_MINUTES = 15
#: epoch minutes before and after any time a store keeps (an open end of a window)
EARLIEST, LATEST = -(2**62), 2**62

#: a node's id, by its name (the parameter)
NODE_ID = "(SELECT id FROM telemetry_nodes WHERE name = ?)"
_ADD_NODES = "INSERT INTO telemetry_nodes (name) VALUES (?) ON CONFLICT (name) DO NOTHING"


def epoch_minute(at: datetime) -> int:
    """The first minute (epoch minutes) that starts at or after ``at``: a minute's own
    start gives that minute; a window's ends compare as the minutes' starts would."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"time {at} has no time zone; the store keeps aware UTC times")
    return -((EPOCH - at) // MINUTE)


def bound(at: datetime | None, open_end: int) -> int:
    """A window's end as epoch minutes (:func:`epoch_minute`); ``open_end`` for None."""
    return open_end if at is None else epoch_minute(at)


def minute_at(minute: int) -> datetime:
    """The start (UTC) of epoch minute ``minute``."""
    return EPOCH + minute * MINUTE


def milli(value: float | None) -> int | None:
    """A quantity in base units (W, A) as stored: integer thousandths."""
    return None if value is None else round(value * 1000)


def base(value: int | float | None) -> float | None:
    """A stored quantity (thousandths) back in base units."""
    return None if value is None else value / 1000


def add_nodes(store: Store, names: Iterable[str]) -> None:
    """Give each node of ``names`` its id (once), inside the caller's transaction."""
    store.write_many(_ADD_NODES, ((name,) for name in sorted(set(names))))
