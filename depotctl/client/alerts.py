"""The answer of ``GET /api/v1/alerts`` read into values, and put into words: one
sentence per alert, and the one line ``depotctl status`` and the console's banner
show.

Read leniently: an alert of a kind this depotctl does not know (a newer controller)
still shows, with the headline and reason the controller gave.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

#: Alerts named in one line; the rest are counted.
MOST_NAMED = 3


@dataclass(frozen=True, slots=True)
class AlertView:
    """One alert as the API gave it."""

    id: int
    kind: str
    severity: str
    subject_kind: str
    subject_id: str
    headline: str
    reason: str
    since: datetime | None
    cleared_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    @property
    def is_critical(self) -> bool:
        return self.severity == "critical"


def alerts_of(body: Mapping[str, Any]) -> tuple[AlertView, ...]:
    """The alerts of an answer, the critical first, then by ``since``."""
    views = [_view(item) for item in body.get("alerts") or [] if isinstance(item, Mapping)]
    return tuple(sorted(views, key=_display_order))


def site_zone(body: Mapping[str, Any]) -> tzinfo:
    """The site's time zone the answer names (UTC when it names none we know)."""
    name = body.get("timezone")
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else UTC
    except (ValueError, KeyError):  # an unknown or malformed zone name
        return UTC


def alert_sentence(alert: AlertView, zone: tzinfo, now: datetime | None = None) -> str:
    """``charger dc-07 uncontrollable since 18:02 (no answer within 5 s)``: times in
    ``zone``, with the date when ``since`` is not on ``now``'s day there."""
    since = f" since {clock_text(alert.since, zone, now)}" if alert.since is not None else ""
    reason = f" ({alert.reason})" if alert.reason else ""
    return f"{alert.headline}{since}{reason}"


def alerts_line(
    alerts: Iterable[AlertView],
    zone: tzinfo,
    now: datetime | None = None,
    *,
    most: int = MOST_NAMED,
) -> str:
    """``none``, or ``2 — charger dc-07 uncontrollable since 18:02 (…); node gc-main
    over-committed since 18:05 (…)``: the open alerts, the critical first, at most
    ``most`` named and the rest counted."""
    shown = sorted((a for a in alerts if a.is_open), key=_display_order)
    if not shown:
        return "none"
    named = "; ".join(alert_sentence(a, zone, now) for a in shown[:most])
    rest = len(shown) - most
    return f"{len(shown)} — {named}" + (f"; and {rest} more" if rest > 0 else "")


def clock_text(at: datetime, zone: tzinfo, now: datetime | None = None) -> str:
    """``18:02`` in ``zone``; ``2026-03-01 18:02`` when that is not ``now``'s day there."""
    local = at.astimezone(zone)
    if now is not None and now.astimezone(zone).date() != local.date():
        return local.strftime("%Y-%m-%d %H:%M")
    return local.strftime("%H:%M")


def _display_order(alert: AlertView) -> tuple[bool, datetime, int]:
    since = alert.since or datetime.max.replace(tzinfo=UTC)
    return (not alert.is_critical, since, alert.id)


def _view(item: Mapping[str, Any]) -> AlertView:
    raw = item.get("subject")
    subject: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    kind = str(item.get("kind") or "alert")
    subject_kind = str(subject.get("kind") or "")
    subject_id = str(subject.get("id") or "")
    headline = item.get("headline")
    return AlertView(
        id=item["id"] if isinstance(item.get("id"), int) else 0,
        kind=kind,
        severity=str(item.get("severity") or "warning"),
        subject_kind=subject_kind,
        subject_id=subject_id,
        headline=str(headline) if headline else f"{subject_kind} {subject_id} {kind}".strip(),
        reason=str(item.get("reason") or ""),
        since=instant(item.get("since")),
        cleared_at=instant(item.get("cleared_at")),
    )


def instant(value: Any) -> datetime | None:
    """An ISO 8601 time of the API's (UTC when it has no zone); None when it is none."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
