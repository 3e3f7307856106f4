"""The bill of a load profile under a tariff over a billing window, itemised.

How it is computed (docs/tariffs.md says the same for users):

- **Energy**: each interval's energy is spread evenly over the interval and cut at every
  whole UTC minute (and at each price change of a dynamic series); each piece is priced
  by the period in force at its start in the site's zone. Tariff boundaries are whole
  minutes of local time and zone offsets whole minutes, so the cut is exact, and DST
  needs nothing special: a 25 h day prices its repeated hour twice by its clock time, a
  23 h day has no skipped hour to price.
- **Demand**: the peak of a demand charge is the highest average power over one demand
  interval (15 min by default) counting only the energy inside the charge's windows;
  intervals are aligned to the clock (:00, :15, :30, :45 UTC, so local quarter-hours too
  in every zone). Each demand charge is charged once per billing window (the window is
  one billing period, a month as a rule) on that peak; a season's charge on the peak in
  its season, a tariff-wide charge on the peak of the whole window.
- **Fixed**: a ``/day`` charge for each local calendar day the window touches, a
  ``/month`` charge once per billing window.
- Only energy inside the billing window counts. Each line's amount is rounded to the
  cent (half up) and the total is the sum of the lines, as a printed bill is.

Standard library only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from depotctl.domain.price_series import PriceSeries
from depotctl.domain.tariff import DemandCharge, Tariff

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
CENT = Decimal("0.01")
DEFAULT_DEMAND_INTERVAL = dt.timedelta(minutes=15)


def cents(amount: float) -> Decimal:
    """``12.345`` → ``Decimal("12.35")``: an amount rounded to the cent, half up."""
    return Decimal(repr(amount)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Interval:
    """``energy`` kWh drawn evenly from ``start`` to ``end`` (aware instants)."""

    start: dt.datetime
    end: dt.datetime
    energy: float

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


class ProfileError(ValueError):
    """A load profile whose intervals are naive, empty or out of order."""


def _utc(instant: dt.datetime, what: str) -> dt.datetime:
    """``instant`` in UTC (Python subtracts and compares two times of one zone by their
    clock times, which a DST change makes wrong)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ProfileError(f"{what} has a naive time; give instants with a zone")
    return instant.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class LoadProfile:
    """Metered or planned energy by interval, in time order, not overlapping."""

    intervals: tuple[Interval, ...]

    def __post_init__(self) -> None:
        utc = tuple(
            Interval(_utc(i.start, f"interval {n}"), _utc(i.end, f"interval {n}"), i.energy)
            for n, i in enumerate(self.intervals)
        )
        object.__setattr__(self, "intervals", utc)
        for n, interval in enumerate(self.intervals):
            if interval.end <= interval.start:
                raise ProfileError(f"interval {n} ends at or before its start")
            if n and interval.start < self.intervals[n - 1].end:
                raise ProfileError(f"interval {n} starts before interval {n - 1} ends")

    @classmethod
    def from_power(
        cls, steps: Sequence[tuple[dt.datetime, float]], end: dt.datetime
    ) -> LoadProfile:
        """Power (kW) from each instant of ``steps`` until the next one, the last until
        ``end``; a step followed by another at the same instant is replaced by it."""
        starts = [_utc(start, f"step {n}") for n, (start, _) in enumerate(steps)]
        ends = [*starts[1:], _utc(end, "the end")]
        return cls(
            tuple(
                Interval(start, stop, kw * (stop - start).total_seconds() / 3600)
                for start, (_, kw), stop in zip(starts, steps, ends, strict=True)
                if stop != start
            )
        )

    def split(self, at: dt.datetime) -> tuple[LoadProfile, LoadProfile]:
        """The profile before ``at`` and from it; an interval across it is cut in two,
        its energy shared by time."""
        at = _utc(at, "the cut")
        before: list[Interval] = []
        after: list[Interval] = []
        for interval in self.intervals:
            if interval.end <= at:
                before.append(interval)
            elif interval.start >= at:
                after.append(interval)
            else:
                share = (at - interval.start) / (interval.end - interval.start)
                before.append(Interval(interval.start, at, interval.energy * share))
                after.append(Interval(at, interval.end, interval.energy * (1 - share)))
        return LoadProfile(tuple(before)), LoadProfile(tuple(after))

    @property
    def energy(self) -> float:
        return sum(interval.energy for interval in self.intervals)


