"""Carbon intensity signals and emissions: figures worked by hand, intervals split at
a series' points, the hourly profile on DST days, and what a series does not cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.domain.carbon import (
    ConstantIntensity,
    HourlyIntensity,
    SeriesIntensity,
    UncoveredError,
)

LA = ZoneInfo("America/Los_Angeles")
SYDNEY = ZoneInfo("Australia/Sydney")
T0 = datetime(2019, 5, 13, 0, 0, tzinfo=UTC)


def _utc(hour: int, minute: int = 0) -> datetime:
    return T0 + timedelta(hours=hour, minutes=minute)


#: 0.1, 0.2, 0.3 kg/kWh from 00:00, 00:05 and 00:10 UTC, the last until 00:15.
SERIES = SeriesIntensity.of((_utc(0), _utc(0, 5), _utc(0, 10)), (0.1, 0.2, 0.3), "three")
#: hour h of the local day holds (h + 1) / 100 kg/kWh: the hour is read off the value
BY_HOUR = tuple((h + 1) / 100 for h in range(24))


def test_a_constant_times_energy_is_kg_by_hand() -> None:
    # 12 kWh at 0.5 kg/kWh = 6 kg, however the interval is laid
    assert ConstantIntensity(0.5).emissions_kg(_utc(1), _utc(4), 12_000) == pytest.approx(6.0)
    assert ConstantIntensity(0.5).emissions_kg(_utc(1), _utc(1), 12_000) == pytest.approx(6.0)


def test_an_interval_within_one_series_point_takes_its_value() -> None:
    # 600 Wh over 00:05–00:10 at 0.2 kg/kWh = 0.12 kg
    assert SERIES.emissions_kg(_utc(0, 5), _utc(0, 10), 600) == pytest.approx(0.12)
    assert SERIES.at(_utc(0, 7)) == 0.2
    assert SERIES.at(_utc(0, 5)) == 0.2  # a point holds from its own time


def test_an_interval_straddling_series_points_is_split_exactly() -> None:
    # 00:03–00:12, 900 Wh evenly (100 Wh a minute): 2 min at 0.1, 5 at 0.2, 2 at 0.3
    # = 0.2 kWh × 0.1 + 0.5 × 0.2 + 0.2 × 0.3 = 0.02 + 0.10 + 0.06 = 0.18 kg
    assert SERIES.emissions_kg(_utc(0, 3), _utc(0, 12), 900) == pytest.approx(0.18)
    pieces = list(SERIES.pieces(_utc(0, 3), _utc(0, 12)))
    assert pieces == [
        (_utc(0, 3), _utc(0, 5), 0.1),
        (_utc(0, 5), _utc(0, 10), 0.2),
        (_utc(0, 10), _utc(0, 12), 0.3),
    ]


def test_an_energy_profile_sums_its_intervals() -> None:
    profile = [(_utc(0), _utc(0, 5), 1000.0), (_utc(0, 5), _utc(0, 15), 2000.0)]
    # 1 kWh × 0.1 + (1 kWh × 0.2 + 1 kWh × 0.3) = 0.6 kg
    assert SERIES.profile_emissions_kg(profile) == pytest.approx(0.6)


@given(
    start=st.integers(0, 14 * 60),
    length=st.integers(1, 15 * 60),
    energy=st.floats(0.0, 1e6),
)
def test_splitting_keeps_the_energy_and_the_mean(start: int, length: int, energy: float) -> None:
    # within the series: the pieces tile the interval and the emissions equal the
    # time-weighted mean of the values (computed per second here, not per piece)
    a = _utc(0) + timedelta(seconds=start)
    b = min(a + timedelta(seconds=length), SERIES.end)
    pieces = list(SERIES.pieces(a, b))
    assert pieces[0][0] == a and pieces[-1][1] == b
    assert all(p[1] == q[0] for p, q in pairwise(pieces))
    seconds = int((b - a).total_seconds())
    mean = sum((0.1, 0.2, 0.3)[(start + s) // 300] for s in range(seconds)) / seconds
    assert SERIES.emissions_kg(a, b, energy) == pytest.approx(energy / 1000 * mean, abs=1e-9)


def test_outside_a_series_there_is_no_intensity_not_zero() -> None:
    with pytest.raises(
        UncoveredError, match=r"covers 2019-05-13T00:00:00Z to 2019-05-13T00:15:00Z"
    ):
        SERIES.emissions_kg(_utc(0, 10), _utc(0, 20), 100)
    with pytest.raises(UncoveredError):
        SERIES.at(_utc(0, 15))
    with pytest.raises(UncoveredError):
        SERIES.emissions_kg(T0 - timedelta(minutes=1), _utc(0, 5), 100)
    # no energy needs no intensity
    assert SERIES.emissions_kg(_utc(1), _utc(2), 0.0) == 0.0


def test_a_series_in_local_offsets_reads_the_same_instants() -> None:
    local = SeriesIntensity.of(
        tuple(t.astimezone(LA) for t in SERIES.times), SERIES.values, "local"
    )
    assert local.emissions_kg(_utc(0, 3), _utc(0, 12), 900) == pytest.approx(0.18)


def test_a_series_refuses_unordered_or_naive_times() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        SeriesIntensity((_utc(1), _utc(0)), (0.1, 0.2), _utc(2))
    with pytest.raises(ValueError, match="aware"):
        SeriesIntensity((datetime(2019, 5, 13),), (0.1,), _utc(2))


def test_the_hourly_profile_holds_in_local_time() -> None:
    profile = HourlyIntensity(BY_HOUR, LA)
    # 2019-05-13 07:30 UTC is 00:30 PDT: hour 0
    assert profile.at(_utc(7, 30)) == 0.01
    # 06:30–08:30 UTC = 23:30–01:30 PDT: half an hour of hour 23, an hour of 0, half of 1
    pieces = list(profile.pieces(_utc(6, 30), _utc(8, 30)))
    assert [p[2] for p in pieces] == [0.24, 0.01, 0.02]
    # 2 kWh evenly: 0.5 × 0.24 + 1 × 0.01 + 0.5 × 0.02 = 0.14 kg
    assert profile.emissions_kg(_utc(6, 30), _utc(8, 30), 2000) == pytest.approx(0.14)


def test_the_spring_forward_day_skips_the_missing_hour() -> None:
    # Los Angeles, 2019-03-10: 02:00 PST becomes 03:00 PDT (10:00 UTC); the day has
    # 23 hours and hour 2's value is never used
    profile = HourlyIntensity(BY_HOUR, LA)
    start = datetime(2019, 3, 10, tzinfo=LA)
    end = datetime(2019, 3, 11, tzinfo=LA)
    pieces = list(profile.pieces(start, end))
    assert len(pieces) == 23
    assert [round(p[2] * 100) - 1 for p in pieces] == [0, 1, *range(3, 24)]
    assert all(p[1] - p[0] == timedelta(hours=1) for p in pieces)
    # 23 kWh evenly over the 23 h: 1 kWh in each hour but hour 2
    expected = sum(BY_HOUR) - BY_HOUR[2]
    assert profile.emissions_kg(start, end, 23_000) == pytest.approx(expected)


def test_the_fall_back_day_repeats_the_doubled_hour() -> None:
    # Los Angeles, 2019-11-03: 02:00 PDT becomes 01:00 PST (09:00 UTC); 25 hours,
    # hour 1's value holds for two of them
    profile = HourlyIntensity(BY_HOUR, LA)
    start = datetime(2019, 11, 3, tzinfo=LA)
    end = datetime(2019, 11, 4, tzinfo=LA)
    pieces = list(profile.pieces(start, end))
    assert [round(p[2] * 100) - 1 for p in pieces] == [0, 1, 1, *range(2, 24)]
    assert profile.emissions_kg(start, end, 25_000) == pytest.approx(sum(BY_HOUR) + BY_HOUR[1])


def test_a_southern_dst_change_is_in_the_sites_zone() -> None:
    # Sydney, 2019-04-07: 03:00 AEDT becomes 02:00 AEST (16:00 UTC on the 6th)
    profile = HourlyIntensity(BY_HOUR, SYDNEY)
    assert profile.at(datetime(2019, 4, 6, 15, 30, tzinfo=UTC)) == BY_HOUR[2]  # 02:30 AEDT
    assert profile.at(datetime(2019, 4, 6, 16, 30, tzinfo=UTC)) == BY_HOUR[2]  # 02:30 AEST
    assert profile.at(datetime(2019, 4, 6, 17, 30, tzinfo=UTC)) == BY_HOUR[3]


def test_an_hourly_profile_needs_24_values() -> None:
    with pytest.raises(ValueError, match="24 values, got 23"):
        HourlyIntensity(BY_HOUR[:23], LA)


@given(
    zone=st.sampled_from(["America/Los_Angeles", "Australia/Sydney", "Asia/Kolkata", "UTC"]),
    start=st.datetimes(datetime(2019, 1, 1), datetime(2020, 12, 31)),
    minutes=st.integers(1, 3 * 24 * 60),
)
def test_each_hourly_piece_takes_the_value_of_its_local_hour(
    zone: str, start: datetime, minutes: int
) -> None:
    # the pieces tile the interval, and each one's value is the profile's value for
    # the local hour at its middle (read off the zone's own clock here)
    tz = ZoneInfo(zone)
    a = start.replace(tzinfo=UTC)
    b = a + timedelta(minutes=minutes)
    pieces = list(HourlyIntensity(BY_HOUR, tz).pieces(a, b))
    assert pieces[0][0] == a and pieces[-1][1] == b
    assert all(p[1] == q[0] and p[0] < p[1] for p, q in pairwise(pieces))
    for first, last, value in pieces:
        assert last - first <= timedelta(hours=1)
        assert value == BY_HOUR[(first + (last - first) / 2).astimezone(tz).hour]
