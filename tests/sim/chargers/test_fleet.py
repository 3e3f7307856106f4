"""A fleet is up once every charger's first connection is over: its scenario's
relative times and its duration count from then, however much of the controller's
time the connections took (at ×600 a slow boot is minutes of it)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import pytest

from depotctl.domain.charge_points import OcppVersion
from depotctl.sim.chargers.charger import Settings, SimulatedCharger
from depotctl.sim.chargers.fleet import Fleet
from depotctl.sim.chargers.misbehaviour import NONE, Misbehaviour
from depotctl.sim.chargers.simtime import SimTime
from depotctl.sim.chargers.vehicles import Vehicle
from tests.sim.chargers.builders import PASSWORD, PASSWORD_ENV, START, charge_point, vehicle
from tests.sim.chargers.csms import Csms
from tests.sim.chargers.rig import CP


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


@asynccontextmanager
async def fleet_of_one(
    url: str,
    vehicles: tuple[Vehicle, ...] = (),
    misbehaviour: Misbehaviour = NONE,
    settings: Settings | None = None,
) -> AsyncIterator[tuple[Fleet, SimulatedCharger, SimTime]]:
    time = SimTime(START, 0)
    charger = SimulatedCharger(
        charge_point(OcppVersion.V16),
        time,
        settings or Settings(url=url, meter_interval_s=3600),
        misbehaviour,
        started_at=START,
    )
    yield Fleet([charger], time, vehicles), charger, time


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_scenario_and_the_duration_wait_for_a_slow_first_boot() -> None:
    async def test() -> None:
        held = asyncio.Event()
        bus = replace(vehicle("bus-1", arrival=START + timedelta(minutes=1)), arrives_after_s=60.0)
        async with (
            Csms({CP: PASSWORD}, hold_boots=held) as csms,
            fleet_of_one(csms.url, (bus,)) as (fleet, charger, time),
        ):
            running = asyncio.create_task(fleet.run(duration_s=120))
            await csms.wait_request(CP, "BootNotification")
            time.advance(600)  # ten minutes pass while the boot is under way
            held.set()
            await csms.wait_for(lambda: charger.online)
            await csms.wait_for(lambda: fleet.ready_at is not None)
            assert fleet.ready_at == START + timedelta(minutes=10)
            assert fleet.visits[0].vehicle.arrival == START + timedelta(minutes=11)
            assert not running.done()
            time.advance(60)
            await csms.wait_request(CP, "StartTransaction")
            time.advance(60)  # two minutes after the fleet was up: the end
            await asyncio.wait_for(running, 10)
            assert charger.stats.boots == 1
            assert fleet.visits[0].outcome == "stopped"
            assert [s["reason"] for s in csms.sent(CP, "StopTransaction")] == ["Local"]

    run(test)


def test_a_charger_that_cannot_connect_does_not_hold_the_fleet_up() -> None:
    async def test() -> None:
        url = f"ws://127.0.0.1:{closed_port()}/ocpp"
        async with fleet_of_one(url) as (fleet, charger, time):
            running = asyncio.create_task(fleet.run(duration_s=10))
            while fleet.ready_at is None:
                await asyncio.sleep(0.01)
            assert (
                charger.stats.last_error is not None
                and "cannot connect" in charger.stats.last_error
            )
            time.advance(10)
            await asyncio.wait_for(running, 10)
            assert charger.stats.boots == 0

    run(test)


def test_a_charger_away_on_request_does_not_hold_the_fleet_up() -> None:
    async def test() -> None:
        async with (
            Csms({CP: PASSWORD}) as csms,
            fleet_of_one(csms.url, misbehaviour=Misbehaviour.parse("offline=1h")) as (fleet, _, _),
        ):
            running = asyncio.create_task(fleet.run())
            while fleet.ready_at is None:
                await asyncio.sleep(0.01)
            assert fleet.ready_at == START
            assert csms.connects == {}
            fleet.stop()
            await asyncio.wait_for(running, 10)

    run(test)


def test_a_boot_that_never_comes_holds_the_fleet_up_no_longer_than_the_timeouts() -> None:
    async def test() -> None:
        async with Csms({CP: PASSWORD}, hold_boots=asyncio.Event()) as csms:
            quick = Settings(url=csms.url, open_timeout_s=0.1, response_timeout_s=0.2)
            async with fleet_of_one(csms.url, settings=quick) as (fleet, charger, _):
                running = asyncio.create_task(fleet.run())
                await csms.wait_for(lambda: fleet.ready_at is not None)
                assert not charger.online
                fleet.stop()
                await asyncio.wait_for(running, 10)

    run(test)


def test_stopping_before_the_fleet_is_up_stops_at_once() -> None:
    async def test() -> None:
        async with (
            Csms({CP: PASSWORD}, hold_boots=asyncio.Event()) as csms,
            fleet_of_one(csms.url) as (fleet, _, _),
        ):
            running = asyncio.create_task(fleet.run())
            await csms.wait_request(CP, "BootNotification")
            fleet.stop()
            await asyncio.wait_for(running, 10)
            assert fleet.ready_at is None

    run(test)
