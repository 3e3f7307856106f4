"""A simulated charger over real OCPP (1.6J and 2.0.1) against a minimal real CSMS on
loopback: boot, sessions, profiles and what it draws under them, meter values."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.domain.charge_points import OcppVersion
from tests.sim.chargers.builders import PASSWORD, PASSWORD_ENV, START, vehicle
from tests.sim.chargers.rig import CP, Rig, rig

VERSIONS = pytest.mark.parametrize("version", list(OcppVersion), ids=["v16", "v201"])


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


def meter_samples(r: Rig) -> list[tuple[datetime, dict[str, object]]]:
    """(time stamp, {measurand[/phase]: value}) of every meter value the CSMS got."""
    found = []
    if r.v16:
        payloads = [m for p in r.csms.sent(CP, "MeterValues") for m in p["meter_value"]]
    else:
        payloads = [m for p in r.csms.sent(CP, "MeterValues") for m in p["meter_value"]]
        payloads += [
            m
            for p in r.csms.sent(CP, "TransactionEvent")
            if p["trigger_reason"] == "MeterValuePeriodic"
            for m in p["meter_value"]
        ]
    for value in payloads:
        readings = {}
        for sampled in value["sampled_value"]:
            key = sampled["measurand"] + (f"/{sampled['phase']}" if "phase" in sampled else "")
            readings[key] = sampled["value"]
        found.append((datetime.fromisoformat(value["timestamp"]), readings))
    return sorted(found, key=lambda item: item[0])


def number(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


@VERSIONS
def test_boots_announces_its_connectors_and_beats_at_the_given_interval(
    version: OcppVersion,
) -> None:
    async def test() -> None:
        async with rig(version, heartbeat_s=60) as r:
            boot = r.csms.sent(CP, "BootNotification")[0]
            expected = 2 if r.v16 else 1  # 1.6 also announces connector 0
            statuses = await r.csms.wait_for(
                lambda: (found := r.csms.sent(CP, "StatusNotification"))[expected - 1 :] and found
            )
            if r.v16:
                assert boot["charge_point_vendor"] == "depotctl"
                assert [s["connector_id"] for s in statuses] == [0, 1]
                assert {s["status"] for s in statuses} == {"Available"}
            else:
                assert boot["reason"] == "PowerUp"
                assert statuses == [
                    {
                        "timestamp": "2026-03-02T14:00:00.000Z",
                        "connector_status": "Available",
                        "evse_id": 1,
                        "connector_id": 1,
                    }
                ]
            assert r.charger.heartbeat_s == 60
            assert not r.csms.sent(CP, "Heartbeat")
            await r.advance(60)
            await r.csms.wait_request(CP, "Heartbeat")

    run(test)


@VERSIONS
def test_a_vehicle_starts_a_transaction_after_authorisation(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version) as r:
            r.charger.plug_in(1, vehicle(hours=8, energy_kwh=40, max_kw=11))
            transaction = await r.transaction_id()
            authorize = await r.csms.wait_request(CP, "Authorize")
            if r.v16:
                assert authorize.payload["id_tag"] == "bus-1"
                start = r.csms.sent(CP, "StartTransaction")[0]
                assert start["connector_id"] == 1 and start["meter_start"] == 0
                assert start["timestamp"] == "2026-03-02T14:00:00.000Z"
                await r.csms.wait_request(
                    CP, "StatusNotification", lambda p: p["status"] == "Charging"
                )
                preparing = [s["status"] for s in r.csms.sent(CP, "StatusNotification")]
                assert preparing.index("Preparing") < preparing.index("Charging")
            else:
                started = r.csms.sent(CP, "TransactionEvent")[0]
                assert started["event_type"] == "Started"
                assert started["trigger_reason"] == "CablePluggedIn"
                assert started["transaction_info"]["charging_state"] == "EVConnected"
                assert authorize.payload["id_token"] == {"id_token": "bus-1", "type": "ISO14443"}
                authorised = await r.csms.wait_request(
                    CP, "TransactionEvent", lambda p: p["trigger_reason"] == "Authorized"
                )
                assert authorised.payload["transaction_info"] == {
                    "transaction_id": transaction,
                    "charging_state": "Charging",
                }
                needs = await r.csms.wait_request(CP, "NotifyEVChargingNeeds")
                assert needs.payload["evse_id"] == 1
                charging = needs.payload["charging_needs"]
                assert charging["departure_time"] == "2026-03-02T22:00:00.000Z"
                assert charging["requested_energy_transfer"] == "AC_three_phase"
                assert charging["ac_charging_parameters"]["energy_amount"] == 40000
                assert charging["ac_charging_parameters"]["ev_max_current"] == 15  # 11 kW / 690
            assert math.isclose(r.draw_w(), 11000.0)

    run(test)


@VERSIONS
def test_it_draws_the_minimum_of_its_profiles_and_its_vehicle(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version) as r:
            assert await r.set_profile(0, id=1, limit=8.0) == "Accepted"  # the fallback
            r.charger.plug_in(1, vehicle(max_kw=11))
            transaction = await r.transaction_id()
            await r.csms.wait_for(lambda: r.charger.station.evses[1].plug.authorised_at)  # type: ignore[union-attr]
            assert r.draw_w() == 8 * 690.0
            assert (
                await r.set_profile(
                    1,
                    id=2,
                    limit=20.0,
                    purpose="TxProfile",
                    stack_level=1,
                    transaction_id=transaction,
                )
                == "Accepted"
            )
            assert r.draw_w() == 11000.0  # the vehicle's maximum, under 20 A × 690 W/A
            cap = await r.set_profile(0, id=3, limit=9.0, purpose="ChargingStationMaxProfile")
            assert cap == "Accepted"
            assert r.draw_w() == 9 * 690.0  # the charger's maximum, under the TxProfile
            await r.advance(10)
            [(time_stamp, readings)] = await r.csms.wait_for(lambda: meter_samples(r)[-1:])
            assert time_stamp == START + timedelta(seconds=10)
            assert number(readings["Power.Active.Import"]) == 6210.0
            for phase in ("L1", "L2", "L3"):
                assert number(readings[f"Current.Import/{phase}"]) == 9.0
            assert math.isclose(
                number(readings["Energy.Active.Import.Register"]), 17.2, abs_tol=0.05
            )

    run(test)


@VERSIONS
def test_it_lapses_to_the_fallback_when_the_dynamic_profile_expires(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version, meter_interval_s=30) as r:
            await r.set_profile(0, id=1, limit=8.0)
            r.charger.plug_in(1, vehicle())
            transaction = await r.transaction_id()
            await r.csms.wait_for(lambda: r.charger.station.evses[1].plug.authorised_at)  # type: ignore[union-attr]
            status = await r.set_profile(
                1,
                id=2,
                limit=20.0,
                purpose="TxProfile",
                stack_level=1,
                transaction_id=transaction,
                valid_to=START + timedelta(seconds=45),
            )
            assert status == "Accepted"
            assert r.draw_w() == 20 * 690.0
            await r.advance(30)
            await r.csms.wait_for(lambda: len(meter_samples(r)) >= 1)
            await r.advance(30)
            await r.csms.wait_for(lambda: len(meter_samples(r)) >= 2)
            first, second = meter_samples(r)[:2]
            assert number(first[1]["Power.Active.Import"]) == 13800.0
            assert number(second[1]["Power.Active.Import"]) == 5520.0  # back at 8 A
            register = number(second[1]["Energy.Active.Import.Register"])
            assert math.isclose(register, (13800 * 45 + 5520 * 15) / 3600, abs_tol=0.05)

    run(test)


@VERSIONS
def test_meter_values_carry_types_per_version_and_the_state_of_charge(
    version: OcppVersion,
) -> None:
    async def test() -> None:
        async with rig(version) as r:
            r.charger.plug_in(1, vehicle(battery_kwh=100, soc=50, max_kw=10))
            await r.transaction_id()
            await r.csms.wait_for(lambda: r.charger.station.evses[1].plug.authorised_at)  # type: ignore[union-attr]
            await r.advance(3600)
            [(_, readings)] = await r.csms.wait_for(lambda: meter_samples(r)[-1:])
            # 1.6 sends strings, 2.0.1 JSON numbers (the library decodes some as Decimal)
            expected_type = str if r.v16 else (int, float, Decimal)
            assert all(isinstance(v, expected_type) for v in readings.values()), readings
            assert math.isclose(number(readings["SoC"]), 60.0)
            assert math.isclose(number(readings["Energy.Active.Import.Register"]), 10000.0)

    run(test)


@VERSIONS
def test_the_vehicle_leaving_ends_the_transaction_with_its_energy(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version, meter_interval_s=7200) as r:
            await r.set_profile(0, id=1, limit=10.0)
            r.charger.plug_in(1, vehicle())
            transaction = await r.transaction_id()
            await r.csms.wait_for(lambda: r.charger.station.evses[1].plug.authorised_at)  # type: ignore[union-attr]
            await r.advance(3600)
            r.charger.unplug(1)
            if r.v16:
                stop = await r.csms.wait_request(CP, "StopTransaction")
                assert stop.payload["meter_stop"] == 6900
                assert stop.payload["transaction_id"] == int(transaction)
                assert stop.payload["reason"] == "EVDisconnected"
                assert stop.payload["timestamp"] == "2026-03-02T15:00:00.000Z"
                await r.csms.wait_request(
                    CP,
                    "StatusNotification",
                    lambda p: (
                        p["status"] == "Available" and p["timestamp"].startswith("2026-03-02T15")
                    ),
                )
            else:
                ended = await r.csms.wait_request(
                    CP, "TransactionEvent", lambda p: p["event_type"] == "Ended"
                )
                assert ended.payload["transaction_info"]["stopped_reason"] == "EVDisconnected"
                final = ended.payload["meter_value"][0]["sampled_value"][0]
                assert final["value"] == 6900.0 and final["context"] == "Transaction.End"
                seq = [p["seq_no"] for p in r.csms.sent(CP, "TransactionEvent")]
                assert seq == list(range(len(seq)))
            assert r.charger.stack.profiles[0].id == 1  # the fallback stays

    run(test)


@VERSIONS
def test_it_says_which_rate_units_it_takes_and_its_composite_schedule(
    version: OcppVersion,
) -> None:
    async def test() -> None:
        async with rig(version) as r:
            await r.set_profile(0, id=1, limit=8.0)
            await r.set_profile(
                0, id=2, limit=20.0, stack_level=1, valid_to=START + timedelta(minutes=5)
            )
            if r.v16:
                config = await r.csms.call(
                    CP,
                    call16.GetConfiguration(
                        key=["ChargingScheduleAllowedChargingRateUnit", "Nope"]
                    ),
                )
                assert config.configuration_key == [
                    {
                        "key": "ChargingScheduleAllowedChargingRateUnit",
                        "readonly": True,
                        "value": "Current,Power",
                    }
                ]
                assert config.unknown_key == ["Nope"]
                composite = await r.csms.call(
                    CP,
                    call16.GetCompositeSchedule(
                        connector_id=1, duration=900, charging_rate_unit="A"
                    ),
                )
                periods = composite.charging_schedule["charging_schedule_period"]
            else:
                variables = await r.csms.call(
                    CP,
                    call201.GetVariables(
                        get_variable_data=[
                            {
                                "component": {"name": "SmartChargingCtrlr"},
                                "variable": {"name": "RateUnit"},
                            },
                            {
                                "component": {"name": "SmartChargingCtrlr"},
                                "variable": {"name": "Nope"},
                            },
                        ]
                    ),
                )
                results = variables.get_variable_result
                assert results[0]["attribute_status"] == "Accepted"
                assert results[0]["attribute_value"] == "A,W"
                assert results[1]["attribute_status"] == "UnknownVariable"
                composite = await r.csms.call(
                    CP,
                    call201.GetCompositeSchedule(duration=900, evse_id=1, charging_rate_unit="A"),
                )
                periods = composite.schedule["charging_schedule_period"]
            assert composite.status == "Accepted"
            assert periods == [
                {"start_period": 0, "limit": 20.0},
                {"start_period": 300, "limit": 8.0},
            ]

    run(test)


@VERSIONS
def test_clearing_profiles_gives_the_rating_back(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version) as r:
            await r.set_profile(0, id=1, limit=8.0)
            r.charger.plug_in(1, vehicle())
            await r.transaction_id()
            await r.csms.wait_for(lambda: r.charger.station.evses[1].plug.authorised_at)  # type: ignore[union-attr]
            assert r.draw_w() == 8 * 690.0
            request = (
                call16.ClearChargingProfile(id=1)
                if r.v16
                else call201.ClearChargingProfile(charging_profile_id=1)
            )
            assert (await r.csms.call(CP, request)).status == "Accepted"
            assert (await r.csms.call(CP, request)).status == "Unknown"
            assert r.draw_w() == 32 * 690.0

    run(test)


@VERSIONS
def test_a_tx_profile_before_the_transaction_is_known_is_rejected(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version) as r:
            status = await r.set_profile(
                1, id=5, limit=10.0, purpose="TxProfile", transaction_id="999"
            )
            assert status == "Rejected"
            assert r.charger.stats.profiles_rejected == 1

    run(test)


def test_a_wrong_password_is_refused_and_the_charger_never_boots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def test() -> None:
        async with rig(OcppVersion.V16, password="other", wait_online=False) as r:
            await r.csms.wait_for(lambda: r.charger.stats.last_error, timeout=5)
            assert r.charger.stats.last_error == (
                "refused by the controller: HTTP 401 (its identity is not one of the site's, "
                "or its password is not the controller's); depotctl journal --kind "
                "charger.refused says why"
            )
            assert not r.csms.requests and r.charger.stats.boots == 0

    run(test)
