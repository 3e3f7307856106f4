"""The billing window's demand peaks so far, minute by minute — the same peaks the bill
finds — and the plan's demand terms from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from depotctl.domain.bill import BillingWindow, Interval, LoadProfile, bill
from depotctl.domain.tariff import DemandCharge, EnergyPeriod, Tariff, TariffSeason
from depotctl.domain.tariff_calendar import DailyWindow
from depotctl.engine.planner import plan_blocks
from depotctl.engine.planner.billing_peaks import BillingPeaks
from depotctl.engine.planner.inputs import demand_terms

UTC_ZONE = ZoneInfo("UTC")
#: Monday 2 March 2026
DAY = datetime(2026, 3, 2, tzinfo=UTC)
PEAK = DemandCharge("peak-demand", (DailyWindow.parse(["weekdays"], "14:00", "20:00"),), 18.6)


def tariff() -> Tariff:
    energy = (EnergyPeriod("flat", DailyWindow.parse(["all"], "00:00", "24:00"), 0.2),)
    return Tariff("AUD", (TariffSeason("all", 0, 365, energy, (PEAK,)),))


def minutes(start: datetime, count: int, watts: float) -> list[tuple[datetime, float]]:
    return [(start + timedelta(minutes=m), watts) for m in range(count)]


def test_the_peak_is_the_fullest_demand_interval_inside_the_charges_windows() -> None:
    metered = (
        minutes(DAY + timedelta(hours=10), 15, 100_000.0)  # outside the window
        + minutes(DAY + timedelta(hours=14), 15, 60_000.0)  # a whole interval at 60 kW
        + minutes(DAY + timedelta(hours=14, minutes=30), 5, 120_000.0)  # 40 kW on average
    )
    peaks = BillingPeaks(tariff(), UTC_ZONE)
    peaks.add(metered)
    assert peaks.peaks_w(DAY + timedelta(hours=15)) == {PEAK: pytest.approx(60_000.0)}
    # the bill of the same minutes finds the same peak
    profile = LoadProfile(
        tuple(Interval(at, at + timedelta(minutes=1), w / 1000.0 / 60.0) for at, w in metered)
    )
    billed = bill(profile, tariff(), BillingWindow(DAY, DAY + timedelta(days=1), UTC_ZONE))
    [line] = billed.demand
    assert line.peak * 1000.0 == pytest.approx(60_000.0)


def test_a_new_month_starts_from_nothing_and_minutes_are_counted_once() -> None:
    peaks = BillingPeaks(tariff(), UTC_ZONE)
    march = minutes(DAY + timedelta(hours=14), 15, 60_000.0)
    peaks.add(march)
    peaks.add(march)  # again: already counted
    assert peaks.peaks_w(DAY + timedelta(hours=15))[PEAK] == pytest.approx(60_000.0)
    april = datetime(2026, 4, 1, 14, 0, tzinfo=UTC)  # a Wednesday
    peaks.add(minutes(april, 15, 20_000.0))
    assert peaks.peaks_w(april)[PEAK] == pytest.approx(20_000.0)
    assert peaks.peaks_w(DAY) == {}  # March is no longer counted


def test_demand_terms_per_billing_window_the_first_from_its_peak_so_far() -> None:
    # 31 March 2026, 19:00 to 1 April 15:00 (UTC): the window's blocks in each month
    blocks = plan_blocks(datetime(2026, 3, 31, 19, 0, tzinfo=UTC), timedelta(hours=20))
    [march, april] = demand_terms(tariff(), blocks, UTC_ZONE, {PEAK: 50_000.0})
    assert march.blocks == (0, 1, 2, 3)  # 19:00 to 20:00 on the 31st
    assert march.peak_so_far_w == 50_000.0 and march.rate_per_kw == 18.6
    assert april.blocks == tuple(range(76, 80))  # 14:00 to 15:00 on the 1st
    assert april.peak_so_far_w == 0.0


def test_the_quarter_under_way_counts_its_minutes_and_the_unread_time_at_the_peak() -> None:
    peaks = BillingPeaks(tariff(), UTC_ZONE)
    quarter = DAY + timedelta(hours=14)
    peaks.add(minutes(quarter, 7, 60_000.0))  # 7 kWh by 14:07: a 28 kW peak so far
    at = quarter + timedelta(minutes=9, seconds=30)
    # 14:07–14:09:30 not read yet: as if drawn at the 28 kW peak (1.1667 kWh)
    so_far = peaks.so_far_wh(at)[PEAK]
    assert so_far == pytest.approx(7_000.0 + 28_000.0 * 2.5 / 60.0)
    # the plan's terms take it for the quarter under way
    blocks = plan_blocks(quarter, timedelta(hours=1))
    [term] = demand_terms(tariff(), blocks, UTC_ZONE, peaks.peaks_w(at), peaks.so_far_wh(at), at)
    assert (term.peak_so_far_w, term.so_far_wh) == pytest.approx((28_000.0, so_far))
    # the next quarter starts from what is unread of it; a month not counted: nothing
    later = quarter + timedelta(minutes=20)
    assert peaks.so_far_wh(later)[PEAK] == pytest.approx(28_000.0 * 5 / 60.0)
    assert peaks.so_far_wh(DAY + timedelta(days=40)) == {}


def test_a_term_without_the_energy_so_far_counts_the_quarter_gone_at_the_peak() -> None:
    blocks = plan_blocks(DAY + timedelta(hours=14), timedelta(hours=1))
    now = DAY + timedelta(hours=14, minutes=6)
    [term] = demand_terms(tariff(), blocks, UTC_ZONE, {PEAK: 40_000.0}, None, now)
    assert term.so_far_wh == pytest.approx(40_000.0 * 0.1)
