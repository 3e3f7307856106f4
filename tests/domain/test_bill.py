"""The bill: energy by period in the site's zone (DST included), the demand charge on the
clock-aligned 15-min peak, fixed charges, a dynamic price series; and two properties."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.domain.bill import BillingWindow, Interval, LoadProfile, ProfileError, bill
from depotctl.domain.price_series import PriceSeries, PriceSeriesGapError
from depotctl.domain.tariff import DemandCharge, EnergyPeriod, Tariff, TariffSeason
from depotctl.domain.tariff_calendar import DailyWindow

SYDNEY = ZoneInfo("Australia/Sydney")
UTC = dt.UTC
ALL = ("all",)


def _tariff(*, fixed_day: float = 0.0, fixed_month: float = 0.0) -> Tariff:
    """Peak 02:00–03:00 at 1.00 /kWh (the hour DST moves), else 0.10 /kWh; a 10 /kW
    demand charge on the whole day and a 5 /kW one in the peak hour."""
    peak = EnergyPeriod("peak", DailyWindow.parse(ALL, "02:00", "03:00"), 1.0)
    off = EnergyPeriod("off-peak", DailyWindow.parse(ALL, "03:00", "02:00"), 0.1)
    year = TariffSeason(
        "year",
        0,
        365,
        (peak, off),
        (DemandCharge("peak-demand", (peak.window,), 5.0, "year"),),
    )
    whole_day = DemandCharge("max-demand", (DailyWindow.parse(ALL, "00:00", "24:00"),), 10.0)
    return Tariff("AUD", (year,), (whole_day,), fixed_day, fixed_month)


def _local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SYDNEY)


def _window(start: dt.datetime, end: dt.datetime) -> BillingWindow:
    return BillingWindow(start, end, SYDNEY)


def _flat(start: dt.datetime, end: dt.datetime, kw: float) -> LoadProfile:
    return LoadProfile.from_power([(start, kw)], end)


def _energy(result_lines: tuple[object, ...]) -> dict[str, float]:
    return {line.period: line.energy for line in result_lines}  # type: ignore[attr-defined]


def test_a_25_hour_day_prices_its_repeated_hour_twice() -> None:
    # 2026-04-05, Sydney: 03:00 AEDT falls back to 02:00 AEST, so 02:00–03:00 happens twice
    start, end = _local(2026, 4, 5), _local(2026, 4, 6)
    assert end.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(hours=25)
    result = bill(_flat(start, end, 4.0), _tariff(), _window(start, end))
    assert _energy(result.energy) == pytest.approx({"peak": 8.0, "off-peak": 92.0})
    assert result.energy_amount == Decimal("17.20")


def test_a_23_hour_day_has_no_skipped_hour_to_price() -> None:
    # 2026-10-04, Sydney: 02:00 AEST jumps to 03:00 AEDT: no peak hour that day
    start, end = _local(2026, 10, 4), _local(2026, 10, 5)
    assert end.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(hours=23)
    result = bill(_flat(start, end, 4.0), _tariff(), _window(start, end))
    assert _energy(result.energy) == pytest.approx({"off-peak": 92.0})
    assert [d.charge.name for d in result.demand] == ["max-demand"]


def test_a_quarter_hour_across_the_change_is_priced_by_each_minute_clock_time() -> None:
    # 15:50–16:05 UTC on 2026-10-03 is 01:50 AEST then, from 16:00 UTC, 03:00 AEDT
    start = dt.datetime(2026, 10, 3, 15, 50, tzinfo=UTC)
    end = start + dt.timedelta(minutes=15)
    profile = LoadProfile((Interval(start, end, 15.0),))  # 1 kWh a minute
    result = bill(profile, _tariff(), _window(start, end))
    assert _energy(result.energy) == pytest.approx({"off-peak": 15.0})
    start = dt.datetime(2026, 4, 4, 15, 50, tzinfo=UTC)  # 02:50 AEDT → 02:00 AEST at 16:00
    profile = LoadProfile((Interval(start, start + dt.timedelta(minutes=15), 15.0),))
    result = bill(profile, _tariff(), _window(start, start + dt.timedelta(minutes=15)))
    assert _energy(result.energy) == pytest.approx({"peak": 15.0})


def test_the_peak_is_the_highest_clock_aligned_quarter_hour_average() -> None:
    # 90 kW from 10:50 to 11:05: 10:45–11:00 averages 60 kW, 11:00–11:15 30 kW
    day = _local(2026, 6, 1)
    profile = LoadProfile.from_power(
        [(day, 20.0), (_local(2026, 6, 1, 10, 50), 90.0), (_local(2026, 6, 1, 11, 5), 20.0)],
        _local(2026, 6, 2),
    )
    result = bill(profile, _tariff(), _window(day, _local(2026, 6, 2)))
    (whole,) = [d for d in result.demand if d.charge.name == "max-demand"]
    assert whole.peak == pytest.approx(60.0 + 20.0 * 5 / 15)  # 10 min at 90, 5 at 20
    assert whole.peak_start == _local(2026, 6, 1, 10, 45)
    assert whole.amount == Decimal("666.67")
    (in_peak,) = [d for d in result.demand if d.charge.name == "peak-demand"]
    assert in_peak.peak == pytest.approx(20.0)
    assert in_peak.amount == Decimal("100.00")


def test_a_longer_demand_interval_averages_over_more() -> None:
    day = _local(2026, 6, 1)
    profile = LoadProfile.from_power(
        [(day, 0.0), (_local(2026, 6, 1, 10), 60.0), (_local(2026, 6, 1, 10, 15), 0.0)],
        _local(2026, 6, 2),
    )
    window = _window(day, _local(2026, 6, 2))
    half_hour = bill(profile, _tariff(), window, demand_interval=dt.timedelta(minutes=30))
    assert max(d.peak for d in half_hour.demand) == pytest.approx(30.0)
    with pytest.raises(ValueError, match="whole minutes"):
        bill(profile, _tariff(), window, demand_interval=dt.timedelta(seconds=90))


def test_fixed_charges_count_local_days_and_the_billing_period() -> None:
    start, end = _local(2026, 6, 1, 12), _local(2026, 6, 3, 12)  # touches 3 days
    result = bill(
        _flat(start, end, 0.0), _tariff(fixed_day=2.1, fixed_month=30.0), _window(start, end)
    )
    assert [(f.unit, f.count, f.amount) for f in result.fixed] == [
        ("day", 3, Decimal("6.30")),
        ("billing period", 1, Decimal("30.00")),
    ]
    assert result.total == Decimal("36.30")


def test_only_energy_inside_the_window_counts() -> None:
    start = _local(2026, 6, 1)
    profile = _flat(start - dt.timedelta(hours=6), start + dt.timedelta(hours=30), 1.0)
    result = bill(profile, _tariff(), _window(start, start + dt.timedelta(days=1)))
    assert sum(line.energy for line in result.energy) == pytest.approx(24.0)


def test_a_price_series_prices_energy_hour_by_hour_negative_prices_included() -> None:
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)
    hours = [start + dt.timedelta(hours=h) for h in range(3)]
    series = PriceSeries.hourly("day-ahead", "EUR", hours, [0.05, -0.01, 0.2])
    window = BillingWindow(start, hours[-1] + dt.timedelta(hours=1), SYDNEY)
    assert bill(_flat(start, window.end, 1.0), None, window, prices=series).demand == ()
    euro = dataclasses.replace(_tariff(), currency="EUR")
    result = bill(_flat(start, window.end, 10.0), euro, window, prices=series)
    assert [d.charge.name for d in result.demand] == ["max-demand"]  # 10:00–13:00 local
    assert result.demand[0].peak == pytest.approx(10.0)
    (line,) = result.energy
    assert (line.period, line.price, line.energy) == ("day-ahead", None, pytest.approx(30.0))
    assert line.amount == Decimal("2.40")  # 10 × (0.05 − 0.01 + 0.2)
    assert result.currency == "EUR"
    later = BillingWindow(start, window.end + dt.timedelta(hours=1), SYDNEY)
    with pytest.raises(PriceSeriesGapError, match="not 2026-06-01T03:00:00"):
        bill(_flat(start, later.end, 1.0), euro, later, prices=series)
    with pytest.raises(ValueError, match='series "day-ahead" is in EUR and the tariff in AUD'):
        bill(_flat(start, window.end, 1.0), _tariff(), window, prices=series)
    with pytest.raises(ValueError, match="needs a tariff, a price series, or both"):
        bill(_flat(start, window.end, 1.0), None, window)


def test_the_bill_reads_in_words_in_the_site_zone() -> None:
    start, end = _local(2026, 6, 1), _local(2026, 6, 2)
    text = "\n".join(
        bill(_flat(start, end, 2.0), _tariff(fixed_day=1.0), _window(start, end)).describe()
    )
    assert "Bill 2026-06-01 00:00 to 2026-06-02 00:00 (Australia/Sydney), AUD" in text
    assert "  year peak: 2.000 kWh × 1 /kWh = 2.00" in text
    assert "  max-demand: peak 2.000 kW from Mon 2026-06-01 00:00 × 10 /kW = 20.00" in text
    assert "  1 day × 1 = 1.00" in text
    assert text.endswith("Total: 37.60 AUD")


def test_a_profile_refuses_naive_or_overlapping_intervals() -> None:
    naive = dt.datetime(2026, 6, 1)
    with pytest.raises(ProfileError, match="interval 0 has a naive time"):
        LoadProfile((Interval(naive, naive + dt.timedelta(hours=1), 1.0),))
    start = _local(2026, 6, 1)
    hour = dt.timedelta(hours=1)
    with pytest.raises(ProfileError, match="interval 1 starts before interval 0 ends"):
        LoadProfile(
            (Interval(start, start + 2 * hour, 1.0), Interval(start + hour, start + 3 * hour, 1.0))
        )


# Properties: a 2-day window of random quarter-hour steps

_START = _local(2026, 4, 4)  # the window holds the 25 h day
_STEP = dt.timedelta(minutes=15)
_powers = st.lists(st.integers(0, 400).map(lambda n: n / 4), min_size=1, max_size=200)


def _profile(powers: list[float]) -> LoadProfile:
    steps = [(_START.astimezone(UTC) + n * _STEP, kw) for n, kw in enumerate(powers)]
    return LoadProfile.from_power(steps, steps[-1][0] + _STEP)


def _energy_cost(profile: LoadProfile, window: BillingWindow) -> float:
    return sum(line.cost for line in bill(profile, _tariff(), window).energy)


@given(_powers, st.integers(0, 200 * 15))
def test_billing_two_halves_adds_up_to_the_whole_energy_cost(
    powers: list[float], cut_minutes: int
) -> None:
    profile = _profile(powers)
    window = BillingWindow(_START, _START + dt.timedelta(days=2, hours=1), SYDNEY)
    cut = _START + dt.timedelta(minutes=cut_minutes)
    before, after = profile.split(cut)
    assert before.energy + after.energy == pytest.approx(profile.energy)
    halves = _energy_cost(before, window) + _energy_cost(after, window)
    assert halves == pytest.approx(_energy_cost(profile, window), abs=1e-6)


@given(_powers, st.data())
def test_the_demand_charge_is_monotone_in_the_load(
    powers: list[float], data: st.DataObject
) -> None:
    more = [kw + data.draw(st.integers(0, 40)) / 4 for kw in powers]
    window = BillingWindow(_START, _START + dt.timedelta(days=2, hours=1), SYDNEY)
    low = bill(_profile(powers), _tariff(), window)
    high = bill(_profile(more), _tariff(), window)
    assert high.demand_amount >= low.demand_amount
    for a, b in zip(low.demand, high.demand, strict=True):
        assert b.peak >= a.peak - 1e-9
