"""What energy drawn in the past cost and emitted: per row of a report (a local day, or
a session), and the bill of each billing window (a calendar month in the site's zone)
the report touches.

A minute's energy is priced at the price in force at the minute's start — the site's
price series when it has one, else its tariff's period — exactly as the bill prices a
whole minute (:mod:`depotctl.domain.bill`); its emissions are its energy times the
site's intensity over the minute. Energy that no price or intensity covers is counted
apart (``unpriced_wh``, ``uncovered_wh``) and its row's figure is None, never a zero.

A day's peak times the demand rate is not a bill: demand charges are charged once per
billing window on its peak, so they appear only on the billing windows' lines, each
the :func:`~depotctl.domain.bill.bill` of the site's energy in the part of the window
inside the report (``partial``: its demand charge is on the peak so far). Pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from depotctl.domain.bill import Bill, BillingWindow, Interval, LoadProfile, bill
from depotctl.domain.carbon import Intensity, UncoveredError
from depotctl.domain.price_series import PriceSeries, PriceSeriesGapError
from depotctl.domain.tariff import Tariff, TariffGapError
from depotctl.domain.tariff_calendar import day_of_year
from depotctl.engine.energy_history import MINUTE, MinuteEnergy


@dataclass(frozen=True, slots=True)
class Rates:
    """What a site pays and emits per kWh: its tariff and price series (either may be
    None), its carbon intensity (None: not declared), and its zone."""

    zone: dt.tzinfo
    tariff: Tariff | None = None
    prices: PriceSeries | None = None
    intensity: Intensity | None = None
    _price: dict[dt.datetime, float | None] = field(default_factory=dict, compare=False)
    #: the tariff's price by (season, weekday, minute of the day): what decides it
    _tou: dict[tuple[str | None, int, int], float] = field(default_factory=dict, compare=False)
    _carbon: dict[dt.datetime, float | None] = field(default_factory=dict, compare=False)

    @property
    def currency(self) -> str | None:
        if self.prices is not None:
            return self.prices.currency
        return self.tariff.currency if self.tariff is not None else None

    def price(self, minute: dt.datetime) -> float | None:
        """Per kWh at ``minute``'s start; None where nothing prices it."""
        if minute not in self._price:
            self._price[minute] = self._price_at(minute)
        return self._price[minute]

    def _price_at(self, minute: dt.datetime) -> float | None:
        try:
            if self.prices is not None:
                return self.prices.price_at(minute)
            if self.tariff is not None:
                return self._tariff_price(self.tariff, minute.astimezone(self.zone))
        except (PriceSeriesGapError, TariffGapError):
            pass
        return None

    def _tariff_price(self, tariff: Tariff, local: dt.datetime) -> float:
        day = day_of_year(local.strftime("%m-%d"))
        season = next((s.name for s in tariff.seasons if s.covers(day)), None)
        key = (season, local.weekday(), local.hour * 60 + local.minute)
        if key not in self._tou:
            self._tou[key] = tariff.at(local).period.price
        return self._tou[key]

    def carbon(self, minute: dt.datetime) -> float | None:
        """kg CO2e per kWh drawn evenly over ``minute``; None where nothing covers it."""
        if self.intensity is None:
            return None
        if minute not in self._carbon:
            try:
                kg: float | None = self.intensity.emissions_kg(minute, minute + MINUTE, 1000.0)
            except UncoveredError:
                kg = None
            self._carbon[minute] = kg
        return self._carbon[minute]


@dataclass(frozen=True, slots=True)
class Account:
    """Energy (Wh), its cost and emissions, and the energy neither covers."""

    energy_wh: float = 0.0
    priced_cost: float = 0.0
    unpriced_wh: float = 0.0
    covered_kg: float = 0.0
    uncovered_wh: float = 0.0

    @property
    def cost(self) -> float | None:
        """The energy's cost; None when some of it has no price."""
        return self.priced_cost if self.unpriced_wh == 0.0 else None

    @property
    def kg(self) -> float | None:
        """The emissions (kg CO2e); None when some of the energy has no intensity."""
        return self.covered_kg if self.uncovered_wh == 0.0 else None

    def __add__(self, other: Account) -> Account:
        return Account(
            self.energy_wh + other.energy_wh,
            self.priced_cost + other.priced_cost,
            self.unpriced_wh + other.unpriced_wh,
            self.covered_kg + other.covered_kg,
            self.uncovered_wh + other.uncovered_wh,
        )


