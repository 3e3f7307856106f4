"""The controller's clock as the simulated chargers see it, shared by all of them.

:class:`SimTime` holds the last reading of the controller's clock (its time and
speed) and the wall instant it was taken, and runs on at ``speed`` × wall time
from there. It never goes back: a reading behind what it already said holds it
still until the controller catches up. :class:`ClockFollower` reads
``GET /api/v1/clock`` every few seconds; without a controller API, real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from depotctl.domain.running_time import RunningTime

LOG = logging.getLogger("depotctl.sim.chargers")

#: a reading this far (controller seconds) from where time had got to wakes sleepers
_JUMP_S = 1.0
#: a reading this far behind (controller seconds, or 10 wall seconds' worth) is a new
#: clock, not latency: time follows it back
_RESET_S = 60.0


class SimTime(RunningTime):
    """Simulated time: ``speed`` controller seconds per wall second from a reading.
    Speed 0 stands still (tests move it with :meth:`advance`)."""

    def _started(self) -> None:
        self._floor = self._reading
        self._changed = asyncio.Event()
        #: "real" or "sim", as the controller says (for the summary)
        self.kind = "real" if self._speed == 1.0 else "sim"

    @classmethod
    def real(cls) -> SimTime:
        """The wall clock (UTC)."""
        return cls(datetime.now(UTC), 1.0)

    def now(self) -> datetime:
        """The controller's time now, never earlier than the last answer (unless the
        controller's clock itself went back: see :meth:`set`)."""
        estimate = self._estimate()
        if estimate > self._floor:
            self._floor = estimate
        return self._floor

    def _estimate(self) -> datetime:
        return self._running_at(self._monotonic())

    def set(self, reading: datetime, speed: float, *, taken_at: float | None = None) -> None:
        """A new reading of the controller's clock, taken at wall ``taken_at``.
        Sleepers are woken only when the speed changed or time jumped."""
        before = self.now()
        wall = self._monotonic() if taken_at is None else taken_at
        changed = speed != self._speed
        self._read(reading, wall)
        self._speed = speed
        behind = (before - self._estimate()).total_seconds()
        if behind > max(_RESET_S, 10 * speed):  # a new clock, not latency: follow it back
            LOG.warning("the controller's clock went back %.0f s; following it", behind)
            self._floor = self._estimate()
            changed = True
        if changed or abs((self.now() - before).total_seconds()) > _JUMP_S:
            self._wake()

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` at once."""
        current = self.now()
        self._read(current + timedelta(seconds=seconds), self._monotonic())
        self._floor = self._reading
        self._wake()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time."""
        await self.sleep_until(self.now() + timedelta(seconds=seconds))

    async def sleep_until(self, instant: datetime) -> None:
        """Wait until the simulated time reaches ``instant``."""
        while True:
            remaining = (instant - self.now()).total_seconds()
            if remaining <= 0:
                return
            changed = self._changed
            wall = remaining / self._speed if self._speed > 0 else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), wall)

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


#: the controller's time, speed and clock kind
Reading = tuple[datetime, float, str]


class ClockFollower:
    """Keeps a :class:`SimTime` on the controller's clock: ``read`` returns the
    controller's (time, speed, kind); called every ``every_s`` wall seconds."""

    def __init__(
        self, time_: SimTime, read: Callable[[], Awaitable[Reading]], every_s: float = 2.0
    ) -> None:
        self.time = time_
        self.read = read
        self.every_s = every_s
        self.failures = 0

    async def sync(self) -> None:
        """One reading, taken at the middle of the request."""
        before = time.monotonic()
        reading, speed, kind = await self.read()
        after = time.monotonic()
        self.time.set(reading, speed, taken_at=(before + after) / 2)
        self.time.kind = kind

    async def run(self) -> None:
        """Follow until cancelled; a failed reading keeps the last one running."""
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.sync()
            except Exception as error:  # the controller restarting, a network blip
                self.failures += 1
                LOG.warning("cannot read the controller's clock: %s", error)
