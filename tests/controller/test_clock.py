"""The injected clock: real time, and simulated time that runs faster."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from depotctl.controller.clock import Clock, RealClock, SimClock, clock_for

START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_real_clock_is_aware_utc_now() -> None:
    clock = RealClock()
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after
    assert (clock.kind, clock.speed) == ("real", 1.0)
    assert isinstance(clock, Clock)


def test_sim_clock_starts_at_start_and_runs_speed_times_faster() -> None:
    mono = FakeMonotonic()
    clock = SimClock(START, speed=60, monotonic=mono)
    assert clock.now() == START
    mono.t += 1.5
    assert clock.now() == START + timedelta(seconds=90)
    assert (clock.kind, clock.speed) == ("sim", 60.0)
    assert isinstance(clock, Clock)


def test_sim_clock_start_in_another_zone_is_reported_in_utc() -> None:
    clock = SimClock(START.astimezone(timezone(timedelta(hours=2))), monotonic=FakeMonotonic())
    now = clock.now()
    assert now == START
    assert now.utcoffset() == timedelta(0)


def test_pause_freezes_and_resume_continues_without_a_jump() -> None:
    mono = FakeMonotonic()
    clock = SimClock(START, speed=10, monotonic=mono)
    mono.t += 2
    clock.pause()
    assert clock.paused
    mono.t += 100
    assert clock.now() == START + timedelta(seconds=20)
    clock.pause()  # a second pause changes nothing
    clock.resume()
    assert not clock.paused
    assert clock.now() == START + timedelta(seconds=20)
    mono.t += 1
    assert clock.now() == START + timedelta(seconds=30)


def test_advance_moves_time_forward_paused_or_running() -> None:
    mono = FakeMonotonic()
    clock = SimClock(START, speed=2, monotonic=mono)
    clock.advance(300)
    assert clock.now() == START + timedelta(seconds=300)
    clock.pause()
    clock.advance(60)
    assert clock.now() == START + timedelta(seconds=360)
    clock.resume()
    mono.t += 5
    assert clock.now() == START + timedelta(seconds=370)


def test_sim_clock_with_the_real_monotonic_source_moves_forward() -> None:
    clock = SimClock(START, speed=1000)
    first = clock.now()
    second = clock.now()
    assert START <= first <= second


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf")])
def test_sim_clock_refuses_a_speed_that_is_not_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        SimClock(START, speed=speed)


def test_sim_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        SimClock(datetime(2024, 5, 1, 6, 0))


def test_advance_refuses_going_back() -> None:
    clock = SimClock(START, monotonic=FakeMonotonic())
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    assert clock.now() == START


def test_clock_for_builds_what_serve_flags_ask_for() -> None:
    assert isinstance(clock_for("real"), RealClock)
    sim = clock_for("sim", speed=60, start=START)
    assert isinstance(sim, SimClock)
    assert sim.speed == 60
    assert START <= sim.now() < START + timedelta(minutes=10)
    with pytest.raises(ValueError, match="--clock sim"):
        clock_for("real", speed=60)
    with pytest.raises(ValueError, match="unknown clock"):
        clock_for("wall")


def test_a_sleeper_on_a_paused_sim_clock_wakes_only_when_advanced_past_its_time() -> None:
    async def scenario() -> list[str]:
        clock = SimClock(START, speed=1.0)
        clock.pause()
        woke: list[str] = []

        async def sleeper(name: str, seconds: float) -> None:
            await clock.sleep(seconds)
            woke.append(name)

        tasks = [asyncio.create_task(sleeper("5s", 5)), asyncio.create_task(sleeper("30s", 30))]
        await asyncio.sleep(0)
        clock.advance(4.9)
        for _ in range(5):
            await asyncio.sleep(0)
        assert woke == []
        clock.advance(0.1)
        await asyncio.wait_for(tasks[0], 1)
        assert woke == ["5s"]
        clock.advance(25)
        await asyncio.wait_for(tasks[1], 1)
        return woke

    assert asyncio.run(scenario()) == ["5s", "30s"]


def test_a_sleeper_on_a_running_sim_clock_wakes_after_its_time_in_wall_terms() -> None:
    async def scenario() -> float:
        clock = SimClock(START, speed=1000.0)
        began = clock.now()
        await asyncio.wait_for(clock.sleep(50), 5)  # 50 ms of wall time
        return (clock.now() - began).total_seconds()

    assert asyncio.run(scenario()) >= 50


def test_the_real_clock_sleeps_in_wall_time() -> None:
    async def scenario() -> None:
        await asyncio.wait_for(RealClock().sleep(0), 1)

    asyncio.run(scenario())
