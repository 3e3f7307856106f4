"""What past energy cost and emitted: per minute at the price in force at its start,
uncovered energy kept apart, billing windows by the site's calendar months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from depotctl.domain.carbon import ConstantIntensity, SeriesIntensity
from depotctl.domain.price_series import PriceSeries
from depotctl.domain.tariff import DemandCharge, EnergyPeriod, Tariff, TariffSeason
from depotctl.domain.tariff_calendar import DailyWindow
from depotctl.engine.energy_accounts import (
    Rates,
    account,
    billing_windows,
    local_days,
    window_bills,
)

SYDNEY = ZoneInfo("Australia/Sydney")
MIN = timedelta(minutes=1)
#: 2026-03-02 13:59 and 14:00 in Sydney (+11:00): the last off-peak minute, the first peak
OFF = datetime(2026, 3, 2, 2, 59, tzinfo=UTC)
PEAK = OFF + MIN


def tariff() -> Tariff:
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    peak = EnergyPeriod("peak", DailyWindow.parse(every_day, "14:00", "20:00"), 0.40)
    off = EnergyPeriod("off", DailyWindow.parse(every_day, "20:00", "14:00"), 0.10)
    demand = DemandCharge("demand", (DailyWindow.parse(every_day, "00:00", "24:00"),), 10.0)
    season = TariffSeason("all", 1, 366, (peak, off))
    return Tariff("AUD", (season,), (demand,), fixed_per_day=1.0)


def test_each_minute_is_priced_at_its_start_and_its_carbon_by_the_intensity() -> None:
    rates = Rates(SYDNEY, tariff(), intensity=ConstantIntensity(0.5))
    # by hand: 2 kWh × 0.10 + 3 kWh × 0.40 = 1.40; (2 + 3) × 0.5 = 2.5 kg
    figures = account({OFF: 2000.0, PEAK: 3000.0}, rates)
    assert (figures.energy_wh, figures.cost, figures.kg) == (5000.0, pytest.approx(1.4), 2.5)


def test_a_price_series_prices_energy_and_a_gap_leaves_the_cost_unknown() -> None:
    series = PriceSeries.hourly("day-ahead", "AUD", [OFF - 59 * MIN], [0.05])  # until 14:00
    intensity = SeriesIntensity.of([OFF - MIN, OFF], [0.3, 0.3], "moer")  # until 14:00
    figures = account({OFF: 1000.0, PEAK: 1000.0}, Rates(SYDNEY, tariff(), series, intensity))
    assert (figures.priced_cost, figures.unpriced_wh, figures.cost) == (0.05, 1000.0, None)
    assert (figures.covered_kg, figures.uncovered_wh, figures.kg) == (0.3, 1000.0, None)


def test_billing_windows_are_the_sites_calendar_months_cut_to_the_report() -> None:
    start = datetime(2026, 3, 15, tzinfo=SYDNEY)
    end = datetime(2026, 5, 1, tzinfo=SYDNEY)
    windows = [
        (w.start.astimezone(SYDNEY), w.end.astimezone(SYDNEY), p)
        for w, p in billing_windows(start, end, SYDNEY)
    ]
    assert windows == [
        (start, datetime(2026, 4, 1, tzinfo=SYDNEY), True),
        (datetime(2026, 4, 1, tzinfo=SYDNEY), end, False),
    ]


def test_a_local_day_across_the_end_of_daylight_saving_has_25_hours() -> None:
    start = datetime(2026, 4, 5, tzinfo=SYDNEY).astimezone(UTC)
    [(day, begins, ends)] = local_days(start, start + timedelta(hours=25), SYDNEY)
    assert (day.isoformat(), ends - begins) == ("2026-04-05", timedelta(hours=25))


def test_a_windows_bill_has_its_demand_charge_once_on_its_peak() -> None:
    rates = Rates(SYDNEY, tariff())
    # 60 kW for a quarter-hour at 14:00 (15 kWh at 0.40): peak 60 kW × 10 = 600; 1 day
    energy = {PEAK + n * MIN: 1000.0 for n in range(15)}
    [billed] = window_bills(energy, rates, PEAK, PEAK + timedelta(hours=1))
    assert billed.partial and billed.bill is not None
    assert (billed.bill.energy_amount, billed.bill.demand_amount) == (6, 600)
    assert billed.total == 607


def test_a_report_ending_mid_minute_bills_its_last_minute_whole_as_its_rows_count_it() -> None:
    # ending at 14:00:37 (a report "until now"): the minute 14:00 is in the rows whole
    # (1 kWh at 0.40), and so in the bill — not 37 s of it (0.25), which made the
    # billing line's energy cost a few cents under the rows' for the same energy
    rates = Rates(SYDNEY, tariff())
    energy = {OFF: 1000.0, PEAK: 1000.0}
    end = PEAK + timedelta(seconds=37)
    [billed] = window_bills(energy, rates, OFF, end)
    assert billed.bill is not None and billed.window.end == end
    assert float(billed.bill.energy_amount) == pytest.approx(account(energy, rates).cost)
