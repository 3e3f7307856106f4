"""Clock-time windows over the week and seasons over the year: coverage, gaps, overlaps."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.domain.tariff_calendar import (
    DAYS_PER_YEAR,
    MINUTES_PER_DAY,
    DailyWindow,
    complement,
    day_of_year,
    day_runs,
    expand_days,
    format_day,
    format_day_runs,
    format_days,
    format_minute,
    format_ranges,
    gaps,
    intersect,
    minute_of_day,
    overlaps,
    season_coverage,
)

ALL = frozenset(range(7))


def window(days: str | list[str], start: str, end: str) -> DailyWindow:
    return DailyWindow.parse([days] if isinstance(days, str) else days, start, end)


# Times and days


def test_minute_of_day_reads_hours_minutes_and_the_end_of_day() -> None:
    assert minute_of_day("00:00") == 0
    assert minute_of_day("05:30") == 330
    assert minute_of_day("24:00") == MINUTES_PER_DAY


@pytest.mark.parametrize("text", ["24:01", "12:60", "25:00"])
def test_minute_of_day_rejects_times_past_the_day(text: str) -> None:
    with pytest.raises(ValueError):
        minute_of_day(text)


@given(st.integers(0, MINUTES_PER_DAY))
def test_format_minute_round_trips(minute: int) -> None:
    assert minute_of_day(format_minute(minute)) == minute


def test_expand_days_knows_groups_and_single_days() -> None:
    assert expand_days(["weekdays"]) == frozenset(range(5))
    assert expand_days(["weekends"]) == frozenset({5, 6})
    assert expand_days(["all"]) == ALL
    assert expand_days(["mon", "sun"]) == frozenset({0, 6})


def test_expand_days_raises_with_the_unknown_name() -> None:
    with pytest.raises(KeyError, match="Mon"):
        expand_days(["tue", "Mon"])


def test_format_days_lists_days_in_week_order_or_says_every_day() -> None:
    assert format_days({6, 5}) == "sat, sun"
    assert format_days(ALL) == "every day"


# Minute ranges


def test_a_window_ending_before_it_starts_wraps_within_its_own_day() -> None:
    off_peak = window("weekdays", "21:00", "07:00")
    assert off_peak.ranges == [(0, 420), (1260, 1440)]
    assert off_peak.on(4) == [(0, 420), (1260, 1440)]
    assert off_peak.on(5) == []  # Saturday morning is not Friday night's


def test_a_window_with_equal_ends_covers_nothing_and_24_00_ends_the_day() -> None:
    assert window("all", "07:00", "07:00").is_empty
    assert window("all", "00:00", "24:00").ranges == [(0, MINUTES_PER_DAY)]


def test_format_ranges_joins_the_two_halves_of_a_wrapped_range() -> None:
    assert format_ranges([(0, 420), (1260, 1440)]) == "21:00–07:00"
    assert format_ranges([(0, 60), (600, 660)]) == "00:00–01:00, 10:00–11:00"
    assert format_ranges([(0, 1440)]) == "00:00–24:00"


def test_intersect_and_complement() -> None:
    assert intersect([(0, 600)], [(540, 900)]) == [(540, 600)]
    assert intersect([(0, 60)], [(60, 120)]) == []
    assert complement([(0, 420), (1260, 1440)]) == [(420, 1260)]
    assert complement([]) == [(0, MINUTES_PER_DAY)]


# Coverage of the week


def test_the_design_sketch_tariff_covers_each_minute_once() -> None:
    windows = [
        window("weekdays", "15:00", "21:00"),
        window("weekdays", "07:00", "15:00"),
        window("weekends", "07:00", "21:00"),
        window("all", "21:00", "07:00"),
    ]
    assert overlaps(windows) == []
    assert gaps(windows) == []


def test_wrapped_weekday_nights_do_not_clash_with_whole_weekend_days() -> None:
    windows = [
        window("weekdays", "07:00", "22:00"),
        window("weekdays", "22:00", "07:00"),
        window("weekends", "00:00", "24:00"),
    ]
    assert overlaps(windows) == []
    assert gaps(windows) == []


def test_an_overlap_names_both_windows_their_common_days_and_times() -> None:
    windows = [window("weekdays", "15:00", "21:00"), window("all", "07:00", "16:00")]
    (found,) = overlaps(windows)
    assert (found.first, found.second) == (0, 1)
    assert found.days == frozenset(range(5))
    assert found.ranges == ((900, 960),)


def test_gaps_are_grouped_by_the_days_that_miss_the_same_times() -> None:
    windows = [window("weekdays", "00:00", "24:00"), window("weekends", "07:00", "21:00")]
    (found,) = gaps(windows)
    assert found.days == frozenset({5, 6})
    assert format_ranges(found.ranges) == "21:00–07:00"


cut_points = st.lists(st.integers(1, MINUTES_PER_DAY - 1), unique=True, max_size=8).map(sorted)


def end_of(minute: int) -> int:
    """An end time as written: midnight at the end of a window is 24:00."""
    return minute % MINUTES_PER_DAY or MINUTES_PER_DAY


def partition(cuts: list[int], shift: int) -> list[DailyWindow]:
    """Consecutive windows between the cut points, all turned by ``shift`` minutes, so
    that one of them usually wraps past midnight (a whole day is only 00:00–24:00)."""
    if not cuts:
        return [DailyWindow(ALL, 0, MINUTES_PER_DAY)]
    bounds = [0, *cuts, MINUTES_PER_DAY]
    return [
        DailyWindow(ALL, (a + shift) % MINUTES_PER_DAY, end_of(b + shift))
        for a, b in pairwise(bounds)
    ]


@given(cut_points, st.integers(0, MINUTES_PER_DAY - 1))
def test_any_partition_of_the_day_has_no_gap_and_no_overlap(cuts: list[int], shift: int) -> None:
    windows = partition(cuts, shift)
    assert gaps(windows) == []
    assert overlaps(windows) == []


@given(cut_points.filter(lambda c: len(c) >= 1), st.integers(0, MINUTES_PER_DAY - 1), st.data())
def test_dropping_a_window_of_a_partition_leaves_exactly_its_minutes_uncovered(
    cuts: list[int], shift: int, data: st.DataObject
) -> None:
    windows = partition(cuts, shift)
    dropped = windows.pop(data.draw(st.integers(0, len(windows) - 1)))
    (found,) = gaps(windows)
    assert found.days == ALL
    assert list(found.ranges) == dropped.ranges


@given(
    cut_points,
    st.integers(0, MINUTES_PER_DAY - 1),
    st.integers(0, MINUTES_PER_DAY - 1),
    st.integers(1, MINUTES_PER_DAY - 1),
)
def test_an_extra_window_over_a_partition_overlaps_it_on_exactly_its_own_minutes(
    cuts: list[int], shift: int, start: int, length: int
) -> None:
    windows = partition(cuts, shift)
    extra = DailyWindow(frozenset({2}), start, end_of(start + length))
    found = overlaps([*windows, extra])
    assert all(o.second == len(windows) and o.days == frozenset({2}) for o in found)
    covered = sorted(r for o in found for r in o.ranges)
    assert sum(b - a for a, b in covered) == length
    assert complement(covered) == complement(extra.ranges)


# Seasons


def test_day_of_year_counts_in_a_leap_year() -> None:
    assert day_of_year("01-01") == 0
    assert day_of_year("02-29") == 59
    assert day_of_year("12-31") == DAYS_PER_YEAR - 1
    assert format_day(59) == "02-29"


@pytest.mark.parametrize("text", ["02-30", "04-31", "13-01"])
def test_day_of_year_rejects_dates_no_year_has(text: str) -> None:
    with pytest.raises(ValueError, match=text):
        day_of_year(text)


def test_a_season_wrapping_the_year_end_and_its_complement_cover_the_year_once() -> None:
    winter = (day_of_year("10-01"), day_of_year("05-31"))
    summer = (day_of_year("06-01"), day_of_year("09-30"))
    coverage = season_coverage([winter, summer])
    assert coverage.overlaps == {}
    assert coverage.gaps == []


def test_a_season_ending_on_02_28_leaves_the_leap_day_uncovered() -> None:
    coverage = season_coverage([(day_of_year("03-01"), day_of_year("02-28"))])
    assert coverage.gaps == [day_of_year("02-29")]


def test_overlapping_seasons_report_the_shared_days() -> None:
    summer = (day_of_year("11-01"), day_of_year("03-31"))
    winter = (day_of_year("03-01"), day_of_year("10-31"))
    coverage = season_coverage([summer, winter])
    assert format_day_runs(coverage.overlaps[(0, 1)]) == "03-01–03-31"
    assert coverage.gaps == []


def test_day_runs_join_across_the_year_end() -> None:
    days = [*range(360, DAYS_PER_YEAR), *range(0, 5), 100]
    assert day_runs(days) == [(360, 4), (100, 100)]
    assert format_day_runs(days) == "12-26–01-05, 04-10"


@given(
    st.lists(st.integers(1, DAYS_PER_YEAR - 1), unique=True, max_size=6).map(sorted),
    st.integers(0, DAYS_PER_YEAR - 1),
)
def test_any_partition_of_the_year_into_seasons_covers_each_day_once(
    cuts: list[int], shift: int
) -> None:
    bounds = [0, *cuts, DAYS_PER_YEAR]
    seasons = [
        ((a + shift) % DAYS_PER_YEAR, (b - 1 + shift) % DAYS_PER_YEAR) for a, b in pairwise(bounds)
    ]
    coverage = season_coverage(seasons)
    assert coverage.overlaps == {}
    assert coverage.gaps == []
