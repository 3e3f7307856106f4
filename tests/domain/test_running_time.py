"""Simulated time's base: a reading that runs on at a speed of a monotonic source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from depotctl.domain.running_time import RunningTime

START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


class Source:
    """A monotonic source the test moves."""

    def __init__(self) -> None:
        self.s = 500.0

    def __call__(self) -> float:
        return self.s


class Keeper(RunningTime):
    """What a keeper sees: the time now, and a new reading."""

    started = 0

    def _started(self) -> None:
        self.started += 1

    def now(self) -> datetime:
        return self._running_at(self._monotonic())

    def read(self, reading: datetime) -> None:
        self._read(reading, self._monotonic())


def test_time_runs_at_its_speed_from_the_start() -> None:
    source = Source()
    keeper = Keeper(START, 60, monotonic=source)
    assert keeper.now() == START
    source.s += 2.5
    assert keeper.now() == START + timedelta(minutes=2.5)
    assert keeper.speed == 60.0


def test_a_new_reading_runs_on_from_when_it_was_taken() -> None:
    source = Source()
    keeper = Keeper(START, 2, monotonic=source)
    source.s += 10
    later = START + timedelta(hours=1)
    keeper.read(later)
    assert keeper.now() == later
    source.s += 3
    assert keeper.now() == later + timedelta(seconds=6)


def test_speed_zero_stands_still() -> None:
    source = Source()
    keeper = Keeper(START, 0, monotonic=source)
    source.s += 1000
    assert keeper.now() == START


def test_the_reading_is_kept_in_utc_and_the_keeper_set_up_once() -> None:
    start = START.astimezone(timezone(timedelta(hours=10)))
    keeper = Keeper(start, monotonic=Source())
    assert keeper.now().utcoffset() == timedelta(0)
    assert keeper.now() == START
    assert keeper.started == 1


def test_a_naive_start_is_refused_saying_what_it_needs() -> None:
    with pytest.raises(ValueError, match="aware start time, not 2024-05-01 06:00:00"):
        Keeper(datetime(2024, 5, 1, 6, 0))