def account(energy: MinuteEnergy, rates: Rates) -> Account:
    """The cost and emissions of ``energy`` (Wh by minute) at ``rates``."""
    total = cost = unpriced = kg = uncovered = 0.0
    for minute, wh in energy.items():
        if wh == 0.0:
            continue
        total += wh
        price = rates.price(minute)
        if price is None:
            unpriced += wh
        else:
            cost += wh / 1000.0 * price
        intensity = rates.carbon(minute)
        if intensity is None:
            uncovered += wh
        else:
            kg += wh / 1000.0 * intensity
    return Account(total, cost, unpriced, kg, uncovered)


def local_days(
    start: dt.datetime, end: dt.datetime, zone: dt.tzinfo
) -> Iterator[tuple[dt.date, dt.datetime, dt.datetime]]:
    """Each calendar day of ``zone`` that ``[start, end)`` touches, with the part of
    it inside (UTC)."""
    day = start.astimezone(zone).date()
    while True:
        begins = _midnight(day, zone)
        if begins >= end:
            return
        following = day + dt.timedelta(days=1)
        yield day, max(begins, start), min(_midnight(following, zone), end)
        day = following


def billing_windows(
    start: dt.datetime, end: dt.datetime, zone: dt.tzinfo
) -> Iterator[tuple[BillingWindow, bool]]:
    """The calendar months of ``zone`` that ``[start, end)`` touches, each cut to the
    part inside, and whether it was cut (a partial window)."""
    local = start.astimezone(zone)
    month = dt.date(local.year, local.month, 1)
    while True:
        begins = _midnight(month, zone)
        if begins >= end:
            return
        following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        ends = _midnight(following, zone)
        window = BillingWindow(max(begins, start), min(ends, end), zone)
        yield window, (window.start, window.end) != (begins, ends)
        month = following


def _minute_after(instant: dt.datetime) -> dt.datetime:
    """``instant`` on a whole minute, else the next whole minute."""
    floor = instant.replace(second=0, microsecond=0)
    return floor if floor == instant else floor + MINUTE


def _midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The first instant of ``day`` in ``zone`` (UTC)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class WindowBill:
    """The bill of the site's energy in one billing window (or its part in a report);
    ``bill`` None when the window's energy is not all priced (``unpriced_wh``)."""

    window: BillingWindow
    partial: bool
    energy_wh: float
    bill: Bill | None
    unpriced_wh: float = 0.0

    @property
    def total(self) -> Decimal | None:
        return self.bill.total if self.bill is not None else None


def window_bills(
    site: MinuteEnergy, rates: Rates, start: dt.datetime, end: dt.datetime
) -> list[WindowBill]:
    """The bill of each billing window ``[start, end)`` touches (see the module
    docstring); none for a site with neither a tariff nor a price series."""
    if rates.tariff is None and rates.prices is None:
        return []
    bills = []
    for window, partial in billing_windows(start, end, rates.zone):
        inside = sorted((m, wh) for m, wh in site.items() if window.start <= m < window.end)
        energy = sum(wh for _, wh in inside)
        unpriced = sum(wh for m, wh in inside if wh and rates.price(m) is None)
        profile = LoadProfile(tuple(Interval(m, m + MINUTE, wh / 1000.0) for m, wh in inside))
        # a minute that starts inside counts whole, as in the rows: a report ending
        # mid-minute (now) bills its last minute whole, not the part before the end
        whole = BillingWindow(window.start, _minute_after(window.end), window.zone)
        billed = None
        if not unpriced:
            billed = bill(profile, rates.tariff, whole, prices=rates.prices)
        bills.append(WindowBill(window, partial, energy, billed, unpriced))
    return bills


def total(accounts: Iterable[Account]) -> Account:
    """The sum of several accounts."""
    return sum(accounts, Account())


__all__ = [
    "Account",
    "Rates",
    "WindowBill",
    "account",
    "billing_windows",
    "local_days",
    "total",
    "window_bills",
]
