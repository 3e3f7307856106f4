"""The planner's linear program solved: cases worked by hand, and properties of small
random instances (capacity per node and block, presence, energy met when it can be)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.engine.planner import (
    NodeCapacity,
    Plan,
    PlannedSession,
    PlanningProblem,
    PlanStatus,
    plan_blocks,
    solve,
)
from tests.engine.conftest import T0

HOUR = timedelta(hours=1)
#: HiGHS's primal feasibility tolerance is 1e-7 kW; this is far above it, far below a watt
WATT = 1e-3


def pair(capacity_w: float, *, need_wh: float = 10_000.0, hours: float = 2.0) -> PlanningProblem:
    """Two sessions of 10 kW on one node over two 1-hour blocks: dear, then cheap."""
    departure = T0 + timedelta(hours=hours)
    return PlanningProblem(
        blocks=plan_blocks(T0, 2 * HOUR, HOUR),
        sessions=(
            PlannedSession("a", "e1", need_wh, departure, 10_000.0),
            PlannedSession("b", "e2", 10_000.0, departure, 10_000.0),
        ),
        nodes=(NodeCapacity("site", (capacity_w, capacity_w), ("a", "b")),),
        price_per_kwh=(0.30, 0.10),
        carbon_kg_per_kwh=(0.0, 0.0),
    )


def block_total(plan: Plan, block: int) -> float:
    return sum(session.power_w[block] for session in plan.sessions.values())


def test_the_energy_goes_to_the_cheap_block() -> None:
    plan = solve(pair(30_000.0))
    assert plan.status is PlanStatus.OPTIMAL
    for session_id in ("a", "b"):
        assert plan.sessions[session_id].power_w == pytest.approx((0.0, 10_000.0), abs=WATT)
        assert plan.sessions[session_id].shortfall_wh == pytest.approx(0.0, abs=WATT)
    assert plan.objective == pytest.approx(2 * 10 * 0.10)
    assert plan.rate_at("a", T0 + timedelta(minutes=70)) == pytest.approx(10_000.0, abs=WATT)


def test_when_the_cheap_block_is_full_the_rest_goes_to_the_dear_one() -> None:
    # 20 kWh over a 15 kW node: 15 kWh cheap, 5 kWh dear
    plan = solve(pair(15_000.0))
    assert block_total(plan, 1) == pytest.approx(15_000.0, abs=WATT)
    assert block_total(plan, 0) == pytest.approx(5_000.0, abs=WATT)
    for session in plan.sessions.values():
        assert sum(session.power_w) == pytest.approx(10_000.0, abs=WATT)  # 1-hour blocks
    assert plan.objective == pytest.approx(15 * 0.10 + 5 * 0.30)


def test_a_session_that_cannot_be_met_gets_exactly_its_shortfall() -> None:
    # a asks 30 kWh of a 10 kW charger for 2 h: 10 kWh short, never infeasible
    plan = solve(pair(30_000.0, need_wh=30_000.0))
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.sessions["a"].power_w == pytest.approx((10_000.0, 10_000.0), abs=WATT)
    assert plan.sessions["a"].shortfall_wh == pytest.approx(10_000.0, abs=WATT)
    assert plan.sessions["b"].shortfall_wh == pytest.approx(0.0, abs=WATT)


def test_a_node_at_zero_shares_the_shortfall_and_plans_nothing() -> None:
    plan = solve(pair(0.0))
    assert block_total(plan, 0) == block_total(plan, 1) == pytest.approx(0.0, abs=WATT)
    assert plan.sessions["a"].shortfall_wh == pytest.approx(10_000.0, abs=WATT)


def test_carbon_priced_moves_the_energy_to_the_cleaner_block() -> None:
    base = pair(30_000.0)
    clean_first = PlanningProblem(
        blocks=base.blocks,
        sessions=base.sessions,
        nodes=base.nodes,
        price_per_kwh=(0.20, 0.10),
        carbon_kg_per_kwh=(0.05, 0.40),
        carbon_price_per_kg=1.0,  # 0.25 vs 0.50 per kWh
    )
    plan = solve(clean_first)
    assert plan.sessions["a"].power_w == pytest.approx((10_000.0, 0.0), abs=WATT)


def test_a_departure_inside_a_block_counts_only_the_hours_before_it() -> None:
    # departs at 1.5 h: at most 10 kW × 0.5 h in the cheap block, the rest dear
    plan = solve(pair(30_000.0, hours=1.5))
    assert plan.sessions["a"].power_w == pytest.approx((5_000.0, 10_000.0), abs=WATT)
    assert plan.rate_at("a", T0 + timedelta(minutes=89)) == pytest.approx(10_000.0, abs=WATT)
    assert plan.rate_at("a", T0 + timedelta(minutes=90)) == 0.0


def test_a_session_already_gone_gets_no_power_and_misses_all() -> None:
    plan = solve(pair(30_000.0, hours=0.0))
    assert plan.sessions["a"].power_w == (0.0, 0.0)
    assert plan.sessions["a"].shortfall_wh == pytest.approx(10_000.0, abs=WATT)


def test_a_current_row_weighs_each_session_by_its_amps_per_watt() -> None:
    # a 40 A row: a at 230 V single-phase (1/230 A/W), b line-to-line (1/400 A/W);
    # over a 50 kW power row; the cheap block takes what 40 A allows
    base = pair(50_000.0)
    amps = (1 / 230, 1 / 400)
    current = NodeCapacity("l1", (40.0, 40.0), ("a", "b"), amps)
    plan = solve(
        PlanningProblem(base.blocks, base.sessions, (*base.nodes, current), (0.30, 0.10), (0, 0))
    )
    cheap = [plan.sessions[s].power_w[1] for s in ("a", "b")]
    assert sum(w * p for w, p in zip(amps, cheap, strict=True)) == pytest.approx(40.0, abs=1e-4)
    # b draws fewer amps per watt, so the cheap block gives it all 10 kW first
    assert cheap[1] == pytest.approx(10_000.0, abs=WATT)
    assert cheap[0] == pytest.approx((40.0 - 10_000.0 / 400) * 230, abs=WATT)


def test_rate_at_outside_the_plan_has_no_answer() -> None:
    plan = solve(pair(30_000.0))
    assert plan.rate_at("a", T0 + 2 * HOUR) is None
    assert plan.rate_at("ghost", T0) is None
    failed = Plan(plan.blocks, {}, plan.departures, PlanStatus.FAILED, 0.0, detail="x")
    assert failed.rate_at("a", T0) is None


def test_an_empty_problem_solves_to_an_empty_plan() -> None:
    blocks = plan_blocks(T0, HOUR)
    empty = PlanningProblem(blocks, (), (), (0.1,) * 4, (0.0,) * 4)
    plan = solve(empty)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.sessions == {}
    assert plan.objective == 0.0


# --- properties of small random instances ------------------------------------------

QUARTER = timedelta(minutes=15)


@st.composite
def problems(draw: st.DrawFn, *, ample: bool = False) -> PlanningProblem:
    count = draw(st.integers(1, 6))
    blocks = plan_blocks(T0, QUARTER * count, QUARTER)
    n = draw(st.integers(1, 5))
    sessions = tuple(
        PlannedSession(
            id=f"s{i}",
            evse_id=f"e{i}",
            need_wh=draw(st.floats(0.0, 30_000.0)),
            departure=T0 + timedelta(minutes=draw(st.integers(-15, 15 * count + 30))),
            max_power_w=draw(st.floats(0.0, 50_000.0)),
        )
        for i in range(n)
    )
    ids = [s.id for s in sessions]
    capacity = st.floats(0.0, 80_000.0) | st.just(math.inf)
    groups = [ids, *draw(st.lists(st.lists(st.sampled_from(ids), unique=True), max_size=3))]
    # a row in W per W, or (ample aside) a current-like row: A/W of either sign
    weight = st.integers(-100, 100).map(lambda w: w / 23_000.0)
    nodes = tuple(
        NodeCapacity(
            f"n{k}",
            tuple(math.inf if ample else draw(capacity) for _ in range(count)),
            tuple(sorted(members)),
            None if ample else draw(st.none() | st.just(tuple(draw(weight) for _ in members))),
        )
        for k, members in enumerate(groups)
    )
    return PlanningProblem(
        blocks=blocks,
        sessions=sessions,
        nodes=nodes,
        price_per_kwh=tuple(draw(st.floats(-0.1, 1.0)) for _ in range(count)),
        carbon_kg_per_kwh=tuple(draw(st.floats(0.0, 0.8)) for _ in range(count)),
        carbon_price_per_kg=draw(st.floats(0.0, 0.5)),
    )


@given(problems())
def test_the_plan_keeps_every_node_within_its_capacity_in_every_block(
    problem: PlanningProblem,
) -> None:
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    for node in problem.nodes:
        weights = node.weight_of()
        for block, capacity in enumerate(node.capacity_w):
            load = sum(
                w * plan.sessions[s].power_w[block]
                for s, w in zip(node.session_ids, weights, strict=True)
            )
            # HiGHS's tolerance is 1e-7 kW in the row scaled to its largest weight
            slack = 1e-4 * max(map(abs, weights), default=1.0)
            assert load <= max(capacity, 0.0) + slack, (node.node_id, block)


@given(problems())
def test_no_session_gets_power_outside_its_presence_or_above_its_maximum(
    problem: PlanningProblem,
) -> None:
    plan = solve(problem)
    for session in problem.sessions:
        planned = plan.sessions[session.id]
        for start, power in zip(problem.blocks.starts(), planned.power_w, strict=True):
            if start >= session.departure:
                assert power == 0.0
            assert 0.0 <= power <= session.max_power_w + WATT
        # what is delivered and what is missed make up the need, never more
        hours = problem.blocks.hours_before(session.departure)
        delivered = sum(p * h for p, h in zip(planned.power_w, hours, strict=True))
        assert delivered + planned.shortfall_wh == pytest.approx(session.need_wh, abs=0.01)


@given(problems(ample=True))
def test_a_session_that_can_be_met_alone_under_ample_capacity_is_met(
    problem: PlanningProblem,
) -> None:
    plan = solve(problem)
    for session in problem.sessions:
        reachable = session.max_power_w * sum(problem.blocks.hours_before(session.departure))
        if session.need_wh <= reachable:
            assert plan.sessions[session.id].shortfall_wh == pytest.approx(0.0, abs=0.01)
