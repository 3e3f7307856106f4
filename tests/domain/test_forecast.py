"""Power forecasts: an hourly profile read on the site's local clock by day type; a
dated series that says nothing outside its span."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from depotctl.domain.forecast import HourlyProfile, PowerSeries

SYDNEY = ZoneInfo("Australia/Sydney")


def test_a_profile_is_read_on_the_local_clock_by_day_type() -> None:
    profile = HourlyProfile(tuple(float(h) for h in range(24)), tuple(100.0 + h for h in range(24)))
    friday_23h = datetime(2026, 12, 11, 23, 30, tzinfo=SYDNEY)
    assert profile.watts_at(friday_23h.astimezone(UTC), SYDNEY) == 23.0
    saturday_0h = friday_23h + timedelta(hours=1)
    assert profile.watts_at(saturday_0h.astimezone(UTC), SYDNEY) == 100.0


@pytest.mark.parametrize("values", [(1.0,) * 23, (1.0,) * 23 + (-1.0,)])
def test_a_profile_needs_24_values_none_negative(values: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="24 values"):
        HourlyProfile.every_day(values)


def test_a_series_holds_each_value_until_the_next_and_the_last_for_one_step() -> None:
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    series = PowerSeries((t0, t0 + timedelta(minutes=30)), (10.0, 20.0))
    assert series.watts_at(t0 - timedelta(seconds=1)) is None
    assert series.watts_at(t0 + timedelta(minutes=29)) == 10.0
    assert series.watts_at(t0 + timedelta(minutes=59)) == 20.0
    assert series.watts_at(t0 + timedelta(hours=1)) is None
    assert series.end == t0 + timedelta(hours=1)
    assert PowerSeries((t0,), (5.0,)).end == t0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("times", "watts", "problem"),
    [
        ((), (), "at least one"),
        ((datetime(2026, 12, 7),), (1.0,), "aware"),
        ((datetime(2026, 12, 7, tzinfo=UTC),) * 2, (1.0, 2.0), "strictly increase"),
        ((datetime(2026, 12, 7, tzinfo=UTC),), (-1.0,), "below zero"),
    ],
)
def test_a_series_refuses_what_it_cannot_mean(
    times: tuple[datetime, ...], watts: tuple[float, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        PowerSeries(times, watts)
