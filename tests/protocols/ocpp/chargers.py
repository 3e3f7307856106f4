"""Small OCPP chargers for the endpoint's tests: real ``ocpp`` library clients (1.6
and 2.0.1) over real websockets, and raw websocket sessions for frames no library
would send.

A charger answers the controller's GetConfiguration (1.6) / GetVariables (2.0.1) as
its ``mode`` says: ``answer``, ``error`` (a NotSupported CallError) or ``silent``
(never).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from ocpp.exceptions import NotSupportedError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PASSWORD = "correct horse:battery staple"  # a colon inside: Basic splits on the first


def basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Basic {token}"


async def _answer(charger: Any, result: Any) -> Any:
    charger.requests += 1
    if charger.mode == "error":
        raise NotSupportedError(description="not on this test charger")
    if charger.mode == "silent":
        await asyncio.sleep(3600)
    return result


class Charger16(Cp16):  # type: ignore[misc]
    mode = "answer"
    requests = 0

    @on(Action16.get_configuration)
    async def on_get_configuration(self, **_: Any) -> Any:
        key = {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True}
        result = result16.GetConfiguration(configuration_key=[{**key, "value": "Current"}])
        return await _answer(self, result)


class Charger201(Cp201):  # type: ignore[misc]
    mode = "answer"
    requests = 0

    @on(Action201.get_variables)
    async def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = [
            {
                "attribute_status": "Accepted",
                "attribute_value": "A,W",
                "component": item["component"],
                "variable": item["variable"],
            }
            for item in get_variable_data
        ]
        return await _answer(self, result201.GetVariables(get_variable_result=results))


async def _receive(charger: Any) -> None:
    with contextlib.suppress(ConnectionClosed):
        await charger.start()


@asynccontextmanager
async def charger(
    url: str,
    ocpp_id: str,
    version: str,
    *,
    password: str | None = PASSWORD,
    user: str | None = None,
    subprotocols: list[str] | None = None,
) -> AsyncIterator[Any]:
    """A library charger connected to ``url`` (``ws://…/ocpp``) as ``ocpp_id``,
    receiving in the background until the block ends."""
    async with raw(
        url, ocpp_id, version, password=password, user=user, subprotocols=subprotocols
    ) as websocket:
        kind = Charger16 if version == "ocpp1.6" else Charger201
        client = kind(ocpp_id, websocket, response_timeout=5)
        receiving = asyncio.create_task(_receive(client))
        try:
            yield client
        finally:
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiving


@asynccontextmanager
async def raw(
    url: str,
    ocpp_id: str,
    version: str,
    *,
    password: str | None = PASSWORD,
    user: str | None = None,
    subprotocols: list[str] | None = None,
) -> AsyncIterator[ClientConnection]:
    """A bare websocket to the endpoint, authenticated unless ``password`` is None."""
    headers = {}
    if password is not None:
        headers["Authorization"] = basic(user if user is not None else ocpp_id, password)
    offered = [version] if subprotocols is None else subprotocols
    async with connect(
        f"{url}/{quote(ocpp_id, safe='')}",
        subprotocols=[Subprotocol(p) for p in offered] or None,
        additional_headers=headers,
        open_timeout=5,
        close_timeout=1,
    ) as websocket:
        yield websocket


async def exchange(websocket: ClientConnection, frame: str | list[Any]) -> Any:
    """Send one frame (text, or a list sent as JSON) and read the next frame."""
    await websocket.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await asyncio.wait_for(websocket.recv(), 5))
