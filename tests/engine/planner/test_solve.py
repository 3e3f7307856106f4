"""The planner's linear program solved: cases worked by hand, and properties of small
random instances (capacity per node and block, presence, energy met when it can be)."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.engine.planner import (
    DemandTerm,
    NodeCapacity,
    Plan,
    PlannedSession,
    PlannedStorage,
    PlanningProblem,
    PlanStatus,
    plan_blocks,
    solve,
)
from tests.engine.conftest import T0

HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)
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
    assert plan.costs is not None
    assert plan.costs.energy == pytest.approx(2 * 10 * 0.10)
    assert plan.import_w == pytest.approx((0.0, 20_000.0), abs=WATT)
    assert plan.rate_at("a", T0 + timedelta(minutes=70)) == pytest.approx(10_000.0, abs=WATT)


def test_when_the_cheap_block_is_full_the_rest_goes_to_the_dear_one() -> None:
    # 20 kWh over a 15 kW node: 15 kWh cheap, 5 kWh dear
    plan = solve(pair(15_000.0))
    assert block_total(plan, 1) == pytest.approx(15_000.0, abs=WATT)
    assert block_total(plan, 0) == pytest.approx(5_000.0, abs=WATT)
    for session in plan.sessions.values():
        assert sum(session.power_w) == pytest.approx(10_000.0, abs=WATT)  # 1-hour blocks
    assert plan.costs is not None
    assert plan.costs.energy == pytest.approx(15 * 0.10 + 5 * 0.30)


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


def test_the_block_now_counts_only_its_time_from_now() -> None:
    # planned at 0:45 into the dear first hour: 10 kW × 0.25 h left there, not 10 kWh;
    # departing at 1:30, a asks 15 kWh: 2.5 dear, 5 cheap, 7.5 short (not 0 and 5 short)
    problem = dataclasses.replace(
        pair(30_000.0, need_wh=15_000.0, hours=1.5), now=T0 + timedelta(minutes=45)
    )
    plan = solve(problem)
    assert plan.sessions["a"].power_w == pytest.approx((10_000.0, 10_000.0), abs=WATT)
    assert plan.sessions["a"].shortfall_wh == pytest.approx(7_500.0, abs=1.0)
    assert plan.sessions["b"].shortfall_wh == pytest.approx(2_500.0, abs=1.0)
    assert plan.import_w[0] == pytest.approx(2 * 10_000.0 * 0.25, abs=WATT)


def test_a_need_of_a_few_microwatt_hours_on_a_closed_node_is_missed_not_infeasible() -> None:
    # found by the properties: a shortfall bounded by so small a need tripped HiGHS
    tiny = PlannedSession("a", "e1", 6.1e-5, T0 + timedelta(minutes=1), 1.0)
    blocks = plan_blocks(T0, QUARTER, QUARTER)
    plan = solve(
        PlanningProblem(blocks, (tiny,), (NodeCapacity("n", (0.0,), ("a",)),), (0.0,), (0.0,))
    )
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.sessions["a"].shortfall_wh == pytest.approx(6.1e-5, abs=1e-6)


def test_a_row_a_few_milliwatts_past_its_limit_still_solves() -> None:
    # found by the properties: HiGHS's presolve called this infeasible
    departure = T0 + timedelta(minutes=16)
    sessions = (
        PlannedSession("s1", "e1", 1.0, departure, 1.0),
        PlannedSession("s2", "e2", 9.0, departure, 31.0),
    )
    row = NodeCapacity(
        "n0", (math.inf, -0.0625, math.inf, math.inf), ("s1", "s2"), (1 / 23_000, 47 / 23_000)
    )
    idle = PlannedStorage("bess", ("n0",), 0.0, 1_000.0, 0.0, 0.0, 1.0, 1.0)
    blocks = plan_blocks(T0, 4 * QUARTER, QUARTER)
    problem = PlanningProblem(blocks, sessions, (row,), (0.0,) * 4, (0.0,) * 4, storage=(idle,))
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.sessions["s2"].power_w[1] == pytest.approx(0.0, abs=WATT)


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


def test_a_row_past_its_limit_is_met_by_sessions_of_the_other_sign() -> None:
    # other load leaves -10 A on a facet where a counts + and b counts −: b must
    # draw 2.3 kW more than a in each block, so a gets at most 10 − 4.6 kWh
    base = pair(50_000.0)
    facet = NodeCapacity("xfmr", (-10.0, -10.0), ("a", "b"), (1 / 230, -1 / 230))
    plan = solve(dataclasses.replace(base, nodes=(*base.nodes, facet)))
    for block in (0, 1):
        a, b = (plan.sessions[s].power_w[block] for s in ("a", "b"))
        assert (a - b) / 230 <= -10.0 + 1e-4
    assert plan.sessions["a"].shortfall_wh == pytest.approx(4_600.0, abs=0.01)
    assert plan.sessions["b"].shortfall_wh == pytest.approx(0.0, abs=0.01)


def test_a_row_past_its_limit_that_no_session_can_relieve_plans_them_idle() -> None:
    base = pair(50_000.0)
    over = NodeCapacity("db", (-3.0, 5.0), ("a",), (1 / 230,))
    plan = solve(dataclasses.replace(base, nodes=(*base.nodes, over)))
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.sessions["a"].power_w[0] == pytest.approx(0.0, abs=WATT)
    assert plan.sessions["a"].power_w[1] == pytest.approx(5 * 230, abs=WATT)


def test_a_first_solve_in_a_fresh_process_prints_nothing() -> None:
    # HiGHS prints a banner on a solver's first use unless silenced before it: the
    # CLI's --format json must stay clean. The child's own pipes are read, not this
    # worker's descriptors, which other tests' threads may write to meanwhile.
    script = (
        "from tests.engine.planner.test_solve import pair\n"
        "from depotctl.engine.planner import solve\n"
        "assert solve(pair(15_000.0)).status.value == 'optimal'\n"
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert (child.stdout, child.stderr) == ("", "")


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


@st.composite
def problems(draw: st.DrawFn, *, ample: bool = False, assets: bool = False) -> PlanningProblem:
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
    capacity = st.floats(-20_000.0, 80_000.0) | st.just(math.inf)
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
    prices = tuple(draw(st.floats(-0.1, 1.0)) for _ in range(count))
    carbon = tuple(draw(st.floats(0.0, 0.8)) for _ in range(count))
    if not assets:
        return PlanningProblem(blocks, sessions, nodes, prices, carbon, draw(st.floats(0.0, 0.5)))
    power = st.floats(0.0, 40_000.0)
    storage: tuple[PlannedStorage, ...] = ()
    if draw(st.booleans()):
        capacity_wh = draw(st.floats(1_000.0, 100_000.0))
        low = draw(st.floats(0.0, 0.5))
        storage = (
            PlannedStorage(
                id="bess",
                node_ids=("n0",),
                energy_wh=draw(st.floats(0.0, capacity_wh)),
                capacity_wh=capacity_wh,
                min_soc=low,
                max_soc=draw(st.floats(low, 1.0)),
                max_charge_w=draw(power),
                max_discharge_w=draw(power),
                charge_efficiency=draw(st.floats(0.5, 1.0)),
                discharge_efficiency=draw(st.floats(0.5, 1.0)),
                final_energy_wh=draw(st.none() | st.floats(0.0, capacity_wh)),
            ),
        )
    demand = tuple(
        DemandTerm(
            draw(st.floats(0.0, 30.0)),
            tuple(sorted(draw(st.sets(st.integers(0, count - 1), min_size=1)))),
            draw(power),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    return PlanningProblem(
        blocks=blocks,
        sessions=sessions,
        nodes=nodes,
        price_per_kwh=prices,
        carbon_kg_per_kwh=carbon,
        carbon_price_per_kg=draw(st.floats(0.0, 0.5)),
        base_load_w=tuple(draw(power) for _ in range(count)),
        generation_w=tuple(draw(power) for _ in range(count)),
        demand=demand,
        storage=storage,
    )


@given(problems(assets=True))
def test_the_plan_keeps_every_node_within_its_capacity_in_every_block(
    problem: PlanningProblem,
) -> None:
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    for node in problem.nodes:
        weights = node.weight_of()
        batteries = [b for b in problem.storage if node.node_id in b.node_ids]
        for block, capacity in enumerate(node.capacity_w):
            load = sum(
                w * plan.sessions[s].power_w[block]
                for s, w in zip(node.session_ids, weights, strict=True)
            ) + sum(plan.storage[b.id].setpoint_w[block] for b in batteries)
            # HiGHS's tolerance is 1e-7 kW in the row scaled to its largest weight
            slack = 1e-4 * max(map(abs, weights), default=1.0)
            # (a row below zero is met where sessions of the other sign can; else the
            # plan comes as close as it can: never past zero)
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


@settings(max_examples=50)
@given(problems(assets=True))
def test_the_import_covers_the_net_load_and_each_battery_keeps_its_books(
    problem: PlanningProblem,
) -> None:
    plan = solve(problem)
    hours = problem.blocks.hours
    for block, start in enumerate(problem.blocks.starts()):
        sessions = sum(
            plan.sessions[s.id].power_w[block]
            * min(hours, max(0.0, (s.departure - start).total_seconds() / 3600))
            / hours
            for s in problem.sessions
        )
        batteries = sum(b.setpoint_w[block] for b in plan.storage.values())
        net = sessions + batteries + problem.base_load()[block] - problem.generation()[block]
        imported = plan.import_w[block]
        assert imported >= net - 0.01
        if problem.energy_cost_per_kwh()[block] >= 0.0:
            assert imported >= -0.01
        for term, peak in zip(problem.demand, plan.demand_peak_w, strict=True):
            assert peak >= term.peak_so_far_w - 0.01
            if block in term.blocks:
                assert peak >= imported - 0.01
    for battery in problem.storage:
        planned = plan.storage[battery.id]
        low, high = battery.energy_bounds_wh()
        held = battery.energy_wh
        for setpoint, energy in zip(planned.setpoint_w, planned.energy_wh, strict=True):
            assert -battery.max_discharge_w - WATT <= setpoint <= battery.max_charge_w + WATT
            # a net setpoint bounds the stored energy's change: at most η_c of a charge,
            # at least 1/η_d of a discharge
            change = energy - held
            if setpoint >= 0.0:
                assert change <= battery.charge_efficiency * setpoint * hours + 0.01
            else:
                assert change <= setpoint * hours / battery.discharge_efficiency + 0.01
            assert low - 0.01 <= energy <= high + 0.01
            held = energy


@given(problems(ample=True))
def test_a_session_that_can_be_met_alone_under_ample_capacity_is_met(
    problem: PlanningProblem,
) -> None:
    plan = solve(problem)
    for session in problem.sessions:
        reachable = session.max_power_w * sum(problem.blocks.hours_before(session.departure))
        if session.need_wh <= reachable:
            assert plan.sessions[session.id].shortfall_wh == pytest.approx(0.0, abs=0.01)


# --- the site's import, the tie-break, demand charges, batteries ----------------------


def single(
    *,
    prices: tuple[float, float] = (0.10, 0.10),
    need_wh: float = 10_000.0,
    capacity_w: float = 30_000.0,
    **fields: object,
) -> PlanningProblem:
    """One 10 kW session over two 1-hour blocks, its node ``capacity_w``."""
    values: dict[str, object] = {
        "blocks": plan_blocks(T0, 2 * HOUR, HOUR),
        "sessions": (PlannedSession("a", "e1", need_wh, T0 + 2 * HOUR, 10_000.0),),
        "nodes": (NodeCapacity("site", (capacity_w, capacity_w), ("a",)),),
        "price_per_kwh": prices,
        "carbon_kg_per_kwh": (0.0, 0.0),
    }
    values.update(fields)
    return PlanningProblem(**values)  # type: ignore[arg-type]


def test_equal_prices_charge_as_early_as_the_limits_allow() -> None:
    plan = solve(single())
    assert plan.sessions["a"].power_w == pytest.approx((10_000.0, 0.0), abs=WATT)
    # the node allows 6 kW: 6 kWh first, the rest after
    plan = solve(single(capacity_w=6_000.0))
    assert plan.sessions["a"].power_w == pytest.approx((6_000.0, 4_000.0), abs=WATT)


def test_equal_prices_charge_the_earliest_departure_first_without_gaps() -> None:
    # 10 kW of room for three sessions, equal prices over five 1-hour blocks: any split
    # of the first four blocks' room costs the same energy; the tie-break orders them by
    # departure, each in one run from the block the one before it leaves (the earliest
    # is listed last, so the sessions' order alone cannot give this answer)
    sessions = (
        PlannedSession("late", "e1", 10_000.0, T0 + 5 * HOUR, 10_000.0),
        PlannedSession("middle", "e2", 10_000.0, T0 + 4 * HOUR, 10_000.0),
        PlannedSession("early", "e3", 20_000.0, T0 + 3 * HOUR, 10_000.0),
    )
    plan = solve(
        PlanningProblem(
            blocks=plan_blocks(T0, 5 * HOUR, HOUR),
            sessions=sessions,
            nodes=(NodeCapacity("site", (10_000.0,) * 5, ("late", "middle", "early")),),
            price_per_kwh=(0.10,) * 5,
            carbon_kg_per_kwh=(0.0,) * 5,
        )
    )
    assert plan.status is PlanStatus.OPTIMAL
    on, off = 10_000.0, 0.0
    assert plan.sessions["early"].power_w == pytest.approx((on, on, off, off, off), abs=WATT)
    assert plan.sessions["middle"].power_w == pytest.approx((off, off, on, off, off), abs=WATT)
    assert plan.sessions["late"].power_w == pytest.approx((off, off, off, on, off), abs=WATT)


def test_the_tie_break_never_outweighs_a_real_price_difference() -> None:
    # a hundredth of a cent cheaper later: the energy waits for it
    problem = single(prices=(0.1001, 0.1))
    assert problem.early_per_kwh() == pytest.approx(0.00005)
    plan = solve(problem)
    assert plan.sessions["a"].power_w == pytest.approx((0.0, 10_000.0), abs=WATT)


def test_the_import_counts_base_load_less_generation_and_export_earns_nothing() -> None:
    # 3 kW of other load; 20 kW of sun in block 1: the session charges in the sun and
    # the import that block is 0, not −13 kW
    plan = solve(single(base_load_w=(3_000.0, 3_000.0), generation_w=(0.0, 20_000.0)))
    assert plan.sessions["a"].power_w == pytest.approx((0.0, 10_000.0), abs=WATT)
    assert plan.import_w == pytest.approx((3_000.0, 0.0), abs=WATT)
    assert plan.costs is not None
    assert plan.costs.energy == pytest.approx(3 * 0.10)


def test_a_departure_mid_block_counts_its_average_in_the_import() -> None:
    # departs at 1.5 h: 10 kW for half of block 1 is 5 kW on the meter
    problem = single(
        prices=(0.30, 0.10),
        sessions=(PlannedSession("a", "e1", 10_000.0, T0 + 1.5 * HOUR, 10_000.0),),
    )
    plan = solve(problem)
    assert plan.sessions["a"].power_w == pytest.approx((5_000.0, 10_000.0), abs=WATT)
    assert plan.import_w == pytest.approx((5_000.0, 5_000.0), abs=WATT)


def test_a_demand_charge_flattens_the_peak_down_to_the_peak_so_far() -> None:
    flat = solve(single(demand=(DemandTerm(10.0, (0, 1)),)))
    assert flat.sessions["a"].power_w == pytest.approx((5_000.0, 5_000.0), abs=WATT)
    assert flat.demand_peak_w == pytest.approx((5_000.0,), abs=WATT)
    assert flat.costs is not None
    assert flat.costs.demand == pytest.approx(50.0)
    # 8 kW already metered this window: up to 8 kW is free, and early wins
    paid = solve(single(demand=(DemandTerm(10.0, (0, 1), peak_so_far_w=8_000.0),)))
    assert paid.sessions["a"].power_w == pytest.approx((8_000.0, 2_000.0), abs=WATT)
    assert paid.demand_peak_w == pytest.approx((8_000.0,), abs=WATT)
    # a term on block 1 only leaves block 0 free
    late = solve(single(demand=(DemandTerm(10.0, (1,)),)))
    assert late.sessions["a"].power_w == pytest.approx((10_000.0, 0.0), abs=WATT)


#: 10 of 20 kWh held, 2–18 kWh usable, 10 kW either way at 90 %, to end at 10 kWh
BESS = PlannedStorage("bess", ("site",), 10_000.0, 20_000.0, 0.1, 0.9, 10_000.0, 10_000.0)


def battery(**fields: Any) -> PlannedStorage:
    defaults = {"charge_efficiency": 0.9, "discharge_efficiency": 0.9, "final_energy_wh": 10e3}
    return dataclasses.replace(BESS, **{**defaults, **fields})


def test_a_battery_shifts_the_dear_block_to_the_cheap_one_and_ends_where_asked() -> None:
    # 10 kW of other load; dear then cheap. Out: 10 → 2 kWh (7.2 kW delivered at 90 %);
    # back: 8 kWh stored takes 8.89 kW at 90 %
    problem = single(
        prices=(0.30, 0.10),
        need_wh=0.0,
        base_load_w=(10_000.0, 10_000.0),
        storage=(battery(),),
    )
    plan = solve(problem)
    planned = plan.storage["bess"]
    assert planned.setpoint_w == pytest.approx((-7_200.0, 8_000 / 0.9), abs=WATT)
    assert planned.energy_wh == pytest.approx((2_000.0, 10_000.0), abs=WATT)
    assert plan.import_w == pytest.approx((2_800.0, 10_000.0 + 8_000 / 0.9), abs=WATT)
    assert plan.setpoint_at("bess", T0 + 1.5 * HOUR) == pytest.approx(8_000 / 0.9, abs=WATT)
    assert plan.setpoint_at("ghost", T0) is None


def test_a_battery_loads_its_path_like_a_session() -> None:
    # the site row allows 5 kW: the battery recharges 4.5 kWh, so it may only give
    # 4.5 kWh out of its store (4.05 kW delivered) and still end at 10 kWh
    problem = single(
        prices=(0.30, 0.10),
        need_wh=0.0,
        capacity_w=5_000.0,
        base_load_w=(10_000.0, 10_000.0),
        storage=(battery(),),
    )
    plan = solve(problem)
    assert plan.storage["bess"].setpoint_w == pytest.approx((-4_050.0, 5_000.0), abs=WATT)
    assert plan.storage["bess"].energy_wh[-1] == pytest.approx(10_000.0, abs=WATT)


def test_a_battery_short_of_its_final_energy_is_a_cost_not_a_failure() -> None:
    # empty below its minimum and 1 kW to charge: it cannot reach 10 kWh in 2 h
    problem = single(
        need_wh=0.0,
        storage=(battery(energy_wh=500.0, max_charge_w=1_000.0),),
    )
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.storage["bess"].energy_wh == pytest.approx((1_400.0, 2_300.0), abs=WATT)
    assert plan.costs is not None
    assert plan.costs.shortfall == pytest.approx(7.7 * problem.storage_penalty_per_kwh())


def test_a_battery_in_the_block_now_counts_only_its_time_from_now() -> None:
    # planned at 0:45 into the dear first hour: 10 kW out for 0.25 h takes 2.78 kWh
    # from the store (not 8 kWh over a whole hour): the 2.5 kWh the base load draws
    # from now on, so the block imports nothing from now; the cheap hour puts the
    # 2.78 kWh back at 90 %
    problem = single(
        prices=(0.30, 0.10),
        need_wh=0.0,
        base_load_w=(10_000.0, 10_000.0),
        storage=(battery(),),
        now=T0 + timedelta(minutes=45),
    )
    plan = solve(problem)
    taken = 10_000.0 * 0.25 / 0.9
    planned = plan.storage["bess"]
    assert planned.setpoint_w == pytest.approx((-10_000.0, taken / 0.9), abs=WATT)
    assert planned.energy_wh == pytest.approx((10_000.0 - taken, 10_000.0), abs=WATT)
    assert plan.import_w[0] == pytest.approx(0.0, abs=WATT)
