"""Records the store's tests build: times, envelopes, sessions, and a raw connection
to look behind the store."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.sessions import Session

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
SITE_A = "apiVersion: depotctl/v1\nkind: Site\nmetadata: {name: a}\n"
SITE_B = SITE_A.replace("name: a", "name: b")


def raw(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db, isolation_level=None)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def envelope(envelope_id: str = "env-1", **changes: object) -> Envelope:
    fields: dict[str, object] = {
        "id": envelope_id,
        "source": "dso",
        "target": "grid",
        "direction": Direction.IMPORT,
        "limit": 400_000.0,
        "unit": LimitUnit.W,
        "start": at(0),
        "end": at(60),
        "received_at": at(-5),
    }
    fields.update(changes)
    return Envelope(**fields)  # type: ignore[arg-type]


def session(session_id: str = "s-1", evse: str = "chg-01/1", **changes: object) -> Session:
    fields: dict[str, object] = {"id": session_id, "evse_id": evse, "started": at(0)}
    fields.update(changes)
    return Session(**fields)  # type: ignore[arg-type]
