"""Charging profiles: what each purpose says, in both versions, valid against the
``ocpp`` library's own JSON schemas (the OCA's), limits rounded down, A and W."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, validate_payload

from depotctl.domain.charge_points import ChargePoint, ChargePointEvse, OcppVersion, RateUnit
from depotctl.protocols.ocpp.profiles import (
    START_LEAD_S,
    EvseLimit,
    choose_rate_unit,
    dynamic_profile_id,
    dynamic_request,
    fallback_request,
    max_request,
    rate_limit,
    rate_unit_request,
    rate_units_answered,
    rate_units_offered,
    round_down,
    stand_in_request,
    status_trigger_request,
)

AT = datetime(2025, 3, 4, 22, 15, 30, 250_000, tzinfo=UTC)
VERSIONS = [OcppVersion.V16, OcppVersion.V201]
UNITS = [RateUnit.AMPS, RateUnit.WATTS]


def charge_point(version: OcppVersion = OcppVersion.V16, **changes: Any) -> ChargePoint:
    """A 3-phase 230 V AC charger: 32 A rating, 10 A fallback, two EVSEs."""
    base = ChargePoint(
        ocpp_id="CP-07",
        charger_id="chg-07",
        version=version,
        password=None,
        evses=(ChargePointEvse("chg-07/1", 1), ChargePointEvse("chg-07/2", 2)),
        number_phases=3,
        watts_per_amp=3 * 230.0,
        rating_a=32.0,
        fallback_a=10.0,
    )
    return replace(base, **changes)


def wire(request: Any) -> dict[str, Any]:
    """The request's payload as it goes on the wire (the library's own conversion)."""
    payload = remove_nones(snake_to_camel_case(serialize_as_dict(request)))
    assert isinstance(payload, dict)
    return payload


def validate(version: OcppVersion, request: Any) -> None:
    """Raises the library's ``OCPPError`` when the payload breaks the schema."""
    schema_version = "1.6" if version is OcppVersion.V16 else "2.0.1"
    call = Call("1", type(request).__name__, wire(request))
    asyncio.run(validate_payload(call, schema_version))


