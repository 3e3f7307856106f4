"""Carbon intensity over time, and the emissions of energy drawn: kg CO2e.

A site's intensity is one of three signals, each in kg CO2e per kWh:

- :class:`ConstantIntensity` — the same at every instant;
- :class:`HourlyIntensity` — 24 values by hour of the *local* day, in the site's time
  zone: on a day that springs forward the skipped hour's value is never used, on one
  that falls back the repeated hour's value holds for both of its hours;
- :class:`SeriesIntensity` — dated values at any resolution, each holding from its
  time until the next, the last until the series' ``end``. An instant outside
  ``[start, end)`` has no intensity: asking for it raises :class:`UncoveredError`,
  never a zero.

Energy drawn over an interval is spread evenly over it: its emissions are the sum,
over the pieces the signal's change points cut the interval into, of the piece's share
of the energy times the intensity in force over the piece.

Standard library only.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

#: One piece of an interval: ``(start, end, kg CO2e per kWh)``.
Piece = tuple[datetime, datetime, float]


class UncoveredError(ValueError):
    """An interval reaching outside the instants a series covers."""

    def __init__(self, start: datetime, end: datetime, covered: tuple[datetime, datetime]) -> None:
        self.start, self.end, self.covered = start, end, covered
        super().__init__(
            f"no carbon intensity from {_iso(start)} to {_iso(end)}: the series covers "
            f"{_iso(covered[0])} to {_iso(covered[1])}; extend the series file or replay "
            "a period within it"
        )


class Intensity(ABC):
    """A carbon intensity signal: kg CO2e per kWh at every instant it covers."""

    @abstractmethod
    def pieces(self, start: datetime, end: datetime) -> Iterator[Piece]:
        """``[start, end)`` cut where the intensity changes, in order and in UTC, with
        the intensity over each piece; raises :class:`UncoveredError` (before yielding
        anything) when some of it is not covered."""

    @abstractmethod
    def describe(self) -> str:
        """What the signal is, for reports: ``constant 0.66 kg/kWh``."""

    def at(self, instant: datetime) -> float:
        """The intensity in force at ``instant`` (kg/kWh)."""
        return next(self.pieces(instant, instant + _TICK))[2]

    def emissions_kg(self, start: datetime, end: datetime, energy_wh: float) -> float:
        """kg CO2e of ``energy_wh`` drawn evenly over ``[start, end)``; an empty
        interval draws it at ``start``."""
        if energy_wh == 0.0:
            return 0.0
        # UTC: arithmetic between two times of one zone is wall-clock arithmetic
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return energy_wh / 1000.0 * self.at(start)
        seconds = (end - start).total_seconds()
        return sum(
            energy_wh / 1000.0 * (b - a).total_seconds() / seconds * kg_per_kwh
            for a, b, kg_per_kwh in self.pieces(start, end)
        )

    def profile_emissions_kg(self, intervals: Iterable[tuple[datetime, datetime, float]]) -> float:
        """kg CO2e of an energy profile: ``(start, end, Wh)`` intervals."""
        return sum(self.emissions_kg(start, end, wh) for start, end, wh in intervals)


@dataclass(frozen=True, slots=True)
class ConstantIntensity(Intensity):
    kg_per_kwh: float

    def pieces(self, start: datetime, end: datetime) -> Iterator[Piece]:
        yield start.astimezone(UTC), end.astimezone(UTC), self.kg_per_kwh

    def describe(self) -> str:
        return f"constant {self.kg_per_kwh:g} kg/kWh"


@dataclass(frozen=True, slots=True)
class HourlyIntensity(Intensity):
    """``hourly[h]`` holds from h:00 to h+1:00 of the local day in ``zone``."""

    hourly: tuple[float, ...]
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if len(self.hourly) != 24:
            raise ValueError(f"an hourly profile needs 24 values, got {len(self.hourly)}")

    def pieces(self, start: datetime, end: datetime) -> Iterator[Piece]:
        at = start.astimezone(UTC)
        end = end.astimezone(UTC)
        while at < end:
            local = at.astimezone(self.zone)
            into_hour = timedelta(
                minutes=local.minute, seconds=local.second, microseconds=local.microsecond
            )
            # the next local hour boundary on the clock in force now; a DST change
            # happens on an hour boundary, so the next piece starts on the new clock
            boundary = min(at - into_hour + timedelta(hours=1), end)
            yield at, boundary, self.hourly[local.hour]
            at = boundary

    def describe(self) -> str:
        return f"hourly profile ({self.zone.key})"


@dataclass(frozen=True, slots=True)
class SeriesIntensity(Intensity):
    """``values[i]`` holds from ``times[i]`` until ``times[i + 1]``, the last until
    ``end``. Times are aware and strictly increasing; ``end`` is after the last."""

    times: tuple[datetime, ...]
    values: tuple[float, ...]
    end: datetime
    name: str = "series"

    def __post_init__(self) -> None:
        if not self.times or len(self.times) != len(self.values):
            raise ValueError("a series needs one value for each of its times, and at least one")
        if any(t.tzinfo is None for t in self.times) or self.end.tzinfo is None:
            raise ValueError("a series' times must be aware (carry their UTC offset)")
        if any(b <= a for a, b in pairwise(self.times)):
            raise ValueError("a series' times must be strictly increasing")
        if self.end <= self.times[-1]:
            raise ValueError("a series' end must be after its last time")

    @classmethod
    def of(cls, times: Sequence[datetime], values: Sequence[float], name: str) -> SeriesIntensity:
        """A series whose last value holds for as long as the spacing before it (a
        regular series covers its last step; one point covers nothing past it)."""
        step = times[-1] - times[-2] if len(times) > 1 else timedelta(0)
        utc = tuple(t.astimezone(UTC) for t in times)
        return cls(utc, tuple(values), utc[-1] + max(step, _TICK), name)

    @property
    def start(self) -> datetime:
        return self.times[0]

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.times[0] <= start and end <= self.end

    def pieces(self, start: datetime, end: datetime) -> Iterator[Piece]:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if not self.covers(start, end):
            raise UncoveredError(start, end, (self.times[0], self.end))
        index = bisect.bisect_right(self.times, start) - 1
        at = start
        while at < end:
            following = self.times[index + 1] if index + 1 < len(self.times) else self.end
            boundary = min(following, end)
            yield at, boundary, self.values[index]
            at, index = boundary, index + 1

    def describe(self) -> str:
        return f"{self.name}, {_iso(self.times[0])} to {_iso(self.end)}"


#: The shortest interval: ``at`` asks for the piece holding at an instant.
_TICK = timedelta(microseconds=1)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


__all__ = [
    "ConstantIntensity",
    "HourlyIntensity",
    "Intensity",
    "Piece",
    "SeriesIntensity",
    "UncoveredError",
]
