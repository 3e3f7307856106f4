"""A depot on loopback for the dispatcher's tests: real ``ocpp`` library chargers
(1.6 and 2.0.1) over real websockets, and a minimal CSMS whose per-connection
:class:`RigLink` implements ``ChargerLink`` over the library's server-side
``ChargePoint``.

Each charger answers profiles as its :class:`Behaviour` says (accept, reject, after a
delay, never) and records what it received, with the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from depotctl.domain.charge_points import ChargePoint, OcppVersion
from depotctl.protocols.ocpp.link import CallErrorReceived, LinkClosed, LinkTimeout

NO_ANSWER = float("inf")


@dataclass
class Behaviour:
    """How a charger answers: ``status`` for SetChargingProfile after ``delay_s``
    (``NO_ANSWER``: never); ``tx_status`` for a TxProfile (default: ``status``);
    ``rate_units`` is its 1.6 ``Current,Power`` / 2.0.1 ``A,W`` value (None: it does not
    know the key); ``connector_status`` what a TriggerMessage for StatusNotification
    reports (``Charging`` / ``Occupied``, or ``Available``), its answer given after
    ``trigger_delay_s``."""

    status: str = "Accepted"
    delay_s: float = 0.0
    rate_units: str | None = None
    status_info: dict[str, str] | None = None
    tx_status: str | None = None
    connector_status: str | None = None
    trigger_delay_s: float = 0.0


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    action: str
    payload: dict[str, Any]


def charger_class(version: OcppVersion) -> type:
    """The charger-side class for ``version``: records and answers as told."""
    if version is OcppVersion.V16:

        class Charger16(Cp16):
            behaviour: Behaviour
            received: list[Received]

            @on(Action16.set_charging_profile)
            async def on_profile(self, connector_id: int, cs_charging_profiles: dict) -> Any:
                self.received.append(
                    Received(
                        time.monotonic(),
                        "SetChargingProfile",
                        {"connector_id": connector_id, "profile": cs_charging_profiles},
                    )
                )
                await _wait(self.behaviour.delay_s)
                return result16.SetChargingProfile(
                    status=_status(self.behaviour, cs_charging_profiles)
                )

            @on(Action16.trigger_message)
            async def on_trigger(self, requested_message: str, connector_id: int = 0) -> Any:
                self.received.append(
                    Received(time.monotonic(), "TriggerMessage", {"connector_id": connector_id})
                )
                await _wait(self.behaviour.trigger_delay_s)
                return result16.TriggerMessage(status="Accepted")

            @after(Action16.trigger_message)
            async def after_trigger(self, requested_message: str, connector_id: int = 0) -> None:
                status = self.behaviour.connector_status or "Charging"
                await self.call(
                    call16.StatusNotification(
                        connector_id=connector_id, error_code="NoError", status=status
                    )
                )

            @on(Action16.get_configuration)
            def on_configuration(self, key: list[str] | None = None) -> Any:
                self.received.append(Received(time.monotonic(), "GetConfiguration", {"key": key}))
                units = self.behaviour.rate_units
                if units is None:
                    return result16.GetConfiguration(unknown_key=list(key or []))
                return result16.GetConfiguration(
                    configuration_key=[
                        {
                            "key": "ChargingScheduleAllowedChargingRateUnit",
                            "readonly": True,
                            "value": units,
                        }
                    ]
                )

        return Charger16

    class Charger201(Cp201):
        behaviour: Behaviour
        received: list[Received]

        @on(Action201.set_charging_profile)
        async def on_profile(self, evse_id: int, charging_profile: dict, **_: Any) -> Any:
            self.received.append(
                Received(
                    time.monotonic(),
                    "SetChargingProfile",
                    {"connector_id": evse_id, "profile": charging_profile},
                )
            )
            await _wait(self.behaviour.delay_s)
            status = _status(self.behaviour, charging_profile)
            return result201.SetChargingProfile(
                status=status,
                status_info=self.behaviour.status_info if status != "Accepted" else None,
            )

        @on(Action201.trigger_message)
        async def on_trigger(
            self, requested_message: str, evse: dict | None = None, **_: Any
        ) -> Any:
            number = (evse or {}).get("id", 0)
            self.received.append(Received(time.monotonic(), "TriggerMessage", {"evse": number}))
            await _wait(self.behaviour.trigger_delay_s)
            return result201.TriggerMessage(status="Accepted")

        @after(Action201.trigger_message)
        async def after_trigger(
            self, requested_message: str, evse: dict | None = None, **_: Any
        ) -> None:
            status = self.behaviour.connector_status or "Occupied"
            await self.call(
                call201.StatusNotification(
                    timestamp=_now(),
                    connector_status=status,
                    evse_id=(evse or {}).get("id", 0),
                    connector_id=1,
                )
            )

        @on(Action201.get_variables)
        def on_variables(self, get_variable_data: list[dict], **_: Any) -> Any:
            self.received.append(
                Received(time.monotonic(), "GetVariables", {"data": get_variable_data})
            )
            asked = get_variable_data[0]
            units = self.behaviour.rate_units
            return result201.GetVariables(
                get_variable_result=[
                    {
                        "attribute_status": "Accepted" if units else "UnknownVariable",
                        "component": asked["component"],
                        "variable": asked["variable"],
                        **({"attribute_value": units} if units else {}),
                    }
                ]
            )

    return Charger201


def _status(behaviour: Behaviour, profile: dict[str, Any]) -> str:
    if behaviour.tx_status is not None and profile["charging_profile_purpose"] == "TxProfile":
        return behaviour.tx_status
    return behaviour.status


async def _wait(delay_s: float) -> None:
    if delay_s == NO_ANSWER:
        await asyncio.Event().wait()
    elif delay_s > 0:
        await asyncio.sleep(delay_s)


class _Csms16(Cp16):
    link: RigLink

    @on(Action16.start_transaction)
    def on_start(self, connector_id: int, **_: Any) -> Any:
        transaction_id = next(self.link.rig.transaction_ids)
        self.link.transactions[connector_id] = str(transaction_id)
        return result16.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": "Accepted"}
        )

    @on(Action16.status_notification)
    def on_status(self, connector_id: int, status: str, **_: Any) -> Any:
        self.link.statuses[connector_id] = self.link.statuses.get(connector_id, 0) + 1
        if status == "Available":
            self.link.transactions.pop(connector_id, None)
        return result16.StatusNotification()


class _Csms201(Cp201):
    link: RigLink

    @on(Action201.transaction_event)
    def on_transaction(self, event_type: str, transaction_info: dict, **extra: Any) -> Any:
        if event_type == "Started":
            self.link.transactions[extra["evse"]["id"]] = transaction_info["transaction_id"]
        return result201.TransactionEvent()

    @on(Action201.status_notification)
    def on_status(self, connector_status: str, evse_id: int, **_: Any) -> Any:
        self.link.statuses[evse_id] = self.link.statuses.get(evse_id, 0) + 1
        if connector_status == "Available":
            self.link.transactions.pop(evse_id, None)
        return result201.StatusNotification()


@dataclass(frozen=True)
class _Unconfirmed:
    transaction_id: str
    evse_number: int


class RigLink:
    """``ChargerLink`` over the library's server-side ``ChargePoint`` (one call at a
    time; a CallError answer raises ``CallErrorReceived``)."""

    def __init__(self, rig: Depot, charge_point: ChargePoint, websocket: ServerConnection) -> None:
        self.rig = rig
        self._charge_point = charge_point
        cls = _Csms16 if charge_point.version is OcppVersion.V16 else _Csms201
        self.csms = cls(charge_point.ocpp_id, websocket, response_timeout=3600)
        self.csms.link = self
        self.transactions: dict[int, str] = {}
        self.ended: list[str] = []  # transactions closed because the charger knew none
        self.statuses: dict[int, int] = {}  # StatusNotifications heard, by EVSE
        self.unconfirmed_ids: set[str] = set()
        self.announcing_evses: set[int] = set()
        self.closed = asyncio.Event()
        self._lock = asyncio.Lock()

    @property
    def charge_point(self) -> ChargePoint:
        return self._charge_point

    @property
    def online(self) -> bool:
        return not self.closed.is_set()

    def transaction_of(self, evse_number: int) -> str | None:
        return self.transactions.get(evse_number)

    def announcing(self, evse_number: int) -> bool:
        return evse_number in self.announcing_evses

    def transaction_unknown(self, evse_number: int, transaction_id: str) -> bool:
        if self.transactions.get(evse_number) != transaction_id:
            return False
        del self.transactions[evse_number]
        self.ended.append(transaction_id)
        return True

    async def wait_closed(self) -> None:
        await self.closed.wait()

    def unconfirmed(self) -> list[Any]:
        """The transactions the test marks as left unconfirmed by a boot."""
        return [
            _Unconfirmed(tx, evse)
            for evse, tx in self.transactions.items()
            if tx in self.unconfirmed_ids
        ]

    def statuses_heard(self, evse_number: int) -> int:
        return self.statuses.get(evse_number, 0)

    async def call(self, request: Any, *, timeout_s: float | None = None) -> Any:
        async with self._lock:
            if self.closed.is_set():
                raise LinkClosed("not connected")
            answer = asyncio.ensure_future(self.csms.call(request, suppress=False))
            closing = asyncio.ensure_future(self.closed.wait())
            done, _ = await asyncio.wait(
                {answer, closing}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            closing.cancel()
            if answer not in done:
                answer.cancel()
                with contextlib.suppress(BaseException):
                    await answer
                if self.closed.is_set():
                    raise LinkClosed("closed while waiting")
                raise LinkTimeout(f"no answer within {timeout_s} s")
            try:
                return answer.result()
            except OCPPError as error:
                raise CallErrorReceived(error.code, error.description or "") from None
            except ConnectionClosed:
                raise LinkClosed("closed while waiting") from None

    async def serve(self) -> None:
        try:
            await self.csms.start()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()


@dataclass
class Depot:
    """The CSMS side and one connected charger per ``charge_points`` entry."""

    charge_points: Mapping[str, ChargePoint]
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    links: dict[str, RigLink] = field(default_factory=dict)
    chargers: dict[str, Any] = field(default_factory=dict)
    transaction_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(41))
    _sockets: dict[str, ClientConnection] = field(default_factory=dict)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _linked: asyncio.Condition = field(default_factory=asyncio.Condition)

    def current_links(self) -> Mapping[str, RigLink]:
        return dict(self.links)

    def received(self, ocpp_id: str, action: str = "SetChargingProfile") -> list[Received]:
        return [r for r in self.chargers[ocpp_id].received if r.action == action]

    async def _handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        ocpp_id = websocket.request.path.rsplit("/", 1)[-1]
        link = RigLink(self, self.charge_points[ocpp_id], websocket)
        async with self._linked:
            self.links[ocpp_id] = link
            self._linked.notify_all()
        await link.serve()

    async def connect(self, ocpp_id: str) -> None:
        """(Re)connect one charger and wait until the CSMS holds its link."""
        charge_point = self.charge_points[ocpp_id]
        previous = self.links.get(ocpp_id)
        socket = await connect(
            f"ws://127.0.0.1:{self.port}/ocpp/{ocpp_id}",
            subprotocols=[Subprotocol(charge_point.version.value)],
        )
        self._sockets[ocpp_id] = socket
        charger = charger_class(charge_point.version)(ocpp_id, socket)
        charger.behaviour = self.behaviours.setdefault(ocpp_id, Behaviour())
        charger.received = []
        self.chargers[ocpp_id] = charger
        self._tasks.append(asyncio.create_task(_run_quietly(charger.start())))
        async with self._linked:
            await self._linked.wait_for(
                lambda: ocpp_id in self.links and self.links[ocpp_id] is not previous
            )

    async def disconnect(self, ocpp_id: str) -> None:
        await self._sockets[ocpp_id].close()
        await asyncio.wait_for(self.links[ocpp_id].closed.wait(), 5)

    async def start_transaction(self, ocpp_id: str, evse_number: int) -> str:
        """The charger starts a transaction on ``evse_number``; its id as the CSMS knows it."""
        version = self.charge_points[ocpp_id].version
        await start_transaction(self.chargers[ocpp_id], version, evse_number)
        transaction = self.links[ocpp_id].transaction_of(evse_number)
        assert transaction is not None
        return transaction

    port: int = 0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def boot(charger: Any, version: OcppVersion) -> None:
    """The charger's BootNotification."""
    if version is OcppVersion.V16:
        await charger.call(
            call16.BootNotification(charge_point_model="Rig", charge_point_vendor="depotctl")
        )
    else:
        await charger.call(
            call201.BootNotification(
                charging_station={"model": "Rig", "vendor_name": "depotctl"}, reason="PowerUp"
            )
        )


