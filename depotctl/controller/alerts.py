"""The alert book: the conditions that hold, kept as alerts in the store, each raised
and cleared once in the journal.

The control loop calls, once per cycle, inside the cycle's unit of work::

    entries = alert_book.update(alert_conditions(live.snapshot, live.allocation),
                                at=live.snapshot.at)

and records ``entries`` with the cycle's other journal entries. A condition not yet
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

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from depotctl.controller.store import JournalKind, NewJournalEntry, Units, journal_entry
from depotctl.controller.store.alerts import AlertKey, Alerts, OpenAlert, alert_key, data_text
from depotctl.domain.alerts import Alert, AlertCondition, Subject, SubjectKind

#: How long a condition must stay away before its alert clears (controller's clock).
CLEAR_AFTER_S = 30.0
#: How long a cleared alert stays in the store (``GET /api/v1/alerts?all=true``).
RETENTION_S = 7 * 86_400.0


class AlertBook:
    """The alerts of one store (its unit-of-work factory)."""

    def __init__(
        self,
        units: Units,
        *,
        clear_after_s: float = CLEAR_AFTER_S,
        retention_s: float = RETENTION_S,
    ) -> None:
        self.units = units
        self.clear_after = timedelta(seconds=clear_after_s)
        self.retention = timedelta(seconds=retention_s)

    def update(
        self, conditions: Iterable[AlertCondition], *, at: datetime
    ) -> list[NewJournalEntry]:
        """Raise the conditions not open yet, clear the open alerts whose condition
        has stayed away long enough, and return the journal entries that say so, for
        the caller to record in the same unit of work. Of two conditions with the same
        kind and subject, the first counts."""
        holding: dict[AlertKey, AlertCondition] = {}
        for condition in conditions:
            holding.setdefault(alert_key(condition.kind, condition.subject), condition)
        entries: list[NewJournalEntry] = []
        with self.units() as uow:
            known = uow.alerts.open_rows()
            for key, condition in holding.items():
                existing = known.get(key)
                if existing is None:
                    alert_id = uow.alerts.open(condition, at)
                    entries.append(_raised(alert_id, condition, at))
                else:
                    _follow(uow.alerts, existing, condition)
            for key, existing in known.items():
                if key in holding:
                    continue
                if existing.absent_since is None:
                    uow.alerts.mark_absent(existing.id, at)
                elif at - _time(existing.absent_since) >= self.clear_after:
                    alert = uow.alerts.get(existing.id)
                    cleared_at = max(_time(existing.absent_since), alert.since)
                    uow.alerts.close(alert.id, cleared_at)
                    entries.append(_cleared(alert, cleared_at, at))
            uow.alerts.forget_cleared(at - self.retention)
        return entries

    def alerts(self, *, cleared_since: datetime | None = None, limit: int = 1000) -> list[Alert]:
        """The open alerts, then (with ``cleared_since``) those cleared at or after it,
        the most recently cleared first, at most ``limit`` of them; all by ``since``."""
        return self.units().alerts.listed(cleared_since=cleared_since, limit=limit)

    def open_alerts(self) -> list[Alert]:
        return self.alerts()


def _follow(alerts: Alerts, existing: OpenAlert, condition: AlertCondition) -> None:
    """The condition still holds (or is back before its alert cleared)."""
    data = data_text(condition.data)
    if (
        existing.absent_since is None
        and existing.reason == condition.reason
        and existing.data == data
    ):
        return
    alerts.follow(existing.id, condition.reason, data)


def _raised(alert_id: int, condition: AlertCondition, at: datetime) -> NewJournalEntry:
    return _entry_about(
        condition.subject,
        JournalKind.ALERT_RAISED,
        f"alert: {condition.message}",
        at=at,
        data={
            "alert": alert_id,
            "kind": condition.kind.value,
            "severity": condition.kind.severity.value,
            "subject": _subject_json(condition.subject),
            "reason": condition.reason,
            "details": dict(condition.data),
        },
    )


def _cleared(alert: Alert, cleared_at: datetime, at: datetime) -> NewJournalEntry:
    lasted = (cleared_at - alert.since).total_seconds()
    return _entry_about(
        alert.subject,
        JournalKind.ALERT_CLEARED,
        f"alert cleared after {_duration(lasted)}: {alert.headline}",
        at=at,
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


def _entry_about(
    subject: Subject, kind: JournalKind, message: str, *, at: datetime, data: dict[str, Any]
) -> NewJournalEntry:
    """A journal entry about an alert's subject, with the journal's EVSE and session
    columns set from it, so ``?evse=`` and ``?session=`` find an alert's entries."""
    return journal_entry(
        kind,
        message,
        at=at,
        evse=subject.id if subject.kind is SubjectKind.EVSE else None,
        session=subject.id if subject.kind is SubjectKind.SESSION else None,
        data=data,
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)
