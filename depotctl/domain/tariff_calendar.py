"""When a tariff applies: clock-time windows over the days of the week, and seasons
over the days of the year.

A window holds on each of its days, from its start to its end in that day's clock
time; an end before the start wraps past midnight *within the same day type*, so
``weekdays 21:00–07:00`` covers 21:00–24:00 and 00:00–07:00 of every weekday (and
none of Saturday morning). An end equal to the start covers nothing; ``24:00`` is the
end of the day.

A season holds from its first to its last date, both inclusive; a last date before
the first wraps past the year end (``10-01`` → ``05-31``). Dates are counted in a
leap year, so 02-29 is a day a season must cover.

Standard library only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60
#: Day names as written in a tariff, Monday first (index 0).
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_GROUPS: dict[str, tuple[str, ...]] = {
    "all": DAY_NAMES,
    "weekdays": DAY_NAMES[:5],
    "weekends": DAY_NAMES[5:],
}
_LEAP_YEAR = 2000
DAYS_PER_YEAR = 366

#: A half-open range of minutes of one day, ``(start, end)`` with ``0 <= start < end <= 1440``.
MinuteRange = tuple[int, int]
#: An inclusive range of days of the (leap) year, ``(first, last)``, 0 = 01-01.
DayRange = tuple[int, int]


def minute_of_day(text: str) -> int:
    """``"05:30"`` → 330; ``"24:00"`` → 1440."""
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes)
    if not (0 <= int(minutes) < 60 and 0 <= value <= MINUTES_PER_DAY):
        raise ValueError(f'"{text}" is not a time of day')
    return value


def format_minute(minute: int) -> str:
    """330 → ``"05:30"``; 1440 → ``"24:00"``."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def expand_days(names: Iterable[str]) -> frozenset[int]:
    """Day names and groups (``weekdays``, ``sat``) → day indexes, Monday = 0.

    Raises ``KeyError`` with the first unknown name.
    """
    days: set[int] = set()
    for name in names:
        group = DAY_GROUPS.get(name, (name,))
        if name not in DAY_GROUPS and name not in DAY_NAMES:
            raise KeyError(name)
        days.update(DAY_NAMES.index(day) for day in group)
    return frozenset(days)


def format_days(days: Iterable[int]) -> str:
    """``{5, 6}`` → ``"sat, sun"``; all seven → ``"every day"``."""
    ordered = sorted(set(days))
    if len(ordered) == len(DAY_NAMES):
        return "every day"
    return ", ".join(DAY_NAMES[d] for d in ordered)


def merge(ranges: Iterable[MinuteRange]) -> list[MinuteRange]:
    """Sorted, non-empty, non-touching ranges covering the same minutes."""
    merged: list[MinuteRange] = []
    for start, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: Iterable[MinuteRange], b: Iterable[MinuteRange]) -> list[MinuteRange]:
    """The minutes in both ``a`` and ``b``."""
    left, right = merge(a), merge(b)
    return merge((max(s1, s2), min(e1, e2)) for s1, e1 in left for s2, e2 in right)


def complement(ranges: Iterable[MinuteRange]) -> list[MinuteRange]:
    """The minutes of the day not in ``ranges``."""
    gaps: list[MinuteRange] = []
    cursor = 0
    for start, end in merge(ranges):
        if start > cursor:
            gaps.append((cursor, start))
        cursor = end
    if cursor < MINUTES_PER_DAY:
        gaps.append((cursor, MINUTES_PER_DAY))
    return gaps


