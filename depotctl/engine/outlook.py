"""Each session's outlook: the energy it can expect by its departure if the limit
its EVSE has now held until then, the shortfall, and the constraint that causes it.

There is no horizon planner yet, so the outlook is honest about what it assumes:
the energy delivered so far, plus what the EVSE's current limit delivers between
now and the departure (amps per line × the EVSE's watts per amp × hours), capped
at the requirement. A paused session (limit 0) expects only what it has. A
session without a known need is measured against the site's default requirement,
as the allocator treats it. A session whose departure has come expects what it
has and is ``overdue``. A shortfall is caused by the EVSE's binding constraint in
the allocation; without a shortfall there is no constraint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from depotctl.domain.sessions import RequirementSource, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.allocation import Allocation, Binding
from depotctl.engine.demand import default_departure

#: A session less than this short of its requirement counts as on track (energy
#: meters count whole Wh; floating point must not turn "just enough" into a miss).
TOLERANCE_WH = 1.0


@dataclass(frozen=True, slots=True)
class SessionOutlook:
    """One session at the allocation's instant, in Wh and aware UTC datetimes.

    ``expected_wh`` is what it will have at ``departure`` if ``limit_a`` holds;
    ``shortfall_wh`` what will still be missing then (0 when ``on_track``);
    ``complete_at`` when it would have its requirement at ``limit_a`` (the
    allocation's instant when it already has it; None when the limit is 0);
    ``constraint`` the EVSE's binding constraint when there is a shortfall."""

    session_id: str
    evse_id: str
    required_wh: float
    delivered_wh: float
    departure: datetime
    requirement_source: RequirementSource
    limit_a: float
    limit_w: float
    expected_wh: float
    shortfall_wh: float
    on_track: bool
    complete_at: datetime | None
    overdue: bool
    constraint: Binding | None


def session_outlooks(snapshot: Snapshot, allocation: Allocation) -> dict[str, SessionOutlook]:
    """The outlook of every session the allocation decided for, by session id.

    A session on an EVSE the site does not have, or a second session on one EVSE,
    has none (the allocator ignores it too). A session on an uncontrollable charger
    is measured at the draw the allocation assumes for it."""
    outlooks: dict[str, SessionOutlook] = {}
    seen: set[str] = set()
    for session in sorted(snapshot.sessions, key=lambda s: (s.evse_id, s.id)):
        spec = snapshot.topology.evses.get(session.evse_id)
        if spec is None or session.evse_id in seen or session.evse_id not in allocation.evses:
            continue
        seen.add(session.evse_id)
        evse = allocation.evses[session.evse_id]
        if evse.session_id not in (None, session.id):
            continue
        limit_a = max(evse.limit_a, 0.0)
        outlooks[session.id] = outlook_of(
            session,
            snapshot,
            at=allocation.at,
            limit_a=limit_a,
            watts_per_amp=spec.watts_per_amp,
            binding=evse.binding,
        )
    return outlooks


def outlook_of(
    session: Session,
    snapshot: Snapshot,
    *,
    at: datetime,
    limit_a: float,
    watts_per_amp: float,
    binding: Binding | None,
) -> SessionOutlook:
    """One session's outlook at ``at`` if ``limit_a`` holds until its departure."""
    required_wh, departure, source = requirement_of(session, snapshot)
    delivered_wh = session.energy_delivered_wh
    remaining_wh = max(required_wh - delivered_wh, 0.0)
    rate_w = limit_a * watts_per_amp
    overdue = at >= departure
    hours = 0.0 if overdue else (departure - at).total_seconds() / 3600.0
    delivering_wh = rate_w * hours
    if remaining_wh - delivering_wh < TOLERANCE_WH:
        expected_wh, shortfall_wh = max(delivered_wh, required_wh), 0.0
    else:
        expected_wh, shortfall_wh = delivered_wh + delivering_wh, remaining_wh - delivering_wh
    on_track = shortfall_wh == 0.0
    return SessionOutlook(
        session_id=session.id,
        evse_id=session.evse_id,
        required_wh=required_wh,
        delivered_wh=delivered_wh,
        departure=departure,
        requirement_source=source,
        limit_a=limit_a,
        limit_w=rate_w,
        expected_wh=expected_wh,
        shortfall_wh=shortfall_wh,
        on_track=on_track,
        complete_at=_complete_at(at, remaining_wh, rate_w),
        overdue=overdue,
        constraint=None if on_track else binding,
    )


def requirement_of(
    session: Session, snapshot: Snapshot
) -> tuple[float, datetime, RequirementSource]:
    """The energy a session must have in all (Wh), by when (UTC), and where that came
    from: its own requirement, else the site's default requirement policy."""
    if session.requirement is not None:
        requirement = session.requirement
        return requirement.energy_wh, requirement.departure.astimezone(UTC), requirement.source
    departure = default_departure(snapshot, session.started).astimezone(UTC)
    return snapshot.policy.default_energy_wh, departure, RequirementSource.DEFAULT


def _complete_at(at: datetime, remaining_wh: float, rate_w: float) -> datetime | None:
    if remaining_wh <= 0:
        return at
    if rate_w <= 0:
        return None
    seconds = remaining_wh / rate_w * 3600.0
    if not math.isfinite(seconds):
        return None
    try:
        return at + timedelta(seconds=seconds)
    except OverflowError:  # beyond the calendar: never, in practice
        return None
