"""The shared simulated time, and following a real controller's clock over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic

from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.sim.chargers.run import clock_reader
from depotctl.sim.chargers.simtime import ClockFollower, SimTime
from tests.controller.test_app import AU_DEPOT, serving
from tests.sim.chargers.builders import START


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 500.0

    def __call__(self) -> float:
        return self.t


def test_time_runs_at_its_speed() -> None:
    mono = FakeMonotonic()
    time = SimTime(START, 60, monotonic=mono)
    mono.t += 2.5
    assert time.now() == START + timedelta(seconds=150)


def test_a_reading_behind_never_sets_time_back() -> None:
    mono = FakeMonotonic()
    time = SimTime(START, 60, monotonic=mono)
    mono.t += 10  # 600 s on
    assert time.now() == START + timedelta(seconds=600)
    time.set(START + timedelta(seconds=300), 60)  # the controller was paused meanwhile
    assert time.now() == START + timedelta(seconds=600)
    mono.t += 10  # now 300 + 600: past where we were, runs on from the reading
    assert time.now() == START + timedelta(seconds=900)


def test_a_reading_ahead_jumps_forward() -> None:
    mono = FakeMonotonic()
    time = SimTime(START, 1, monotonic=mono)
    time.set(START + timedelta(hours=1), 120)
    mono.t += 1
    assert time.now() == START + timedelta(hours=1, seconds=120)
    assert time.speed == 120


def test_sleep_on_a_still_clock_wakes_when_time_is_advanced() -> None:
    async def scenario() -> list[str]:
        time = SimTime(START, 0)
        events: list[str] = []

        async def sleeper() -> None:
            await time.sleep(60)
            events.append(f"woke at {time.now():%H:%M:%S}")

        task = asyncio.create_task(sleeper())
        await asyncio.sleep(0.05)
        events.append("still asleep" if not task.done() else "woke early")
        time.advance(30)
        await asyncio.sleep(0.05)
        events.append("still asleep" if not task.done() else "woke early")
        time.advance(30)
        await asyncio.wait_for(task, 2)
        return events

    assert asyncio.run(scenario()) == ["still asleep", "still asleep", "woke at 14:01:00"]


def test_sleep_at_speed_takes_the_scaled_wall_time() -> None:
    async def scenario() -> float:
        time = SimTime(datetime.now(UTC), 600)
        loop = asyncio.get_running_loop()
        before = loop.time()
        await time.sleep(60)  # 0.1 s of wall time
        return loop.time() - before

    # never early; the upper bound only tells a hang from a busy machine
    assert 0.08 <= asyncio.run(scenario()) < 30.0


def test_the_follower_takes_a_real_controllers_clock(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "depotctl.sqlite")
    clock = SimClock(START, speed=60)
    service = Controller(store, clock, base_dir=AU_DEPOT.parent)
    service.seed(AU_DEPOT, AU_DEPOT.read_text(encoding="utf-8"), author="test")
    tokens = load_or_create_tokens(tmp_path)
    try:
        with serving(create_app(service, tokens)) as url:

            async def follow() -> tuple[float, float, str, float]:
                time = SimTime(datetime(2000, 1, 1, tzinfo=UTC), 1)
                follower = ClockFollower(time, clock_reader(url, tokens.readonly))
                before = monotonic()
                await follower.sync()
                ours = time.now()
                theirs = clock.now()
                elapsed = monotonic() - before
                return abs((ours - theirs).total_seconds()), time.speed, time.kind, elapsed

            gap, speed, kind, elapsed = asyncio.run(follow())
    finally:
        service.close()
    assert speed == 60
    assert kind == "sim"
    # the reading is taken somewhere inside the request and assumed at its middle: off
    # by at most the request's wall time (and the moment between the two readings)
    # at 60 controller seconds a second, however slow the machine
    assert gap <= 60 * elapsed + 0.001, (gap, elapsed)


def test_a_clock_set_far_back_is_followed() -> None:
    mono = FakeMonotonic()
    time = SimTime(START, 1, monotonic=mono)
    time.set(START - timedelta(hours=2), 1)  # the controller restarted on another clock
    assert time.now() == START - timedelta(hours=2)
