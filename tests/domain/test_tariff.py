"""A tariff's lookup: season by local date (wrapping the year end, 02-29 counted), energy
period by weekday and clock minute, demand charges by their windows."""

from __future__ import annotations

import datetime as dt

import pytest

from depotctl.domain.tariff import (
    DemandCharge,
    EnergyPeriod,
    Tariff,
    TariffGapError,
    TariffSeason,
)
from depotctl.domain.tariff_calendar import DailyWindow, day_of_year


def _season(name: str, first: str, last: str, price: float) -> TariffSeason:
    night = EnergyPeriod("night", DailyWindow.parse(["all"], "22:00", "07:00"), price / 2)
    day = EnergyPeriod("day", DailyWindow.parse(["weekdays"], "07:00", "22:00"), price)
    weekend = EnergyPeriod("weekend", DailyWindow.parse(["weekends"], "07:00", "22:00"), price)
    demand = DemandCharge("day-demand", (day.window,), 10.0, name)
    return TariffSeason(
        name, day_of_year(first), day_of_year(last), (night, day, weekend), (demand,)
    )


TARIFF = Tariff(
    "AUD", (_season("summer", "11-01", "03-31", 0.4), _season("winter", "04-01", "10-31", 0.2))
)


@pytest.mark.parametrize(
    ("local", "season", "period", "demand"),
    [
        (dt.datetime(2025, 12, 31, 23, 59), "summer", "night", []),
        (dt.datetime(2026, 1, 1, 0, 0), "summer", "night", []),
        (dt.datetime(2024, 2, 29, 12, 0), "summer", "day", ["summer day-demand"]),
        (dt.datetime(2026, 4, 1, 6, 59), "winter", "night", []),
        (dt.datetime(2026, 4, 1, 7, 0), "winter", "day", ["winter day-demand"]),
        (dt.datetime(2026, 4, 4, 12, 0), "winter", "weekend", []),
        (dt.datetime(2026, 10, 31, 21, 59), "winter", "weekend", []),
    ],
)
def test_what_holds_at_a_local_time(
    local: dt.datetime, season: str, period: str, demand: list[str]
) -> None:
    now = TARIFF.at(local)
    assert (now.season.name, now.period.name) == (season, period)
    assert [c.label for c in now.demand] == demand


def test_a_time_without_a_price_is_named() -> None:
    (summer, _) = TARIFF.seasons
    partial = Tariff("AUD", (TariffSeason("summer", 0, 365, summer.energy[:1]),))
    with pytest.raises(TariffGapError, match='season "summer" has no energy price at Wed 12:00'):
        partial.at(dt.datetime(2026, 6, 3, 12, 0))
    with pytest.raises(TariffGapError, match="no season of the tariff covers 04-01"):
        Tariff("AUD", TARIFF.seasons[:1]).at(dt.datetime(2026, 4, 1))
