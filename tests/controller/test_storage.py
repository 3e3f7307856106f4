"""The site's battery in the live loop: a real controller (SQLite store, simulated clock
moved by the test, its control loop and planner) with a simulated battery behind the
battery port. Over a night with a time-of-use tariff the plan discharges the battery
in the dear evening and charges it at the night price, its state of charge following;
the grid connection's import, counted independently from what the battery and the
chargers actually do, never passes its limit. A stale battery reading makes the
allocator reserve its maximum charge; a refused setpoint is never assumed applied; a
setpoint that adds load waits for the EVSE commands out and fits the room left."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.planning import Planning, Solver, site_planner_settings
from depotctl.controller.service import Controller
from depotctl.controller.storage import Batteries, StorageKind
from depotctl.controller.storage_sim import SimulatedBattery
from depotctl.controller.store import Store
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.telemetry import Reading
from depotctl.engine.allocation import LimitKind
from depotctl.engine.planner import Plan, PlanningProblem, StoragePlan, solve
from tests.conftest import EXAMPLES

#: Monday 2 March 2026, 22:00 in Sydney (daylight time, +11): the day price
START = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
#: 23:00 in Sydney: the night price, until 01:00
NIGHT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
IMPORT_W, CURRENT_A, VOLTS = 100_000.0, 160.0, 230.0
WORKSHOP_W = 30_000.0
#: the minimal depot (gc-main 100 kW and 160 A, two 22 kW chargers with a 16 A
#: fallback) with a workshop, a battery, the planner on and a night tariff
SITE = (
    (EXAMPLES / "minimal.yaml").read_text()
    + """\
    - {id: workshop, type: site_load, parent: gc-main, fallback: 60 kW}
    - id: bess-1
      type: storage
      parent: gc-main
      capacity: 100 kWh
      rating: {power: 50 kW}
      efficiency: {charge: 95 %, discharge: 95 %}
      soc: {min: 10 %, max: 90 %}
      adapter: {type: simulated, initial_soc: 50 %}
      phases: 3
  planner: {enabled: true, horizon: 24 h}
  tariff:
    currency: AUD
    seasons: [{name: all-year, from: "01-01", to: "12-31", energy: [
      {name: day, days: all, from: "01:00", to: "23:00", price: 0.21 /kWh},
      {name: night, days: all, from: "23:00", to: "01:00", price: 0.06 /kWh}]}]
"""
)
EVSE = "chg-01/1"


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    store = Store.open(tmp_path / "depotctl.sqlite")
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(store, clock, base_dir=tmp_path)
    controller.seed(site, SITE, author="test")
    yield controller
    controller.close()


def workshop(controller: Controller, watts: float = WORKSHOP_W) -> None:
    """The workshop's meter reads ``watts`` now."""
    reading = Reading("workshop", controller.clock.now(), power_w=watts)
    controller.units().telemetry.put([reading])


def advance(controller: Controller, seconds: float) -> None:
    clock = controller.clock
    assert isinstance(clock, SimClock)
    clock.advance(seconds)


def rig(
    controller: Controller, solver: Solver
) -> tuple[Planning, ControlLoop, Batteries, SimulatedBattery]:
    """The site's planner (solving with ``solver``), a control loop whose chargers
    accept every limit, and the simulated battery steered in its cycles."""
    planning = Planning(controller, site_planner_settings(controller.require_site()), solver=solver)
    loop = ControlLoop(controller, RecordingDispatcher())
    batteries = Batteries.simulated(controller).attach(loop)
    port = batteries.ports["bess-1"]
    assert isinstance(port, SimulatedBattery)
    return planning, loop, batteries, port


async def step(loop: ControlLoop, batteries: Batteries, planning: Planning | None) -> None:
    """The battery read (as every cycle of a running loop leaves it), a cycle, the
    battery's commands and reads, the solve it started (if any), and the cycles after
    it until nothing is out."""
    await batteries.poll(loop.controller.require_site().topology)
    await loop.cycle("test")
    await batteries.settled()
    if planning is not None and planning.task is not None:
        await planning.task
    for _ in range(3):  # the plan's cycle; the one after the EVSEs answered
        await loop.cycle("again")
        await batteries.settled()


