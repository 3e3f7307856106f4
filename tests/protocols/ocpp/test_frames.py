"""Malformed or schema-invalid frames: each CALL gets the protocol's CallError, in the
version's spelling, and the connection goes on serving the next message — also for
frames Python's JSON reader fails on, and for a flood of calls past the charger's
allowance; a message too large closes its own connection only. Lenient chargers'
out-of-schema meter values are read as far as they can be."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from depotctl.domain.charge_points import OcppVersion
from depotctl.protocols.ocpp.frames import CALLS_BURST, CALLS_PER_S, MAX_NESTING
from depotctl.protocols.ocpp.server import MAX_MESSAGE_BYTES
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


HOSTILE = [
    # (frame, the CallError's message id, 1.6 code, 2.0.1 code)
    ("[" * 5000 + "]" * 5000, "-1", "FormationViolation", "RpcFrameworkError"),
    (
        '[2,"d","DataTransfer",{"vendorId":"v","data":'
        + "[" * (MAX_NESTING + 1)
        + "]" * (MAX_NESTING + 1)
        + "}]",
        "d",
        "FormationViolation",
        "RpcFrameworkError",
    ),
    (
        '[2,"n","Heartbeat",{"n":' + "9" * 5000 + "}]",
        "-1",
        "FormationViolation",
        "RpcFrameworkError",
    ),
    (b"\xff\xfe\x00not utf-8", "-1", "FormationViolation", "RpcFrameworkError"),
]


@pytest.mark.parametrize(
    ("frame", "unique_id", "code16", "code201"),
    HOSTILE,
    ids=["deep", "deep-payload", "huge-number", "binary"],
)
@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_a_frame_python_cannot_read_gets_a_call_error_and_the_connection_goes_on(
    version: str, frame: str | bytes, unique_id: str, code16: str, code201: str
) -> None:
    """Nesting past the reader's recursion limit, an integer of thousands of digits,
    bytes that are not UTF-8: each failed Python's JSON reader in its own way and
    ended the connection (1011)."""
    ocpp_id = "CP-16" if version == "ocpp1.6" else "CP-201"
    async with endpoint(V16, V201) as rig, raw(rig.url, ocpp_id, version) as websocket:
        await websocket.send(frame)
        answer = json.loads(await asyncio.wait_for(websocket.recv(), 30))
        assert answer[:3] == [4, unique_id, code16 if version == "ocpp1.6" else code201]
        await _still_serving(websocket)
        assert rig.events.disconnections == []


async def test_a_message_nested_as_deep_as_allowed_is_handled() -> None:
    data = "[" * (MAX_NESTING - 3) + "]" * (MAX_NESTING - 3)
    frame = '[2,"d","DataTransfer",{"vendorId":"v","data":' + data + "}]"
    async with endpoint(V201) as rig, raw(rig.url, "CP-201", "ocpp2.0.1") as websocket:
        answer = await exchange(websocket, frame)
        assert answer == [3, "d", {"status": "UnknownVendorId"}]


async def test_an_oversized_message_closes_that_connection_only() -> None:
    """Past MAX_MESSAGE_BYTES the connection closes (1009, message too big); its
    neighbour is served throughout, and the charger may connect again."""
    room = MAX_MESSAGE_BYTES - 100
    fits = json.dumps([2, "fits", "DataTransfer", {"vendorId": "v", "data": "x" * room}])
    assert len(fits) <= MAX_MESSAGE_BYTES
    too_big = json.dumps([2, "big", "Heartbeat", {"pad": "x" * MAX_MESSAGE_BYTES}])
    async with (
        endpoint(V16, V201) as rig,
        raw(rig.url, "CP-201", "ocpp2.0.1") as neighbour,
    ):
        async with raw(rig.url, "CP-16", "ocpp1.6") as websocket:
            assert await exchange(websocket, fits) == [3, "fits", {"status": "UnknownVendorId"}]
            await websocket.send(too_big)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(websocket.recv(), 30)
            assert websocket.close_code == 1009
            await _still_serving(neighbour)
        await until(lambda: [d[0] for d in rig.events.disconnections] == ["chg-16"])
        async with raw(rig.url, "CP-16", "ocpp1.6") as again:
            await _still_serving(again)
        await _still_serving(neighbour)


async def test_a_flood_of_calls_is_answered_past_its_allowance_not_handled() -> None:
    """A burst of CALLS_BURST calls is handled; the calls past it get a GenericError
    at once, the neighbour is served meanwhile, and the allowance comes back with
    the controller's clock (CALLS_PER_S a second)."""
    status = [2, "", "StatusNotification", STATUS_16]
    extra = 7
    async with (
        endpoint(V16, V201) as rig,
        raw(rig.url, "CP-16", "ocpp1.6") as flood,
        raw(rig.url, "CP-201", "ocpp2.0.1") as neighbour,
    ):
        for n in range(CALLS_BURST + extra):  # sent without waiting for the answers
            await flood.send(json.dumps([status[0], f"c-{n}", *status[2:]]))
        await _still_serving(neighbour)
        answers = [
            json.loads(await asyncio.wait_for(flood.recv(), 30)) for _ in range(CALLS_BURST + extra)
        ]
        assert [a[1] for a in answers] == [f"c-{n}" for n in range(CALLS_BURST + extra)]
        assert [a[0] for a in answers] == [3] * CALLS_BURST + [4] * extra
        assert {a[2] for a in answers[CALLS_BURST:]} == {"GenericError"}
        assert "too many calls" in answers[-1][3]
        assert len(rig.events.statuses) == CALLS_BURST  # those past it were not handled
        unhandled = await exchange(flood, [2, "still", "Heartbeat", {}])
        assert unhandled[:3] == [4, "still", "GenericError"]
        rig.clock.advance(1)  # CALLS_PER_S more
        for n in range(int(CALLS_PER_S)):
            assert (await exchange(flood, [2, f"h-{n}", "Heartbeat", {}]))[0] == 3
        assert (await exchange(flood, [2, "over", "Heartbeat", {}]))[:3] == [
            4,
            "over",
            "GenericError",
        ]
        # responses never count: a reply to nothing is ignored, not refused
        await flood.send(json.dumps([3, "nobody", {}]))
        await _still_serving(neighbour)
        assert rig.events.disconnections == []
