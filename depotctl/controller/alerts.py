"""The alert book: the conditions that hold, kept as alerts in the store, each raised
and cleared once in the journal.

The control loop calls, once per cycle, inside the cycle's store transaction::

    entries = alert_book.update(alert_conditions(live.snapshot, live.allocation),
                                at=live.snapshot.at)

and appends ``entries`` with the cycle's other journal entries. A condition not yet
open is raised at once (``alert.raised``). One that goes away is not cleared at once:
it must stay away for :data:`CLEAR_AFTER_S` of the controller's clock, and if it comes
back meanwhile the alert simply stays open — so a condition that flaps writes at most
one raise and one clear per :data:`CLEAR_AFTER_S`, not two entries per cycle. Its
``cleared_at`` is when it went away. While open, an alert's reason and figures
follow the condition without journal entries (they change every cycle for a node's
reservations). Everything is in the store, read afresh on every update: a restart
neither repeats a raise nor loses an open alert or its pending clearance. Cleared
alerts are kept :data:`RETENTION_S`; the journal keeps them for good.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from depotctl.controller.store import JournalKind, NewJournalEntry, Store
from depotctl.domain.alerts import Alert, AlertCondition, AlertKind, Subject, SubjectKind

#: How long a condition must stay away before its alert clears (controller's clock).
CLEAR_AFTER_S = 30.0
#: How long a cleared alert stays in the store (``GET /api/v1/alerts?all=true``).
RETENTION_S = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class _Open:
    """An open alert's row: the store's time and JSON text as they are."""

    id: int
    absent_since: str | None
    reason: str
    data: str


class AlertBook:
    """The alerts of one store."""

    def __init__(
        self,
        store: Store,
        *,
        clear_after_s: float = CLEAR_AFTER_S,
        retention_s: float = RETENTION_S,
    ) -> None:
        self.store = store
        self.clear_after = timedelta(seconds=clear_after_s)
        self.retention = timedelta(seconds=retention_s)

    def update(
        self, conditions: Iterable[AlertCondition], *, at: datetime
    ) -> list[NewJournalEntry]:
        """Raise the conditions not open yet, clear the open alerts whose condition
        has stayed away long enough, and return the journal entries that say so, for
        the caller to append in the same transaction. Of two conditions with the same
        kind and subject, the first counts."""
        holding: dict[tuple[str, str, str], AlertCondition] = {}
        for condition in conditions:
            holding.setdefault(_key(condition.kind, condition.subject), condition)
        entries: list[NewJournalEntry] = []
        with self.store.transaction():
            known = self._open()
            for key, condition in holding.items():
                existing = known.get(key)
                if existing is None:
                    entries.append(self._raise(condition, at))
                else:
                    self._follow(existing, condition)
            for key, existing in known.items():
                if key in holding:
                    continue
                if existing.absent_since is None:
                    self.store.execute(
                        "UPDATE alerts SET absent_since = ? WHERE id = ?", (at, existing.id)
                    )
                elif at - _time(existing.absent_since) >= self.clear_after:
                    entries.append(self._clear(existing.id, _time(existing.absent_since), at))
            self.store.execute(
                "DELETE FROM alerts WHERE cleared_at IS NOT NULL AND cleared_at < ?",
                (at - self.retention,),
            )
        return entries

    def alerts(self, *, cleared_since: datetime | None = None, limit: int = 1000) -> list[Alert]:
        """The open alerts, then (with ``cleared_since``) those cleared at or after it,
        the most recently cleared first, at most ``limit`` of them; all by ``since``."""
        rows = self.store.select("SELECT * FROM alerts WHERE cleared_at IS NULL ORDER BY since, id")
        if cleared_since is not None:
            rows += self.store.select(
                "SELECT * FROM alerts WHERE cleared_at >= ? ORDER BY cleared_at DESC, id DESC"
                " LIMIT ?",
                (cleared_since, limit),
            )
        alerts = [_alert(row) for row in rows]
        return sorted(alerts, key=lambda a: (a.since, a.id))

    def open_alerts(self) -> list[Alert]:
        return self.alerts()

    # Writes

    def _open(self) -> dict[tuple[str, str, str], _Open]:
        """The open alerts as stored (text, unparsed: this runs every cycle)."""
        rows = self.store.select(
            "SELECT id, kind, subject_kind, subject_id, absent_since, reason, data"
            " FROM alerts WHERE cleared_at IS NULL"
        )
        return {(row[1], row[2], row[3]): _Open(row[0], row[4], row[5], row[6]) for row in rows}

    def _raise(self, condition: AlertCondition, at: datetime) -> NewJournalEntry:
        self.store.execute(
            "INSERT INTO alerts (kind, subject_kind, subject_id, since, reason, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                condition.kind.value,
                condition.subject.kind.value,
                condition.subject.id,
                at,
                condition.reason,
                _json(condition.data),
            ),
        )
        # the store's lock is held throughout the transaction: no other insert between
        [row] = self.store.select("SELECT last_insert_rowid() AS id")
        evse, session = _refs(condition.subject)
        return NewJournalEntry(
            at=at,
            kind=JournalKind.ALERT_RAISED,
            message=f"alert: {condition.message}",
            evse=evse,
            session=session,
            data={
                "alert": row["id"],
                "kind": condition.kind.value,
                "severity": condition.kind.severity.value,
                "subject": _subject_json(condition.subject),
                "reason": condition.reason,
                "details": dict(condition.data),
            },
        )

    def _follow(self, existing: _Open, condition: AlertCondition) -> None:
        """The condition still holds (or is back before its alert cleared)."""
        data = _json(condition.data)
        if (
            existing.absent_since is None
            and existing.reason == condition.reason
            and existing.data == data
        ):
            return
        self.store.execute(
            "UPDATE alerts SET absent_since = NULL, reason = ?, data = ? WHERE id = ?",
            (condition.reason, data, existing.id),
        )

    def _clear(self, alert_id: int, absent_since: datetime, at: datetime) -> NewJournalEntry:
        [row] = self.store.select("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        alert = _alert(row)
        cleared_at = max(absent_since, alert.since)
        self.store.execute(
            "UPDATE alerts SET cleared_at = ?, absent_since = NULL WHERE id = ?",
            (cleared_at, alert.id),
        )
        lasted = (cleared_at - alert.since).total_seconds()
        evse, session = _refs(alert.subject)
        return NewJournalEntry(
            at=at,
            kind=JournalKind.ALERT_CLEARED,
            message=f"alert cleared after {_duration(lasted)}: {alert.headline}",
            evse=evse,
            session=session,
            data={
                "alert": alert.id,
                "kind": alert.kind.value,
                "subject": _subject_json(alert.subject),
                "since": alert.since.isoformat(),
                "cleared_at": cleared_at.isoformat(),
                "duration_s": lasted,
                "reason": alert.reason,
            },
        )


def alert_json(alert: Alert) -> dict[str, Any]:
    """An alert as the API gives it (docs/api.md)."""
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "severity": alert.kind.severity.value,
        "subject": _subject_json(alert.subject),
        "since": alert.since.isoformat(),
        "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
        "open": alert.is_open,
        "headline": alert.headline,
        "reason": alert.reason,
        "message": alert.message,
        "data": dict(alert.data),
    }


def _subject_json(subject: Subject) -> dict[str, str]:
    return {"kind": subject.kind.value, "id": subject.id}


def _refs(subject: Subject) -> tuple[str | None, str | None]:
    """The journal's EVSE and session columns for the subject, so ``?evse=`` and
    ``?session=`` find an alert's entries."""
    return (
        subject.id if subject.kind is SubjectKind.EVSE else None,
        subject.id if subject.kind is SubjectKind.SESSION else None,
    )


def _key(kind: AlertKind, subject: Subject) -> tuple[str, str, str]:
    return (kind.value, subject.kind.value, subject.id)


def _json(data: Mapping[str, Any]) -> str:
    """``data`` as stored: compared as text with the stored one, every cycle."""
    return json.dumps(dict(data), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _alert(row: sqlite3.Row) -> Alert:
    return Alert(
        id=row["id"],
        kind=AlertKind(row["kind"]),
        subject=Subject(SubjectKind(row["subject_kind"]), row["subject_id"]),
        since=_time(row["since"]),
        reason=row["reason"],
        data=json.loads(row["data"]),
        cleared_at=_time(row["cleared_at"]) if row["cleared_at"] else None,
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)
