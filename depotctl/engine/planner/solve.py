"""Solving the planning problem with HiGHS into a :class:`Plan`."""

from __future__ import annotations

import highspy
import numpy as np

from depotctl.engine.planner.plan import Plan, PlanStatus, SessionPlan
from depotctl.engine.planner.problem import PlanningProblem
from depotctl.engine.planner.program import build_program

#: an empty model (no sessions) is solved: there is nothing to plan
_SOLVED = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kModelEmpty)


def solve(problem: PlanningProblem) -> Plan:
    """The cheapest plan of ``problem``; ``failed`` when HiGHS finds no optimum. The
    solve time is HiGHS's own run time (no clock is read here)."""
    program = build_program(problem)
    departures = {session.id: session.departure for session in problem.sessions}
    highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ bare
    highs.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_ = program.num_col
    lp.num_row_ = program.num_row
    lp.col_cost_ = program.col_cost
    lp.col_lower_ = program.col_lower
    lp.col_upper_ = program.col_upper
    lp.row_lower_ = program.row_lower
    lp.row_upper_ = program.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = program.num_col
    lp.a_matrix_.num_row_ = program.num_row
    lp.a_matrix_.start_ = program.start
    lp.a_matrix_.index_ = program.index
    lp.a_matrix_.value_ = program.value
    highs.passModel(lp)
    highs.run()
    status = highs.getModelStatus()
    seconds = float(highs.getRunTime())
    if status not in _SOLVED:
        return Plan(
            blocks=problem.blocks,
            sessions={},
            departures=departures,
            status=PlanStatus.FAILED,
            solve_seconds=seconds,
            detail=highs.modelStatusToString(status),
        )
    columns = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    count = problem.blocks.count
    plans: dict[str, SessionPlan] = {}
    for i, session in enumerate(problem.sessions):
        first = int(program.first_column[i])
        n = int(program.present[i])
        power = np.zeros(count)
        power[:n] = np.clip(columns[first : first + n], 0.0, None) * 1000.0
        shortfall = max(0.0, float(columns[program.shortfall_column + i])) * 1000.0
        plans[session.id] = SessionPlan(
            session_id=session.id,
            power_w=tuple(float(p) for p in power),
            shortfall_wh=shortfall,
        )
    return Plan(
        blocks=problem.blocks,
        sessions=plans,
        departures=departures,
        status=PlanStatus.OPTIMAL,
        solve_seconds=seconds,
        objective=float(highs.getInfo().objective_function_value) if problem.sessions else 0.0,
    )
