"""OCPP 1.6J, the CSMS side: what a charger sends, answered and told to the
controller. A 1.6 connector id is the EVSE's OCPP number; connector 0 is the
charger as a whole. Transaction ids come from the controller
(:meth:`ChargerEvents.next_transaction_id`)."""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v16 import ChargePoint as V16ChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AuthorizationStatus, DataTransferStatus, RegistrationStatus

from depotctl.domain.sessions import Session
from depotctl.protocols.ocpp.events import BootInfo, EvseStatus
from depotctl.protocols.ocpp.frames import after, on
from depotctl.protocols.ocpp.handler import LinkedHandler
from depotctl.protocols.ocpp.meter import format_time, number, parse_time
from depotctl.protocols.ocpp.transactions import session_id_of

log = logging.getLogger("depotctl.ocpp")


class V16Handler(LinkedHandler, V16ChargePoint):  # type: ignore[misc]  # untyped base
    """The messages of one 1.6 charger."""

    actions = frozenset(action.value for action in Action)
    #: what a lenient charger's out-of-schema meter values come in
    lenient_actions = (Action.meter_values, Action.stop_transaction)

    @on(Action.boot_notification)
    def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **extra: Any
    ) -> call_result.BootNotification:
        now = self.link.now()
        boot = BootInfo(
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial_number=extra.get("charge_point_serial_number"),
            firmware_version=extra.get("firmware_version"),
        )
        self.link.rebooted()
        self.link.events.booted(self._charger_id, boot, now)
        return call_result.BootNotification(
            current_time=format_time(now),
            interval=self.link.heartbeat_interval_s,
            status=RegistrationStatus.accepted,
        )

    @after(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        self.link.booted()

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=format_time(self.link.now()))

    @on(Action.status_notification)
    def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **extra: Any
    ) -> call_result.StatusNotification:
        now = self.link.now()
        evse = self.link.charge_point.evse(connector_id) if connector_id else None
        if connector_id and evse is None:
            log.warning(
                "%s: status of connector %s, which the site does not list",
                self.link.charge_point.ocpp_id,
                connector_id,
            )
        else:
            self.link.events.status(
                EvseStatus(
                    charger_id=self._charger_id,
                    evse_id=evse.evse_id if evse else None,
                    connector_id=connector_id,
                    status=status,
                    error_code=None if error_code == "NoError" else error_code,
                    at=parse_time(extra.get("timestamp"), now),
                )
            )
            if evse is not None:
                self.link.connector_status(evse.number, status)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> call_result.StartTransaction:
        now = self.link.now()
        transaction_id = self.link.events.next_transaction_id()
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
        transaction = self.link.book.begin(str(transaction_id), connector_id, float(meter_start))
        started = min(parse_time(timestamp, now), now)
        self.link.events.session_started(Session(transaction.session_id, evse.evse_id, started))
        return call_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": AuthorizationStatus.accepted}
        )

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
        transaction = known
        session_id = (
            transaction.session_id
            if transaction is not None
            else session_id_of(self._charger_id, str(transaction_id))
        )
        self.link.events.session_ended(
            session_id, energy, min(parse_time(timestamp, now), now), extra.get("reason")
        )
        id_tag_info = {"status": AuthorizationStatus.accepted} if extra.get("id_tag") else None
        return call_result.StopTransaction(id_tag_info=id_tag_info)

    @on(Action.meter_values)
    def on_meter_values(
        self, connector_id: Any = None, meter_value: Any = None, **extra: Any
    ) -> call_result.MeterValues:
        book = self.link.book
        evse_number = connector_id if isinstance(connector_id, int) and connector_id > 0 else None
        transaction_id = extra.get("transaction_id")
        transaction = book.find(str(transaction_id)) if transaction_id is not None else None
        if transaction is None and transaction_id is None and evse_number is not None:
            # values naming a transaction that is over are its own, not the EVSE's next one
            transaction = book.on_evse(evse_number)
        self.link.record_meter(evse_number, meter_value, transaction)
        return call_result.MeterValues()

    # Notifications the controller has no use for yet: answered, not acted on

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(
        self, status: str, **_: Any
    ) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(
        self, status: str, **_: Any
    ) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()
