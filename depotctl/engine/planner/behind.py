"""Sessions behind their plan: urgency overrides the plan whenever following it would
leave a session short, so that following a plan never makes a night worse than the
allocator alone.

A session the plan still caps is compared with the plan from now on: when the energy
the plan gives it from now until it departs falls short of what it still needs by
more than a minute at its EVSE's maximum power, the plan no longer holds it (no
``planned_rate_a``): the allocator decides it alone, urgency included. A session the
plan meets follows it, however little laxity it has.

A plan falls behind in two ways, and one rule serves both the controller and the
replay: it was solved short (the room it had could not meet every departure, and it
chose who waits: the allocator, by urgency, may choose otherwise), or it landed late —
a solve runs on wall time while a simulated clock may run thousands of times faster,
and commands and meters lag in any case — so the energy it scheduled before it landed
never came, and its rate for the block now holds back a session that is behind it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from depotctl.domain.snapshot import Snapshot
from depotctl.engine.planner.inputs import session_need
from depotctl.engine.planner.plan import Plan

#: how far behind its plan a session may fall before the plan no longer holds it: this
#: long at its EVSE's maximum power
BEHIND_BY = timedelta(minutes=1)


def planned_wh(plan: Plan, session_id: str, at: datetime, until: datetime) -> float:
    """The energy (Wh) ``plan`` gives ``session_id`` from ``at`` until ``until`` (its
    departure, or the plan's horizon's end): 0 when it does not know the session."""
    planned = plan.sessions.get(session_id)
    blocks = plan.blocks
    first = blocks.index(at)
    if planned is None or first is None:
        return 0.0
    until = min(until, plan.departures.get(session_id, until))
    total = 0.0
    for block in range(first, blocks.count):
        start = blocks.start + blocks.length * block
        if start >= until:
            break
        seconds = (min(start + blocks.length, until) - max(start, at)).total_seconds()
        total += planned.power_w[block] * max(seconds, 0.0) / 3600.0
    return total


def behind_plan(snapshot: Snapshot, plan: Plan) -> frozenset[str]:
    """The sessions of ``snapshot`` that ``plan`` caps and leaves short (see the
    module)."""
    behind: set[str] = set()
    for session in snapshot.sessions:
        evse = snapshot.topology.evses.get(session.evse_id)
        if session.planned_rate_a is None or evse is None:
            continue
        need_wh, departure = session_need(snapshot, session)
        ahead_wh = planned_wh(plan, session.id, snapshot.at, departure)
        leeway_wh = evse.max_current_a * evse.watts_per_amp * BEHIND_BY.total_seconds() / 3600
        if need_wh - ahead_wh > leeway_wh:
            behind.add(session.id)
    return frozenset(behind)


def released_behind(snapshot: Snapshot, plan: Plan) -> Snapshot:
    """``snapshot`` (following ``plan``) with the sessions behind it released from its
    rate (see the module)."""
    behind = behind_plan(snapshot, plan)
    if not behind:
        return snapshot
    sessions = tuple(
        replace(session, planned_rate_a=None) if session.id in behind else session
        for session in snapshot.sessions
    )
    return replace(snapshot, sessions=sessions)
