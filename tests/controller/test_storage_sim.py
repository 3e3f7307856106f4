"""The simulated battery on a paused simulated clock moved by the test: energy
integrated with its efficiencies, power and state-of-charge limits, and its faults."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from depotctl.controller.clock import SimClock
from depotctl.controller.storage_port import BatteryUnreachable
from depotctl.controller.storage_sim import SimulatedBattery
from depotctl.domain.chargers import CommandOutcome
from tests.engine.planner.test_storage_inputs import BATTERY

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
#: the planner tests' battery, with other limits and efficiencies each way
SPEC = replace(
    BATTERY,
    max_charge_w=40_000.0,
    max_discharge_w=50_000.0,
    charge_efficiency=0.9,
    discharge_efficiency=0.8,
    initial_soc=0.5,
)


def battery() -> tuple[SimulatedBattery, SimClock]:
    clock = SimClock(START, speed=1.0)
    clock.pause()
    return SimulatedBattery(SPEC, clock), clock


def test_charging_stores_the_charge_efficiency_of_what_it_draws() -> None:
    sim, clock = battery()
    answer = asyncio.run(sim.command(20_000.0))
    assert answer.accepted
    clock.advance(1800)  # half an hour at 20 kW: 10 kWh drawn, 9 kWh stored
    reading = asyncio.run(sim.read())
    assert reading.power_w == 20_000.0
    assert reading.soc == pytest.approx(0.59)
    assert reading.at == clock.now()


def test_discharging_takes_out_more_than_it_delivers() -> None:
    sim, clock = battery()
    asyncio.run(sim.command(-20_000.0))
    clock.advance(3600)  # 20 kWh delivered: 25 kWh taken out at 80 %
    assert sim.soc == pytest.approx(0.25)
    assert sim.power_w() == -20_000.0


def test_a_setpoint_beyond_its_power_limits_is_clamped_to_them() -> None:
    sim, _ = battery()
    asyncio.run(sim.command(90_000.0))
    assert sim.power_w() == SPEC.max_charge_w
    asyncio.run(sim.command(-90_000.0))
    assert sim.power_w() == -SPEC.max_discharge_w


def test_at_the_edge_of_its_window_it_stops_and_holds_its_setpoint() -> None:
    sim, clock = battery()
    asyncio.run(sim.command(40_000.0))
    clock.advance(4 * 3600)  # 144 kWh could be stored; 40 kWh fit below 90 %
    assert sim.soc == pytest.approx(0.9)
    assert sim.power_w() == 0.0
    assert sim.setpoint_w == 40_000.0
    asyncio.run(sim.command(-50_000.0))
    clock.advance(4 * 3600)
    assert sim.soc == pytest.approx(0.1)
    assert asyncio.run(sim.read()).power_w == 0.0


def test_a_refusing_battery_keeps_its_setpoint_and_says_why() -> None:
    sim, clock = battery()
    sim.refusal = "remote control disabled at the inverter"
    answer = asyncio.run(sim.command(30_000.0))
    assert answer.outcome is CommandOutcome.REJECTED
    assert answer.reason == "remote control disabled at the inverter"
    clock.advance(3600)
    assert sim.power_w() == 0.0 and sim.soc == pytest.approx(0.5)


def test_a_silent_battery_cannot_be_read() -> None:
    sim, _ = battery()
    sim.silent = True
    with pytest.raises(BatteryUnreachable, match="bess"):
        asyncio.run(sim.read())
