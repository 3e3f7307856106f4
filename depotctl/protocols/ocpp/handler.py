"""What the 1.6 and 2.0.1 message handlers share: the connection they serve, telling
it of every message heard, the lenient-meter-values quirk, and what both versions
do alike.

Both versions answer Heartbeat with the controller's time, DataTransfer with
``UnknownVendorId`` and FirmwareStatusNotification with an empty answer, and mark a
charger booted once its BootNotification is answered: those handlers live here. The
rest of a message's handling is written per version, in ``v16.py`` and ``v201.py``,
with the steps both take (a boot accepted, a status told, a transaction's end told)
as methods of :class:`LinkedHandler`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from depotctl.protocols.ocpp.events import BootInfo, EvseStatus
from depotctl.protocols.ocpp.frames import FRAMES_LOG, FrameGuard, after, on
from depotctl.protocols.ocpp.meter import format_time, parse_time
from depotctl.protocols.ocpp.transactions import Transaction, session_id_of

if TYPE_CHECKING:
    from depotctl.protocols.ocpp.connection import ChargerConnection

log = logging.getLogger("depotctl.ocpp")


class LinkedHandler(FrameGuard):
    """Mixed in before an ``ocpp`` ``ChargePoint`` (like :class:`FrameGuard`); a
    version's handler names its ``call_result`` module and its ``Action`` enum in its
    header (``answers=``, ``actions=``). ``lenient_actions`` are the actions whose
    schema check a charger with the ``meter_values_out_of_schema`` quirk skips."""

    lenient_actions: ClassVar[tuple[str, ...]] = ()
    answers: ClassVar[ModuleType]

    def __init_subclass__(
        cls, *, answers: ModuleType, actions: Iterable[StrEnum], **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.answers = answers
        cls.actions = frozenset(action.value for action in actions)

    def __init__(self, link: ChargerConnection) -> None:
        super().__init__(  # type: ignore[call-arg]  # the ocpp ChargePoint's, by the MRO
            link.charge_point.ocpp_id, link.websocket, logger=FRAMES_LOG
        )
        self.link = link
        if link.charge_point.lenient_meter_values:
            for action in self.lenient_actions:
                self.route_map[action]["_skip_schema_validation"] = True

    def heard(self, action: str) -> None:
        self.link.heard(action)

    def allowance_clock(self) -> float:
        """The calls' allowance runs on the controller's clock."""
        return self.link.now().timestamp()

    @property
    def _charger_id(self) -> str:
        return self.link.charge_point.charger_id

    # Answered alike in both versions

    @after("BootNotification")
    def after_boot_notification(self, **_: Any) -> None:
        self.link.booted()

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any) -> Any:
        return self.answers.Heartbeat(current_time=format_time(self.link.now()))

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        """No vendor's data is of use to the controller yet."""
        return self.answers.DataTransfer(status="UnknownVendorId")

    @on("FirmwareStatusNotification")
    def on_firmware_status_notification(self, status: str, **_: Any) -> Any:
        """Answered, not acted on."""
        return self.answers.FirmwareStatusNotification()

    # Steps of both versions' handlers

    def accept_boot(self, boot: BootInfo) -> Any:
        """Tell the controller the charger booted; the BootNotification's answer:
        Accepted, with the controller's time and the heartbeat interval."""
        now = self.link.now()
        self.link.rebooted()
        self.link.terms.events.booted(self._charger_id, boot, now)
        return self.answers.BootNotification(
            current_time=format_time(now),
            interval=self.link.terms.heartbeat_interval_s,
            status="Accepted",
        )

    def tell_status(
        self,
        number: int,
        *,
        connector_id: int,
        status: str,
        error_code: str | None,
        timestamp: Any,
        unit: str,
    ) -> None:
        """Tell the controller the status of the EVSE ``number`` (0: the charger as a
        whole; ``unit``: what the version calls it in the log when the site lists no
        such EVSE, and the status is not told)."""
        now = self.link.now()
        evse = self.link.charge_point.evse(number) if number else None
        if number and evse is None:
            log.warning(
                "%s: status of %s %s, which the site does not list",
                self.link.charge_point.ocpp_id,
                unit,
                number,
            )
            return
        self.link.terms.events.status(
            EvseStatus(
                charger_id=self._charger_id,
                evse_id=evse.evse_id if evse else None,
                connector_id=connector_id,
                status=status,
                error_code=error_code,
                at=parse_time(timestamp, now),
            )
        )
        if evse is not None:
            self.link.connector_status(evse.number, status)

    def tell_ended(
        self,
        transaction: Transaction | None,
        transaction_id: str,
        energy_wh: float | None,
        at: datetime,
        reason: str | None,
    ) -> None:
        """Tell the controller a transaction ended (``transaction`` None: one the book
        does not know, named by its id)."""
        session_id = (
            transaction.session_id
            if transaction is not None
            else session_id_of(self._charger_id, transaction_id)
        )
        self.link.terms.events.session_ended(session_id, energy_wh, at, reason)


def evse_number_of(value: Any) -> int | None:
    """The EVSE a message's connector / EVSE id names (None: the charger as a whole,
    or no number at all)."""
    return value if isinstance(value, int) and value > 0 else None
