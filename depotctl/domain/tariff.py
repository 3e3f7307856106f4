"""A tariff as prices in force: which energy period and which demand charges hold at a
local clock time, by season and day of the week.

Built from a site's ``tariff`` (``depotctl.config.tariff_of``); read by the bill
(:mod:`depotctl.domain.bill`). Energy prices are per kWh, demand charges per kW of the
billing window's peak, fixed charges per local day and per billing window. Standard
library only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from depotctl.domain.tariff_calendar import DailyWindow, day_of_year


class TariffGapError(ValueError):
    """A local time that no season or energy period of the tariff prices (a tariff that
    ``depotctl validate`` would refuse)."""


@dataclass(frozen=True, slots=True)
class EnergyPeriod:
    """A time-of-use window of a season and its price per kWh."""

    name: str
    window: DailyWindow
    price: float

    def holds(self, weekday: int, minute: int) -> bool:
        return any(start <= minute < end for start, end in self.window.on(weekday))


@dataclass(frozen=True, slots=True)
class DemandCharge:
    """A charge per kW on the highest average power inside its windows (their union)."""

    name: str
    windows: tuple[DailyWindow, ...]
    price: float
    #: The season it belongs to; None for a charge of the whole tariff (one peak across
    #: seasons).
    season: str | None = None

    def holds(self, weekday: int, minute: int) -> bool:
        return any(
            start <= minute < end for window in self.windows for start, end in window.on(weekday)
        )

    @property
    def label(self) -> str:
        return self.name if self.season is None else f"{self.season} {self.name}"


@dataclass(frozen=True, slots=True)
class TariffSeason:
    """Days of the (leap) year from ``first`` to ``last`` inclusive, wrapping the year end."""

    name: str
    first: int
    last: int
    energy: tuple[EnergyPeriod, ...]
    demand: tuple[DemandCharge, ...] = ()

    def covers(self, day: int) -> bool:
        if self.first <= self.last:
            return self.first <= day <= self.last
        return day >= self.first or day <= self.last


@dataclass(frozen=True, slots=True)
class PeriodAt:
    """What holds at one local instant: its season, energy period and demand charges."""

    season: TariffSeason
    period: EnergyPeriod
    demand: tuple[DemandCharge, ...]


@dataclass(frozen=True, slots=True)
class Tariff:
    """Energy periods by season, demand charges, and fixed charges."""

    currency: str
    seasons: tuple[TariffSeason, ...]
    #: Demand charges that hold in every season (one peak across the seasons).
    demand: tuple[DemandCharge, ...] = ()
    fixed_per_day: float = 0.0
    fixed_per_month: float = 0.0

    def at(self, local: dt.datetime) -> PeriodAt:
        """The season, energy period and demand charges at a local (wall-clock) time."""
        day = day_of_year(local.strftime("%m-%d"))
        weekday, minute = local.weekday(), local.hour * 60 + local.minute
        season = next((s for s in self.seasons if s.covers(day)), None)
        if season is None:
            raise TariffGapError(f"no season of the tariff covers {local:%m-%d}")
        period = next((p for p in season.energy if p.holds(weekday, minute)), None)
        if period is None:
            raise TariffGapError(f'season "{season.name}" has no energy price at {local:%a %H:%M}')
        charges = (*season.demand, *self.demand)
        return PeriodAt(season, period, tuple(c for c in charges if c.holds(weekday, minute)))

    @property
    def demand_charges(self) -> tuple[DemandCharge, ...]:
        """Every demand charge: each season's, then the whole tariff's."""
        return (*(c for s in self.seasons for c in s.demand), *self.demand)
