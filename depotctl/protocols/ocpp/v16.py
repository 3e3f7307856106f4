"""OCPP 1.6J, the CSMS side: what a charger sends, answered and told to the
controller. A 1.6 connector id is the EVSE's OCPP number; connector 0 is the
charger as a whole. Transaction ids come from the controller
(:meth:`ChargerEvents.next_transaction_id`)."""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v16 import ChargePoint as V16ChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AuthorizationStatus

from depotctl.domain.sessions import Session
from depotctl.protocols.ocpp.events import BootInfo
from depotctl.protocols.ocpp.frames import after, on
from depotctl.protocols.ocpp.handler import LinkedHandler, evse_number_of
from depotctl.protocols.ocpp.meter import number, parse_time

log = logging.getLogger("depotctl.ocpp")


class V16Handler(LinkedHandler, V16ChargePoint, answers=call_result, actions=Action):  # type: ignore[misc]  # untyped base
    """The messages of one 1.6 charger."""

    #: what a lenient charger's out-of-schema meter values come in
    lenient_actions = (Action.meter_values, Action.stop_transaction)

    # Heartbeat, DataTransfer, FirmwareStatusNotification and the end of a
    # BootNotification: as in 2.0.1 (LinkedHandler)

    @on(Action.boot_notification)
    def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **extra: Any
    ) -> call_result.BootNotification:
        return self.accept_boot(
            BootInfo(
                vendor=charge_point_vendor,
                model=charge_point_model,
                serial_number=extra.get("charge_point_serial_number"),
                firmware_version=extra.get("firmware_version"),
            )
        )

    @on(Action.status_notification)
    def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **extra: Any
    ) -> call_result.StatusNotification:
        """A connector's id is its EVSE's number; 0 the charger as a whole."""
        self.tell_status(
            connector_id,
            connector_id=connector_id,
            status=status,
            error_code=None if error_code == "NoError" else error_code,
            timestamp=extra.get("timestamp"),
            unit="connector",
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> call_result.StartTransaction:
        now = self.link.now()
        transaction_id = self.link.terms.events.next_transaction_id()
        evse = self.link.charge_point.evse(connector_id)
        if evse is None:
            log.warning(
                "%s: transaction on connector %s, which the site does not list: refused",
                self.link.charge_point.ocpp_id,
                connector_id,
            )
            return call_result.StartTransaction(
                transaction_id=transaction_id,
                id_tag_info={"status": AuthorizationStatus.invalid},
            )
        transaction = self.link.book.begin(
            str(transaction_id), connector_id, float(meter_start), announced=False
        )
        started = min(parse_time(timestamp, now), now)
        self.link.terms.events.session_started(
            Session(transaction.session_id, evse.evse_id, started, id_token=id_tag or None)
        )
        return call_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @after(Action.start_transaction)
    def after_start_transaction(self, connector_id: int, **_: Any) -> None:
        """The answer, with the transaction's id, is sent: TxProfiles may name it."""
        transaction = self.link.book.on_evse(connector_id)
        if transaction is not None:
            transaction.announced = True

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self, meter_stop: Any, timestamp: Any, transaction_id: Any, **extra: Any
    ) -> call_result.StopTransaction:
        now = self.link.now()
        book = self.link.book
        transaction = book.find(str(transaction_id))
        if transaction is not None and extra.get("transaction_data"):
            self.link.record_meter(transaction.evse_number, extra["transaction_data"], transaction)
        # closed already when its connector showed it over: its meterStop still counts
        known = transaction or book.ended(str(transaction_id))
        register = number(meter_stop)
        energy = known.energy_wh(register) if known is not None and register is not None else None
        if transaction is not None:
            book.end(transaction.transaction_id)
        at = min(parse_time(timestamp, now), now)
        self.tell_ended(known, str(transaction_id), energy, at, extra.get("reason"))
        id_tag_info = {"status": AuthorizationStatus.accepted} if extra.get("id_tag") else None
        return call_result.StopTransaction(id_tag_info=id_tag_info)

    @on(Action.meter_values)
    def on_meter_values(
        self, connector_id: Any = None, meter_value: Any = None, **extra: Any
    ) -> call_result.MeterValues:
        book = self.link.book
        evse_number = evse_number_of(connector_id)
        transaction_id = extra.get("transaction_id")
        transaction = book.find(str(transaction_id)) if transaction_id is not None else None
        if transaction is None and transaction_id is None and evse_number is not None:
            # values naming a transaction that is over are its own, not the EVSE's next one
            transaction = book.on_evse(evse_number)
        self.link.record_meter(evse_number, meter_value, transaction)
        return call_result.MeterValues()

    # Notifications the controller has no use for yet: answered, not acted on

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(
        self, status: str, **_: Any
    ) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()