def grid_import(controller: Controller, loop: ControlLoop, battery: SimulatedBattery) -> float:
    """The grid connection's import (W) from what is really drawn: the workshop, the
    battery's own power and each EVSE at its limit in force (the most it may draw)."""
    evses = controller.require_site().topology.evses
    charging = sum(amps * evses[e].watts_per_amp for e, amps in loop.in_force.items())
    return WORKSHOP_W + battery.power_w() + charging


def test_the_plan_discharges_in_the_dear_evening_and_charges_at_night_within_the_limits(
    controller: Controller,
) -> None:
    planning, loop, batteries, sim = rig(controller, solve)
    # a bus that needs 60 kWh by 06:00 (19:00 UTC): the night is not long enough for it
    # alone, so it competes with the battery for the connection
    requirement = EnergyRequirement(60_000.0, datetime(2026, 3, 2, 19, 0, tzinfo=UTC))
    controller.units().sessions.put(Session("S-1", EVSE, START, requirement=requirement))

    async def night() -> list[tuple[datetime, float, float, float]]:
        seen = []
        while controller.clock.now() < NIGHT + timedelta(hours=2):
            workshop(controller)
            await step(loop, batteries, planning)
            seen.append(
                (controller.clock.now(), sim.power_w(), sim.soc, grid_import(controller, loop, sim))
            )
            assert grid_import(controller, loop, sim) <= IMPORT_W + 1.0
            # per line: what draws (a battery that feeds frees no current: its angle)
            drawn_w = grid_import(controller, loop, sim) - min(sim.power_w(), 0.0)
            assert drawn_w / (3 * VOLTS) <= CURRENT_A + 0.01
            advance(controller, 15 * 60)  # the plan stays usable: a replan each block
        return seen

    seen = asyncio.run(night())
    evening = [(p, s) for at, p, s, _ in seen if at < NIGHT]
    nights = [(p, s) for at, p, s, _ in seen if at >= NIGHT]
    assert evening[0][0] < 0  # the plan's first block: discharging at the day price
    assert min(s for _, s in evening) < 0.5 - 0.05
    assert all(p >= 0 for p, _ in nights)
    assert any(p > 0 for p, _ in nights)
    assert nights[-1][1] > min(s for _, s in evening) + 0.1  # charged at night
    # the journal says each target once: its changes, not every cycle
    entries = controller.units().journal.entries(kind=StorageKind.SETPOINT, limit=1000)
    said = [(e.data["target_w"], e.data["why"], e.data["clamped_to_w"] is None) for e in entries]
    assert all(a != b for a, b in itertools.pairwise(said))
    assert "idle: no usable plan" in entries[0].message  # before the first plan
    assert all("the plan's" in entry.message for entry in entries[1:])
    # the site's import counted independently from what was drawn, each block
    assert max(imported for *_, imported in seen) <= IMPORT_W + 1.0


def test_a_stale_battery_reading_reserves_its_maximum_charge_and_the_evse_limits_drop(
    controller: Controller,
) -> None:
    _, loop, batteries, sim = rig(controller, solve)
    controller.units().sessions.put(Session("S-1", EVSE, START))
    workshop(controller, 40_000.0)

    asyncio.run(step(loop, batteries, None))
    fresh = controller.current().allocation
    evse = controller.require_site().topology.evses[EVSE]
    assert fresh.evses[EVSE].limit_a * evse.watts_per_amp > 21_000.0  # its own 22 kW
    sim.silent = True
    advance(controller, 60)  # past the 30 s the policy trusts a reading
    workshop(controller, 40_000.0)
    asyncio.run(step(loop, batteries, None))
    stale = controller.current().allocation
    gc = stale.constraints[("gc-main", LimitKind.IMPORT_POWER)]
    assert gc.reserved == pytest.approx(40_000.0 + 50_000.0)  # the battery at 50 kW
    assert stale.evses[EVSE].limit_a * evse.watts_per_amp <= IMPORT_W - 90_000.0 + 1.0
    assert stale.evses[EVSE].limit_a < fresh.evses[EVSE].limit_a


def charging_at(watts: float) -> Solver:
    """A solver whose plan asks the battery for ``watts`` in every block (the real plan
    for the rest)."""

    def solver(problem: PlanningProblem, warm: Plan | None) -> Plan:
        plan = solve(problem, warm)
        count = problem.blocks.count
        storage = StoragePlan("bess-1", (watts,) * count, (50_000.0,) * count)
        return replace(plan, storage={"bess-1": storage})

    return solver


