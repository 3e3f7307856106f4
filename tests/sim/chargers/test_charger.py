"""A simulated charger's lifecycle over real OCPP (1.6J and 2.0.1) against the test
CSMS on loopback, on a still clock the test moves: reboots (on request, once, every
so often), TxProfiles for transactions it does not have, TriggerMessage
StatusNotification."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.domain.charge_points import OcppVersion
from depotctl.sim.chargers.misbehaviour import Misbehaviour
from depotctl.sim.chargers.profiles import Purpose
from tests.sim.chargers.builders import PASSWORD, PASSWORD_ENV, START, charge_point, vehicle
from tests.sim.chargers.rig import CP, Rig, rig

VERSIONS = pytest.mark.parametrize("version", list(OcppVersion), ids=["v16", "v201"])
AMPS_W = 690.0


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


def started(r: Rig) -> list[str]:
    """The transaction ids the CSMS saw start, in order."""
    if r.v16:
        return [str(p["transaction_id"]) for p in r.csms.sent(CP, "StartTransaction")]
    return [
        str(p["transaction_info"]["transaction_id"])
        for p in r.csms.sent(CP, "TransactionEvent")
        if p["event_type"] == "Started"
    ]


def ended(r: Rig) -> list[dict[str, Any]]:
    """Every transaction end the CSMS was told of."""
    if r.v16:
        return r.csms.sent(CP, "StopTransaction")
    return [p for p in r.csms.sent(CP, "TransactionEvent") if p["event_type"] == "Ended"]


async def authorised(r: Rig, evse: int = 1) -> None:
    def check() -> bool:
        plug = r.charger.station.evses[evse].plug
        return plug is not None and plug.authorised_at is not None

    await r.csms.wait_for(check)


async def tx_profile(r: Rig, transaction: str, *, id: int = 2, limit: float = 20.0) -> Any:
    """SetChargingProfile TxProfile on EVSE 1 for ``transaction``: its whole answer."""
    from tests.sim.chargers.rig import profile_request

    request = profile_request(
        r.version,
        1,
        id=id,
        limit=limit,
        purpose="TxProfile",
        stack_level=1,
        transaction_id=transaction,
    )
    return await r.csms.call(CP, request)


def rejected_for_tx_not_found(r: Rig, answer: Any) -> bool:
    if answer.status != "Rejected":
        return False
    return r.v16 or answer.status_info["reason_code"] == "TxNotFound"


# Reboots


@VERSIONS
def test_a_reboot_forgets_transactions_and_volatile_profiles_and_starts_anew(
    version: OcppVersion,
) -> None:
    async def test() -> None:
        async with rig(version, meter_interval_s=3600) as r:
            # persistent: the fallback and the charger-wide maximum (stack 0, no end)
            assert await r.set_profile(0, id=1, limit=8.0) == "Accepted"
            cap = await r.set_profile(0, id=3, limit=30.0, purpose="ChargingStationMaxProfile")
            assert cap == "Accepted"
            # volatile: a default for a while, and one above stack level 0
            until = START + timedelta(hours=1)
            assert await r.set_profile(1, id=4, limit=6.0, valid_to=until) == "Accepted"
            assert await r.set_profile(1, id=5, limit=7.0, stack_level=2) == "Accepted"
            r.charger.plug_in(1, vehicle())
            first = await r.transaction_id()
            await authorised(r)
            assert (await tx_profile(r, first, limit=20.0)).status == "Accepted"
            assert r.draw_w() == 20 * AMPS_W

            r.charger.reboot()
            assert r.charger.stats.reboots == 1 and not r.charger.online
            assert r.draw_w() == 0.0  # powered off: the vehicle stops drawing
            assert sorted(p.id for p in r.charger.stack.profiles) == [1, 3]
            await r.csms.wait_for(lambda: r.csms.connections[CP].close_code is not None)
            assert r.csms.connections[CP].close_code == 1006  # dropped: no close handshake
            sent_before = len(r.csms.requests)
            await r.advance(19, settle=0.3)  # still booting (20 s by default)
            assert r.csms.connects[CP] == 1 and len(r.csms.requests) == sent_before

            await r.advance(1)
            await r.csms.wait_for(lambda: r.charger.online)
            assert r.csms.connects[CP] == 2
            assert len(r.csms.sent(CP, "BootNotification")) == 2
            second = await r.csms.wait_for(lambda: started(r)[1:] and started(r)[1])
            assert second != first
            await r.knows(second)
            await authorised(r)
            assert r.draw_w() == 8 * AMPS_W  # the persistent fallback governs again
            assert ended(r) == []  # the lost transaction is never reported ended
            if r.v16:
                start = r.csms.sent(CP, "StartTransaction")[1]
                assert start["timestamp"] == "2026-03-02T14:00:20.000Z"
                assert len(r.csms.sent(CP, "Authorize")) == 2  # authorised anew
            else:
                begun = [
                    p for p in r.csms.sent(CP, "TransactionEvent") if p["event_type"] == "Started"
                ][1]
                assert begun["timestamp"] == "2026-03-02T14:00:20.000Z"
                assert begun["seq_no"] == 0

            # a TxProfile for the lost transaction is refused and never applied
            lost = await tx_profile(r, first, id=6, limit=25.0)
            assert rejected_for_tx_not_found(r, lost)
            assert sorted(p.id for p in r.charger.stack.profiles) == [1, 3]
            assert r.draw_w() == 8 * AMPS_W
            assert (await tx_profile(r, second, id=7, limit=12.0)).status == "Accepted"
            assert r.draw_w() == 12 * AMPS_W

    run(test)


@VERSIONS
def test_vehicles_that_come_or_go_during_a_reboot(version: OcppVersion) -> None:
    async def test() -> None:
        point = charge_point(version, evses=2)
        async with rig(version, point=point, meter_interval_s=3600) as r:
            r.charger.plug_in(1, vehicle("bus-1"))
            await r.transaction_id()
            await authorised(r, 1)
            r.charger.reboot(boot_s=60)
            r.charger.unplug(1)  # leaves while the charger is down: nothing to report
            r.charger.plug_in(2, vehicle("bus-2"))  # arrives: not authorised locally
            await r.advance(30)
            assert r.charger.station.evses[2].plug.authorised_at is None  # type: ignore[union-attr]
            assert r.draw_w(2) == 0.0
            await r.advance(30)
            await r.csms.wait_for(lambda: r.charger.online)
            await authorised(r, 2)
            await r.csms.wait_for(lambda: len(started(r)) == 2)
            assert r.charger.station.evses[1].plug is None
            assert ended(r) == []
            if r.v16:
                starts = r.csms.sent(CP, "StartTransaction")
                assert [s["connector_id"] for s in starts] == [1, 2]
            assert r.draw_w(2) == 32 * AMPS_W

    run(test)


@VERSIONS
def test_reboot_modes_reboot_on_time(version: OcppVersion) -> None:
    async def test() -> None:
        modes = Misbehaviour.parse("reboot@60s").merged(Misbehaviour.parse("boot-time=30s"))
        modes = modes.merged(Misbehaviour.parse("reboot=every 5min@200s"))
        async with rig(version, misbehaviour=modes, meter_interval_s=3600) as r:
            await r.advance(59, settle=0.2)
            assert r.charger.stats.reboots == 0 and r.charger.online
            await r.advance(1)
            await r.csms.wait_for(lambda: r.charger.stats.reboots == 1)
            assert not r.charger.online
            await r.advance(29, settle=0.2)
            assert r.csms.connects[CP] == 1
            await r.advance(1)
            await r.csms.wait_for(lambda: r.charger.online and r.csms.connects[CP] == 2)
            await r.advance(110)  # 14:03:20: the first of every 5 min
            await r.csms.wait_for(lambda: r.charger.stats.reboots == 2)
            await r.advance(30)
            await r.csms.wait_for(lambda: r.charger.online and r.csms.connects[CP] == 3)
            await r.advance(270)  # 14:08:20
            await r.csms.wait_for(lambda: r.charger.stats.reboots == 3)
            assert r.charger.stats.boots == 3

    run(test)


@VERSIONS
def test_a_reboot_during_an_outage_keeps_it_away_for_the_later_end(version: OcppVersion) -> None:
    async def test() -> None:
        modes = Misbehaviour.parse("offline=60s@10s")
        async with rig(version, misbehaviour=modes, meter_interval_s=3600) as r:
            await r.advance(10)
            await r.csms.wait_for(lambda: not r.charger.online)
            await r.advance(40)  # 14:00:50, the outage ends at 14:01:10
            r.charger.reboot(boot_s=60)  # back at 14:01:50
            await r.advance(30, settle=0.3)
            assert r.csms.connects[CP] == 1
            await r.advance(30)
            await r.csms.wait_for(lambda: r.charger.online)
            assert r.csms.connects[CP] == 2

    run(test)


@VERSIONS
@pytest.mark.parametrize("boots", [True, False], ids=["boots-again", "reconnect-without-boot"])
def test_a_lost_connection_is_not_a_reboot_its_transactions_go_on(
    version: OcppVersion, boots: bool
) -> None:
    """Booting again on a new connection (the default) or not: a charger that only
    lost its connection keeps its transactions — a BootNotification alone does not
    mean they are gone. A reboot still boots."""

    async def test() -> None:
        modes = Misbehaviour() if boots else Misbehaviour.parse("reconnect-without-boot")
        async with rig(version, misbehaviour=modes, meter_interval_s=3600) as r:
            r.charger.plug_in(1, vehicle())
            first = await r.transaction_id()
            await authorised(r)
            await r.charger.drop()
            await r.csms.wait_for(lambda: r.csms.connects.get(CP) == 2 and r.charger.online)
            assert len(r.csms.sent(CP, "BootNotification")) == (2 if boots else 1)
            assert r.charger.stats.reconnects_without_boot == (0 if boots else 1)
            assert (await tx_profile(r, first, limit=12.0)).status == "Accepted"
            assert r.draw_w() == 12 * AMPS_W
            assert started(r) == [first] and ended(r) == []
            r.charger.reboot()
            await r.advance(20)
            await r.csms.wait_for(lambda: r.csms.connects.get(CP) == 3 and r.charger.online)
            assert len(r.csms.sent(CP, "BootNotification")) == (3 if boots else 2)

    run(test)


# TxProfiles for transactions the charger does not have


@VERSIONS
@pytest.mark.parametrize("limit", [0.0, 16.0])
def test_a_tx_profile_for_an_ended_transaction_is_refused_whatever_its_limit(
    version: OcppVersion, limit: float
) -> None:
    async def test() -> None:
        async with rig(version, meter_interval_s=3600) as r:
            assert await r.set_profile(0, id=1, limit=8.0) == "Accepted"
            r.charger.plug_in(1, vehicle("bus-1"))
            first = await r.transaction_id()
            r.charger.unplug(1)
            await r.csms.wait_for(lambda: ended(r))
            # nothing plugged in
            answer = await tx_profile(r, first, id=2, limit=limit)
            assert rejected_for_tx_not_found(r, answer)
            # a new vehicle, a new transaction: the old one's profile is still refused
            r.charger.plug_in(1, vehicle("bus-2"))
            await r.csms.wait_for(lambda: len(started(r)) == 2)
            await authorised(r)
            answer = await tx_profile(r, first, id=3, limit=limit)
            assert rejected_for_tx_not_found(r, answer)
            assert [p.id for p in r.charger.stack.profiles] == [1]
            assert not any(p.purpose is Purpose.TX for p in r.charger.stack.profiles)
            assert r.draw_w() == 8 * AMPS_W
            assert r.charger.stats.profiles_rejected == 2

    run(test)


# TriggerMessage StatusNotification


def trigger_status(version: OcppVersion, evse: int) -> Any:
    if version is OcppVersion.V16:
        return call16.TriggerMessage(requested_message="StatusNotification", connector_id=evse)
    return call201.TriggerMessage(requested_message="StatusNotification", evse={"id": evse})


def trigger(version: OcppVersion, message: str) -> Any:
    if version is OcppVersion.V16:
        return call16.TriggerMessage(requested_message=message)
    return call201.TriggerMessage(requested_message=message)


def statuses(r: Rig) -> list[tuple[int, str]]:
    """(connector / EVSE, status) of every StatusNotification, in order."""
    if r.v16:
        return [(p["connector_id"], p["status"]) for p in r.csms.sent(CP, "StatusNotification")]
    return [(p["evse_id"], p["connector_status"]) for p in r.csms.sent(CP, "StatusNotification")]


@VERSIONS
def test_a_triggered_status_notification_says_that_evse_s_real_state(
    version: OcppVersion,
) -> None:
    async def test() -> None:
        point = charge_point(version, evses=2)
        async with rig(version, point=point, meter_interval_s=3600) as r:
            announced = 3 if r.v16 else 2  # 1.6 announces connector 0 too
            await r.csms.wait_for(lambda: len(statuses(r)) == announced)
            answer = await r.csms.call(CP, trigger_status(version, 2))
            assert answer.status == "Accepted"
            await r.csms.wait_for(lambda: len(statuses(r)) == announced + 1)
            assert statuses(r)[-1] == (2, "Available")

            r.charger.plug_in(1, vehicle())
            await r.transaction_id()
            await authorised(r)
            await r.csms.wait_for(lambda: r.charger.sessions[1].reported is not None)
            assert await r.charger.flush(5.0)
            count = len(statuses(r))
            assert (await r.csms.call(CP, trigger_status(version, 1))).status == "Accepted"
            # a heartbeat triggered next comes after everything the first trigger sent
            assert (await r.csms.call(CP, trigger(version, "Heartbeat"))).status == "Accepted"
            await r.csms.wait_request(CP, "Heartbeat")
            assert statuses(r)[count:] == [(1, "Charging" if r.v16 else "Occupied")]

            assert (await r.csms.call(CP, trigger_status(version, 9))).status == "Rejected"

    run(test)


def test_a_triggered_status_after_a_reboot_shows_no_transaction_running() -> None:
    """What the controller learns after a 1.6 TxProfile was rejected: the vehicle is
    still there, but the transaction is a new one (Preparing until authorised)."""

    async def test() -> None:
        async with rig(OcppVersion.V16, meter_interval_s=3600) as r:
            r.charger.plug_in(1, vehicle())
            await r.transaction_id()
            r.charger.reboot()
            r.csms.refused_tags.add("bus-1")  # the new transaction is not authorised
            await r.advance(20)
            await r.csms.wait_for(lambda: len(r.csms.sent(CP, "Authorize")) == 2)
            count = len(statuses(r))
            assert (await r.csms.call(CP, trigger_status(r.version, 1))).status == "Accepted"
            await r.csms.wait_for(lambda: len(statuses(r)) == count + 1)
            assert statuses(r)[-1] == (1, "Preparing")

    run(test)


@VERSIONS
def test_a_slow_controller_gets_the_latest_meter_values_and_transactions_do_not_wait_behind_them(
    version: OcppVersion,
) -> None:
    """The controller answers meter values slower than the charger samples (a loaded
    machine at a fast clock): the EVSE's unsent samples are replaced by the newest, so
    a vehicle's transaction goes out after at most one of them, not after the backlog."""

    async def test() -> None:
        hold = asyncio.Event()
        async with rig(version, meter_interval_s=10, hold_meter_values=hold) as r:
            await r.advance(10)  # a sample goes out; its answer is held
            await r.csms.wait_for(lambda: r.csms.sent(CP, "MeterValues"))
            for _ in range(5):
                await r.advance(10)  # five more samples while the first is unanswered
            r.charger.plug_in(1, vehicle())
            hold.set()
            await r.csms.wait_for(lambda: started(r))
            actions = [q.action for q in r.csms.requests if q.ocpp_id == CP]
            start = "StartTransaction" if r.v16 else "TransactionEvent"
            before = actions[: actions.index(start)]
            assert before.count("MeterValues") <= 2, before  # the held one and the latest
            assert r.charger.stats.meter_values_coalesced >= 4

    run(test)
