"""Alerts: the open ones and those cleared recently (the alert book's policy is in
:mod:`depotctl.controller.alerts`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse, to_json
from depotctl.domain.alerts import Alert, AlertCondition, AlertKind, Subject, SubjectKind

#: An open alert's key: its kind, its subject's kind and its subject's id.
AlertKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An open alert's row: the store's time and JSON text as they are (compared as
    text every cycle, not parsed)."""

    id: int
    absent_since: str | None
    reason: str
    data: str


def alert_key(kind: AlertKind, subject: Subject) -> AlertKey:
    return (kind.value, subject.kind.value, subject.id)


def data_text(data: Mapping[str, Any]) -> str:
    """An alert's ``data`` as stored: compared as text with the stored one."""
    return to_json(dict(data))


class Alerts:
    """The alerts of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def open_rows(self) -> dict[AlertKey, OpenAlert]:
        """The open alerts as stored (text, unparsed: this runs every cycle)."""
        rows = self._store.rows(
            "SELECT id, kind, subject_kind, subject_id, absent_since, reason, data"
            " FROM alerts WHERE cleared_at IS NULL"
        )
        return {(row[1], row[2], row[3]): OpenAlert(row[0], row[4], row[5], row[6]) for row in rows}

    def open(self, condition: AlertCondition, at: datetime) -> int:
        """Store a new open alert for ``condition``; its id."""
        with self._store.transaction():
            cursor = self._store.write(
                "INSERT INTO alerts (kind, subject_kind, subject_id, since, reason, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    condition.kind.value,
                    condition.subject.kind.value,
                    condition.subject.id,
                    iso(at),
                    condition.reason,
                    data_text(condition.data),
                ),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def mark_absent(self, alert_id: int, at: datetime) -> None:
        """Its condition stopped holding at ``at``."""
        with self._store.transaction():
            self._store.write(
                "UPDATE alerts SET absent_since = ? WHERE id = ?", (iso(at), alert_id)
            )

    def follow(self, alert_id: int, reason: str, data: str) -> None:
        """Its condition holds (again), with this reason and data (as stored)."""
        with self._store.transaction():
            self._store.write(
                "UPDATE alerts SET absent_since = NULL, reason = ?, data = ? WHERE id = ?",
                (reason, data, alert_id),
            )

    def close(self, alert_id: int, cleared_at: datetime) -> None:
        with self._store.transaction():
            self._store.write(
                "UPDATE alerts SET cleared_at = ?, absent_since = NULL WHERE id = ?",
                (iso(cleared_at), alert_id),
            )

    def forget_cleared(self, before: datetime) -> None:
        """Drop the alerts cleared before ``before``."""
        with self._store.transaction():
            self._store.write(
                "DELETE FROM alerts WHERE cleared_at IS NOT NULL AND cleared_at < ?",
                (iso(before),),
            )

    def get(self, alert_id: int) -> Alert:
        [row] = self._store.rows("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return _alert(row)

    def listed(self, *, cleared_since: datetime | None = None, limit: int = 1000) -> list[Alert]:
        """The open alerts, then (with ``cleared_since``) those cleared at or after it,
        the most recently cleared first, at most ``limit`` of them; all by ``since``."""
        rows = self._store.rows("SELECT * FROM alerts WHERE cleared_at IS NULL ORDER BY since, id")
        if cleared_since is not None:
            rows += self._store.rows(
                "SELECT * FROM alerts WHERE cleared_at >= ? ORDER BY cleared_at DESC, id DESC"
                " LIMIT ?",
                (iso(cleared_since), limit),
            )
        alerts = [_alert(row) for row in rows]
        return sorted(alerts, key=lambda a: (a.since, a.id))


def _alert(row: sqlite3.Row) -> Alert:
    return Alert(
        id=row["id"],
        kind=AlertKind(row["kind"]),
        subject=Subject(SubjectKind(row["subject_kind"]), row["subject_id"]),
        since=parse(row["since"]),
        reason=row["reason"],
        data=json.loads(row["data"]),
        cleared_at=parse(row["cleared_at"]) if row["cleared_at"] else None,
    )
