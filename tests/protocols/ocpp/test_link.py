"""A connected charger as the dispatcher sees it (``ChargerLink``): when it is ready
for calls, and how a call ends — an answer, a CallError, a timeout, a closed
connection — one call at a time."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.protocols.ocpp.link import (
    AnswerUnreadable,
    CallErrorReceived,
    ChargerLink,
    LinkClosed,
    LinkTimeout,
)
from tests.protocols.ocpp.chargers import charger, raw
from tests.protocols.ocpp.endpoint_rig import V16, V201, endpoint, until

pytestmark = pytest.mark.anyio

GET_RATE_UNIT = call16.GetConfiguration(key=["ChargingScheduleAllowedChargingRateUnit"])


async def test_on_connected_runs_after_the_boot_and_may_call_the_charger() -> None:
    answers: list[Any] = []

    async def push(link: ChargerLink) -> None:  # what the dispatcher does there
        answers.append(await link.call(GET_RATE_UNIT, timeout_s=2))

    async with endpoint(V16, boot_grace_s=30) as rig:
        rig.server.on_connected(push)
        async with charger(rig.url, "CP-16", "ocpp1.6") as cp:
            await asyncio.sleep(0.1)
            assert answers == []  # not before it booted
            boot = await cp.call(
                call16.BootNotification(charge_point_model="M", charge_point_vendor="V")
            )
            assert boot.status == "Accepted"
            await until(lambda: answers)
        [answer] = answers
        assert answer.configuration_key[0]["value"] == "Current"


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_a_charger_that_reconnects_without_booting_is_ready_on_its_first_message(
    version: str,
) -> None:
    ready: list[str] = []
    ocpp_id = "CP-16" if version == "ocpp1.6" else "CP-201"
    heartbeat = call16.Heartbeat() if version == "ocpp1.6" else call201.Heartbeat()
    async with endpoint(V16, V201, boot_grace_s=30) as rig:
        rig.server.on_connected(lambda link: ready.append(link.charge_point.ocpp_id))
        async with charger(rig.url, ocpp_id, version) as cp:
            await asyncio.sleep(0.05)
            assert ready == []
            await cp.call(heartbeat)
            await until(lambda: ready == [ocpp_id])
        # seen before or not, the next connection is not sent a thing before it speaks:
        # a charger that has not booted refuses calls, many by never answering them
        async with charger(rig.url, ocpp_id, version) as cp:
            await asyncio.sleep(0.05)
            assert ready == [ocpp_id]
            await cp.call(heartbeat)
            await until(lambda: ready == [ocpp_id, ocpp_id])


async def test_a_silent_charger_is_ready_after_the_boot_grace() -> None:
    ready: list[float] = []
    async with endpoint(V16, boot_grace_s=0.2) as rig:
        rig.server.on_connected(lambda _: ready.append(time.monotonic()))
        opened = time.monotonic()
        async with charger(rig.url, "CP-16", "ocpp1.6"):
            await until(lambda: ready)
        assert 0.15 <= ready[0] - opened < 10  # after the grace; the bound tells a hang


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_a_call_returns_the_chargers_answer(version: str) -> None:
    async with endpoint(V16, V201) as rig:
        if version == "ocpp1.6":
            ocpp_id, charger_id, request = "CP-16", "chg-16", GET_RATE_UNIT
        else:
            ocpp_id, charger_id = "CP-201", "chg-201"
            request = call201.GetVariables(
                get_variable_data=[
                    {
                        "component": {"name": "SmartChargingCtrlr"},
                        "variable": {"name": "RateUnit"},
                    }
                ]
            )
        async with charger(rig.url, ocpp_id, version):
            await until(lambda: charger_id in rig.server.links())
            answer = await rig.server.links()[charger_id].call(request, timeout_s=2)
        if version == "ocpp1.6":
            assert answer.configuration_key[0]["value"] == "Current"
        else:
            assert answer.get_variable_result[0]["attribute_value"] == "A,W"


async def test_a_call_error_answer_raises_with_the_chargers_code() -> None:
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        cp.mode = "error"
        await until(lambda: "chg-16" in rig.server.links())
        with pytest.raises(CallErrorReceived) as error:
            await rig.server.links()["chg-16"].call(GET_RATE_UNIT, timeout_s=2)
        assert error.value.code == "NotSupported"
        assert "not on this test charger" in error.value.description


async def test_an_unanswered_call_times_out_and_the_next_call_goes_out() -> None:
    async with endpoint(V16) as rig, raw(rig.url, "CP-16", "ocpp1.6") as websocket:
        await until(lambda: "chg-16" in rig.server.links())
        link = rig.server.links()["chg-16"]
        started = time.monotonic()
        with pytest.raises(LinkTimeout):
            await link.call(GET_RATE_UNIT, timeout_s=0.3)
        assert 0.25 <= time.monotonic() - started < 5  # its own timeout, not another
        assert link.online
        unanswered = json.loads(await asyncio.wait_for(websocket.recv(), 1))
        second = asyncio.ensure_future(link.call(GET_RATE_UNIT, timeout_s=5))
        request = json.loads(await asyncio.wait_for(websocket.recv(), 2))
        # the late answer to the first call is not the second call's answer
        await websocket.send(json.dumps([3, unanswered[1], {"unknownKey": ["late"]}]))
        await websocket.send(json.dumps([3, request[1], {"unknownKey": ["second"]}]))
        assert (await second).unknown_key == ["second"]


async def test_a_call_waiting_when_the_charger_disconnects_ends_as_closed() -> None:
    async with endpoint(V16) as rig:
        async with charger(rig.url, "CP-16", "ocpp1.6") as cp:
            cp.mode = "silent"
            await until(lambda: "chg-16" in rig.server.links())
            link = rig.server.links()["chg-16"]
            waiting = asyncio.ensure_future(link.call(GET_RATE_UNIT, timeout_s=10))
            await until(lambda: cp.requests == 1)
        started = time.monotonic()
        with pytest.raises(LinkClosed):
            await waiting
        assert time.monotonic() - started < 8  # at the close, not at the call's 10 s timeout
        with pytest.raises(LinkClosed):
            await link.call(GET_RATE_UNIT, timeout_s=1)


async def test_an_answer_that_does_not_read_as_the_response_is_no_acceptance() -> None:
    """A CALLRESULT whose payload is not the response expected: the call ends with
    AnswerUnreadable (the request went out, so it may have been applied)."""
    async with endpoint(V16) as rig, raw(rig.url, "CP-16", "ocpp1.6") as websocket:
        await until(lambda: "chg-16" in rig.server.links())
        link = rig.server.links()["chg-16"]
        calling = asyncio.ensure_future(link.call(GET_RATE_UNIT, timeout_s=5))
        request = json.loads(await asyncio.wait_for(websocket.recv(), 2))
        await websocket.send(json.dumps([3, request[1], {"noSuchField": True}]))
        with pytest.raises(AnswerUnreadable, match="GetConfiguration"):
            await calling


async def test_one_call_at_a_time_per_charger() -> None:
    """Two calls at once: the second goes out only once the first is answered."""
    async with endpoint(V16) as rig, raw(rig.url, "CP-16", "ocpp1.6") as websocket:
        await until(lambda: "chg-16" in rig.server.links())
        link = rig.server.links()["chg-16"]
        calls = [asyncio.ensure_future(link.call(GET_RATE_UNIT, timeout_s=5)) for _ in range(2)]
        first = json.loads(await asyncio.wait_for(websocket.recv(), 2))
        assert first[:3] == [2, first[1], "GetConfiguration"]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(websocket.recv(), 0.3)
        await websocket.send(json.dumps([3, first[1], {"unknownKey": ["x"]}]))
        second = json.loads(await asyncio.wait_for(websocket.recv(), 2))
        assert second[2] == "GetConfiguration" and second[1] != first[1]
        await websocket.send(json.dumps([4, second[1], "GenericError", "busy", {}]))
        assert (await calls[0]).unknown_key == ["x"]
        with pytest.raises(CallErrorReceived) as error:
            await calls[1]
        assert (error.value.code, error.value.description) == ("GenericError", "busy")


async def test_an_answer_to_no_pending_call_is_ignored() -> None:
    """A late or stray CALLRESULT never answers the next call."""
    async with endpoint(V16) as rig, raw(rig.url, "CP-16", "ocpp1.6") as websocket:
        await until(lambda: "chg-16" in rig.server.links())
        await websocket.send(json.dumps([3, "stray", {"configurationKey": []}]))
        link = rig.server.links()["chg-16"]
        pending = asyncio.ensure_future(link.call(GET_RATE_UNIT, timeout_s=5))
        request = json.loads(await asyncio.wait_for(websocket.recv(), 2))
        await websocket.send(json.dumps([3, "stray-2", {"unknownKey": ["stray"]}]))
        await websocket.send(json.dumps([3, request[1], {"unknownKey": ["mine"]}]))
        assert (await pending).unknown_key == ["mine"]
