"""OCPP 2.0.1, the CSMS side: what a charging station sends, answered and told to
the controller. EVSE ids are the EVSEs' OCPP numbers (0: the station as a whole);
transactions are named by the station (TransactionEvent Started/Updated/Ended, with
their meter values inside), and NotifyEVChargingNeeds becomes the session's energy
requirement."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ocpp.v201 import ChargePoint as V201ChargePoint
from ocpp.v201 import call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    NotifyEVChargingNeedsStatusEnumType,
    TransactionEventEnumType,
)

from depotctl.domain.sessions import Session
from depotctl.protocols.ocpp.events import BootInfo, ChargingNeeds
from depotctl.protocols.ocpp.frames import on
from depotctl.protocols.ocpp.handler import LinkedHandler, evse_number_of
from depotctl.protocols.ocpp.meter import number, parse_time

log = logging.getLogger("depotctl.ocpp")


class V201Handler(LinkedHandler, V201ChargePoint, answers=call_result, actions=Action):  # type: ignore[misc]  # untyped base
    """The messages of one 2.0.1 charging station."""

    #: what a lenient station's out-of-schema meter values come in
    lenient_actions = (Action.meter_values, Action.transaction_event)

    # Heartbeat, DataTransfer, FirmwareStatusNotification and the end of a
    # BootNotification: as in 1.6 (LinkedHandler)

    @on(Action.boot_notification)
    def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **_: Any
    ) -> call_result.BootNotification:
        return self.accept_boot(
            BootInfo(
                vendor=str(charging_station.get("vendor_name", "")),
                model=str(charging_station.get("model", "")),
                serial_number=charging_station.get("serial_number"),
                firmware_version=charging_station.get("firmware_version"),
                reason=reason,
            )
        )

    @on(Action.status_notification)
    def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.StatusNotification:
        """EVSE 0 is the station as a whole; 2.0.1 has no error code here."""
        self.tell_status(
            evse_id,
            connector_id=connector_id,
            status=connector_status,
            error_code=None,
            timestamp=timestamp,
            unit="EVSE",
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_token_info={"status": AuthorizationStatusEnumType.accepted})

    @on(Action.meter_values)
    def on_meter_values(
        self, evse_id: Any = None, meter_value: Any = None, **_: Any
    ) -> call_result.MeterValues:
        evse_number = evse_number_of(evse_id)
        transaction = self.link.book.on_evse(evse_number) if evse_number is not None else None
        self.link.record_meter(evse_number, meter_value, transaction)
        return call_result.MeterValues()

    @on(Action.transaction_event)
    def on_transaction_event(
        self, event_type: Any, timestamp: Any, transaction_info: Any, **extra: Any
    ) -> call_result.TransactionEvent:
        now = self.link.now()
        at = min(parse_time(timestamp, now), now)
        info = transaction_info if isinstance(transaction_info, Mapping) else {}
        transaction_id = str(info.get("transaction_id", ""))
        book = self.link.book
        transaction = book.find(transaction_id) if transaction_id else None
        ending = event_type == TransactionEventEnumType.ended
        if transaction is None and transaction_id and book.ended(transaction_id) is not None:
            # closed already when its connector showed it over: only its end counts
            transaction = book.ended(transaction_id) if ending else None
        elif transaction is None and transaction_id and not ending:
            evse = extra.get("evse")
            number_ = evse.get("id") if isinstance(evse, Mapping) else None
            known = self.link.charge_point.evse(number_) if isinstance(number_, int) else None
            if known is None:
                log.warning(
                    "%s: transaction %s on EVSE %r, which the site does not list",
                    self.link.charge_point.ocpp_id,
                    transaction_id,
                    number_,
                )
            else:
                transaction = book.begin(transaction_id, known.number, None)
                self.link.terms.events.session_started(
                    Session(
                        transaction.session_id,
                        known.evse_id,
                        at,
                        id_token=_token_of(extra.get("id_token")),
                    )
                )
        elif transaction is not None and not ending:
            token = _token_of(extra.get("id_token"))
            if token is not None:  # authorised after it began (plug in, then badge)
                self.link.terms.events.session_authorised(transaction.session_id, token, at)
        energy = None
        if extra.get("meter_value"):
            evse_number = transaction.evse_number if transaction is not None else None
            energy = self.link.record_meter(evse_number, extra["meter_value"], transaction)
        if ending and transaction_id:
            if transaction is not None and book.ended(transaction_id) is None:
                book.end(transaction.transaction_id)
            self.tell_ended(transaction, transaction_id, energy, at, info.get("stopped_reason"))
        id_token_info = (
            {"status": AuthorizationStatusEnumType.accepted} if extra.get("id_token") else None
        )
        return call_result.TransactionEvent(id_token_info=id_token_info)

    @on(Action.notify_ev_charging_needs)
    def on_notify_ev_charging_needs(
        self, charging_needs: dict[str, Any], evse_id: int, **_: Any
    ) -> call_result.NotifyEVChargingNeeds:
        now = self.link.now()
        ac = charging_needs.get("ac_charging_parameters") or {}
        dc = charging_needs.get("dc_charging_parameters") or {}
        energy = number(ac.get("energy_amount", dc.get("energy_amount")))
        max_current: float | None = number(ac.get("ev_max_current"))
        max_power = number(dc.get("ev_max_power"))
        if max_current is None and max_power is not None:
            max_current = self.link.charge_point.amps(max_power)
        departure_text = charging_needs.get("departure_time")
        departure = parse_time(departure_text, now) if departure_text else None
        evse = self.link.charge_point.evse(evse_id)
        accepted = evse is not None and self.link.terms.events.charging_needs(
            evse.evse_id, ChargingNeeds(energy, departure, max_current, now)
        )
        status = (
            NotifyEVChargingNeedsStatusEnumType.accepted
            if accepted
            else NotifyEVChargingNeedsStatusEnumType.rejected
        )
        return call_result.NotifyEVChargingNeeds(status=status)

    # Notifications the controller has no use for yet: answered, not acted on

    @on(Action.security_event_notification)
    def on_security_event_notification(
        self, type: str, timestamp: str, **_: Any
    ) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    @on(Action.notify_event)
    def on_notify_event(self, **_: Any) -> call_result.NotifyEvent:
        return call_result.NotifyEvent()

    @on(Action.notify_report)
    def on_notify_report(self, **_: Any) -> call_result.NotifyReport:
        return call_result.NotifyReport()


def _token_of(id_token: Any) -> str | None:
    """The idToken's value of a TransactionEvent (None without one, or an empty one)."""
    value = id_token.get("id_token") if isinstance(id_token, Mapping) else None
    return value if isinstance(value, str) and value else None