@dataclass(frozen=True, slots=True)
class BillingWindow:
    """From ``start`` to ``end`` (aware, end exclusive); ``zone`` is the site's."""

    start: dt.datetime
    end: dt.datetime
    zone: dt.tzinfo

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _utc(self.start, "the billing window"))
        object.__setattr__(self, "end", _utc(self.end, "the billing window"))
        if self.end <= self.start:
            raise ProfileError("the billing window ends at or before its start")

    def local_days(self) -> int:
        """How many calendar days of the zone the window touches."""
        first = self.start.astimezone(self.zone).date()
        last = (self.end - dt.timedelta(microseconds=1)).astimezone(self.zone).date()
        return (last - first).days + 1


class Line:
    """A line of the bill: its ``cost``, and that rounded to the cent."""

    __slots__ = ()

    if TYPE_CHECKING:  # each line's own field or property (a default here would be the
        # dataclass field's default)

        @property
        def cost(self) -> float: ...

    @property
    def amount(self) -> Decimal:
        return cents(self.cost)


@dataclass(frozen=True, slots=True)
class EnergyLine(Line):
    """The energy of one period (or of a dynamic series) and its cost."""

    season: str
    period: str
    energy: float
    cost: float
    #: The period's price per kWh; None for a series (its average is ``cost / energy``).
    price: float | None


@dataclass(frozen=True, slots=True)
class DemandLine(Line):
    """A demand charge on its peak: the highest average power over a demand interval."""

    charge: DemandCharge
    peak: float
    peak_start: dt.datetime

    @property
    def cost(self) -> float:
        return max(self.peak, 0.0) * self.charge.price


@dataclass(frozen=True, slots=True)
class FixedLine(Line):
    """A fixed charge: ``count`` days or billing periods at ``price`` each."""

    unit: str
    count: int
    price: float

    @property
    def cost(self) -> float:
        return self.count * self.price


