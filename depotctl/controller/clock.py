"""The controller's clock, injected: real time, or simulated time that runs faster.

Every policy duration (staleness, offline-after, validity) is measured on this
clock, so a demo at ``--clock sim --speed 60`` behaves like an hour in a minute. So
are the controller's timers — the control loop's tick, a command's timeout, a
retry's backoff — through :meth:`Clock.sleep`: a test pauses a :class:`SimClock`
and moves it on with :meth:`SimClock.advance`, and every sleeper whose time has come
wakes, whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from depotctl.domain.running_time import RunningTime


@runtime_checkable
class Clock(Protocol):
    """What the controller reads the time from."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...

    @property
    def speed(self) -> float:
        """Clock seconds per real second: 1.0 for real time."""
        ...

    @property
    def kind(self) -> str:
        """``real`` or ``sim``."""
        ...

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Something to await that returns once ``seconds`` of this clock have passed
        since the call (not since it is first awaited)."""
        ...


class RealClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> Awaitable[None]:
        return asyncio.sleep(max(seconds, 0.0))

    @property
    def speed(self) -> float:
        return 1.0

    @property
    def kind(self) -> str:
        return "real"


class SimClock(RunningTime):
    """Simulated time: starts at ``start`` and runs ``speed`` times faster than the
    ``monotonic`` source (seconds), so it never jumps with the wall clock. It can be
    paused, resumed and advanced by hand (for tests and replays); it is thread-safe."""

    def _started(self) -> None:
        speed = self._speed
        if not speed > 0 or speed == float("inf"):
            raise ValueError(f"the simulated clock's speed must be a positive number, not {speed}")
        self._lock = threading.Lock()
        self._paused = False  # while paused, now is the reading itself
        #: the events of the coroutines sleeping on this clock, with their loops
        self._sleepers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def now(self) -> datetime:
        with self._lock:
            return self._now()

    @property
    def kind(self) -> str:
        return "sim"

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._paused

    def pause(self) -> None:
        """Stop time; a second pause is harmless."""
        with self._lock:
            if not self._paused:
                self._read(self._now(), self._monotonic())
                self._paused = True
        self._nudge()

    def resume(self) -> None:
        """Let time run again from where it stopped (no jump)."""
        with self._lock:
            if self._paused:
                self._read(self._reading, self._monotonic())
                self._paused = False
        self._nudge()

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` of clock time, paused or not; every sleeper
        whose time has come wakes."""
        if not seconds >= 0:
            raise ValueError(f"the clock only moves forward; cannot advance by {seconds} s")
        with self._lock:
            self._reading += timedelta(seconds=seconds)
        self._nudge()

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Something to await that returns once ``seconds`` of this clock have passed
        since the call: at ``speed`` times wall time while it runs; while paused, only
        :meth:`advance` brings it nearer."""
        return self.sleep_until(self.now() + timedelta(seconds=max(seconds, 0.0)))

    async def sleep_until(self, instant: datetime) -> None:
        """Return once this clock reads ``instant`` or later."""
        sleeper = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._sleepers.add(sleeper)
        try:
            while (remaining := (instant - self.now()).total_seconds()) > 0:
                wall = None if self.paused else remaining / self._speed
                sleeper[1].clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sleeper[1].wait(), wall)
        finally:
            with self._lock:
                self._sleepers.discard(sleeper)

    def _nudge(self) -> None:
        """Wake every sleeper to look at the time again (from any thread)."""
        with self._lock:
            sleepers = list(self._sleepers)
        for loop, event in sleepers:
            with contextlib.suppress(RuntimeError):  # its loop has closed
                loop.call_soon_threadsafe(event.set)

    def _now(self) -> datetime:
        return self._reading if self._paused else self._running_at(self._monotonic())


def clock_for(kind: str, *, speed: float = 1.0, start: datetime | None = None) -> Clock:
    """The clock ``serve --clock KIND --speed N`` asks for. A simulated clock starts at
    ``start`` (default: now); the real clock only runs at speed 1."""
    if kind == "real":
        if speed != 1.0:
            raise ValueError(f"--speed {speed:g} needs --clock sim; the real clock runs at 1")
        return RealClock()
    if kind == "sim":
        return SimClock(start if start is not None else datetime.now(UTC), speed)
    raise ValueError(f"unknown clock {kind!r}: use real or sim")
