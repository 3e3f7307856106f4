"""A minimal real CSMS for the simulator's tests: the ``ocpp`` library's server-side
classes over a real ``websockets`` server on loopback, with HTTP Basic auth.

It answers every boot with ``boot_status`` (once ``hold_boots`` is set, if given),
authorises every token but those in ``refused_tags``, hands out 1.6 transaction ids,
answers everything the chargers send, and records each request (action and payload)
and each raw frame per charger. Requests are handled concurrently, so a held answer
does not hold up the charger's answers. Tests send requests to a charger with
``await csms.call(ocpp_id, payload)`` — never from inside a handler; ``boot_calls``
are sent right after each accepted boot is answered (as a controller sends its
fallback on connect), their answers (or errors) kept in ``boot_answers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call_result as result201
from websockets.asyncio.server import ServerConnection, basic_auth, serve

NOW = "2026-03-02T14:00:00Z"


@dataclass
class Request:
    ocpp_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class Csms:
    """Start with ``async with Csms(passwords) as csms``; ``csms.url`` is the base."""

    passwords: dict[str, str]
    heartbeat_s: int = 300
    refused_tags: set[str] = field(default_factory=set)
    response_timeout_s: float = 5.0
    boot_status: str = "Accepted"
    hold_boots: asyncio.Event | None = None
    #: once given, MeterValues are answered only when it is set (a slow controller)
    hold_meter_values: asyncio.Event | None = None
    boot_calls: list[Any] = field(default_factory=list)
    boot_answers: list[Any] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    frames: dict[str, list[str]] = field(default_factory=dict)
    links: dict[str, Any] = field(default_factory=dict)
    connections: dict[str, ServerConnection] = field(default_factory=dict)
    connects: dict[str, int] = field(default_factory=dict)
    url: str = ""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _transaction_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(101))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> Csms:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
            process_request=basic_auth(realm="csms", credentials=list(self.passwords.items())),
        )
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ocpp"
        return self

    async def __aexit__(self, *_: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, connection: ServerConnection) -> None:
        ocpp_id = connection.request.path.rsplit("/", 1)[-1] if connection.request else ""
        if connection.username != ocpp_id:
            await connection.close(1008, "wrong charger")
            return
        recording = _Recording(connection, self.frames.setdefault(ocpp_id, []))
        cls = Central16 if connection.subprotocol == "ocpp1.6" else Central201
        link = cls(ocpp_id, recording, self.response_timeout_s)
        link.csms = self
        self.links[ocpp_id] = link
        self.connections[ocpp_id] = connection
        self.connects[ocpp_id] = self.connects.get(ocpp_id, 0) + 1
        await self._notify()
        try:
            await link.start()
        except Exception:
            pass
        finally:
            await self._notify()

    async def record(self, ocpp_id: str, action: str, payload: dict[str, Any]) -> None:
        self.requests.append(Request(ocpp_id, action, payload))
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy; returns it."""

        async def waiting() -> Any:
            async with self._changed:
                while not (found := predicate()):
                    # woken by every request; polled too, for state outside the CSMS
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.05)
                return found

        return await asyncio.wait_for(waiting(), timeout)

    async def wait_request(
        self,
        ocpp_id: str,
        action: str,
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
    ) -> Request:
        """The first request ``action`` from ``ocpp_id`` (matching ``where``)."""
        return await self.wait_for(
            lambda: next(
                (
                    r
                    for r in self.requests
                    if r.ocpp_id == ocpp_id
                    and r.action == action
                    and (where is None or where(r.payload))
                ),
                None,
            ),
            timeout,
        )

    def sent(self, ocpp_id: str, action: str) -> list[dict[str, Any]]:
        return [r.payload for r in self.requests if r.ocpp_id == ocpp_id and r.action == action]

    async def call(
        self, ocpp_id: str, payload: Any, *, timeout: float | None = None, **options: Any
    ) -> Any:
        """Send a request to a connected charger; its answer (CallError raises,
        no answer within ``timeout``, default ``response_timeout_s``, too)."""
        link = self.links[ocpp_id]
        return await asyncio.wait_for(
            link.call(payload, suppress=False, **options),
            self.response_timeout_s if timeout is None else timeout,
        )

    async def boot_answer(self, ocpp_id: str) -> tuple[str, int]:
        """The answer to a charger's BootNotification: (status, interval)."""
        await self._notify()
        if self.hold_boots is not None:
            await self.hold_boots.wait()
        return self.boot_status, self.heartbeat_s

    def after_boot(self, ocpp_id: str) -> None:
        """Send ``boot_calls`` once an accepted boot's answer has gone."""
        if self.boot_status != "Accepted" or not self.boot_calls:
            return

        async def send() -> None:
            for payload in self.boot_calls:
                try:
                    self.boot_answers.append(await self.call(ocpp_id, payload))
                except Exception as error:
                    self.boot_answers.append(error)
                await self._notify()

        task = asyncio.create_task(send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def next_transaction_id(self) -> int:
        return next(self._transaction_ids)


class _Recording:
    """The server connection, keeping every frame received."""

    def __init__(self, connection: ServerConnection, frames: list[str]) -> None:
        self.connection = connection
        self.frames = frames

    async def recv(self) -> str:
        frame = await self.connection.recv()
        text = frame if isinstance(frame, str) else frame.decode()
        self.frames.append(text)
        return text

    async def send(self, message: str) -> None:
        await self.connection.send(message)


class _Concurrent:
    """Handle each request from the charger in a task of its own: the receiving goes
    on meanwhile (answers to the CSMS's own calls included)."""

    _handling: set[asyncio.Task[None]]

    async def route_message(self, raw_msg: str) -> None:
        if not raw_msg.lstrip().startswith("[2"):
            await super().route_message(raw_msg)  # type: ignore[misc]
            return
        if not hasattr(self, "_handling"):
            self._handling = set()
        task = asyncio.create_task(super().route_message(raw_msg))  # type: ignore[misc]
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)


