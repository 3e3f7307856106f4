"""The ``ocpp`` library's handler routing, typed, and what both protocol sides share:
the ``no-answer`` misbehaviour and the library's logger.

The library is untyped: its ``on``/``after`` decorators are wrapped here so the
handlers keep their signatures for the type checker.
"""

from __future__ import annotations

import json
import logging
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


def is_request(raw: str) -> bool:
    """Whether a frame is a Call (a request), not an answer."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return False
    return isinstance(frame, list) and bool(frame) and frame[0] == 2


class Silence:
    """Mixin before the library's ``ChargePoint``: every request goes to the
    charger's receive log; with ``no-answer`` the charger drops it unanswered
    (answers to its own requests still arrive)."""

    charger: SimulatedCharger

    async def route_message(self, raw_msg: str) -> None:
        if is_request(raw_msg):
            self.charger.receive(raw_msg)
            if self.charger.misbehaviour.no_answer:
                self.charger.stats.requests_unanswered += 1
                return
        await super().route_message(raw_msg)  # type: ignore[misc]
