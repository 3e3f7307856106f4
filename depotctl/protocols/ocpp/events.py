"""The port through which the OCPP endpoint tells the controller what chargers do.

Everything here is in domain terms: chargers and EVSEs by their depotctl ids
(``chg-01``, ``chg-01/1``), sessions as :class:`~depotctl.domain.sessions.Session`,
readings as :class:`~depotctl.domain.telemetry.Reading`, aware UTC times from the
injected clock (or the charger's own timestamps, where OCPP gives one). The
controller implements it (``depotctl.controller.ocpp_events``); protocol tests
record it. Methods are called on the event loop and must not block for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from depotctl.domain.charge_points import OcppVersion
from depotctl.domain.sessions import Session
from depotctl.domain.telemetry import Reading


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a charger says about itself when it boots (``reason``: 2.0.1 only)."""

    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A connection the endpoint refused, with the HTTP status it answered.
    ``ocpp_id`` is the identity in the URL (as sent: it may be unknown);
    ``charger_id`` is set when the identity is a charger of the site."""

    ocpp_id: str
    reason: str
    status: int  #: the HTTP status answered (401, 404, …)
    at: datetime
    charger_id: str | None = None
    remote: str | None = None  #: the peer's ``host:port``, when the socket tells it


@dataclass(frozen=True, slots=True)
class EvseStatus:
    """A StatusNotification: ``evse_id`` None is the charger as a whole (1.6
    connector 0). ``status`` is the OCPP status as sent (``Available``,
    ``Charging``, ``Faulted``, …; 2.0.1 connector statuses)."""

    charger_id: str
    evse_id: str | None
    connector_id: int | None
    status: str
    error_code: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class MeterSample:
    """Meter values a charger reported for one instant.

    ``reading`` is the charger's reading (node: the charger's id) — its EVSEs'
    latest values summed, currents on the site's phases, stamped with the oldest
    of them (a summed value is only as fresh as its stalest part); None when the
    values hold neither power nor current. ``evse_id``
    None: the values were for the charger as a whole. ``energy_wh`` is the
    reported energy register; ``session_energy_wh`` what the session on that EVSE
    has received so far (the register less its value when the session started),
    when both are known."""

    charger_id: str
    evse_id: str | None
    reading: Reading | None
    energy_wh: float | None = None
    soc_percent: float | None = None  #: the vehicle's state of charge, when reported
    session_id: str | None = None  #: the session on that EVSE, when one runs
    session_energy_wh: float | None = None


@dataclass(frozen=True, slots=True)
class ChargingNeeds:
    """OCPP 2.0.1 NotifyEVChargingNeeds: the energy the vehicle asks for now (on top
    of what its session received so far), its departure and its maximum current
    (amps per line at the charger's supply), each when it said so."""

    energy_wh: float | None
    departure: datetime | None
    max_current_a: float | None
    at: datetime


class ChargerEvents(Protocol):
    """What the controller hears from its chargers."""

    def connected(self, charger_id: str, version: OcppVersion, at: datetime) -> None:
        """A charger's websocket opened (authenticated, subprotocol agreed)."""
        ...

    def booted(self, charger_id: str, boot: BootInfo, at: datetime) -> None:
        """A BootNotification (answered Accepted)."""
        ...

    def disconnected(self, charger_id: str, reason: str, at: datetime) -> None:
        """A charger's connection closed (not when a newer connection replaced it)."""
        ...

    def refused(self, refusal: Refusal) -> None:
        """A connection attempt was refused (unknown id, bad credentials, wrong
        subprotocol, …). Never carries a password."""
        ...

    def status(self, status: EvseStatus) -> None: ...

    def meter(self, sample: MeterSample) -> None: ...

    def session_started(self, session: Session) -> None:
        """A transaction started: ``session`` is new (energy delivered 0 at its start).
        Called again for a session already known (a charger resending after a
        reconnect): the controller ignores the repeat."""
        ...

    def session_authorised(self, session_id: str, id_token: str, at: datetime) -> None:
        """A running transaction named its idToken after it began (2.0.1: an Updated
        TransactionEvent); said again on later events that repeat it."""
        ...

    def session_ended(
        self, session_id: str, energy_wh: float | None, at: datetime, reason: str | None
    ) -> None:
        """A transaction ended with ``energy_wh`` delivered in all (None: not known
        from the message; keep the last value recorded)."""
        ...

    def charging_needs(self, evse_id: str, needs: ChargingNeeds) -> bool:
        """The vehicle on ``evse_id`` stated its needs; False when the EVSE has no
        open session to attach them to."""
        ...

    def open_sessions(self, charger_id: str) -> Sequence[Session]:
        """The sessions the controller holds open on this charger's EVSEs (to pick up
        running transactions after a restart)."""
        ...

    def next_transaction_id(self) -> int:
        """A fresh OCPP 1.6 transaction id (never one given before, also across
        restarts; at most 2**31 - 1)."""
        ...
