"""What the 1.6 and 2.0.1 sides of a simulated charger share: the connection they
are made on, asking the controller (and booting), and the answers both versions
decide alike — which profiles a ClearChargingProfile removes, a composite
schedule, whether a TriggerMessage is taken, whether an interval may be set. What each version sends
and how it spells it stays in ``v16.py`` and ``v201.py``."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection

from depotctl.domain.charge_points import RateUnit
from depotctl.sim.chargers.charger import SimulatedCharger, iso, raise_if_cancelled
from depotctl.sim.chargers.profiles import InvalidProfile, Purpose
from depotctl.sim.chargers.routing import WIRE_LOG, Silence
from depotctl.sim.chargers.stack import ClearCriteria

#: the messages a charger sends when the controller asks (TriggerMessage)
TRIGGERABLE = frozenset({"BootNotification", "Heartbeat", "MeterValues", "StatusNotification"})


class SimLink(Silence):
    """Mixed in before the library's ``ChargePoint`` (after :class:`Silence`): one
    connection of ``charger``."""

    if TYPE_CHECKING:  # provided by ocpp's ChargePoint (never defined here: the MRO)

        async def call(
            self,
            payload: Any,
            suppress: bool = True,
            unique_id: str | None = None,
            skip_schema_validation: bool = False,
        ) -> Any: ...

    def __init__(self, charger: SimulatedCharger, connection: ClientConnection) -> None:
        super().__init__(  # type: ignore[call-arg]  # the ocpp ChargePoint's, by the MRO
            charger.ocpp_id,
            connection,
            response_timeout=charger.settings.response_timeout_s,
            logger=WIRE_LOG,
        )
        self.charger = charger

    async def _ask(self, payload: Any, *, lenient: bool = False) -> Any:
        raise_if_cancelled()
        return await self._timed(self.call(payload, suppress=False, skip_schema_validation=lenient))

    async def _boot(self, request: Any) -> tuple[str, int]:
        """Send the BootNotification ``request``: its answer's status and interval."""
        raise_if_cancelled()
        answer = await self._timed(
            self.call(request, suppress=False, unique_id=self.boot_call_id())
        )
        return str(answer.status), int(answer.interval)

    async def _timed(self, call: Awaitable[Any]) -> Any:
        """``call``'s answer; its round trip (wall) goes to the charger's record when
        the controller answered (a result or a CallError), not when it timed out."""
        began = time.monotonic()
        try:
            answer = await call
        except OCPPError:
            self.charger.round_trips.append(time.monotonic() - began)
            raise
        self.charger.round_trips.append(time.monotonic() - began)
        return answer

    def _clear(
        self,
        profile_id: int | None,
        evse: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> str:
        """ClearChargingProfile's status: ``Accepted`` when a profile matching what
        was sent went, ``Unknown`` when none did (or the purpose is none)."""
        try:
            parsed = Purpose.parse(purpose) if purpose else None
        except InvalidProfile:
            return "Unknown"
        removed = self.charger.clear_profiles(ClearCriteria(profile_id, evse, parsed, stack_level))
        return "Accepted" if removed else "Unknown"

    def _composite(
        self, evse: int, duration: int, unit: str | None
    ) -> tuple[str, RateUnit, list[dict[str, Any]]] | None:
        """GetCompositeSchedule of ``evse`` for ``duration`` seconds in ``unit`` (None:
        the charger's own): its start, unit and periods as sent; None for an EVSE
        the charger does not have."""
        found = self.charger.composite(evse, duration, RateUnit(unit) if unit else None)
        if found is None:
            return None
        start, chosen, periods = found
        sent = [{"start_period": int(offset), "limit": limit} for offset, limit in periods]
        return iso(start), chosen, sent


def trigger_status(requested_message: str, known: bool) -> str:
    """TriggerMessage's status: ``NotImplemented`` for a message it does not send on
    request, ``Rejected`` for an EVSE it does not have (``known`` False)."""
    if requested_message not in TRIGGERABLE:
        return "NotImplemented"
    return "Accepted" if known else "Rejected"


def interval_s(value: str) -> float | None:
    """A configured interval in seconds (above 0), None when ``value`` is none."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return None if seconds <= 0 else seconds
