"""A node's timeline summed by the store (one query per resolution) equals the one the
service summed in Python before (:mod:`tests.controller.services.timeline_before`),
step for step, on a store the real control loop filled on a simulated clock: meters
missing some minutes, a meter with power only, one with a phase current only, a
reading with neither, several readings a minute, a day folded into quarter hours (one
quarter without any power reading) with a late minute inside a folded quarter, and a
grid connection that reported itself for an hour — every node and EVSE of the site,
over windows on and off the minute."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.service import Controller
from depotctl.controller.services import timeline as service
from depotctl.controller.store.compaction import Compactor
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading
from tests.controller.services.timeline_before import load_samples_before
from tests.controller.test_time_travel import START, arrive, controller_of

OLD_DAY = START - timedelta(days=40)


def _night(controller: Controller, loop: ControlLoop) -> datetime:
    """20 minutes of the loop's cycles with the chargers' readings; the end."""
    clock = controller.clock
    assert isinstance(clock, SimClock)
    telemetry = controller.units().telemetry
    arrive(controller, "chg-01/1", "S-1", 40.0, 8.0)
    for m in range(20):
        now = clock.now()
        amps = 10.0 + m
        readings = []
        if m % 5 != 3:  # chg-01 misses a minute in five
            three = {Phase.L1: amps, Phase.L2: amps - 1.5, Phase.L3: amps - 3.0}
            readings.append(Reading("chg-01", now, power_w=690.0 * amps, current_a=three))
        if m == 13:  # chg-02's reading without power or current
            readings.append(Reading("chg-02", now, power_w=None, current_a=None))
        elif m % 3 == 0:  # power only
            readings.append(Reading("chg-02", now, power_w=1_000.0 + 7.3 * m))
            readings.append(Reading("chg-02", now + timedelta(seconds=20), power_w=900.1))
        elif m % 3 == 1:  # a current on L1 only
            readings.append(Reading("chg-02", now, power_w=None, current_a={Phase.L1: 4.2}))
        else:
            readings.append(Reading("chg-02", now, power_w=2_222.2, current_a={Phase.L2: 3.3}))
        telemetry.put(readings)
        clock.advance(59)
        asyncio.run(loop.cycle("tick"))
        clock.advance(1)
        asyncio.run(loop.cycle("the outcomes"))
    return clock.now()


def _old_day(controller: Controller) -> None:
    """Three hours 40 days back, folded into quarter hours, and a late minute after."""
    telemetry = controller.units().telemetry
    for m in range(180):
        at = OLD_DAY + timedelta(minutes=m, seconds=20)
        amps = 5.0 + (m * 7) % 13
        readings = [Reading("chg-01", at, power_w=690.0 * amps, current_a={Phase.L1: amps})]
        if m < 20:  # current only: the first quarter holds no power reading
            readings.append(Reading("chg-02", at, power_w=None, current_a={Phase.L3: 2.0 + m}))
        elif m < 90:
            readings.append(Reading("chg-02", at, power_w=1_500.5 + m))
        if 120 <= m < 150:  # the grid connection reports itself
            readings.append(Reading("gc-main", at, power_w=40_000.0 + 11.1 * m))
        telemetry.put(readings)
    Compactor(controller.store).downsample_telemetry(
        before=OLD_DAY + timedelta(hours=3), max_minutes=100_000
    )
    late = OLD_DAY + timedelta(minutes=5, seconds=40)
    telemetry.put([Reading("chg-02", late, power_w=3_000.0, current_a={Phase.L1: 9.9})])


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Controller, datetime]]:
    controller = controller_of(tmp_path_factory.mktemp("timeline-sums"))
    loop = ControlLoop(controller, RecordingDispatcher())
    try:
        end = _night(controller, loop)
        _old_day(controller)
        yield controller, end
    finally:
        controller.close()


def _windows(end: datetime) -> list[tuple[datetime, datetime]]:
    return [
        (START, end),
        (START + timedelta(seconds=30), end - timedelta(seconds=10)),
        (OLD_DAY, OLD_DAY + timedelta(hours=1)),
        (OLD_DAY + timedelta(minutes=7, seconds=30), OLD_DAY + timedelta(hours=3)),
        (OLD_DAY - timedelta(days=1), end),  # 41 days: steps of 40 minutes
    ]


def _before(
    controller: Controller, subject: str, since: datetime, until: datetime
) -> service.Timeline:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service, "_load_samples", load_samples_before)
        return service.timeline(controller, subject, since, until)


def test_every_node_and_evse_has_the_timeline_it_had_when_summed_in_python(
    filled: tuple[Controller, datetime],
) -> None:
    controller, end = filled
    topology = controller.require_site().topology
    loads = 0
    for subject in [*topology.nodes, *topology.evses]:
        for since, until in _windows(end):
            new = service.timeline(controller, subject, since, until)
            old = _before(controller, subject, since, until)
            assert replace(new, points=()) == replace(old, points=()), (subject, since)
            assert [(p.at, p.limit, p.resolution_s) for p in new.points] == [
                (p.at, p.limit, p.resolution_s) for p in old.points
            ], (subject, since)
            for got, was in zip(new.points, old.points, strict=True):
                assert got.load == pytest.approx(was.load, rel=1e-12, abs=1e-9), (subject, got)
            loads += sum(p.load is not None for p in new.points)
    assert loads > 1_000  # the windows hold readings: the comparison compared something


def test_a_node_sums_its_meters_own_readings_by_the_old_rules(
    filled: tuple[Controller, datetime],
) -> None:
    """Worked from the readings put: db-1 (amps, no import limit) in the minute chg-01
    missed and chg-02 read power only; gc-main (watts) where both read power."""
    controller, end = filled
    answer = service.timeline(controller, "db-1", START, end)
    assert answer.unit == "A"
    by_minute = {p.at: p.load for p in answer.points}
    volts = 230.0 * 3
    assert by_minute[START + timedelta(minutes=3)] == pytest.approx(
        (1_000.0 + 21.9 + 900.1) / 2 / volts
    )
    # minute 13: chg-01 missed it, chg-02's reading had neither power nor current
    assert by_minute[START + timedelta(minutes=13)] is None
    # minute 1: chg-01's L1 and chg-02's L1 add up
    assert by_minute[START + timedelta(minutes=1)] == pytest.approx(11.0 + 4.2)
    watts = {p.at: p.load for p in service.timeline(controller, "gc-main", START, end).points}
    assert watts[START + timedelta(minutes=2)] == pytest.approx(690.0 * 12 + 2_222.2)
