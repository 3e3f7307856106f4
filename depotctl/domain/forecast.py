"""Power forecasts: what a site load will draw, or a generator produce, over the coming
hours — an hourly profile of the local day by day type, or a dated series. Watts,
never negative; standard library only."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

HOURS_PER_DAY = 24


@dataclass(frozen=True, slots=True)
class HourlyProfile:
    """Power by hour of the local day: ``weekdays[h]`` holds from h:00 to h+1:00, Monday
    to Friday; ``weekends[h]`` on Saturday and Sunday (the same 24 values when the site
    gave one profile for every day)."""

    weekdays: tuple[float, ...]
    weekends: tuple[float, ...]

    def __post_init__(self) -> None:
        for name in ("weekdays", "weekends"):
            values = getattr(self, name)
            if len(values) != HOURS_PER_DAY or min(values) < 0:
                raise ValueError(f"an hourly profile's {name} need 24 values, none below zero")

    @classmethod
    def every_day(cls, values: tuple[float, ...]) -> HourlyProfile:
        return cls(values, values)

    def watts_at(self, at: dt.datetime, zone: ZoneInfo) -> float:
        """The power in force at ``at`` (aware), read on the site's local clock."""
        local = at.astimezone(zone)
        day = self.weekends if local.weekday() >= 5 else self.weekdays
        return day[local.hour]


@dataclass(frozen=True, slots=True)
class PowerSeries:
    """``watts[i]`` holds from ``times[i]`` until ``times[i + 1]``; the last for as long
    as the step before it (one hour for a single value). Times are aware, strictly
    increasing, kept in UTC."""

    times: tuple[dt.datetime, ...]
    watts: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.times or len(self.times) != len(self.watts):
            raise ValueError("a power series needs one value per time, at least one")
        if any(t.utcoffset() is None for t in self.times):
            raise ValueError("a power series needs aware times")
        if min(self.watts) < 0:
            raise ValueError("a power series has no value below zero")
        object.__setattr__(self, "times", tuple(t.astimezone(dt.UTC) for t in self.times))
        if any(a >= b for a, b in itertools.pairwise(self.times)):
            raise ValueError("a power series' times must strictly increase")

    @property
    def end(self) -> dt.datetime:
        """When the last value stops holding."""
        step = self.times[-1] - self.times[-2] if len(self.times) > 1 else dt.timedelta(hours=1)
        return self.times[-1] + step

    def watts_at(self, at: dt.datetime, zone: ZoneInfo | None = None) -> float | None:
        """The power in force at ``at``; None outside the series (a forecast that says
        nothing there, never zero)."""
        index = bisect.bisect_right(self.times, at.astimezone(dt.UTC)) - 1
        if index < 0 or at >= self.end:
            return None
        return self.watts[index]


#: What a site file's ``forecast:`` compiles to.
PowerForecast = HourlyProfile | PowerSeries
