"""The ``ocpp`` library's handler routing, typed, and what both protocol sides share:
the gate every request from the controller passes (no answer before the
connection's BootNotification was accepted, none at all with ``no-answer``) and
the library's logger.

The library is untyped: its ``on``/``after`` decorators are wrapped here so the
handlers keep their signatures for the type checker.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ocpp.routing import after as _after  # type: ignore[import-untyped, unused-ignore]
from ocpp.routing import on as _on  # type: ignore[import-untyped, unused-ignore]

if TYPE_CHECKING:
    from depotctl.sim.chargers.charger import SimulatedCharger

Handler = TypeVar("Handler", bound=Callable[..., Any])

#: the library logs every frame at INFO; ours stays quiet unless asked
WIRE_LOG = logging.getLogger("depotctl.sim.chargers.wire")


def handles(action: str) -> Callable[[Handler], Handler]:
    """Route the controller's ``action`` requests to the decorated method."""
    decorator: Callable[[Handler], Handler] = _on(action)
    return decorator


def afterwards(action: str) -> Callable[[Handler], Handler]:
    """Run the decorated method after the answer to ``action`` was sent."""
    decorator: Callable[[Handler], Handler] = _after(action)
    return decorator


def frame_of(raw: str) -> list[Any] | None:
    """An OCPP-J frame as a list, None if it is not one."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    return frame if isinstance(frame, list) and frame else None


class Silence:
    """Mixin before the library's ``ChargePoint``: every request goes to the
    charger's receive log, and is dropped unanswered (as real chargers do) until
    this connection's BootNotification was answered Accepted — and always with
    ``no-answer``. Answers to the charger's own requests always arrive."""

    charger: SimulatedCharger
    #: this connection's BootNotification was answered Accepted
    booted: bool = False
    _boot_call: str | None = None

    def boot_call_id(self) -> str:
        """A unique id for the BootNotification about to be sent (its answer, when
        Accepted, opens the gate as it arrives, before any later frame)."""
        self._boot_call = str(uuid.uuid4())
        return self._boot_call

    async def route_message(self, raw_msg: str) -> None:
        frame = frame_of(raw_msg)
        if frame is not None and frame[0] == 2:
            self.charger.receive(raw_msg)
            if self.charger.misbehaviour.no_answer:
                self.charger.stats.requests_unanswered += 1
                return
            if not self.booted:
                self.charger.stats.requests_unanswered += 1
                self.charger.stats.requests_before_boot += 1
                WIRE_LOG.info("%s: ignoring %s before boot", self.charger.ocpp_id, frame[2:3])
                return
        elif self._boot_call is not None and (answer := _answer(frame, self._boot_call)):
            self.booted = answer.get("status") == "Accepted"
        await super().route_message(raw_msg)  # type: ignore[misc]


def _answer(frame: list[Any] | None, unique_id: str) -> dict[str, Any] | None:
    """The payload of ``frame`` if it is the CallResult to the request ``unique_id``."""
    if frame is None or len(frame) < 3 or frame[0] != 3 or frame[1] != unique_id:
        return None
    return frame[2] if isinstance(frame[2], dict) else None
