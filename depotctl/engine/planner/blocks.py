"""The planner's time grid: equal blocks from now over a horizon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Blocks:
    """``count`` consecutive blocks of ``length`` from ``start`` (aware, UTC)."""

    start: datetime
    length: timedelta
    count: int

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError(
                f"planner blocks: start {self.start.isoformat()} has no time zone; "
                "pass an aware datetime in UTC"
            )
        if self.length <= timedelta(0):
            raise ValueError(f"planner blocks: length {self.length} must be positive")
        if self.count < 1:
            raise ValueError(f"planner blocks: count {self.count} must be at least 1")

    @property
    def hours(self) -> float:
        """One block's length in hours."""
        return self.length.total_seconds() / 3600.0

    @property
    def end(self) -> datetime:
        return self.start + self.length * self.count

    def starts(self) -> tuple[datetime, ...]:
        """Every block's start instant."""
        return tuple(self.start + self.length * b for b in range(self.count))

    def index(self, instant: datetime) -> int | None:
        """The block holding ``instant``; None before the start or from the end on."""
        if instant < self.start or instant >= self.end:
            return None
        return int((instant - self.start) // self.length)

    def hours_before(self, departure: datetime) -> tuple[float, ...]:
        """Per block, the hours of it before ``departure`` (0 for blocks after it)."""
        hours = []
        for start in self.starts():
            seconds = (min(departure, start + self.length) - start).total_seconds()
            hours.append(max(0.0, seconds) / 3600.0)
        return tuple(hours)


#: The default block: a quarter-hour, the billing and market settlement period.
BLOCK = timedelta(minutes=15)
#: The default horizon: a day.
HORIZON = timedelta(hours=24)


def plan_blocks(start: datetime, horizon: timedelta = HORIZON, length: timedelta = BLOCK) -> Blocks:
    """The blocks from ``start`` covering ``horizon`` (the last one whole, so it may end
    past the horizon when ``length`` does not divide it)."""
    if horizon <= timedelta(0):
        raise ValueError(f"planner blocks: horizon {horizon} must be positive")
    if length <= timedelta(0):
        raise ValueError(f"planner blocks: length {length} must be positive")
    count = -(-horizon // length)
    return Blocks(start=start, length=length, count=count)
