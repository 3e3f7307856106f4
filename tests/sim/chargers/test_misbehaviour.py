"""Misbehaviour on request: each mode parses, and does over the wire what it says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from ocpp.exceptions import OCPPError
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.domain.charge_points import OcppVersion, RateUnit
from depotctl.sim.chargers.misbehaviour import (
    DEFAULT_BOOT_S,
    Misbehaviour,
    MisbehaviourError,
    Outage,
    Periodic,
    RandomOutages,
    RandomReboots,
    Reboots,
    parse_assignment,
)
from tests.sim.chargers.builders import PASSWORD, PASSWORD_ENV, START, vehicle
from tests.sim.chargers.csms import frames_of
from tests.sim.chargers.rig import CP, rig

VERSIONS = pytest.mark.parametrize("version", list(OcppVersion), ids=["v16", "v201"])


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


# Parsing


def test_modes_parse_and_merge() -> None:
    both = Misbehaviour.parse("reject-profiles").merged(Misbehaviour.parse("offline=2min@10min"))
    assert both.reject_profiles
    assert both.outages == (Outage(after_s=600, duration_s=120),)
    assert both.modes == ("reject-profiles", "offline=2min@10min")
    assert Misbehaviour.parse("offline=30 s").outages == (Outage(0, 30),)
    assert Misbehaviour.parse("stale-meter-values").stale_meter_s == 900
    assert Misbehaviour.parse("stale-meter-values=1h").stale_meter_s == 3600
    assert Misbehaviour.parse("rate-unit=W").rate_units == frozenset({RateUnit.WATTS})
    assert Misbehaviour.parse("reconnect-without-boot").merged(both).reconnect_without_boot


def test_reboot_modes_parse_into_a_schedule_and_merge() -> None:
    once = Misbehaviour.parse("reboot@10min")
    assert once.reboots == Reboots(at_s=(600.0,))
    every = Misbehaviour.parse("reboot=every 30 min")
    assert every.reboots == Reboots(periodic=(Periodic(1800.0, 1800.0),))
    late = Misbehaviour.parse("reboot=every 30min@5min")
    assert late.reboots.periodic == (Periodic(1800.0, 300.0),)
    drill = Misbehaviour.parse("reboot=random 10%/8h")
    assert drill.random_reboots == (RandomReboots(0.1, 8 * 3600.0),)
    assert drill.reboots == Reboots()  # drawn for the fleet, not here
    assert Misbehaviour.parse("boot-time=45s").boot_time_s == 45.0
    offline = Misbehaviour.parse("offline=10min@random 5%/8h")
    assert offline.random_outages == (RandomOutages(0.05, 8 * 3600.0, 600.0),)
    assert offline.outages == ()
    assert once.boot_time_s == DEFAULT_BOOT_S == 20.0
    both = once.merged(every).merged(Misbehaviour.parse("boot-time=1min"))
    assert both.reboots.at_s == (600.0,) and both.reboots.periodic == every.reboots.periodic
    assert both.boot_time_s == 60.0
    assert both.modes == ("reboot@10min", "reboot=every 30 min", "boot-time=1min")


def test_a_reboot_schedule_says_when_the_next_reboot_is() -> None:
    reboots = Reboots(at_s=(100.0, 700.0), periodic=(Periodic(600.0, 300.0),))
    assert reboots.next_after(-1.0) == 100.0
    assert reboots.next_after(100.0) == 300.0  # strictly after
    assert reboots.next_after(300.0) == 700.0
    assert reboots.next_after(700.0) == 900.0
    assert reboots.next_after(4000.0) == 4500.0
    assert Reboots(at_s=(5.0,)).next_after(5.0) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explode", "unknown mode 'explode'"),
        ("offline", "offline needs a duration"),
        ("offline=ten", "offline:"),
        ("reject-profiles=yes", "takes no value"),
        ("rate-unit=kW", "expected A or W"),
        ("reboot", "reboot needs a time"),
        ("reboot=soon", "reboot needs a time"),
        ("reboot@10min=every 5min", "takes no value"),
        ("reboot=every 0s", "the period must be above 0"),
        ("reboot=random 10%", "SHARE/WINDOW"),
        ("reboot=random 150%/1h", "between 0 % and 100 %"),
        ("reboot=random 10%/0s", "the window must be above 0"),
        ("offline@1min=2min", "only reboot takes @AFTER"),
        ("boot-time", "boot-time needs a duration"),
        ("offline=10min@random 5%", "SHARE/WINDOW"),
        ("offline=0s@random 5%/1h", "the duration must be above 0"),
    ],
)
def test_a_bad_mode_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MisbehaviourError, match=message):
        Misbehaviour.parse(text)


def test_an_assignment_names_its_charger() -> None:
    charger, behaviour = parse_assignment("CP-07:ignore-profiles")
    assert charger == "CP-07" and behaviour.ignore_profiles
    with pytest.raises(MisbehaviourError, match="CHARGER:MODE"):
        parse_assignment("ignore-profiles")


# Over the wire


@VERSIONS
def test_reject_profiles_rejects_and_keeps_drawing_as_before(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version, misbehaviour=Misbehaviour.parse("reject-profiles")) as r:
            r.charger.plug_in(1, vehicle())
            await r.transaction_id()
            await r.csms.wait_for(lambda: r.charger.station.evses[1].plug.authorised_at)  # type: ignore[union-attr]
            assert await r.set_profile(0, id=1, limit=8.0) == "Rejected"
            assert r.draw_w() == 32 * 690.0
            assert r.charger.stats.profiles_rejected == 1

    run(test)


@VERSIONS
def test_ignore_profiles_accepts_and_keeps_drawing_as_before(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version, misbehaviour=Misbehaviour.parse("ignore-profiles")) as r:
            r.charger.plug_in(1, vehicle())
            await r.transaction_id()
            await r.csms.wait_for(lambda: r.charger.station.evses[1].plug.authorised_at)  # type: ignore[union-attr]
            assert await r.set_profile(0, id=1, limit=8.0) == "Accepted"
            assert r.draw_w() == 32 * 690.0
            assert r.charger.stack.profiles == []

    run(test)


@VERSIONS
def test_reject_tx_profiles_takes_defaults_only(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version, misbehaviour=Misbehaviour.parse("reject-tx-profiles")) as r:
            r.charger.plug_in(1, vehicle())
            transaction = await r.transaction_id()
            tx = await r.set_profile(
                1, id=2, limit=10.0, purpose="TxProfile", stack_level=1, transaction_id=transaction
            )
            assert tx == "Rejected"
            assert await r.set_profile(0, id=3, limit=12.0, stack_level=1) == "Accepted"

    run(test)


@VERSIONS
def test_no_answer_leaves_the_controller_waiting(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(
            version, misbehaviour=Misbehaviour.parse("no-answer"), csms_timeout_s=0.3
        ) as r:
            with pytest.raises(TimeoutError):
                await r.set_profile(0, id=1, limit=8.0)
            assert r.charger.stats.requests_unanswered == 1
            assert r.charger.stack.profiles == []
            # its own requests still get their answers: it goes on working
            r.charger.plug_in(1, vehicle())
            await r.transaction_id()

    run(test)


def every_request(version: OcppVersion) -> list[Any]:
    """One of each request the controller (or anyone) may send, an unknown one too."""
    from tests.sim.chargers.rig import profile_request

    if version is OcppVersion.V16:
        return [
            profile_request(version, 1, id=2, limit=10.0),
            call16.GetConfiguration(),
            call16.ChangeConfiguration(key="HeartbeatInterval", value="60"),
            call16.ClearChargingProfile(id=1),
            call16.GetCompositeSchedule(connector_id=1, duration=60),
            call16.TriggerMessage(requested_message="StatusNotification", connector_id=1),
            call16.Reset(type="Soft"),
        ]
    variable = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    return [
        profile_request(version, 1, id=2, limit=10.0),
        call201.GetVariables(get_variable_data=[variable]),
        call201.SetVariables(set_variable_data=[{**variable, "attribute_value": "60"}]),
        call201.ClearChargingProfile(charging_profile_id=1),
        call201.GetCompositeSchedule(duration=60, evse_id=1),
        call201.TriggerMessage(requested_message="StatusNotification", evse={"id": 1}),
        call201.Reset(type="Immediate"),
    ]


@VERSIONS
def test_no_answer_answers_nothing_from_the_fallback_on_connect_on(version: OcppVersion) -> None:
    async def test() -> None:
        from tests.sim.chargers.rig import profile_request

        on_connect = [profile_request(version, 0, id=1, limit=8.0), every_request(version)[1]]
        async with rig(
            version,
            misbehaviour=Misbehaviour.parse("no-answer"),
            csms_timeout_s=0.3,
            boot_calls=on_connect,
        ) as r:
            answers = await r.csms.wait_for(
                lambda: r.csms.boot_answers if len(r.csms.boot_answers) == 2 else None
            )
            assert all(isinstance(a, TimeoutError) for a in answers), answers
            requests = every_request(version)
            for request in requests:
                with pytest.raises(TimeoutError):
                    await r.csms.call(CP, request)
            sent = [type(p).__name__ for p in (*on_connect, *requests)]
            assert [x.action for x in r.charger.received] == sent
            assert r.charger.stats.requests_unanswered == len(sent)
            assert r.charger.stack.profiles == []
            assert r.charger.heartbeat_s == 300  # nothing was acted on either

    run(test)


@VERSIONS
def test_offline_drops_the_connection_and_reconnects_with_what_it_owes(
    version: OcppVersion,
) -> None:
    async def test() -> None:
        outage = Misbehaviour.parse("offline=60s@30s")
        async with rig(version, misbehaviour=outage, meter_interval_s=10) as r:
            r.charger.plug_in(1, vehicle())
            await r.transaction_id()
            await r.advance(30, settle=0.2)
            await r.csms.wait_for(lambda: not r.charger.online)
            sent_before = len(r.csms.requests)
            await r.advance(20, settle=0.2)
            r.charger.unplug(1)  # leaves while the charger is offline
            await r.advance(5, settle=0.2)
            assert len(r.csms.requests) == sent_before  # nothing goes while offline
            await r.advance(35, settle=0.1)  # the outage ends at 14:01:30
            await r.csms.wait_for(lambda: r.charger.online)
            assert r.csms.connects[CP] == 2
            assert len(r.csms.sent(CP, "BootNotification")) == 2
            if r.v16:
                stop = await r.csms.wait_request(CP, "StopTransaction")
                assert stop.payload["timestamp"] == "2026-03-02T14:00:50.000Z"
            else:
                ended = await r.csms.wait_request(
                    CP, "TransactionEvent", lambda p: p["event_type"] == "Ended"
                )
                assert ended.payload["offline"] is True
                assert ended.payload["timestamp"] == "2026-03-02T14:00:50.000Z"
            assert r.charger.stats.disconnects >= 1

    run(test)


@VERSIONS
def test_stale_meter_values_are_time_stamped_in_the_past(version: OcppVersion) -> None:
    async def test() -> None:
        stale = Misbehaviour.parse("stale-meter-values=20min")
        async with rig(version, misbehaviour=stale) as r:
            await r.advance(10)
            request = await r.csms.wait_request(CP, "MeterValues")
            stamp = datetime.fromisoformat(request.payload["meter_value"][0]["timestamp"])
            assert stamp == START + timedelta(seconds=10) - timedelta(minutes=20)

    run(test)


@VERSIONS
def test_bad_meter_values_break_the_schema_and_the_charger_carries_on(
    version: OcppVersion,
) -> None:
    async def test() -> None:
        bad = Misbehaviour.parse("bad-meter-values")
        async with rig(version, misbehaviour=bad, heartbeat_s=20) as r:
            await r.advance(10, settle=0.2)
            await r.csms.wait_for(lambda: frames_of(r.csms, CP, "MeterValues"))
            frame = frames_of(r.csms, CP, "MeterValues")[0]
            values = [v["value"] for v in frame[3]["meterValue"][0]["sampledValue"]]
            wrong = (int, float) if r.v16 else str  # 1.6 wants strings, 2.0.1 numbers
            assert values and all(isinstance(v, wrong) for v in values)
            # the strict CSMS answered with a CallError; the charger goes on
            await r.csms.wait_for(lambda: r.charger.stats.messages_refused >= 1)
            assert not r.csms.sent(CP, "MeterValues")
            await r.advance(10)
            await r.csms.wait_request(CP, "Heartbeat")
            assert r.charger.online

    run(test)


@VERSIONS
def test_rate_unit_restricts_what_it_accepts_and_says(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version, misbehaviour=Misbehaviour.parse("rate-unit=A")) as r:
            assert await r.set_profile(0, id=1, limit=7000.0, unit="W") == "Rejected"
            assert await r.set_profile(0, id=2, limit=10.0, unit="A") == "Accepted"
            if r.v16:
                config = await r.csms.call(
                    CP, call16.GetConfiguration(key=["ChargingScheduleAllowedChargingRateUnit"])
                )
                assert config.configuration_key[0]["value"] == "Current"
            else:
                variables = await r.csms.call(
                    CP,
                    call201.GetVariables(
                        get_variable_data=[
                            {
                                "component": {"name": "SmartChargingCtrlr"},
                                "variable": {"name": "RateUnit"},
                            }
                        ]
                    ),
                )
                assert variables.get_variable_result[0]["attribute_value"] == "A"

    run(test)


def test_a_201_rejection_says_why() -> None:
    async def test() -> None:
        async with rig(OcppVersion.V201, misbehaviour=Misbehaviour.parse("rate-unit=A")) as r:
            from tests.sim.chargers.rig import profile_request

            answer = await r.csms.call(
                CP, profile_request(OcppVersion.V201, 0, id=1, limit=7000.0, unit="W")
            )
            assert answer.status == "Rejected"
            assert answer.status_info["reason_code"] == "UnsupportedRateUnit"

    run(test)


def test_unknown_requests_get_a_call_error() -> None:
    async def test() -> None:
        async with rig(OcppVersion.V16) as r:
            with pytest.raises(OCPPError):
                await r.csms.call(CP, call16.Reset(type="Soft"))
            assert json.loads(json.dumps(r.charger.stats.__dict__))["boots"] == 1

    run(test)
