"""A price series: each price holds until the next, the last until its end; instants in
any zone are compared in UTC; gaps and disorder are refused."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from depotctl.domain.price_series import PriceSeries, PriceSeriesGapError

UTC = dt.UTC
T0 = dt.datetime(2024, 3, 31, 0, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


def test_each_price_holds_until_the_next_and_the_last_for_an_hour() -> None:
    series = PriceSeries.hourly("nl", "EUR", [T0, T0 + HOUR], [0.05, -0.01])
    assert series.price_at(T0 + HOUR / 2) == 0.05
    assert series.price_at(T0 + HOUR) == -0.01
    assert series.next_change(T0) == T0 + HOUR
    assert series.next_change(T0 + HOUR) == series.end == T0 + 2 * HOUR


def test_a_local_instant_is_the_same_instant_in_utc() -> None:
    # 2024-03-31 is the EU spring change: 03:00 CEST is 01:00 UTC
    series = PriceSeries.hourly("nl", "EUR", [T0, T0 + HOUR, T0 + 2 * HOUR], [1.0, 2.0, 3.0])
    amsterdam = dt.datetime(2024, 3, 31, 3, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert series.price_at(amsterdam) == 2.0


def test_an_instant_outside_the_series_is_named() -> None:
    series = PriceSeries.hourly("nl", "EUR", [T0], [1.0])
    with pytest.raises(PriceSeriesGapError, match='price series "nl" covers 2024-03-31T00:00'):
        series.price_at(T0 - HOUR)
    with pytest.raises(PriceSeriesGapError):
        series.price_at(T0 + HOUR)


def test_instants_must_increase_and_carry_a_zone() -> None:
    with pytest.raises(ValueError, match="its instants must increase"):
        PriceSeries("nl", "EUR", (T0, T0), (1.0, 2.0), T0 + HOUR)
    with pytest.raises(ValueError, match="naive time"):
        PriceSeries("nl", "EUR", (dt.datetime(2024, 1, 1),), (1.0,), T0)
    with pytest.raises(ValueError, match="one price per start"):
        PriceSeries("nl", "EUR", (T0,), (), T0 + HOUR)