def test_a_refused_setpoint_is_never_assumed_applied(controller: Controller) -> None:
    planning, loop, batteries, sim = rig(controller, charging_at(-40_000.0))
    sim.refusal = "remote control disabled at the inverter"
    workshop(controller, 90_000.0)

    async def twice() -> None:
        await step(loop, batteries, planning)
        workshop(controller, 90_000.0)
        await step(loop, batteries, planning)

    asyncio.run(twice())
    assert sim.power_w() == 0.0 and "bess-1" not in batteries.accepted
    # its discharge would free 40 kW; refused, it counts at its metered 0 W
    gc = controller.current().allocation.constraints[("gc-main", LimitKind.IMPORT_POWER)]
    assert gc.reserved == pytest.approx(90_000.0)
    [refused] = controller.units().journal.entries(kind=StorageKind.REFUSED)
    assert "remote control disabled at the inverter" in refused.message
    assert "bess-1" in refused.message


def test_a_charge_that_adds_load_is_clamped_to_the_room_left(controller: Controller) -> None:
    planning, loop, batteries, sim = rig(controller, charging_at(50_000.0))
    workshop(controller, 70_000.0)

    asyncio.run(step(loop, batteries, planning))
    # the room left, counted by hand: the connection less its safety margin, the
    # workshop and what the two idle EVSEs may draw (a vehicle may start at their 16 A
    # fallback), in W and in amps
    margin = 1.0 - controller.require_site().policy.safety_margin
    evse_w = 2 * 16.0 * 3 * VOLTS
    by_power = IMPORT_W * margin - 70_000.0 - evse_w
    by_current = (CURRENT_A * margin - (70_000.0 + evse_w) / (3 * VOLTS)) * 3 * VOLTS
    room = min(by_power, by_current)
    assert 0.0 < room < 50_000.0
    assert sim.setpoint_w == pytest.approx(room, abs=1.0)
    assert sim.power_w() == sim.setpoint_w
    [said] = [
        e
        for e in controller.units().journal.entries(kind=StorageKind.SETPOINT)
        if e.data["clamped_to_w"] is not None
    ]
    assert f"clamped to {room / 1000:.1f} kW" in said.message


def test_a_charge_waits_while_evse_commands_are_out(controller: Controller) -> None:
    planning, loop, batteries, sim = rig(controller, charging_at(50_000.0))
    workshop(controller, 20_000.0)

    async def first_cycles() -> tuple[float, float]:
        await loop.cycle("test")
        await batteries.settled()
        assert planning.task is not None
        await planning.task
        controller.units().sessions.put(Session("S-1", EVSE, controller.clock.now()))
        await loop.cycle("arrival")  # the EVSE's command goes out: the battery holds
        await batteries.settled()
        held = sim.setpoint_w
        await loop.cycle("answered")  # the EVSE answered: the battery's charge goes out
        await batteries.settled()
        return held, sim.setpoint_w

    held, sent = asyncio.run(first_cycles())
    assert held == 0.0
    # what is left at the connection (its amps are not binding here): less its safety
    # margin, the workshop, the bus at its limit in force, the idle EVSE's 16 A fallback
    margin = 1.0 - controller.require_site().policy.safety_margin
    bus_w = loop.in_force[EVSE] * 3 * VOLTS
    assert bus_w > 20_000.0
    assert sent == pytest.approx(IMPORT_W * margin - 20_000.0 - bus_w - 16.0 * 3 * VOLTS, abs=1.0)


def test_the_running_loop_reads_the_battery_before_its_first_plan(
    controller: Controller,
) -> None:
    planning, loop, batteries, _ = rig(controller, solve)
    workshop(controller)

    async def first_plan() -> None:
        stop = asyncio.Event()
        runner = asyncio.create_task(loop.run(stop))
        for _ in range(1000):  # a few turns of the event loop: its first cycle
            if planning.task is not None:
                break
            await asyncio.sleep(0)
        assert planning.task is not None
        await planning.task
        stop.set()
        await runner
        await batteries.settled()

    asyncio.run(first_plan())
    assert planning.latest is not None and planning.latest.problem is not None
    [battery] = planning.latest.problem.storage
    assert battery.id == "bess-1" and battery.energy_wh == pytest.approx(50_000.0)
