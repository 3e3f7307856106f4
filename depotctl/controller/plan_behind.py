"""Sessions behind their plan: released from its rate, so that following a plan never
makes a night worse than the allocator alone.

A plan counts on the energy it schedules from the instant it was solved. It lands
later — a solve runs on wall time while a simulated clock may run thousands of times
faster (at ×3000 a tenth of a second is five simulated minutes), and commands and
meters lag in any case — so the energy it scheduled before it landed may never have
come. Its rate for the block now then holds a session that is behind it: a plan that
finished a bus in the block it was solved in gives it 0 in the block it lands in
("no cheaper block"), and the next plan, landing late again, does the same.

Each cycle, on the controller's clock, a session the plan still caps is compared
with the plan from now on: when the energy the plan gives it from now until it
departs falls short of what it still needs by more than a minute at its maximum
power, the plan no longer holds it (no ``planned_rate_a``): the allocator decides it
alone, urgency included, until a plan that counts what it has lands.
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


def released_behind(snapshot: Snapshot, plan: Plan) -> Snapshot:
    """``snapshot`` (following ``plan``) with the sessions behind it released from its
    rate (see the module)."""
    sessions = []
    changed = False
    for session in snapshot.sessions:
        evse = snapshot.topology.evses.get(session.evse_id)
        if session.planned_rate_a is not None and evse is not None:
            need_wh, departure = session_need(snapshot, session)
            ahead_wh = planned_wh(plan, session.id, snapshot.at, departure)
            leeway_wh = evse.max_current_a * evse.watts_per_amp * BEHIND_BY.total_seconds() / 3600
            if need_wh - ahead_wh > leeway_wh:
                session = replace(session, planned_rate_a=None)
                changed = True
        sessions.append(session)
    return replace(snapshot, sessions=tuple(sessions)) if changed else snapshot