class Central16(_Concurrent, Cp16):  # type: ignore[misc]
    csms: Csms

    @on("BootNotification")
    async def on_boot(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "BootNotification", payload)
        status, interval = await self.csms.boot_answer(self.id)
        return result16.BootNotification(current_time=NOW, interval=interval, status=status)

    @after("BootNotification")
    def after_boot(self, **_: Any) -> None:
        self.csms.after_boot(self.id)

    @on("Heartbeat")
    async def on_heartbeat(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "Heartbeat", payload)
        return result16.Heartbeat(current_time=NOW)

    @on("StatusNotification")
    async def on_status(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "StatusNotification", payload)
        return result16.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_tag: str, **payload: Any) -> Any:
        await self.csms.record(self.id, "Authorize", {"id_tag": id_tag, **payload})
        status = "Invalid" if id_tag in self.csms.refused_tags else "Accepted"
        return result16.Authorize(id_tag_info={"status": status})

    @on("StartTransaction")
    async def on_start(self, **payload: Any) -> Any:
        transaction_id = self.csms.next_transaction_id()
        await self.csms.record(
            self.id, "StartTransaction", {**payload, "transaction_id": transaction_id}
        )
        return result16.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": "Accepted"}
        )

    @on("StopTransaction")
    async def on_stop(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "StopTransaction", payload)
        return result16.StopTransaction()

    @on("MeterValues")
    async def on_meter_values(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "MeterValues", payload)
        if self.csms.hold_meter_values is not None:
            await self.csms.hold_meter_values.wait()
        return result16.MeterValues()


class Central201(_Concurrent, Cp201):  # type: ignore[misc]
    csms: Csms

    @on("BootNotification")
    async def on_boot(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "BootNotification", payload)
        status, interval = await self.csms.boot_answer(self.id)
        return result201.BootNotification(current_time=NOW, interval=interval, status=status)

    @after("BootNotification")
    def after_boot(self, **_: Any) -> None:
        self.csms.after_boot(self.id)

    @on("Heartbeat")
    async def on_heartbeat(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "Heartbeat", payload)
        return result201.Heartbeat(current_time=NOW)

    @on("StatusNotification")
    async def on_status(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "StatusNotification", payload)
        return result201.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_token: dict[str, Any], **payload: Any) -> Any:
        await self.csms.record(self.id, "Authorize", {"id_token": id_token, **payload})
        refused = id_token.get("id_token") in self.csms.refused_tags
        return result201.Authorize(id_token_info={"status": "Invalid" if refused else "Accepted"})

    @on("TransactionEvent")
    async def on_transaction_event(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "TransactionEvent", payload)
        return result201.TransactionEvent()

    @on("NotifyEVChargingNeeds")
    async def on_needs(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "NotifyEVChargingNeeds", payload)
        return result201.NotifyEVChargingNeeds(status="Accepted")

    @on("MeterValues")
    async def on_meter_values(self, **payload: Any) -> Any:
        await self.csms.record(self.id, "MeterValues", payload)
        if self.csms.hold_meter_values is not None:
            await self.csms.hold_meter_values.wait()
        return result201.MeterValues()


def frames_of(csms: Csms, ocpp_id: str, action: str) -> list[list[Any]]:
    """The raw Call frames ``action`` the CSMS received from ``ocpp_id``."""
    found = []
    for text in csms.frames.get(ocpp_id, []):
        frame = json.loads(text)
        if frame[0] == 2 and frame[2] == action:
            found.append(frame)
    return found


def now() -> datetime:
    return datetime.now(UTC)
