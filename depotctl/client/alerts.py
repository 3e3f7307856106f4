"""The alerts of ``GET /api/v1/alerts`` put into words: one sentence per alert, and the
one line ``depotctl status`` and the console's banner show.

An alert of a kind this depotctl does not know (a newer controller) still shows, with
the headline and reason the controller gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from depotctl.api import Alert, Alerts
from depotctl.client.figures import for_people, instant_text, zone_named
from depotctl.domain.instants import format_clock

#: Alerts named in one line; the rest are counted.
MOST_NAMED = 3


def alerts_of(answer: Alerts) -> tuple[Alert, ...]:
    """The alerts of an answer, the critical first, then by ``since``."""
    return tuple(sorted(answer.alerts, key=_display_order))


def site_zone(answer: Alerts) -> tzinfo:
    """The site's time zone the answer names (UTC when it names none we know)."""
    return zone_named(answer.timezone)


def headline(alert: Alert) -> str:
    """The controller's headline (``charger dc-07 uncontrollable``), or one made of the
    subject and the kind when it sent none."""
    subject = alert.subject
    return alert.headline or f"{subject.kind} {subject.id} {alert.kind}".strip()


def alert_sentence(alert: Alert, zone: tzinfo, now: datetime | None = None) -> str:
    """``charger dc-07 uncontrollable since 2026-03-01 18:02:00+11:00 (no answer within
    5 s)``: times in ``zone`` as :func:`clock_text` writes them (short, given ``now``)."""
    reason = f" ({for_people(alert.reason, zone, alert.since)})" if alert.reason else ""
    return f"{headline(alert)} since {clock_text(alert.since, zone, now)}{reason}"


def alerts_line(
    alerts: Iterable[Alert],
    zone: tzinfo,
    now: datetime | None = None,
    *,
    most: int = MOST_NAMED,
) -> str:
    """``none``, or ``2 — charger dc-07 uncontrollable since 18:02:00 (…); node gc-main
    over-committed since 18:05:00 (…)`` (given ``now``): the open alerts, the critical first, at most
    ``most`` named and the rest counted."""
    shown = sorted((a for a in alerts if a.is_open), key=_display_order)
    if not shown:
        return "none"
    named = "; ".join(alert_sentence(a, zone, now) for a in shown[:most])
    rest = len(shown) - most
    return f"{len(shown)} — {named}" + (f"; and {rest} more" if rest > 0 else "")


def clock_text(at: datetime, zone: tzinfo, now: datetime | None = None) -> str:
    """``2026-03-01 18:02:00+11:00``: the site's time with its offset, as every time for
    people is written (docs/times.md). Given ``now``, the console's short form, for a
    screen that shows the date and the offset nearby: ``18:02:00``, with the date when
    that is not ``now``'s day there."""
    return instant_text(at, zone) if now is None else format_clock(at, zone, now)


def _display_order(alert: Alert) -> tuple[bool, datetime, int]:
    return (not alert.is_critical, alert.since, alert.id)