def format_ranges(ranges: Iterable[MinuteRange]) -> str:
    """``[(0, 420), (1260, 1440)]`` → ``"21:00–07:00"``: a range that ends at midnight
    and one that starts at it are shown as one, wrapping."""
    merged = merge(ranges)
    if len(merged) > 1 and merged[0][0] == 0 and merged[-1][1] == MINUTES_PER_DAY:
        merged = [(merged[-1][0], merged[0][1]), *merged[1:-1]]
    return ", ".join(f"{format_minute(s)}–{format_minute(e)}" for s, e in merged)


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """Clock times ``start``–``end`` (minutes) on each of ``days`` (Monday = 0)."""

    days: frozenset[int]
    start: int
    end: int

    @classmethod
    def parse(cls, days: Iterable[str], start: str, end: str) -> DailyWindow:
        return cls(expand_days(days), minute_of_day(start), minute_of_day(end))

    @property
    def ranges(self) -> list[MinuteRange]:
        """The minutes it covers on each of its days."""
        if self.start <= self.end:
            return merge([(self.start, self.end)])
        return merge([(0, self.end), (self.start, MINUTES_PER_DAY)])

    @property
    def is_empty(self) -> bool:
        return not self.days or not self.ranges

    def on(self, day: int) -> list[MinuteRange]:
        return self.ranges if day in self.days else []


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two windows (by position) that both cover ``ranges`` on each of ``days``."""

    first: int
    second: int
    days: frozenset[int]
    ranges: tuple[MinuteRange, ...]


@dataclass(frozen=True, slots=True)
class Gap:
    """Minutes that no window covers on each of ``days``."""

    days: frozenset[int]
    ranges: tuple[MinuteRange, ...]


def overlaps(windows: Sequence[DailyWindow]) -> list[Overlap]:
    """Every pair of windows that cover a same minute of a same day."""
    found: list[Overlap] = []
    for j, second in enumerate(windows):
        for i in range(j):
            first = windows[i]
            days = first.days & second.days
            common = tuple(intersect(first.ranges, second.ranges))
            if days and common:
                found.append(Overlap(i, j, days, common))
    return found


def gaps(windows: Iterable[DailyWindow]) -> list[Gap]:
    """The minutes of each day of the week no window covers, grouped by days alike."""
    covered: list[list[MinuteRange]] = [[] for _ in DAY_NAMES]
    for window in windows:
        for day in window.days:
            covered[day].extend(window.ranges)
    alike: dict[tuple[MinuteRange, ...], set[int]] = {}
    for day, ranges in enumerate(covered):
        missing = tuple(complement(ranges))
        if missing:
            alike.setdefault(missing, set()).add(day)
    return [Gap(frozenset(days), ranges) for ranges, days in alike.items()]


# Seasons: days of the year


def day_of_year(text: str) -> int:
    """``"01-01"`` → 0, ``"02-29"`` → 59, ``"12-31"`` → 365 (counted in a leap year).

    Raises ``ValueError`` for a date no year has (``"02-30"``, ``"04-31"``).
    """
    month, _, day = text.partition("-")
    try:
        date = dt.date(_LEAP_YEAR, int(month), int(day))
    except ValueError:
        raise ValueError(f'"{text}" is not a date in any year') from None
    return date.timetuple().tm_yday - 1


def format_day(day: int) -> str:
    """59 → ``"02-29"``."""
    return (dt.date(_LEAP_YEAR, 1, 1) + dt.timedelta(days=day)).strftime("%m-%d")


def season_days(first: int, last: int) -> list[int]:
    """The days of a season from ``first`` to ``last`` inclusive, wrapping the year end."""
    if first <= last:
        return list(range(first, last + 1))
    return [*range(first, DAYS_PER_YEAR), *range(0, last + 1)]


def day_runs(days: Iterable[int]) -> list[DayRange]:
    """Days of the year as runs of consecutive days; a run through 12-31 and one from
    01-01 are joined across the year end."""
    ordered = sorted(set(days))
    runs: list[DayRange] = []
    for day in ordered:
        if runs and day == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == DAYS_PER_YEAR - 1:
        runs = [(runs[-1][0], runs[0][1]), *runs[1:-1]]
    return runs


def format_day_runs(days: Iterable[int]) -> str:
    """``"06-01–08-31, 12-25"``."""
    return ", ".join(
        format_day(a) if a == b else f"{format_day(a)}–{format_day(b)}" for a, b in day_runs(days)
    )


@dataclass(frozen=True, slots=True)
class SeasonCoverage:
    """How seasons cover the year: the days each pair shares, and the days none has."""

    overlaps: dict[tuple[int, int], list[int]]
    gaps: list[int]


def season_coverage(seasons: Sequence[DayRange]) -> SeasonCoverage:
    """Check that ``seasons`` (``(first, last)`` day pairs) cover each day exactly once."""
    holders: list[list[int]] = [[] for _ in range(DAYS_PER_YEAR)]
    for index, (first, last) in enumerate(seasons):
        for day in season_days(first, last):
            holders[day].append(index)
    shared: dict[tuple[int, int], list[int]] = {}
    for day, held in enumerate(holders):
        for j, second in enumerate(held):
            for first in held[:j]:
                shared.setdefault((first, second), []).append(day)
    missing = [day for day, held in enumerate(holders) if not held]
    return SeasonCoverage(shared, missing)
