"""The readiness forecast of the state the controller shows or decides: every open
session's energy at its departure and, when short, the cause
(:mod:`depotctl.engine.readiness`). The API's sessions carry it; the control loop
raises ``departure_at_risk`` from it each cycle.

The basis: the plan the allocator follows now (the controller's
:class:`~depotctl.controller.planning.Planning`, its usable round's plan and the
problem it solved) for the sessions it covers — ``plan``; else, and for a session it
does not cover, the EVSE's present limit held until the departure —
``present limit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from depotctl.engine.readiness import forecasts

if TYPE_CHECKING:
    from depotctl.controller.planning import Planning
    from depotctl.controller.service import LiveState
    from depotctl.domain.readiness import Readiness


def live_forecasts(live: LiveState, planning: Planning | None) -> dict[str, Readiness]:
    """Every session's forecast in ``live``, by session id, on the plan ``planning``
    follows at ``live``'s instant when there is one."""
    usable = planning.usable(live.snapshot.at) if planning is not None else None
    if usable is None or usable.plan is None or usable.problem is None:
        return forecasts(live.snapshot, live.allocation)
    return forecasts(live.snapshot, live.allocation, usable.plan, usable.problem)
