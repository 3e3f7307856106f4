"""Figures from the controller written for people, the same in the CLI and the console:
an amount with its unit rounded (``31.8 A``, ``1,204.5 kW``), energy from Wh in kWh, a
time in the site's zone with its offset (``2026-12-07 18:30:05+11:00``,
docs/times.md); a dash where there is none. JSON output keeps the exact figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from depotctl.domain.instants import format_instant

DASH = "—"

#: A quantity as the controller writes one: ``42.3351 kWh``, ``16 A``, ``-5.5 kW``.
_QUANTITY = re.compile(r"(?P<number>[+-]?[0-9]+(?:\.[0-9]*)?) ?(?P<unit>[A-Za-z%]+)", re.ASCII)


def amount(value: float | None, unit: str, digits: int = 1) -> str:
    """``1,204.5 kW``; a dash for none."""
    return DASH if value is None else f"{value:,.{digits}f} {unit}"


def kwh(wh: float | None) -> str:
    """Watt-hours as ``152.5 kWh``; a dash for none."""
    return amount(None if wh is None else wh / 1000.0, "kWh")


def rounded(quantity: str | None, digits: int = 1) -> str:
    """A quantity the controller wrote (``42.3351 kWh``) rounded for people
    (``42.3 kWh``); text that is no plain quantity as it is; a dash for none."""
    if quantity is None:
        return DASH
    written = _QUANTITY.fullmatch(quantity.strip())
    if written is None:
        return quantity
    return amount(float(written["number"]), written["unit"], digits)


def zone_named(name: str | None) -> tzinfo:
    """The time zone a controller names (``Australia/Sydney``); UTC for none, or one
    this machine does not know."""
    try:
        return ZoneInfo(name) if name else UTC
    except (ValueError, KeyError):  # an unknown or malformed zone name
        return UTC


def instant_text(at: datetime | None, zone: tzinfo, missing: str = DASH) -> str:
    """``2026-12-07 18:30:05+11:00``: ``at`` in the site's ``zone`` with its offset, to
    the second; ``missing`` for none."""
    return missing if at is None else format_instant(at, zone)


#: An ISO 8601 time with its offset or ``Z`` as the controller writes one into words;
#: or a UTC time of day (``18:10Z``), which older controllers wrote into lifecycle
#: entries for one of the entry's day (their journals still hold them).
_ISO_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}T)?(?<![0-9:])(?P<clock>[0-9]{2}:[0-9]{2}(?::[0-9]{2}"
    r"(?:\.[0-9]+)?)?)(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def times_in_words(text: str, zone: tzinfo, day: datetime | None = None) -> str:
    """The controller's words (a journal message, a reason) with every ISO time in them
    written as people read times (``until 2026-12-07T16:51:02Z`` → ``until 2026-12-08
    03:51:02+11:00``); an older journal's UTC time of day (``18:10Z``) too, as one of
    ``day``'s (UTC)."""

    def site_time(match: re.Match[str]) -> str:
        written = match[0]
        if match["date"] is None:
            if day is None or match["offset"] != "Z":
                return written
            written = f"{day.astimezone(UTC).date().isoformat()}T{written}"
        try:
            return format_instant(datetime.fromisoformat(written), zone)
        except (ValueError, OverflowError):
            return match[0]

    return _ISO_INSTANT.sub(site_time, text)


#: A figure with more than one decimal and a unit people read (``80.1235 kW``).
_RAW_FIGURE = re.compile(
    r"(?<![0-9.])(?P<number>[0-9]+\.[0-9]{2,}) ?(?P<unit>kWh|kW|kVA|A|%)(?![A-Za-z/])", re.ASCII
)


def figures_in_words(text: str) -> str:
    """The controller's words with every figure of a power, energy or current rounded
    to 0.1 (``≤ 80.1235 kW`` → ``≤ 80.1 kW``)."""
    return _RAW_FIGURE.sub(lambda m: f"{float(m['number']):.1f} {m['unit']}", text)


def for_people(text: str, zone: tzinfo, day: datetime | None = None) -> str:
    """The controller's words as people read them: times in the site's time
    (:func:`times_in_words`), figures rounded (:func:`figures_in_words`)."""
    return figures_in_words(times_in_words(text, zone, day))