def profile(version: OcppVersion, request: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(connector/EVSE, the profile, its schedule) of a SetChargingProfile payload."""
    payload = wire(request)
    if version is OcppVersion.V16:
        body = payload["csChargingProfiles"]
        return payload["connectorId"], body, body["chargingSchedule"]
    body = payload["chargingProfile"]
    return payload["evseId"], body, body["chargingSchedule"][0]


def every_request(version: OcppVersion, unit: RateUnit) -> list[Any]:
    cp = charge_point(version)
    return [
        fallback_request(cp, unit, AT),
        max_request(cp, unit, AT),
        dynamic_request(
            cp, EvseLimit(1, 16.0, unit, AT, 30), "41" if version is OcppVersion.V16 else "tx-1"
        ),
        dynamic_request(cp, EvseLimit(2, 12.34, unit, AT, 30), None),
        dynamic_request(
            replace(cp, tx_profile_unsupported=True), EvseLimit(1, 7.77, unit, AT, 30), "41"
        ),
        dynamic_request(replace(cp, dc=True), EvseLimit(1, 100.0, unit, AT, 30), None),
    ]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("unit", UNITS)
def test_every_profile_validates_against_the_library_schema(
    version: OcppVersion, unit: RateUnit
) -> None:
    for request in every_request(version, unit):
        validate(version, request)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_rate_unit_and_status_requests_validate_against_the_library_schema(
    version: OcppVersion,
) -> None:
    """Every request the dispatcher makes is proven against the schema here: the
    connection does not check it again at run time (it would cost a millisecond a
    call)."""
    validate(version, rate_unit_request(version))
    validate(version, status_trigger_request(version, 2))
    cp = charge_point(version)
    for unit in UNITS:
        validate(version, stand_in_request(cp, EvseLimit(1, 0.0, unit, AT, 30)))
        validate(version, stand_in_request(cp, EvseLimit(2, 9.9, unit, AT, 3600)))


def test_the_schema_check_does_reject_a_limit_with_two_decimals() -> None:
    """The check above can fail: 1.6 limits are multiples of 0.1."""
    request = fallback_request(charge_point(fallback_a=10.0), RateUnit.AMPS, AT)
    request.cs_charging_profiles.charging_schedule.charging_schedule_period[0].limit = 10.15
    with pytest.raises(OCPPError):
        validate(OcppVersion.V16, request)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_fallback_is_a_persistent_tx_default_on_connector_zero(version: OcppVersion) -> None:
    target, body, schedule = profile(
        version, fallback_request(charge_point(version), RateUnit.AMPS, AT)
    )
    assert target == 0
    assert body["chargingProfilePurpose"] == "TxDefaultProfile"
    assert body["stackLevel"] == 0
    assert body["chargingProfileKind"] == "Absolute"
    assert "validTo" not in body and "duration" not in schedule
    assert schedule["startSchedule"] == "2025-03-04T22:14:30Z"  # a minute before, whole seconds
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 10.0, "numberPhases": 3}
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_max_profile_carries_the_rating_never_the_fallback(version: OcppVersion) -> None:
    one_evse = charge_point(version, evses=(ChargePointEvse("chg-07/1", 1),))
    target, body, schedule = profile(version, max_request(one_evse, RateUnit.AMPS, AT))
    assert target == 0
    assert body["chargingProfilePurpose"] == (
        "ChargePointMaxProfile" if version is OcppVersion.V16 else "ChargingStationMaxProfile"
    )
    assert "validTo" not in body and "duration" not in schedule
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 32.0
    # charger-wide: two EVSEs of 32 A each may draw 64 A together
    _, _, both = profile(version, max_request(charge_point(version), RateUnit.AMPS, AT))
    assert both["chargingSchedulePeriod"][0]["limit"] == 64.0


@pytest.mark.parametrize("version", VERSIONS)
def test_a_dynamic_limit_with_a_transaction_is_a_tx_profile_that_lapses(
    version: OcppVersion,
) -> None:
    tx = "41" if version is OcppVersion.V16 else "tx-9"
    request = dynamic_request(charge_point(version), EvseLimit(2, 16.0, RateUnit.AMPS, AT, 30), tx)
    target, body, schedule = profile(version, request)
    assert target == 2
    assert body["chargingProfilePurpose"] == "TxProfile"
    assert body["transactionId"] == (41 if version is OcppVersion.V16 else "tx-9")
    assert body["stackLevel"] == 1
    assert body["chargingProfileKind"] == "Absolute"
    start = datetime.fromisoformat(schedule["startSchedule"])
    valid_to = datetime.fromisoformat(body["validTo"])
    assert start < AT
    assert valid_to == AT.replace(microsecond=0) + timedelta(seconds=30)
    assert start + timedelta(seconds=schedule["duration"]) == valid_to
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
    ]


@pytest.mark.parametrize(
    ("version", "reason"),
    [(v, r) for v in VERSIONS for r in ("no transaction", "quirk")]
    + [(OcppVersion.V16, "not a number")],  # 2.0.1 transaction ids are strings anyway
)
def test_without_a_usable_transaction_the_limit_is_a_tx_default_that_falls_back(
    version: OcppVersion, reason: str
) -> None:
    cp = charge_point(version, tx_profile_unsupported=reason == "quirk")
    tx = {"no transaction": None, "quirk": "41", "not a number": "abc"}[reason]
    target, body, schedule = profile(
        version, dynamic_request(cp, EvseLimit(1, 16.0, RateUnit.AMPS, AT, 30), tx)
    )
    assert target == 1
    assert body["chargingProfilePurpose"] == "TxDefaultProfile"
    assert body["stackLevel"] == 1  # above the fallback's 0
    assert "transactionId" not in body
    # the limit for the validity, then the fallback for good: lapses even where a
    # connector's TxDefaultProfile replaces connector 0's
    assert "validTo" not in body and "duration" not in schedule
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
        {"startPeriod": START_LEAD_S + 30, "limit": 10.0, "numberPhases": 3},
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_profile_ids_are_fixed_per_purpose_and_evse(version: OcppVersion) -> None:
    cp = charge_point(version)
    tx = "41" if version is OcppVersion.V16 else "t"
    later = AT + timedelta(minutes=7)

    def id_of(request: Any) -> int:
        body = profile(version, request)[1]
        return int(body["chargingProfileId" if version is OcppVersion.V16 else "id"])

    renewal = {
        id_of(dynamic_request(cp, EvseLimit(1, 16.0, RateUnit.AMPS, at, 30), tx))
        for at in (AT, later)
    }
    assert renewal == {dynamic_profile_id(1, tx_profile=True)}
    ids = [
        id_of(fallback_request(cp, RateUnit.AMPS, AT)),
        id_of(max_request(cp, RateUnit.AMPS, AT)),
        id_of(dynamic_request(cp, EvseLimit(1, 16.0, RateUnit.AMPS, AT, 30), tx)),
        id_of(dynamic_request(cp, EvseLimit(2, 16.0, RateUnit.AMPS, AT, 30), tx)),
        id_of(dynamic_request(cp, EvseLimit(1, 16.0, RateUnit.AMPS, AT, 30), None)),
        id_of(dynamic_request(cp, EvseLimit(2, 16.0, RateUnit.AMPS, AT, 30), None)),
    ]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("phases", "watts_per_amp", "amps", "watts"),
    [(3, 690.0, 16.0, 11040.0), (1, 230.0, 16.0, 3680.0), (1, 208.0, 13.3, 2766.4)],
)
def test_watts_are_amps_times_the_chargers_watts_per_amp(
    phases: int, watts_per_amp: float, amps: float, watts: float
) -> None:
    cp = charge_point(number_phases=phases, watts_per_amp=watts_per_amp)
    assert rate_limit(cp, amps, RateUnit.WATTS) == watts
    assert rate_limit(cp, amps, RateUnit.AMPS) == amps
    _, _, schedule = profile(
        OcppVersion.V16, dynamic_request(cp, EvseLimit(1, amps, RateUnit.WATTS, AT, 30), "1")
    )
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": watts, "numberPhases": phases}
    ]


def test_a_dc_charger_says_no_number_of_phases() -> None:
    for version in VERSIONS:
        cp = charge_point(version, dc=True)
        _, _, schedule = profile(
            version, dynamic_request(cp, EvseLimit(1, 50, RateUnit.WATTS, AT, 30), None)
        )
        assert all("numberPhases" not in p for p in schedule["chargingSchedulePeriod"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(16.0, 16.0), (16.19, 16.1), (16.1, 16.1), (16.099999999999998, 16.1), (0.09, 0.0),
     (7.77, 7.7), (-2.0, 0.0), (11039.99, 11039.9)],
)  # fmt: skip
def test_limits_round_down_to_a_tenth(value: float, expected: float) -> None:
    assert round_down(value) == expected


@given(st.floats(min_value=0, max_value=2_000_000, allow_nan=False))
def test_rounding_never_goes_up_and_loses_under_a_tenth(value: float) -> None:
    rounded = round_down(value)
    assert rounded <= value + 1e-9
    assert value - rounded < 0.1 + 1e-9
    assert Decimal(repr(rounded)) % Decimal("0.1") == 0  # what the 1.6 schema checks


@given(
    st.floats(min_value=0, max_value=500, allow_nan=False),
    st.floats(min_value=100, max_value=2000, allow_nan=False),
    st.sampled_from(UNITS),
)
def test_every_rounded_limit_passes_the_1_6_schema(
    amps: float, per_amp: float, unit: RateUnit
) -> None:
    cp = charge_point(watts_per_amp=per_amp)
    request = dynamic_request(cp, EvseLimit(1, amps, unit, AT, 30), "7")
    validate(OcppVersion.V16, request)
    limit = request.cs_charging_profiles.charging_schedule.charging_schedule_period[0].limit
    assert limit <= (amps if unit is RateUnit.AMPS else amps * per_amp) + 1e-9


@pytest.mark.parametrize(
    ("version", "dc", "configured", "offered", "expected"),
    [
        (OcppVersion.V16, False, None, "", RateUnit.AMPS),
        (OcppVersion.V16, True, None, "", RateUnit.AMPS),
        (OcppVersion.V201, True, None, "", RateUnit.WATTS),
        (OcppVersion.V201, False, None, "", RateUnit.AMPS),
        (OcppVersion.V16, False, None, "Current,Power", RateUnit.AMPS),
        (OcppVersion.V16, True, None, "Current,Power", RateUnit.WATTS),
        (OcppVersion.V16, False, None, "Power", RateUnit.WATTS),
        (OcppVersion.V201, False, None, "W", RateUnit.WATTS),
        (OcppVersion.V201, True, None, "A", RateUnit.AMPS),
        (OcppVersion.V201, True, RateUnit.AMPS, "W", RateUnit.AMPS),
    ],
)
def test_the_rate_unit_follows_configuration_then_the_charger_then_the_default(
    version: OcppVersion, dc: bool, configured: RateUnit | None, offered: str, expected: RateUnit
) -> None:
    cp = charge_point(version, dc=dc, rate_unit=configured)
    assert choose_rate_unit(cp, rate_units_offered(offered)) is expected


def test_rate_units_are_read_from_either_versions_answer() -> None:
    from ocpp.v16 import call_result as result16
    from ocpp.v201 import call_result as result201

    v16 = result16.GetConfiguration(
        configuration_key=[
            {"key": "Other", "readonly": True, "value": "Power"},
            {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Current, Power"},
        ]
    )  # fmt: skip
    assert rate_units_answered(OcppVersion.V16, v16) == {RateUnit.AMPS, RateUnit.WATTS}
    unknown = result16.GetConfiguration(unknown_key=["ChargingScheduleAllowedChargingRateUnit"])
    assert rate_units_answered(OcppVersion.V16, unknown) == frozenset()
    v201 = result201.GetVariables(
        get_variable_result=[
            {"attribute_status": "Accepted", "component": {"name": "SmartChargingCtrlr"},
             "variable": {"name": "RateUnit"}, "attribute_value": "W"}
        ]
    )  # fmt: skip
    assert rate_units_answered(OcppVersion.V201, v201) == {RateUnit.WATTS}
    rejected = result201.GetVariables(
        get_variable_result=[
            {"attribute_status": "UnknownVariable", "component": {"name": "SmartChargingCtrlr"},
             "variable": {"name": "RateUnit"}}
        ]
    )  # fmt: skip
    assert rate_units_answered(OcppVersion.V201, rejected) == frozenset()
