"""What the 1.6 and 2.0.1 message handlers share: the connection they serve, telling
it of every message heard, and the lenient-meter-values quirk."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from depotctl.protocols.ocpp.frames import FRAMES_LOG, FrameGuard

if TYPE_CHECKING:
    from depotctl.protocols.ocpp.connection import ChargerConnection


class LinkedHandler(FrameGuard):
    """Mixed in before an ``ocpp`` ``ChargePoint`` (like :class:`FrameGuard`).
    ``lenient_actions`` are the actions whose schema check a charger with the
    ``meter_values_out_of_schema`` quirk skips."""

    lenient_actions: ClassVar[tuple[str, ...]] = ()

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
