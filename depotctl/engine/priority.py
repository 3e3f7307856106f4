"""What decided between sessions: an EVSE's tier in words — its session's priority
class, whether it is urgent, and the laxity that made it so.

Tiers are served most important first: priority class 0 before 1, and within a
class urgent sessions before the others. A session is urgent when its laxity — the
time to its deadline less the time it still needs at its full rate (the EVSE's
rating and the vehicle's maximum) — is under the policy's threshold. The laxity is
recomputed here from the snapshot for the one EVSE explained, by the rules of
:mod:`.demand`; the cycle's own urgency flag is what counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.demand import default_departure

if TYPE_CHECKING:
    from depotctl.engine.explain import Decision


@dataclass(frozen=True, slots=True)
class Priority:
    """An EVSE's place in the cycle's order: ``priority_class`` (0 first), ``urgent``,
    ``laxity_s`` (seconds of slack to its deadline at full rate; negative when it
    cannot have all it needs in time, −inf when it cannot charge at all) and the
    policy's ``threshold_s``."""

    priority_class: int
    urgent: bool
    laxity_s: float
    threshold_s: float

    def __str__(self) -> str:
        """``class 0, urgent: laxity 12 min (urgent under 30 min)``."""
        urgency = (
            "urgent"
            if self.urgent
            else ("not urgent" if self.laxity_s >= self.threshold_s else "held by the plan")
        )
        if math.isinf(self.laxity_s) and self.laxity_s < 0:
            return f"class {self.priority_class}, {urgency}: no rate to charge at"
        text = (
            f"class {self.priority_class}, {urgency}: laxity {duration_text(self.laxity_s)} "
            f"(urgent under {duration_text(self.threshold_s)})"
        )
        if self.laxity_s < 0:
            text += "; even at full rate it cannot have all it needs by its departure"
        return text


def priority_of(decision: Decision, evse_id: str) -> Priority | None:
    """The EVSE's priority in this cycle, or None when no session of it asked for
    power (idle, or its charger uncontrollable)."""
    index = decision.structure.evse_index[evse_id]
    session = decision.demands.sessions.get(index)
    if session is None:
        return None
    snapshot = decision.snapshot
    return Priority(
        priority_class=session.priority_class,
        urgent=bool(decision.demands.urgent[index]),
        laxity_s=laxity_s(snapshot, session),
        threshold_s=snapshot.policy.urgency_threshold_s,
    )


def laxity_s(snapshot: Snapshot, session: Session) -> float:
    """Seconds from now to the session's deadline, less the time its remaining need
    takes at the EVSE's and vehicle's full rate (the site's default requirement when
    it states none)."""
    evse = snapshot.topology.evses[session.evse_id]
    if session.requirement is not None:
        deadline = session.requirement.departure
        needed_wh = session.requirement.energy_wh - session.energy_delivered_wh
    else:
        deadline = default_departure(snapshot, session.started)
        needed_wh = snapshot.policy.default_energy_wh - session.energy_delivered_wh
    vehicle = session.vehicle_max_current_a
    rate_w = min(evse.max_current_a, math.inf if vehicle is None else vehicle) * evse.watts_per_amp
    needed_s = max(needed_wh, 0.0) / rate_w * 3600.0 if rate_w > 0 else math.inf
    return (deadline - snapshot.at).total_seconds() - needed_s


def duration_text(seconds: float) -> str:
    """``3 h 12 min``, ``45 min``, ``2 h``, ``−20 min`` (to the minute); ``∞``, ``−∞``
    and ``unknown`` for what is not finite."""
    if not math.isfinite(seconds):
        return "unknown" if math.isnan(seconds) else ("−∞" if seconds < 0 else "∞")
    minutes = round(abs(seconds) / 60.0)
    hours, minutes = divmod(minutes, 60)
    sign = "−" if seconds < 0 and (hours or minutes) else ""
    if hours and minutes:
        return f"{sign}{hours} h {minutes} min"
    if hours:
        return f"{sign}{hours} h"
    return f"{sign}{minutes} min"
