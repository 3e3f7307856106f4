"""Malformed or schema-invalid frames: each CALL gets the protocol's CallError, in the
version's spelling, and the connection goes on serving the next message. Lenient
chargers' out-of-schema meter values are read as far as they can be."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from depotctl.domain.charge_points import OcppVersion
from tests.protocols.ocpp.chargers import exchange, raw
from tests.protocols.ocpp.endpoint_rig import V16, V201, charge_point, endpoint, until

pytestmark = pytest.mark.anyio

STATUS_16 = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
STATUS_201 = {
    "timestamp": "2026-03-02T18:00:00Z",
    "connectorStatus": "Available",
    "evseId": 1,
    "connectorId": 1,
}

# (frame, the CallError's message id, 1.6 code, 2.0.1 code)
BROKEN: list[tuple[Any, str, str, str]] = [
    ("{not json", "-1", "FormationViolation", "RpcFrameworkError"),
    ('{"a": 1}', "-1", "FormationViolation", "RpcFrameworkError"),
    ([], "-1", "FormationViolation", "RpcFrameworkError"),
    ([2, "m-1"], "m-1", "FormationViolation", "RpcFrameworkError"),
    ([2, "m-2", "Heartbeat", {}, "extra"], "m-2", "FormationViolation", "RpcFrameworkError"),
    ([7, "m-3", "Heartbeat", {}], "m-3", "FormationViolation", "MessageTypeNotSupported"),
    ([2, "m-4", "Heartbeat", []], "m-4", "FormationViolation", "FormatViolation"),
    ([2, "m-5", 42, {}], "m-5", "FormationViolation", "RpcFrameworkError"),
    ([2, "m-6", "FlyToTheMoon", {}], "m-6", "NotImplemented", "NotImplemented"),
    ([2, "m-7", "Heartbeat", {"extra": 1}], "m-7", "FormationViolation", "FormatViolation"),
]
BROKEN_IDS = [
    "invalid-json",
    "not-a-list",
    "empty-list",
    "missing-elements",
    "too-many-elements",
    "unknown-message-type",
    "payload-not-an-object",
    "action-not-a-string",
    "unknown-action",
    "additional-property",
]


async def _still_serving(websocket: ClientConnection) -> None:
    answer = await exchange(websocket, [2, "after", "Heartbeat", {}])
    assert answer[0:2] == [3, "after"] and "currentTime" in answer[2], answer


@pytest.mark.parametrize(("frame", "unique_id", "code16", "code201"), BROKEN, ids=BROKEN_IDS)
@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_a_broken_call_gets_a_call_error_and_the_connection_goes_on(
    version: str, frame: Any, unique_id: str, code16: str, code201: str
) -> None:
    ocpp_id = "CP-16" if version == "ocpp1.6" else "CP-201"
    async with endpoint(V16, V201) as rig, raw(rig.url, ocpp_id, version) as websocket:
        answer = await exchange(websocket, frame)
        assert answer[0] == 4, answer
        assert answer[1] == unique_id
        assert answer[2] == (code16 if version == "ocpp1.6" else code201)
        assert isinstance(answer[3], str) and len(answer[3]) <= 255
        assert isinstance(answer[4], dict)
        await _still_serving(websocket)
        assert rig.events.disconnections == []


SCHEMA_INVALID = [
    # (action, payload, 1.6 code, 2.0.1 code)
    ("StatusNotification", {**STATUS_16, "connectorId": "one"}, "TypeConstraintViolation", None),
    ("StatusNotification", {"connectorId": 1, "status": "Available"}, "ProtocolError", None),
    ("StatusNotification", {**STATUS_16, "status": "Dancing"}, "FormationViolation", None),
    ("StatusNotification", {**STATUS_201, "evseId": "one"}, None, "TypeConstraintViolation"),
    ("StatusNotification", {"timestamp": "2026-03-02T18:00:00Z"}, None, "ProtocolError"),
    ("StatusNotification", {**STATUS_201, "connectorStatus": "Dancing"}, None, "FormatViolation"),
]


@pytest.mark.parametrize(("action", "payload", "code16", "code201"), SCHEMA_INVALID)
async def test_a_schema_invalid_payload_gets_the_matching_call_error(
    action: str, payload: dict[str, Any], code16: str | None, code201: str | None
) -> None:
    version, ocpp_id, code = (
        ("ocpp1.6", "CP-16", code16) if code16 else ("ocpp2.0.1", "CP-201", code201)
    )
    async with endpoint(V16, V201) as rig, raw(rig.url, ocpp_id, version) as websocket:
        answer = await exchange(websocket, [2, "bad", action, payload])
        assert answer[:3] == [4, "bad", code], answer
        assert rig.events.statuses == []
        await _still_serving(websocket)


@pytest.mark.parametrize(
    ("version", "action"),
    [("ocpp1.6", "SignCertificate"), ("ocpp2.0.1", "Get15118EVCertificate")],
)
async def test_a_known_action_the_csms_does_not_handle_is_not_supported(
    version: str, action: str
) -> None:
    ocpp_id = "CP-16" if version == "ocpp1.6" else "CP-201"
    async with endpoint(V16, V201) as rig, raw(rig.url, ocpp_id, version) as websocket:
        answer = await exchange(websocket, [2, "k", action, {}])
        assert answer[:3] == [4, "k", "NotSupported"]
        await _still_serving(websocket)


async def test_responses_are_never_answered() -> None:
    async with endpoint(V16) as rig, raw(rig.url, "CP-16", "ocpp1.6") as websocket:
        for frame in ([3, "nobody", {}], [4, "nobody", "GenericError", "", {}], [3]):
            await websocket.send(json.dumps(frame))
        # the next answer is the heartbeat's: nothing answered the three above
        await _still_serving(websocket)


async def test_a_handler_failure_is_an_internal_error_and_the_connection_goes_on() -> None:
    """A lenient charger's StopTransaction skips the schema; one without its meter
    reading fails in the handler."""
    lenient = charge_point("CP-L", "chg-l", OcppVersion.V16, lenient=True)
    async with endpoint(lenient) as rig, raw(rig.url, "CP-L", "ocpp1.6") as websocket:
        answer = await exchange(websocket, [2, "s", "StopTransaction", {"transactionId": 5}])
        assert answer[:3] == [4, "s", "InternalError"]
        await _still_serving(websocket)


OUT_OF_SCHEMA_16 = {
    "connectorId": 1,
    "meterValue": [
        {
            "timestamp": "2026-03-02T18:05:00Z",
            "sampledValue": [
                {"value": 7.4, "measurand": "Power.Active.Import", "unit": "kw"},  # number, case
                {"value": "32.2", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
                {"value": "abc", "measurand": "Current.Import", "unit": "A", "phase": "L2"},
                {"value": 12.5, "unit": "kWh", "vendorTag": "x"},  # an extra property
            ],
        }
    ],
}


async def test_a_lenient_charger_gets_its_out_of_schema_meter_values_read() -> None:
    lenient = charge_point("CP-L", "chg-l", OcppVersion.V16, lenient=True, connection="L2")
    async with endpoint(lenient, V16) as rig:
        async with raw(rig.url, "CP-L", "ocpp1.6") as websocket:
            answer = await exchange(websocket, [2, "mv", "MeterValues", OUT_OF_SCHEMA_16])
            assert answer == [3, "mv", {}]
        [sample] = rig.events.samples
        assert sample.energy_wh == pytest.approx(12_500)
        assert sample.reading is not None
        assert sample.reading.power_w == pytest.approx(7_400)
        # a single-phase charger on the site's L2: its L1 current is on L2
        assert sample.reading.current_a == {"L2": 32.2}

        # the same message from a charger without the quirk breaks the schema
        async with raw(rig.url, "CP-16", "ocpp1.6") as websocket:
            answer = await exchange(websocket, [2, "mv", "MeterValues", OUT_OF_SCHEMA_16])
            assert answer[:2] == [4, "mv"]
            assert answer[2] in ("TypeConstraintViolation", "FormationViolation")
            await _still_serving(websocket)
        assert len(rig.events.samples) == 1


async def test_a_lenient_201_station_may_send_values_as_strings() -> None:
    lenient = charge_point("CP-L2", "chg-l2", OcppVersion.V201, lenient=True)
    payload = {
        "evseId": 1,
        "meterValue": [
            {
                "timestamp": "2026-03-02T18:05:00Z",
                "sampledValue": [
                    {
                        "value": "11",
                        "measurand": "Power.Active.Import",
                        "unitOfMeasure": {"unit": "kW"},
                    }
                ],
            }
        ],
    }
    async with endpoint(lenient) as rig, raw(rig.url, "CP-L2", "ocpp2.0.1") as websocket:
        assert await exchange(websocket, [2, "mv", "MeterValues", payload]) == [3, "mv", {}]
        await until(lambda: rig.events.samples)
        reading = rig.events.samples[0].reading
        assert reading is not None and reading.power_w == pytest.approx(11_000)
