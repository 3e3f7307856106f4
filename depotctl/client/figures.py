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


def iso_text(at: datetime | None, missing: str = DASH) -> str:
    """``2026-03-02T14:00:00+00:00``, as the API writes times; ``missing`` for none.
    Superseded by :func:`instant_text` (people read the site's time); kept until its
    last caller moves."""
    return missing if at is None else at.isoformat()
