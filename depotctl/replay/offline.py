"""The offline optimum of a replay: the planner's linear program with every session
known in advance — the best any online schedule could do on the planner's model.

One problem over the whole replay, in blocks of the replay's step from its start (so
arrivals and departures, moved to the step grid as the replay moves them, fall on
block boundaries): every session with its whole demand by its departure, built as the
controller builds it (:func:`depotctl.engine.planner.inputs.planning_problem`: the
allocator's constraint rows, the tariff's prices, the carbon intensity), plus a row
per session that holds its power at zero before its arrival, and the tariff's demand
charges over the blocks they hold in. The plan's draws are checked block by block by
the replay's own exact phasor check (:mod:`depotctl.replay.loads`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from depotctl.domain.planning import PlannerSettings
from depotctl.domain.policy import Policy
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import Topology
from depotctl.engine.planner import (
    DemandTerm,
    NodeCapacity,
    Plan,
    PlannedSession,
    PlanningProblem,
    PlanStatus,
    solve,
)
from depotctl.engine.planner.inputs import CostSignals, planning_problem
from depotctl.recordings import ReplaySession
from depotctl.replay.loads import Violation, node_bounds, node_loads, violations
from depotctl.replay.steps import as_session, on_step_grid


@dataclass(frozen=True)
class OfflineOptimum:
    """The plan with every session known, and what it delivers: energy per session
    (Wh), the site's energy per block, and the exact check's violations."""

    problem: PlanningProblem
    plan: Plan
    sessions: tuple[ReplaySession, ...]
    delivered_wh: dict[str, float]
    site_wh: tuple[float, ...]
    violations: tuple[Violation, ...]

    @property
    def demand_wh(self) -> float:
        return sum(s.demand_wh for s in self.sessions)

    @property
    def delivered_share(self) -> float:
        demand = self.demand_wh
        return sum(self.delivered_wh.values()) / demand if demand > 0 else 1.0


def offline_optimum(
    topology: Topology,
    policy: Policy,
    sessions: Sequence[ReplaySession],
    start: datetime,
    end: datetime,
    step: timedelta,
    signals: CostSignals,
) -> OfflineOptimum:
    """The offline optimum of replaying ``sessions`` from ``start`` to ``end`` in steps
    of ``step`` (see the module); raises ``ValueError`` when its plan fails."""
    gridded = tuple(on_step_grid(s, topology, start, step) for s in sessions)
    snapshot = Snapshot(
        at=start,
        topology=topology,
        policy=policy,
        sessions=tuple(as_session(s, 0.0) for s in gridded),
    )
    settings = PlannerSettings(enabled=True, horizon=max(end - start, step), block=step)
    problem = _every_session(planning_problem(snapshot, signals, settings), gridded)
    blocks = problem.blocks
    starts = blocks.starts()
    by_id = {s.id: s for s in gridded}
    arrivals = tuple(
        NodeCapacity(
            node_id=f"arrival {planned.id}",
            capacity_w=tuple(
                planned.max_power_w if at >= by_id[planned.id].arrival else 0.0 for at in starts
            ),
            session_ids=(planned.id,),
        )
        for planned in problem.sessions
    )
    terms: list[DemandTerm] = []
    if signals.tariff is not None:
        zone = ZoneInfo(topology.timezone)
        for charge in signals.tariff.demand_charges:
            held = tuple(
                b
                for b, at in enumerate(starts)
                if charge in signals.tariff.at(at.astimezone(zone)).demand
            )
            if held:
                terms.append(DemandTerm(charge.price, held))
    problem = replace(problem, nodes=problem.nodes + arrivals, demand=tuple(terms))
    plan = solve(problem)
    if plan.status is not PlanStatus.OPTIMAL:
        raise ValueError(f"the offline optimum's plan failed: {plan.detail}")
    hours = blocks.hours
    delivered = {
        s.id: sum(p * hours for p in plan.sessions[s.id].power_w) if s.id in plan.sessions else 0.0
        for s in gridded
    }
    site_wh = tuple(
        sum(planned.power_w[b] for planned in plan.sessions.values()) * hours
        for b in range(blocks.count)
    )
    bounds = node_bounds(topology, (), start)
    found: list[Violation] = []
    for b, at in enumerate(starts):
        draws = {
            by_id[session_id].evse_id: planned.power_w[b]
            / topology.evses[by_id[session_id].evse_id].watts_per_amp
            for session_id, planned in plan.sessions.items()
            if planned.power_w[b] > 0.0
        }
        found.extend(violations(node_loads(topology, draws), bounds, at))
    return OfflineOptimum(problem, plan, gridded, delivered, site_wh, tuple(found))


def _every_session(problem: PlanningProblem, sessions: Sequence[ReplaySession]) -> PlanningProblem:
    """``problem`` with the sessions it left out because an earlier one holds their
    EVSE (the controller plans one session per EVSE, the one plugged in now): each
    with its whole demand, its EVSE's maximum power and the weights of its EVSE's
    planned session in every row."""
    planned = {p.id for p in problem.sessions}
    on_evse = {p.evse_id: p for p in problem.sessions}
    later = [s for s in sessions if s.id not in planned and s.evse_id in on_evse]
    if not later:
        return problem
    added = tuple(
        PlannedSession(
            id=s.id,
            evse_id=s.evse_id,
            need_wh=s.demand_wh,
            departure=s.departure,
            max_power_w=on_evse[s.evse_id].max_power_w,
        )
        for s in later
    )
    nodes = []
    for node in problem.nodes:
        weight = dict(zip(node.session_ids, node.weight_of(), strict=True))
        extra = [
            (s.id, weight[on_evse[s.evse_id].id]) for s in later if on_evse[s.evse_id].id in weight
        ]
        nodes.append(
            replace(
                node,
                session_ids=node.session_ids + tuple(i for i, _ in extra),
                weights=node.weight_of() + tuple(w for _, w in extra),
            )
        )
    return replace(problem, sessions=problem.sessions + added, nodes=tuple(nodes))