@dataclass(frozen=True, slots=True)
class Bill:
    """An itemised bill: energy per period, demand per charge, fixed charges."""

    currency: str
    window: BillingWindow
    demand_interval: dt.timedelta
    energy: tuple[EnergyLine, ...]
    demand: tuple[DemandLine, ...]
    fixed: tuple[FixedLine, ...] = field(default=())

    @property
    def energy_amount(self) -> Decimal:
        return sum((line.amount for line in self.energy), Decimal("0.00"))

    @property
    def demand_amount(self) -> Decimal:
        return sum((line.amount for line in self.demand), Decimal("0.00"))

    @property
    def fixed_amount(self) -> Decimal:
        return sum((line.amount for line in self.fixed), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.energy_amount + self.demand_amount + self.fixed_amount

    def describe(self) -> list[str]:
        """The bill in words, one line each, times in the site's zone."""
        zone = self.window.zone
        start = self.window.start.astimezone(zone)
        end = self.window.end.astimezone(zone)
        lines = [f"Bill {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} ({zone}), {self.currency}"]
        lines.append(f"Energy: {self.energy_amount}")
        for e in self.energy:
            price = (
                f"{_number(e.price)} /kWh"
                if e.price is not None
                else f"{_number(e.cost / e.energy if e.energy else 0.0)} /kWh on average"
            )
            lines.append(f"  {e.season} {e.period}: {e.energy:.3f} kWh × {price} = {e.amount}")
        lines.append(f"Demand ({_minutes(self.demand_interval)} peak): {self.demand_amount}")
        for d in self.demand:
            at = d.peak_start.astimezone(zone)
            lines.append(
                f"  {d.charge.label}: peak {d.peak:.3f} kW from {at:%a %Y-%m-%d %H:%M} "
                f"× {_number(d.charge.price)} /kW = {d.amount}"
            )
        lines.append(f"Fixed: {self.fixed_amount}")
        for f in self.fixed:
            plural = "s" if f.count != 1 else ""
            lines.append(f"  {f.count} {f.unit}{plural} × {_number(f.price)} = {f.amount}")
        lines.append(f"Total: {self.total} {self.currency}")
        return lines


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _minutes(interval: dt.timedelta) -> str:
    return f"{int(interval.total_seconds() // 60)} min"


def _pieces(
    interval: Interval, start: dt.datetime, end: dt.datetime, prices: PriceSeries | None
) -> Iterator[tuple[dt.datetime, float]]:
    """``interval`` within ``[start, end)`` cut at whole UTC minutes and price changes:
    each piece's start and energy."""
    lo, hi = max(interval.start, start), min(interval.end, end)
    rate = interval.energy / (interval.end - interval.start).total_seconds()
    t = lo
    while t < hi:
        minute = EPOCH + ((t - EPOCH) // MINUTE + 1) * MINUTE
        cut = min(hi, minute, prices.next_change(t) if prices else hi)
        yield t, rate * (cut - t).total_seconds()
        t = cut


def bill(
    profile: LoadProfile,
    tariff: Tariff | None,
    window: BillingWindow,
    *,
    prices: PriceSeries | None = None,
    demand_interval: dt.timedelta = DEFAULT_DEMAND_INTERVAL,
) -> Bill:
    """Bill ``profile`` over ``window``: energy at the tariff's periods, or at ``prices``
    (a dynamic series) when given; the tariff's demand and fixed charges."""
    if demand_interval < MINUTE or demand_interval % MINUTE:
        raise ValueError(f"the demand interval must be whole minutes, not {demand_interval}")
    currency = _currency(tariff, prices)
    energy: dict[tuple[str, str], list[float]] = {}
    periods: dict[tuple[str, str], float | None] = {}
    blocks: dict[DemandCharge, dict[int, float]] = {}
    for interval in profile.intervals:
        for t, kwh in _pieces(interval, window.start, window.end, prices):
            now = tariff.at(t.astimezone(window.zone)) if tariff is not None else None
            if prices is not None:
                key = ("dynamic", prices.name)
                price, periods[key] = prices.price_at(t), None
            elif now is not None:
                key = (now.season.name, now.period.name)
                price, periods[key] = now.period.price, now.period.price
            sums = energy.setdefault(key, [0.0, 0.0])
            sums[0] += kwh
            sums[1] += kwh * price
            block = (t - EPOCH) // demand_interval
            for charge in now.demand if now is not None else ():
                by_block = blocks.setdefault(charge, {})
                by_block[block] = by_block.get(block, 0.0) + kwh
    return Bill(
        currency,
        window,
        demand_interval,
        tuple(EnergyLine(s, p, kwh, cost, periods[s, p]) for (s, p), (kwh, cost) in energy.items()),
        _demand(tariff, blocks, demand_interval),
        _fixed(tariff, window),
    )


def _currency(tariff: Tariff | None, prices: PriceSeries | None) -> str:
    if prices is not None and tariff is not None and prices.currency != tariff.currency:
        raise ValueError(
            f'the price series "{prices.name}" is in {prices.currency} and the tariff in '
            f"{tariff.currency}; give a series in the tariff's currency"
        )
    if prices is not None:
        return prices.currency
    if tariff is None:
        raise ValueError("a bill needs a tariff, a price series, or both")
    return tariff.currency


def _demand(
    tariff: Tariff | None, blocks: dict[DemandCharge, dict[int, float]], interval: dt.timedelta
) -> tuple[DemandLine, ...]:
    """Each demand charge on its peak block (the earliest of equal ones)."""
    hours = interval.total_seconds() / 3600
    lines: list[DemandLine] = []
    for charge in tariff.demand_charges if tariff is not None else ():
        if charge in blocks:
            block, kwh = max(blocks[charge].items(), key=lambda item: (item[1], -item[0]))
            lines.append(DemandLine(charge, kwh / hours, EPOCH + block * interval))
    return tuple(lines)


def _fixed(tariff: Tariff | None, window: BillingWindow) -> tuple[FixedLine, ...]:
    lines: list[FixedLine] = []
    if tariff is not None and tariff.fixed_per_day:
        lines.append(FixedLine("day", window.local_days(), tariff.fixed_per_day))
    if tariff is not None and tariff.fixed_per_month:
        lines.append(FixedLine("billing period", 1, tariff.fixed_per_month))
    return tuple(lines)
