"""A dynamic energy price series: prices per kWh at instants, each holding until the next
(day-ahead market prices, hourly, negative ones included). Standard library only."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass


class PriceSeriesGapError(ValueError):
    """An instant the series does not price (before its first price or from its end)."""


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """``prices[i]`` (per kWh) holds from ``starts[i]`` until ``starts[i + 1]``; the last
    until ``end``. Instants are aware and strictly increasing."""

    name: str
    currency: str
    starts: tuple[dt.datetime, ...]
    prices: tuple[float, ...]
    end: dt.datetime

    def __post_init__(self) -> None:
        if not self.starts or len(self.starts) != len(self.prices):
            raise ValueError(f'price series "{self.name}" needs one price per start, at least one')
        if any(t.utcoffset() is None for t in (*self.starts, self.end)):
            raise ValueError(f'price series "{self.name}" has a naive time; give instants in UTC')
        object.__setattr__(self, "starts", tuple(t.astimezone(dt.UTC) for t in self.starts))
        object.__setattr__(self, "end", self.end.astimezone(dt.UTC))
        instants = (*self.starts, self.end)
        if any(a >= b for a, b in itertools.pairwise(instants)):
            raise ValueError(f'price series "{self.name}": its instants must increase')

    @classmethod
    def hourly(
        cls, name: str, currency: str, starts: Sequence[dt.datetime], prices: Sequence[float]
    ) -> PriceSeries:
        """A series whose last price holds for one hour after its start."""
        return cls(name, currency, tuple(starts), tuple(prices), starts[-1] + dt.timedelta(hours=1))

    def price_at(self, instant: dt.datetime) -> float:
        """The price per kWh in force at ``instant``."""
        instant = instant.astimezone(dt.UTC)
        index = bisect.bisect_right(self.starts, instant) - 1
        if index < 0 or instant >= self.end:
            raise PriceSeriesGapError(
                f'price series "{self.name}" covers {self.starts[0].isoformat()} to '
                f"{self.end.isoformat()}, not {instant.isoformat()}"
            )
        return self.prices[index]

    def next_change(self, instant: dt.datetime) -> dt.datetime:
        """The first instant after ``instant`` at which the price may change."""
        index = bisect.bisect_right(self.starts, instant.astimezone(dt.UTC))
        return self.starts[index] if index < len(self.starts) else self.end
