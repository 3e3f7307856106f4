"""A report's rows, before they are words: per local day of the site (the site's
energy, with how much of it was the EVs' and how many minutes the grid meters measured)
or per session (its energy inside the window), each with its account. The controller's
reports and the fleet's reports across depots build their rows here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from depotctl.engine.energy_accounts import Account, Rates, account, local_days
from depotctl.engine.energy_history import (
    MinuteEnergy,
    RecordedSession,
    minutes_in,
    split_at,
    within,
)


@dataclass(frozen=True, slots=True)
class DayCoverage:
    """A day's EV energy (Wh), and how many of its minutes the grid meters measured."""

    ev_energy_wh: float
    metered_minutes: int
    minutes: int


@dataclass(frozen=True, slots=True)
class RowFigures:
    """One row: a session (on ``evse``, of ``vehicle`` when known) or a local day (its
    ``day`` coverage), its span inside the window (from, until) and its account."""

    key: str
    span: tuple[datetime, datetime]
    account: Account
    evse: str | None = None
    day: DayCoverage | None = None
    vehicle: str | None = None


def day_rows(
    site_energy: MinuteEnergy,
    ev_energy: MinuteEnergy,
    metered: Iterable[datetime],
    rates: Rates,
    since: datetime,
    until: datetime,
) -> tuple[RowFigures, ...]:
    """A row per local day of the site (``rates.zone``), cut to ``[since, until)``: the
    site's energy, the EVs' share of it and the minutes the grid meters measured."""
    days = list(local_days(since, until, rates.zone))
    cuts = [start for _, start, _ in days] + [days[-1][2]] if days else []
    site_parts = split_at(site_energy, cuts)
    ev_parts = split_at(ev_energy, cuts)
    metered_parts = split_at(dict.fromkeys(metered, 0.0), cuts)
    return tuple(
        RowFigures(
            day.isoformat(),
            (start, end),
            account(site_parts[n], rates),
            day=DayCoverage(
                sum(ev_parts[n].values()), len(metered_parts[n]), len(minutes_in(start, end))
            ),
        )
        for n, (day, start, end) in enumerate(days)
    )


def session_rows(
    recorded: Sequence[RecordedSession],
    profiles: dict[str, MinuteEnergy],
    rates: Rates,
    since: datetime,
    until: datetime,
    now: datetime,
) -> tuple[RowFigures, ...]:
    """A row per session: its energy inside ``[since, until)`` (``profiles``: by
    minute), a session still open counted until ``now``."""
    return tuple(
        RowFigures(
            r.session.id,
            (max(r.session.started, since), min(r.end(now), until)),
            account(within(profiles[r.session.id], since, until), rates),
            evse=r.session.evse_id,
            vehicle=r.session.vehicle_id,
        )
        for r in recorded
    )
