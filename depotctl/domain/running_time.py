"""Simulated time as its two keepers hold it: a reading that runs on at a speed.

The controller's ``SimClock`` (paused and advanced by tests) and the simulated
chargers' ``SimTime`` (following the controller's clock) both build on
:class:`RunningTime`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class RunningTime:
    """Time that runs ``speed`` seconds per second of a ``monotonic`` source (seconds,
    which never jumps with the wall clock), from the reading ``start``."""

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.utcoffset() is None:
            raise ValueError(f"simulated time needs an aware start time, not {start}")
        self._monotonic = monotonic
        self._speed = float(speed)
        self._reading = start.astimezone(UTC)
        self._source_s = monotonic()
        self._started()

    def _started(self) -> None:
        """What a keeper of the time sets up once its first reading stands."""

    @property
    def speed(self) -> float:
        return self._speed

    def _read(self, reading: datetime, source_s: float) -> None:
        """Run on from ``reading``, taken when the source read ``source_s``."""
        self._reading = reading.astimezone(UTC)
        self._source_s = source_s

    def _running_at(self, source_s: float) -> datetime:
        """The time when the source reads ``source_s``."""
        elapsed = (source_s - self._source_s) * self._speed
        return self._reading + timedelta(seconds=elapsed)
