"""Solving the planning problem with HiGHS into a :class:`Plan`."""

from __future__ import annotations

from datetime import datetime

import highspy
import numpy as np
from highspy._core import _Highs

from depotctl.engine.planner.plan import (
    Plan,
    PlanCosts,
    PlanStatus,
    SessionPlan,
    StoragePlan,
)
from depotctl.engine.planner.problem import PlanningProblem
from depotctl.engine.planner.program import (
    Bools,
    Floats,
    LinearProgram,
    binding_rows,
    build_program,
)
from depotctl.engine.planner.warm import WarmStart, starting_basis

#: an empty model (no sessions) is solved: there is nothing to plan
_SOLVED = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kModelEmpty)
#: what HiGHS can only say of this program by a numerical slip (it is never infeasible)
_MISJUDGED = (
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)


def solve(problem: PlanningProblem, warm: Plan | None = None) -> Plan:
    """The cheapest plan of ``problem``; ``failed`` when HiGHS finds no optimum. The
    solve time is HiGHS's own run time (no clock is read here).

    ``warm``, a previous plan (of an earlier horizon of the same site, the blocks of
    the same length), is where the solver starts: its basis, each part mapped onto
    the new program by session, node, battery and block instant (see
    :mod:`~depotctl.engine.planner.warm`). The answer is the same optimum, sooner."""
    program = build_program(problem)
    held = binding_rows(program)
    departures = {session.id: session.departure for session in problem.sessions}
    highs = _quiet_highs()
    if _pass(highs, program, held) != highspy.HighsStatus.kOk:
        return _failed(problem, departures, 0.0, "HiGHS refused the program (passModel)")
    if warm is not None and warm.warm is not None:
        basis = starting_basis(warm.warm, problem, program, held)
        if basis is not None:
            highs.setBasis(basis)
    highs.run()
    status = highs.getModelStatus()
    if status in _MISJUDGED:
        # feasible by construction (see the program): HiGHS's presolve misjudges rows
        # of a few mW; again without it
        highs.clearSolver()
        highs.setOptionValue("presolve", "off")
        highs.run()
        status = highs.getModelStatus()
    seconds = float(highs.getRunTime())
    if status not in _SOLVED:
        return _failed(problem, departures, seconds, highs.modelStatusToString(status))
    columns = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    if columns.size != program.num_col:  # an empty model has no solution to read
        columns = np.zeros(program.num_col)
    return Plan(
        blocks=problem.blocks,
        sessions=_sessions(problem, program, columns),
        departures=departures,
        status=PlanStatus.OPTIMAL,
        solve_seconds=seconds,
        objective=float(program.col_cost @ columns),
        storage=_storage(problem, program, columns),
        import_w=_kilo(columns[program.import_column : program.peak_column]),
        demand_peak_w=_kilo(
            columns[program.peak_column : program.peak_column + len(problem.demand)]
        ),
        costs=_costs(problem, program, columns),
        warm=WarmStart.of(highs.getBasis(), problem, program, held),
        iterations=int(highs.getInfo().simplex_iteration_count),
    )


def _failed(
    problem: PlanningProblem, departures: dict[str, datetime], seconds: float, detail: str
) -> Plan:
    """The empty plan of a solve that gave no optimum, and why."""
    return Plan(
        blocks=problem.blocks,
        sessions={},
        departures=departures,
        status=PlanStatus.FAILED,
        solve_seconds=seconds,
        detail=detail,
    )


def _quiet_highs() -> _Highs:
    """A HiGHS instance that prints nothing, its banner included. highspy's ``Highs``
    enables its callbacks in its constructor, which prints the banner before any
    option can be set; the core class it wraps (``_Highs``, which highspy exports) prints nothing once ``output_flag`` is off, set first."""
    highs = _Highs()
    highs.setOptionValue("output_flag", False)
    return highs


def _pass(highs: _Highs, program: LinearProgram, held: Bools) -> highspy.HighsStatus:
    """Hand ``program`` to ``highs`` straight from its arrays, only its rows ``held``
    (:func:`~depotctl.engine.planner.program.binding_rows`, renumbered in order): one
    copy each (a ``HighsLp`` would be a second). HiGHS takes each column's start
    without the final one, and an integrality per column (0: continuous)."""
    entries = held[program.index]
    before = np.concatenate([[0], np.cumsum(entries)])  # entries held before each one
    index = (np.cumsum(held) - 1)[program.index[entries]]
    return highs.passModel(
        program.num_col,
        int(np.count_nonzero(held)),
        int(index.size),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        program.col_cost,
        program.col_lower,
        program.col_upper,
        program.row_lower[held],
        program.row_upper[held],
        before[program.start[:-1]].astype(np.int32),
        index.astype(np.int32),
        program.value[entries],
        np.zeros(program.num_col, dtype=np.int32),
    )


def _kilo(values: Floats) -> tuple[float, ...]:
    """kW (the program's unit) as W."""
    return tuple(float(v) * 1000.0 for v in values)


def _sessions(
    problem: PlanningProblem, program: LinearProgram, columns: Floats
) -> dict[str, SessionPlan]:
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
            power_w=tuple(power.tolist()),
            shortfall_wh=shortfall,
        )
    return plans


def _storage(
    problem: PlanningProblem, program: LinearProgram, columns: Floats
) -> dict[str, StoragePlan]:
    count = problem.blocks.count
    plans: dict[str, StoragePlan] = {}
    for battery, first in zip(problem.storage, program.storage_column, strict=True):
        charge = np.clip(columns[first : first + count], 0.0, None)
        discharge = np.clip(columns[first + count : first + 2 * count], 0.0, None)
        plans[battery.id] = StoragePlan(
            storage_id=battery.id,
            setpoint_w=_kilo(charge - discharge),
            energy_wh=_kilo(columns[first + 2 * count : first + 3 * count]),
        )
    return plans


def _costs(problem: PlanningProblem, program: LinearProgram, columns: Floats) -> PlanCosts:
    hours = problem.blocks.hours
    imported_kwh = columns[program.import_column : program.peak_column] * hours
    carbon_kg = float(np.dot(problem.carbon_kg_per_kwh, imported_kwh))
    peaks = columns[program.peak_column : program.peak_column + len(problem.demand)]
    missed = columns[program.shortfall_column : program.import_column]
    finals = [columns[first + 3 * problem.blocks.count] for first in program.storage_column]
    overload = program.overload_column
    return PlanCosts(
        energy=float(np.dot(problem.price_per_kwh, imported_kwh)),
        demand=float(sum(t.rate_per_kw * p for t, p in zip(problem.demand, peaks, strict=True))),
        carbon=problem.carbon_price_per_kg * carbon_kg,
        shortfall=problem.penalty_per_kwh() * float(missed.sum())
        + problem.storage_penalty_per_kwh() * float(sum(finals))
        + float(program.col_cost[overload:] @ columns[overload:]),
        carbon_kg=carbon_kg,
    )
