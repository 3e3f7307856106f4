"""The alerts of ``GET /api/v1/alerts`` put into words: one sentence per alert, and the
one line ``depotctl status`` and the console's banner show.

An alert of a kind this depotctl does not know (a newer controller) still shows, with
the headline and reason the controller gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from depotctl.api import Alert, Alerts

#: Alerts named in one line; the rest are counted.
MOST_NAMED = 3


def alerts_of(answer: Alerts) -> tuple[Alert, ...]:
    """The alerts of an answer, the critical first, then by ``since``."""
    return tuple(sorted(answer.alerts, key=_display_order))


def site_zone(answer: Alerts) -> tzinfo:
    """The site's time zone the answer names (UTC when it names none we know)."""
    try:
        return ZoneInfo(answer.timezone) if answer.timezone else UTC
    except (ValueError, KeyError):  # an unknown or malformed zone name
        return UTC


def headline(alert: Alert) -> str:
    """The controller's headline (``charger dc-07 uncontrollable``), or one made of the
    subject and the kind when it sent none."""
    subject = alert.subject
    return alert.headline or f"{subject.kind} {subject.id} {alert.kind}".strip()


def alert_sentence(alert: Alert, zone: tzinfo, now: datetime | None = None) -> str:
    """``charger dc-07 uncontrollable since 18:02 (no answer within 5 s)``: times in
    ``zone``, with the date when ``since`` is not on ``now``'s day there."""
    reason = f" ({alert.reason})" if alert.reason else ""
    return f"{headline(alert)} since {clock_text(alert.since, zone, now)}{reason}"


def alerts_line(
    alerts: Iterable[Alert],
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


def _display_order(alert: Alert) -> tuple[bool, datetime, int]:
    return (not alert.is_critical, alert.since, alert.id)