async def start_transaction(charger: Any, version: OcppVersion, evse_number: int) -> None:
    """The charger starts a transaction on ``evse_number`` (1.6: that connector)."""
    if version is OcppVersion.V16:
        await charger.call(
            call16.StartTransaction(
                connector_id=evse_number, id_tag="TAG", meter_start=0, timestamp=_now()
            )
        )
    else:
        await charger.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=_now(),
                trigger_reason="CablePluggedIn",
                seq_no=0,
                transaction_info={"transaction_id": f"tx-{charger.id}-{evse_number}"},
                evse={"id": evse_number, "connector_id": 1},
                id_token={"id_token": "TAG", "type": "ISO14443"},
            )
        )


async def _run_quietly(start: Any) -> None:
    with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
        await start


@contextlib.asynccontextmanager
async def depot(
    charge_points: Mapping[str, ChargePoint], behaviours: Mapping[str, Behaviour] | None = None
) -> AsyncIterator[Depot]:
    """Start the CSMS on a free loopback port and connect every charger."""
    rig = Depot(charge_points, dict(behaviours or {}))
    async with serve(
        rig._handle,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol(OcppVersion.V16.value), Subprotocol(OcppVersion.V201.value)],
    ) as server:
        rig.port = next(iter(server.sockets)).getsockname()[1]
        try:
            await asyncio.gather(*(rig.connect(ocpp_id) for ocpp_id in charge_points))
            yield rig
        finally:
            for task in rig._tasks:
                task.cancel()
            for socket in rig._sockets.values():
                with contextlib.suppress(Exception):
                    await socket.close()
            await asyncio.gather(*rig._tasks, return_exceptions=True)
