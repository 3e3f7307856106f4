"""What each session asks for in this cycle: its own cap, its minimum, its tier.

A session's cap is the tightest of its EVSE's rating, its vehicle's maximum, zero
once it has the energy it needs, — for non-urgent sessions — the plan's rate, and an
operator's override on its EVSE (0 A when paused, else the cap). An override names
itself as the cap only when it is strictly the tightest, or pauses; it does not
change the session's tier (urgency is the session's need at its EVSE's and
vehicle's rate).
Its tier is its priority class, then urgency: laxity (time to its deadline less
the time it needs at full rate) under the policy's threshold makes it urgent. A
session with no known need gets the site's default requirement, never "no
deadline". Within a tier, the policy orders admission (least laxity first, by
default) after the minimum on and off times of rotation (:mod:`.rotation`: EVSEs
held on first, held off last); ties go by EVSE id, so the result is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter

import numpy as np
from numpy.typing import NDArray

from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.allocation import BindingKind
from depotctl.engine.rotation import admission_ranks
from depotctl.engine.structure import Structure
from depotctl.engine.waterfill import Floats, Ints

#: Codes of an EVSE's own cap, in ``Demands.cap_kind``.
CAP_KINDS = (
    BindingKind.CHARGER_LIMIT,
    BindingKind.VEHICLE_LIMIT,
    BindingKind.ENERGY_SATISFIED,
    BindingKind.PLANNED_RATE,
    BindingKind.OPERATOR_OVERRIDE,
)
OVERRIDE = CAP_KINDS.index(BindingKind.OPERATOR_OVERRIDE)
#: The tier of idle EVSEs' start allowances: after every session's.
IDLE_TIER = 1 << 30
_EVSE_ID, _ID = attrgetter("evse_id"), attrgetter("id")


@dataclass(frozen=True)
class Demands:
    """Per EVSE (structure order): whether a session asks for power, and its cap,
    minimum, tier, rank in its tier (held on, free, held off) and ordering key."""

    active: np.ndarray
    cap: Floats
    cap_kind: Ints
    floor: Floats
    tier: Ints
    order: Floats
    sessions: dict[int, Session]
    urgent: np.ndarray
    rank: Ints

    def in_priority_order(self, tier: int) -> Ints:
        members = np.flatnonzero(self.active & (self.tier == tier))
        # lexsort: last key first — the rank (held on, free, held off), the policy's
        # order, then the EVSE's position (its id)
        return members[np.lexsort((members, self.order[members], self.rank[members]))]


def demands_of(
    snapshot: Snapshot, structure: Structure, uncontrolled: NDArray[np.bool_]
) -> Demands:
    policy = snapshot.policy
    n = len(structure.evse_ids)
    sessions: dict[int, Session] = {}
    evse_index, skipped = structure.evse_index, uncontrolled.tolist()
    for session in sorted(sorted(snapshot.sessions, key=_ID), key=_EVSE_ID):  # no key tuples
        index = evse_index.get(session.evse_id)
        if index is None or index in sessions or skipped[index]:
            continue  # an unknown EVSE, a second session on one, or an uncontrollable charger
        sessions[index] = session
    idx = np.fromiter(sessions, dtype=np.intp, count=len(sessions))
    listed = list(sessions.values())
    at = snapshot.at.timestamp()
    deadlines, needed = _requirements(snapshot, listed)
    vehicle = np.array(
        [s.vehicle_max_current_a if s.vehicle_max_current_a is not None else np.inf for s in listed]
    )
    planned = np.array(
        [s.planned_rate_a if s.planned_rate_a is not None else np.inf for s in listed]
    )
    pclass = np.array([s.priority_class for s in listed], dtype=np.intp)
    if snapshot.overrides:
        held = [snapshot.overrides.get(s.evse_id) for s in listed]
        override = np.array([o.max_current_a if o is not None else np.inf for o in held])
        paused = np.array([o is not None and o.paused for o in held], dtype=bool)
    else:  # the common case: no operator holds any EVSE
        override, paused = np.full(len(listed), np.inf), np.zeros(len(listed), dtype=bool)
    rating = structure.evse_max_current[idx]
    rate_cap = np.minimum(rating, vehicle)
    rate_w = rate_cap * structure.evse_watts_per_amp[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        time_needed = np.where(rate_w > 0, needed / rate_w * 3600.0, np.inf)
    laxity = (deadlines - at) - time_needed
    urgent = (laxity < policy.urgency_threshold_s) & (planned >= rate_cap - 1e-6)  # plan holds it

    options = np.stack(
        [
            rating,
            vehicle,
            np.where(needed <= 0, 0.0, np.inf),
            np.where(urgent, np.inf, planned),
            override,
        ]
    )
    kind = np.argmin(options, axis=0) if len(listed) else np.zeros(0, dtype=np.intp)
    kind = np.where(paused, OVERRIDE, kind)  # a pause is the operator's, whatever else
    cap = np.maximum(options.min(axis=0), 0.0) if len(listed) else np.zeros(0)

    out_active = np.zeros(n, dtype=bool)
    out_active[idx] = True
    out = {
        "cap": np.zeros(n),
        "cap_kind": np.zeros(n, dtype=np.intp),
        "tier": np.zeros(n, dtype=np.intp),
        "order": np.zeros(n),
        "urgent": np.zeros(n, dtype=bool),
    }
    out["cap"][idx] = cap
    out["cap_kind"][idx] = kind
    out["tier"][idx] = pclass * 2 + np.where(urgent, 0, 1)
    out["order"][idx] = _order_key(policy.priority, listed, laxity, deadlines, needed)
    out["urgent"][idx] = urgent
    _start_allowances(snapshot, structure, uncontrolled, out_active, out, sessions)
    return Demands(
        active=out_active,
        cap=out["cap"],
        cap_kind=out["cap_kind"],
        floor=structure.evse_min_current.copy(),
        tier=out["tier"],
        order=out["order"],
        sessions=sessions,
        urgent=out["urgent"],
        rank=admission_ranks(snapshot, structure, sessions),
    )


def _start_allowances(
    snapshot: Snapshot,
    structure: Structure,
    uncontrolled: NDArray[np.bool_],
    active: NDArray[np.bool_],
    out: dict[str, NDArray[np.float64] | NDArray[np.intp] | NDArray[np.bool_]],
    sessions: dict[int, Session],
) -> None:
    """Idle EVSEs of controllable chargers ask, in the last tier, for their start
    allowance: what a vehicle plugging in may draw before the next cycle counts it —
    at most the charger's fallback (what its persistent default profile lets it start
    at), nothing while an operator pauses it, at most an operator's cap. A full node
    lowers it (to 0 A when it has no room for the minimum current), so no node is
    overloaded when a vehicle plugs in."""
    idle = ~uncontrolled.copy()
    if sessions:
        idle[np.fromiter(sessions, dtype=np.intp, count=len(sessions))] = False
    indices = np.flatnonzero(idle)
    if not indices.size:
        return
    fallback = structure.evse_fallback[indices]
    cap = np.minimum(fallback, structure.evse_max_current[indices])
    for position, index in enumerate(indices.tolist() if snapshot.overrides else ()):
        override = snapshot.overrides.get(structure.evse_ids[index])
        if override is not None:
            cap[position] = 0.0 if override.paused else min(cap[position], override.max_current_a)
    active[indices] = True
    out["cap"][indices] = np.maximum(cap, 0.0)
    out["tier"][indices] = IDLE_TIER


def _requirements(snapshot: Snapshot, sessions: list[Session]) -> tuple[Floats, Floats]:
    """Deadline (POSIX seconds) and energy still needed (Wh) of each session."""
    deadlines: list[float] = []
    needed: list[float] = []
    for session in sessions:  # lists, not an array's items one by one
        requirement = session.requirement
        if requirement is not None:
            deadlines.append(requirement.departure.timestamp())
            needed.append(requirement.energy_wh - session.energy_delivered_wh)
        else:
            deadlines.append(default_departure(snapshot, session.started).timestamp())
            needed.append(snapshot.policy.default_energy_wh - session.energy_delivered_wh)
    return np.array(deadlines, dtype=np.float64), np.maximum(
        np.array(needed, dtype=np.float64), 0.0
    )


def default_departure(snapshot: Snapshot, started: datetime) -> datetime:
    """The next occurrence of the policy's local departure time after ``started``."""
    departure_time = snapshot.policy.default_departure
    local = started.astimezone(departure_time.tzinfo or UTC)
    departure = local.replace(
        hour=departure_time.hour, minute=departure_time.minute, second=0, microsecond=0
    )
    if departure <= local:
        departure += timedelta(days=1)
    return departure


def _order_key(
    priority: str, sessions: list[Session], laxity: Floats, deadlines: Floats, needed: Floats
) -> Floats:
    if priority == "deadline":
        return deadlines
    if priority == "fifo":
        return np.array([s.started.timestamp() for s in sessions])
    if priority == "fair":
        return np.array([s.energy_delivered_wh for s in sessions])
    return laxity
