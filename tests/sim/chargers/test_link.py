"""What both protocol sides of a simulated charger decide alike: TriggerMessage,
configured intervals and ClearChargingProfile's criteria — as functions, and over
real OCPP (1.6J and 2.0.1) against a minimal real CSMS on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.domain.charge_points import OcppVersion
from depotctl.sim.chargers.link import interval_s, trigger_status
from depotctl.sim.chargers.profiles import Purpose
from depotctl.sim.chargers.stack import ClearCriteria
from tests.sim.chargers.builders import PASSWORD, PASSWORD_ENV, profile
from tests.sim.chargers.rig import CP, VERSIONS, rig, run


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def test_a_trigger_is_taken_for_what_the_charger_sends_on_request_and_an_evse_it_has() -> None:
    assert trigger_status("StatusNotification", known=True) == "Accepted"
    assert trigger_status("StatusNotification", known=False) == "Rejected"
    assert trigger_status("DiagnosticsStatusNotification", known=True) == "NotImplemented"
    assert trigger_status("LogStatusNotification", known=False) == "NotImplemented"


def test_an_interval_is_a_number_of_seconds_above_zero() -> None:
    assert interval_s("60") == 60.0
    assert interval_s("0.5") == 0.5
    assert interval_s("0") is None
    assert interval_s("-10") is None
    assert interval_s("ten") is None
    assert interval_s("") is None


def test_an_id_alone_clears_by_id_else_every_criterion_given_must_match() -> None:
    tx = profile(16, id=7, evse=1, purpose=Purpose.TX, stack_level=2)
    assert ClearCriteria(profile_id=7, evse=2).matches(tx)
    assert not ClearCriteria(profile_id=8, evse=1).matches(tx)
    assert ClearCriteria().matches(tx)
    assert ClearCriteria(evse=1, purpose=Purpose.TX, stack_level=2).matches(tx)
    assert not ClearCriteria(evse=1, purpose=Purpose.TX, stack_level=1).matches(tx)
    assert not ClearCriteria(evse=2).matches(tx)
    assert not ClearCriteria(purpose=Purpose.TX_DEFAULT).matches(tx)


def configuration_requests(version: OcppVersion) -> list[tuple[Any, str]]:
    """(a request setting the heartbeat interval or another setting, the status it gets)."""
    if version is OcppVersion.V16:
        return [
            (call16.ChangeConfiguration(key="Nope", value="60"), "NotSupported"),
            (call16.ChangeConfiguration(key="NumberOfConnectors", value="3"), "Rejected"),
            (call16.ChangeConfiguration(key="HeartbeatInterval", value="0"), "Rejected"),
            (call16.ChangeConfiguration(key="HeartbeatInterval", value="soon"), "Rejected"),
            (call16.ChangeConfiguration(key="HeartbeatInterval", value="45"), "Accepted"),
        ]

    def item(component: str, variable: str, value: str) -> dict[str, Any]:
        return {
            "component": {"name": component},
            "variable": {"name": variable},
            "attribute_value": value,
        }

    return [
        (call201.SetVariables([item("NopeCtrlr", "HeartbeatInterval", "60")]), "UnknownComponent"),
        (call201.SetVariables([item("OCPPCommCtrlr", "Nope", "60")]), "UnknownVariable"),
        (call201.SetVariables([item("SmartChargingCtrlr", "Enabled", "false")]), "Rejected"),
        (call201.SetVariables([item("OCPPCommCtrlr", "HeartbeatInterval", "0")]), "Rejected"),
        (call201.SetVariables([item("OCPPCommCtrlr", "HeartbeatInterval", "soon")]), "Rejected"),
        (call201.SetVariables([item("OCPPCommCtrlr", "HeartbeatInterval", "45")]), "Accepted"),
    ]


@VERSIONS
def test_only_a_known_writable_interval_above_zero_is_set(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version) as r:
            for request, status in configuration_requests(version):
                answer = await r.csms.call(CP, request)
                got = answer.status if r.v16 else answer.set_variable_result[0]["attribute_status"]
                assert got == status, request
                if status != "Accepted":
                    assert r.charger.heartbeat_s == 300
            assert r.charger.heartbeat_s == 45

    run(test)


def test_a_201_station_reads_only_actual_values_of_what_it_has() -> None:
    async def test() -> None:
        async with rig(OcppVersion.V201) as r:
            variable = {"variable": {"name": "HeartbeatInterval"}}
            answer = await r.csms.call(
                CP,
                call201.GetVariables(
                    [
                        {"component": {"name": "OCPPCommCtrlr"}, **variable},
                        {
                            "component": {"name": "OCPPCommCtrlr"},
                            **variable,
                            "attribute_type": "Target",
                        },
                        {"component": {"name": "NopeCtrlr"}, **variable},
                    ]
                ),
            )
            results = answer.get_variable_result
            assert [r["attribute_status"] for r in results] == [
                "Accepted",
                "NotSupportedAttributeType",
                "UnknownComponent",
            ]
            assert results[0]["attribute_value"] == "300"
            assert results[1]["attribute_type"] == "Target"

    run(test)


@VERSIONS
def test_a_trigger_is_answered_for_what_is_sent_on_request_on_an_evse_the_charger_has(
    version: OcppVersion,
) -> None:
    def trigger(message: str, evse: int | None) -> Any:
        if version is OcppVersion.V16:
            return call16.TriggerMessage(requested_message=message, connector_id=evse)
        return call201.TriggerMessage(
            requested_message=message, evse=None if evse is None else {"id": evse}
        )

    async def test() -> None:
        async with rig(version) as r:
            answers = [
                (await r.csms.call(CP, trigger(message, evse))).status
                for message, evse in (
                    ("Heartbeat", None),
                    ("StatusNotification", 1),
                    ("StatusNotification", 9),
                    ("DiagnosticsStatusNotification" if r.v16 else "LogStatusNotification", 1),
                )
            ]
            assert answers == ["Accepted", "Accepted", "Rejected", "NotImplemented"]

    run(test)


def clear_requests(version: OcppVersion) -> tuple[Any, Any]:
    """ClearChargingProfile of EVSE 0 at stack level 3, and of its TxDefaultProfiles."""
    if version is OcppVersion.V16:
        return (
            call16.ClearChargingProfile(connector_id=0, stack_level=3),
            call16.ClearChargingProfile(
                connector_id=0, charging_profile_purpose="TxDefaultProfile"
            ),
        )
    return (
        call201.ClearChargingProfile(charging_profile_criteria={"evse_id": 0, "stack_level": 3}),
        call201.ClearChargingProfile(
            charging_profile_criteria={"evse_id": 0, "charging_profile_purpose": "TxDefaultProfile"}
        ),
    )


@VERSIONS
def test_a_clear_by_criteria_removes_only_what_matches(version: OcppVersion) -> None:
    by_level, by_purpose = clear_requests(version)

    async def test() -> None:
        async with rig(version) as r:
            await r.set_profile(0, id=1, limit=8.0)
            assert (await r.csms.call(CP, by_level)).status == "Unknown"
            assert [p.id for p in r.charger.stack.profiles] == [1]
            assert (await r.csms.call(CP, by_purpose)).status == "Accepted"
            assert r.charger.stack.profiles == []

    run(test)
