"""One connected charger: its websocket, its version's message handler, and the
:class:`~depotctl.protocols.ocpp.link.ChargerLink` the dispatcher calls through.

Calls go out one at a time (callers queue on a lock); the timeout runs from when a
call is sent (with ``timeout_s`` None the caller owns it and cancels the call). A
CallError answer raises ``CallErrorReceived`` with the charger's code; no answer in
time ``LinkTimeout``; a closed connection ``LinkClosed``, also for a call waiting
when it closes.

The transaction lifecycle: a transaction ends when the charger says so, and also when
the charger shows it is over — its connector reports a status under which none runs
(``Available``, ``Preparing``, ``Finishing``, ``Reserved``), or the charger says it
does not know it (``TxNotFound``) — rather than being left for commands to be
refused against. A BootNotification leaves the charger's transactions unconfirmed:
a charger that rebooted has lost them (its statuses will say so), one that booted on
reconnecting carries on (it names them again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from depotctl.domain.charge_points import ChargePoint, OcppVersion
from depotctl.protocols.ocpp.events import ChargerEvents, MeterSample
from depotctl.protocols.ocpp.link import (
    AnswerUnreadable,
    CallErrorReceived,
    LinkClosed,
    LinkTimeout,
)
from depotctl.protocols.ocpp.meter import parse_meter_values
from depotctl.protocols.ocpp.transactions import Transaction, TransactionBook
from depotctl.protocols.ocpp.v16 import V16Handler
from depotctl.protocols.ocpp.v201 import V201Handler

log = logging.getLogger("depotctl.ocpp")

#: a call's own timeout when the caller owns it: never reached in practice
_BACKSTOP_S = 3600.0
#: connector statuses under which no transaction runs (1.6 and 2.0.1 spellings):
#: a transaction still listed there is over
NO_TRANSACTION = frozenset({"Available", "Preparing", "Finishing", "Reserved"})
#: connector statuses under which a transaction runs (1.6)
TRANSACTION_RUNS = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})


@dataclass(frozen=True, slots=True)
class ConnectionTerms:
    """What every connection of one endpoint shares: who is told what a charger says,
    the controller's clock (aware), the heartbeat interval a boot is granted, and how
    long a charger that does not boot may stay silent before it is ready anyway."""

    events: ChargerEvents
    clock: Callable[[], datetime]
    heartbeat_interval_s: int
    boot_grace_s: float


class ChargerConnection:
    """A charger's live connection (implements ``ChargerLink``).

    ``on_ready(link)`` is called when the charger can take calls: after its
    BootNotification is answered, or — a charger that reconnects without booting —
    on its first other message, or when it stays silent for ``boot_grace_s``. Never
    before: a charger refuses calls until it has booted (many never answer them). It
    runs inside the receive loop: it must only schedule work, never await the
    charger."""

    def __init__(
        self,
        charge_point: ChargePoint,
        websocket: ServerConnection,
        book: TransactionBook,
        terms: ConnectionTerms,
        *,
        on_ready: Callable[[ChargerConnection], None],
    ) -> None:
        self._charge_point = charge_point
        self.websocket = websocket
        self.book = book
        self.terms = terms
        self._on_ready = on_ready
        self._ready = False
        self._heard_first = False
        self._statuses: dict[int, int] = {}
        self._grace: asyncio.TimerHandle | None = None
        self._closed = asyncio.Event()
        self._lock = asyncio.Lock()
        self.handler: V16Handler | V201Handler = (
            V16Handler(self) if charge_point.version is OcppVersion.V16 else V201Handler(self)
        )

    # ChargerLink

    @property
    def charge_point(self) -> ChargePoint:
        return self._charge_point

    @property
    def online(self) -> bool:
        return not self._closed.is_set()

    def transaction_of(self, evse_number: int) -> str | None:
        transaction = self.book.on_evse(evse_number)
        return transaction.transaction_id if transaction is not None else None

    def announcing(self, evse_number: int) -> bool:
        transaction = self.book.on_evse(evse_number)
        return transaction is not None and not transaction.announced

    @property
    def ready(self) -> bool:
        """It can take calls (it has booted, or said something else first)."""
        return self._ready and not self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def call(self, request: Any, *, timeout_s: float | None = None) -> Any:
        """One call (see :class:`ChargerLink`). The request is not checked against the
        OCPP schema here, nor the answer: the requests are built from the library's
        typed payloads and proven against the schemas by the tests (a check costs about
        a millisecond, twice per call — a second at 300 chargers); an answer that does
        not read as the response expected raises :class:`AnswerUnreadable` (the request
        went out: it may have been applied)."""
        action = type(request).__name__
        if self._closed.is_set():
            raise LinkClosed(f"{self._charge_point.ocpp_id} is not connected")
        async with self._lock:
            if self._closed.is_set():
                raise LinkClosed(f"{self._charge_point.ocpp_id} is not connected")
            return await self._call(request, action, timeout_s)

    async def _call(self, request: Any, action: str, timeout_s: float | None) -> Any:
        handler = self.handler
        unique_id = str(uuid.uuid4())
        handler.awaiting, handler.answered_error = unique_id, None
        # the library's own timeout is a backstop; the caller's (or ours) comes first
        handler._response_timeout = _BACKSTOP_S if timeout_s is None else timeout_s
        answer = asyncio.ensure_future(
            handler.call(request, suppress=False, unique_id=unique_id, skip_schema_validation=True)
        )
        closing = asyncio.ensure_future(self._closed.wait())
        try:
            done, _ = await asyncio.wait(
                {answer, closing}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            error = handler.answered_error
            handler.awaiting, handler.answered_error = None, None
            closing.cancel()
            if not answer.done():
                answer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await answer
        waited = "" if timeout_s is None else f" within {timeout_s:g} s"
        if answer not in done:
            if self._closed.is_set():
                raise LinkClosed(f"{self._charge_point.ocpp_id} disconnected during {action}")
            raise LinkTimeout(f"no answer to {action}{waited}")
        try:
            return answer.result()
        except TimeoutError:
            raise LinkTimeout(f"no answer to {action}{waited}") from None
        except ConnectionClosed:
            raise LinkClosed(f"{self._charge_point.ocpp_id} disconnected during {action}") from None
        except Exception as failure:
            if error is not None:
                raise CallErrorReceived(
                    str(error.error_code), str(error.error_description or "")
                ) from None
            if isinstance(failure, OCPPError):  # the answer broke the schema
                raise CallErrorReceived(
                    failure.code, f"invalid {action} response: {failure.description}"
                ) from None
            raise AnswerUnreadable(
                f"the answer to {action} could not be read: {type(failure).__name__}"
            ) from None

    # Lifecycle

    async def run(self) -> None:
        """Receive until the connection closes."""
        self._grace = asyncio.get_running_loop().call_later(
            self.terms.boot_grace_s, self._become_ready
        )
        try:
            await self.handler.start()
        except ConnectionClosed:
            pass
        finally:
            self._closed.set()
            if self._grace is not None:
                self._grace.cancel()

    async def close(self, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(1000, reason)

    def heard(self, action: str) -> None:
        """A CALL arrived: the first one, if not a BootNotification, says the charger
        had booted before it connected."""
        if self._heard_first:
            return
        self._heard_first = True
        if action != "BootNotification":
            self._become_ready()

    def booted(self) -> None:
        """Its BootNotification was answered (after every boot, not only the first)."""
        self._ready = False
        self._become_ready()

    def rebooted(self) -> None:
        """A BootNotification arrived: the charger (re)started, and may have lost every
        transaction it had — or not (many chargers boot on every reconnection and carry
        on). Each is unconfirmed until the charger names it again (it goes on) or its
        connector's status rules it out (it ended)."""
        for transaction in self.book.unconfirm_all():
            log.info(
                "%s booted: transaction %s on EVSE %s unconfirmed until it says more",
                self._charge_point.ocpp_id,
                transaction.transaction_id,
                transaction.evse_number,
            )

    def unconfirmed(self) -> list[Transaction]:
        """The transactions a boot left unconfirmed."""
        return [t for t in self.book.running() if not t.confirmed]

    def statuses_heard(self, evse_number: int) -> int:
        """How many StatusNotifications this EVSE sent on this connection (a caller
        that asked for one sees when it came)."""
        return self._statuses.get(evse_number, 0)

    def connector_status(self, evse_number: int, status: str) -> None:
        """A StatusNotification for an EVSE: a status that rules a transaction out
        (:data:`NO_TRANSACTION`) ends the one listed there; one with a transaction
        running (:data:`TRANSACTION_RUNS`) confirms it."""
        self._statuses[evse_number] = self._statuses.get(evse_number, 0) + 1
        transaction = self.book.on_evse(evse_number)
        if transaction is None:
            return
        if status in NO_TRANSACTION:
            self.end_transaction(
                transaction, f"EVSE {evse_number} reports {status}: the transaction is over"
            )
        elif status in TRANSACTION_RUNS:
            transaction.confirmed = True

    def transaction_unknown(self, evse_number: int, transaction_id: str) -> bool:
        """The charger says it has no transaction ``transaction_id``: it ended (True)
        if it was still listed on that EVSE."""
        transaction = self.book.on_evse(evse_number)
        if transaction is None or transaction.transaction_id != transaction_id:
            return False
        self.end_transaction(
            transaction, f"the charger does not know transaction {transaction_id}: it ended"
        )
        return True

    def end_transaction(self, transaction: Transaction, reason: str) -> None:
        """Close a transaction the charger will never end itself, keeping the energy
        recorded for its session."""
        self.book.end(transaction.transaction_id)
        energy = transaction.energy.energy_wh  # what its register showed so far
        self.terms.events.session_ended(transaction.session_id, energy, self.now(), reason)

    def _become_ready(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        if self._ready or self._closed.is_set():
            return
        self._ready = True
        self._on_ready(self)

    # Shared by the version handlers

    def now(self) -> datetime:
        return self.terms.clock().astimezone(UTC)

    def record_meter(
        self, evse_number: int | None, entries: Any, transaction: Transaction | None
    ) -> float | None:
        """Report meter values (for EVSE ``evse_number``; None or 0: the whole
        charger); the session energy of the last register read, if any."""
        charge_point = self._charge_point
        evse = charge_point.evse(evse_number) if evse_number else None
        if evse_number and evse is None:
            log.warning(
                "%s sent meter values for EVSE %s, which the site does not list",
                charge_point.ocpp_id,
                evse_number,
            )
            return None
        session_energy: float | None = None
        for measured in parse_meter_values(entries, self.now()):
            energy: float | None = None
            # a session's energy is its EVSE's own register, never the whole charger's
            if transaction is not None and evse is not None and measured.energy_wh is not None:
                energy = session_energy = transaction.energy.record(
                    measured.energy_wh, begins=measured.begins
                )
            reading = self.book.meter.record(evse.number if evse else None, measured)
            self.terms.events.meter(
                MeterSample(
                    charger_id=charge_point.charger_id,
                    evse_id=evse.evse_id if evse else None,
                    reading=reading,
                    energy_wh=measured.energy_wh,
                    soc_percent=measured.soc_percent,
                    session_id=transaction.session_id if transaction else None,
                    session_energy_wh=energy,
                )
            )
        return session_energy
