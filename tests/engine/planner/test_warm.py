"""Warm starts: a replan starts from the previous plan's basis, mapped by session,
node, battery and block instant, and reaches the same optimum."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from depotctl.engine.planner import (
    NodeCapacity,
    PlannedSession,
    PlanningProblem,
    plan_blocks,
    solve,
)
from depotctl.engine.planner.demand_charge import DemandTerm
from depotctl.engine.planner.plan import PlanStatus
from depotctl.engine.planner.program import build_program
from depotctl.engine.planner.storage import PlannedStorage
from depotctl.engine.planner.warm import starting_basis
from tests.engine.conftest import T0

QUARTER = timedelta(minutes=15)


def depot(sessions: int, start_block: int = 0) -> PlanningProblem:
    """``sessions`` sessions (departing 3–6 h in) on two boards under a 60 kW site,
    a cheap night, a battery and a demand term, over 24 quarter-hours from
    ``start_block`` blocks after T0."""
    start = T0 + QUARTER * start_block
    blocks = plan_blocks(start, QUARTER * 24)
    planned = tuple(
        PlannedSession(f"s{i}", f"e{i}", 20_000.0 + 1_000 * i, T0 + QUARTER * (12 + i), 11_000.0)
        for i in range(sessions)
    )
    ids = tuple(s.id for s in planned)
    prices = tuple(0.30 if (start_block + b) % 24 < 8 else 0.10 for b in range(24))
    return PlanningProblem(
        blocks=blocks,
        sessions=planned,
        nodes=(
            NodeCapacity("site", (60_000.0,) * 24, ids),
            NodeCapacity("db-1", (30_000.0,) * 24, ids[::2]),
            NodeCapacity("db-2", (30_000.0,) * 24, ids[1::2]),
        ),
        price_per_kwh=prices,
        carbon_kg_per_kwh=(0.2,) * 24,
        base_load_w=(5_000.0,) * 24,
        demand=(DemandTerm(2.0, tuple(range(24)), 20_000.0),),
        storage=(
            PlannedStorage("bess", ("site",), 20_000.0, 50_000.0, 0.1, 0.9, 20_000.0, 20_000.0),
        ),
    )


def test_a_warm_solve_of_the_same_problem_takes_no_iteration() -> None:
    problem = depot(8)
    cold = solve(problem)
    assert cold.iterations > 0
    warm = solve(problem, warm=cold)
    assert warm.iterations == 0
    assert warm.objective == pytest.approx(cold.objective)


def test_after_an_arrival_the_warm_solve_reaches_the_cold_optimum_sooner() -> None:
    before = solve(depot(7))
    after = depot(8)
    cold = solve(after)
    warm = solve(after, warm=before)
    assert warm.status is PlanStatus.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.iterations < cold.iterations


def test_a_block_later_the_basis_moves_with_the_instants() -> None:
    before = solve(depot(8))
    later = depot(8, start_block=1)
    cold = solve(later)
    warm = solve(later, warm=before)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.iterations < cold.iterations
    # session s0's power column of the new block 0 is the old block 1's
    assert before.warm is not None
    program = build_program(later)
    basis = starting_basis(before.warm, later, program)
    assert basis is not None
    old_program = build_program(depot(8))
    statuses = before.warm.statuses()
    assert statuses is not None
    old = int(statuses[0][int(old_program.first_column[0]) + 1])
    assert int(basis.col_status[int(program.first_column[0])]) == old


def test_a_price_turned_negative_reaches_the_cold_optimum_warm() -> None:
    before = solve(depot(8))
    problem = depot(8)
    negative = dataclasses.replace(
        problem, price_per_kwh=(*problem.price_per_kwh[:10], -0.5, *problem.price_per_kwh[11:])
    )
    warm = solve(negative, warm=before)
    assert warm.status is PlanStatus.OPTIMAL
    assert warm.objective == pytest.approx(solve(negative).objective, rel=1e-9)


def test_horizons_that_do_not_line_up_start_cold() -> None:
    before = solve(depot(8))
    assert before.warm is not None
    shifted = dataclasses.replace(
        depot(8), blocks=plan_blocks(T0 + timedelta(minutes=5), QUARTER * 24)
    )
    assert starting_basis(before.warm, shifted, build_program(shifted)) is None
    assert solve(shifted, warm=before).status is PlanStatus.OPTIMAL


def test_plans_compare_and_print_without_their_basis() -> None:
    plan = solve(depot(3))
    other = solve(depot(4))
    assert plan.warm is not None and other.warm is not None
    # the same plan with another basis is equal (numpy arrays are never compared)
    assert plan == dataclasses.replace(plan, warm=other.warm)
    assert plan != other
    assert "warm" not in repr(plan)
