"""The injected clock: real time, and simulated time that runs faster."""

from __future__ import annotations

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
