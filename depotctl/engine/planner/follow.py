"""Following a plan: each planned session's rate for the block now, as the allocator's
``planned_rate_a`` cap, and the note that says why (``explain`` reads it).

A session the plan does not know (it arrived after the solve), and every session
when the plan has no answer for now, keeps no planned rate: the allocator alone
decides it. Every limit still overrides the plan in the allocator. Urgency does for a
session the plan charges at its full rate (it goes first) or does not know; a session
the plan holds below it follows the plan even when urgent, as long as the plan meets
it — one the plan leaves short is released from its rate by
:func:`~depotctl.engine.planner.behind.released_behind`, which the controller and the
replay both apply after :func:`followed`.

A rate below the EVSE's minimum current, which the allocator would pause, is pooled
with the block's others into whole minimums, unless the plan finishes the session
within the block: then it is the minimum (:mod:`.minimums`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from depotctl.domain.plan_notes import PlanNote
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.planner.inputs import session_need
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
        need_wh, departure = session_need(snapshot, session)
        finishing = _finishing(problem, at, watts, need_wh, departure)
        rates.append(PlannedRate(session.id, watts, evse, known.departure, finishing))
        # the note gives the real departure: the plan's may be held back (.hold_back)
        notes[session.id] = plan_note(problem, plan, replace(known, departure=departure), at)
    caps = rates_a(rates)
    sessions = tuple(
        replace(session, planned_rate_a=caps[session.id]) if session.id in caps else session
        for session in snapshot.sessions
    )
    return replace(snapshot, sessions=sessions, plan_notes=notes)


def _finishing(
    problem: PlanningProblem, at: datetime, watts: float, need_wh: float, departure: datetime
) -> bool:
    """Whether ``watts`` from ``at`` to the end of the block now (or the session's
    ``departure``) gives the session the ``need_wh`` it still needs."""
    blocks = problem.blocks
    now = blocks.index(at)
    if now is None or watts <= IDLE_W:
        return False
    end = min(blocks.start + blocks.length * (now + 1), departure)
    return watts * max(0.0, (end - at).total_seconds()) / 3600.0 >= need_wh


def plan_note(
    problem: PlanningProblem, plan: Plan, session: PlannedSession, at: datetime
) -> PlanNote:
    """Why ``session`` has the plan's rate at ``at``: the price now, the first later
    block the plan charges it in at a lower price, its departure and slack — each
    price the one the plan pays at the margin (:func:`solar_blocks`: 0 on forecast
    solar)."""
    blocks = problem.blocks
    now = blocks.index(at)
    if now is None:
        raise ValueError(f"planner: {at.isoformat()} is outside the plan's horizon")
    solar = solar_blocks(problem, plan)
    prices = tuple(0.0 if sun else p for sun, p in zip(solar, problem.price_per_kwh, strict=True))
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
        grid_price_now=problem.price_per_kwh[now] if solar[now] else None,
        cheaper_solar=cheaper is not None and solar[cheaper],
    )


def solar_blocks(problem: PlanningProblem, plan: Plan) -> tuple[bool, ...]:
    """Per block, whether the plan's margin there is forecast solar: a block of a
    positive price with generation, where the plan imports nothing (its load within
    the generation; export earns nothing, so more load there costs nothing)."""
    generation = problem.generation()
    imported = plan.import_w or (math.inf,) * problem.blocks.count
    return tuple(
        price > 0.0 and sun > IDLE_W and grid <= IDLE_W
        for price, sun, grid in zip(problem.price_per_kwh, generation, imported, strict=True)
    )
