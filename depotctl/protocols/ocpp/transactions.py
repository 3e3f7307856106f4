"""A charger's running transactions, as sessions: which transaction runs on which
EVSE, its session id, and the energy register it started from.

Kept per charger for the endpoint's life, so a charger that reconnects mid-session
keeps its transactions; after a controller restart the open sessions of the store
are picked up again (:meth:`TransactionBook.restore`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field

from depotctl.domain.charge_points import ChargePoint
from depotctl.domain.sessions import Session
from depotctl.protocols.ocpp.meter import ChargerMeter
from depotctl.protocols.ocpp.session_energy import SessionEnergy

#: Transaction ids used as they are in a session id (the API's record-id alphabet).
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
#: The mark of a session id made from a transaction id's hash.
_HASHED = "h."
#: How many ended transactions a book keeps for late messages about them.
_ENDED_KEPT = 16


def session_id_of(charger_id: str, transaction_id: str) -> str:
    """The session of a charger's transaction: ``chg-01:1042``; a transaction id with
    other characters (or longer than 64) is replaced by ``h.`` and 16 hex digits of
    its SHA-256."""
    if _PLAIN.match(transaction_id) and not transaction_id.startswith(_HASHED):
        return f"{charger_id}:{transaction_id}"
    digest = hashlib.sha256(transaction_id.encode("utf-8")).hexdigest()[:16]
    return f"{charger_id}:{_HASHED}{digest}"


def transaction_id_of(charger_id: str, session_id: str) -> str | None:
    """The transaction id a session id was made from, when it can be read back."""
    prefix = f"{charger_id}:"
    if not session_id.startswith(prefix):
        return None
    transaction_id = session_id[len(prefix) :]
    return None if transaction_id.startswith(_HASHED) else transaction_id


@dataclass
class Transaction:
    """A running transaction, and its session's energy by the EVSE's register
    (:class:`SessionEnergy`): from ``meter_start_wh``, the register at its start when
    the charger said it, or after a restart from the energy the controller had
    recorded (``recorded_wh``)."""

    transaction_id: str
    session_id: str
    evse_number: int
    meter_start_wh: InitVar[float | None] = None
    recorded_wh: InitVar[float | None] = None
    energy: SessionEnergy = field(init=False)
    #: False after the charger booted: it may have lost the transaction; the charger
    #: naming it again confirms it, a connector status that rules it out ends it
    confirmed: bool = True
    #: False while the charger does not know its id yet (1.6: the answer to its
    #: StartTransaction, which gives the id, is not sent yet)
    announced: bool = True

    def __post_init__(self, meter_start_wh: float | None, recorded_wh: float | None) -> None:
        self.energy = SessionEnergy(meter_start_wh, recorded_wh)

    def energy_wh(self, register_wh: float) -> float | None:
        """The energy delivered so far, after a read of the register (None while
        unknown); a register below an earlier read never lowers it."""
        return self.energy.record(register_wh)


@dataclass
class TransactionBook:
    """One charger's transactions and meter."""

    charge_point: ChargePoint
    restored: bool = False
    _running: dict[str, Transaction] = field(default_factory=dict)
    _unresolved: dict[str, Session] = field(default_factory=dict)
    _ended: dict[str, Transaction] = field(default_factory=dict)
    meter: ChargerMeter = field(init=False)

    def __post_init__(self) -> None:
        self.meter = ChargerMeter(self.charge_point)

    def adopt(self, charge_point: ChargePoint) -> None:
        """The charger's configuration for a new connection (a revision may change it)."""
        self.charge_point = charge_point
        self.meter.charge_point = charge_point

    def restore(self, sessions: Iterable[Session]) -> None:
        """Pick up the controller's open sessions on this charger (once)."""
        self.restored = True
        charger_id = self.charge_point.charger_id
        numbers = {evse.evse_id: evse.number for evse in self.charge_point.evses}
        for session in sessions:
            number = numbers.get(session.evse_id)
            if number is None or session.id in {t.session_id for t in self._running.values()}:
                continue
            transaction_id = transaction_id_of(charger_id, session.id)
            if transaction_id is None:  # known again when the charger names it
                self._unresolved[session.id] = session
                continue
            self._running[transaction_id] = Transaction(
                transaction_id, session.id, number, recorded_wh=session.energy_delivered_wh
            )

    def begin(
        self,
        transaction_id: str,
        evse_number: int,
        meter_start_wh: float | None,
        *,
        announced: bool = True,
    ) -> Transaction:
        """A new transaction (replacing any other still listed on that EVSE);
        ``announced`` False while the charger has not been told its id."""
        for stale in [t for t in self._running.values() if t.evse_number == evse_number]:
            del self._running[stale.transaction_id]
        transaction = Transaction(
            transaction_id,
            session_id_of(self.charge_point.charger_id, transaction_id),
            evse_number,
            meter_start_wh,
        )
        transaction.announced = announced
        self._running[transaction_id] = transaction
        return transaction

    def unconfirm_all(self) -> list[Transaction]:
        """The charger booted: every transaction listed may be gone with it."""
        running = self.running()
        for transaction in running:
            transaction.confirmed = False
        return running

    def find(self, transaction_id: str) -> Transaction | None:
        """A running transaction, also one restored whose id could not be read back;
        the charger naming it confirms it runs."""
        transaction = self._running.get(transaction_id)
        if transaction is not None:
            transaction.confirmed = True
            return transaction
        session_id = session_id_of(self.charge_point.charger_id, transaction_id)
        session = self._unresolved.pop(session_id, None)
        if session is None:
            return None
        evse = next((e for e in self.charge_point.evses if e.evse_id == session.evse_id), None)
        if evse is None:
            return None
        transaction = Transaction(
            transaction_id, session_id, evse.number, recorded_wh=session.energy_delivered_wh
        )
        self._running[transaction_id] = transaction
        return transaction

    def running(self) -> list[Transaction]:
        """Every transaction listed, the restored ones not yet named by the charger
        included (their ids as read back, or the session id's)."""
        for session_id in list(self._unresolved):
            session = self._unresolved.pop(session_id)
            evse = next((e for e in self.charge_point.evses if e.evse_id == session.evse_id), None)
            if evse is not None:
                transaction = Transaction(
                    session_id, session_id, evse.number, recorded_wh=session.energy_delivered_wh
                )
                self._running[session_id] = transaction
        return list(self._running.values())

    def on_evse(self, evse_number: int) -> Transaction | None:
        return next((t for t in self._running.values() if t.evse_number == evse_number), None)

    def end(self, transaction_id: str) -> Transaction | None:
        """Remove a transaction that ended (its EVSE's meter values stop counting); it
        is kept a while among the ended, for the charger's late word on it."""
        transaction = self.find(transaction_id)
        if transaction is not None:
            del self._running[transaction_id]
            self.meter.forget(transaction.evse_number)
            self._ended[transaction_id] = transaction
            while len(self._ended) > _ENDED_KEPT:
                del self._ended[next(iter(self._ended))]
        return transaction

    def ended(self, transaction_id: str) -> Transaction | None:
        """A transaction this book ended lately (closed when its connector showed it
        over, before the charger's own StopTransaction)."""
        return self._ended.get(transaction_id)
