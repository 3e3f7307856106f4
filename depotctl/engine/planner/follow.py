"""Following a plan: each planned session's rate for the block now, as the allocator's
``planned_rate_a`` cap, and the note that says why (``explain`` reads it).

A session the plan does not know (it arrived after the solve), and every session
when the plan has no answer for now, keeps no planned rate: the allocator alone
decides it. Urgency and every limit still override the plan in the allocator.

A rate below the EVSE's minimum current, which the allocator would pause, is pooled
with the block's others into whole minimums (:mod:`.minimums`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from depotctl.domain.plan_notes import PlanNote
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.planner.minimums import IDLE_W, PlannedRate, rates_a
from depotctl.engine.planner.plan import Plan
from depotctl.engine.planner.problem import PlannedSession, PlanningProblem


def followed(snapshot: Snapshot, problem: PlanningProblem, plan: Plan) -> Snapshot:
    """``snapshot`` with each planned session's rate now (amps) and its note."""
    at = snapshot.at
    planned = {session.id: session for session in problem.sessions}
    rates: list[PlannedRate] = []
    notes: dict[str, PlanNote] = {}
    for session in snapshot.sessions:
        watts = plan.rate_at(session.id, at)
        known = planned.get(session.id)
        evse = snapshot.topology.evses.get(session.evse_id)
        if watts is None or known is None or evse is None or known.evse_id != evse.id:
            continue
        rates.append(PlannedRate(session.id, watts, evse, known.departure))
        notes[session.id] = plan_note(problem, plan, known, at)
    caps = rates_a(rates)
    sessions = tuple(
        replace(session, planned_rate_a=caps[session.id]) if session.id in caps else session
        for session in snapshot.sessions
    )
    return replace(snapshot, sessions=sessions, plan_notes=notes)


def plan_note(
    problem: PlanningProblem, plan: Plan, session: PlannedSession, at: datetime
) -> PlanNote:
    """Why ``session`` has the plan's rate at ``at``: the price now, the first later
    block the plan charges it in at a lower price, its departure and slack."""
    blocks = problem.blocks
    now = blocks.index(at)
    if now is None:
        raise ValueError(f"planner: {at.isoformat()} is outside the plan's horizon")
    prices = problem.price_per_kwh
    power = plan.sessions[session.id].power_w
    cheaper = next(
        (b for b in range(now + 1, blocks.count) if power[b] > IDLE_W and prices[b] < prices[now]),
        None,
    )
    needed_h = session.need_wh / session.max_power_w if session.max_power_w > 0 else 0.0
    return PlanNote(
        session_id=session.id,
        price_now=prices[now],
        cheaper_price=None if cheaper is None else prices[cheaper],
        cheaper_from=None if cheaper is None else blocks.start + blocks.length * cheaper,
        departure=session.departure,
        slack_h=(session.departure - at).total_seconds() / 3600.0 - needed_h,
    )
