"""Each session's readiness forecast on hand-built plans (figures worked out by hand):
met, short behind a node full from a given block, short under an envelope or an
offline source's fallback, short by its own maximum, and without a plan; the
``departure_at_risk`` condition; and one plan solved by HiGHS read back."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.domain.alerts import AlertKind, Subject, SubjectKind
from depotctl.domain.envelopes import Envelope, SourceHealth
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.readiness import Basis, Readiness, ReadinessCause
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import NodeLimits
from depotctl.engine import allocate
from depotctl.engine.planner import (
    NodeCapacity,
    Plan,
    PlannedSession,
    PlanningProblem,
    PlanStatus,
    SessionPlan,
    node_capacities,
    plan_blocks,
    solve,
)
from depotctl.engine.planner.inputs import CostSignals, planning_problem
from depotctl.engine.readiness import departures_at_risk, forecasts, planned_readiness
from tests.engine.conftest import T0, Depot, session, snapshot
from tests.engine.planner.test_capacities import cut
from tests.engine.test_outlook import two_on_forty_amps

#: 32 A per line on a three-phase 230 V EVSE
MAX_W = 32 * 690.0
#: 2 h in quarter-hours from T0 (09:00 UTC)
BLOCKS = plan_blocks(T0, timedelta(hours=2))
DEPARTS = T0 + BLOCKS.length * BLOCKS.count  # 11:00


def depot(*, source: bool = True) -> Depot:
    """db-1 (50 kW) under gc with chargers a and b; envelope source dso on db-1 (its
    site fallback 20 kW) unless ``source`` is False."""
    built = Depot().node("gc", current_a=400.0).node("db-1", "gc", import_w=50_000.0)
    built = built.charger("a", "db-1").charger("b", "db-1")
    return built.source("dso", "db-1", fallback=NodeLimits(import_w=20_000.0)) if source else built


def problem_of(
    sessions: Sequence[PlannedSession], db1_w: Sequence[float], gc_w: float = 276_000.0
) -> PlanningProblem:
    ids = tuple(s.id for s in sessions)
    return PlanningProblem(
        blocks=BLOCKS,
        sessions=tuple(sessions),
        nodes=(
            NodeCapacity("gc", (gc_w,) * BLOCKS.count, ids),
            NodeCapacity("db-1", tuple(db1_w), ids),
        ),
        price_per_kwh=(0.2,) * BLOCKS.count,
        carbon_kg_per_kwh=(0.0,) * BLOCKS.count,
    )


def planned(evse_id: str, need_kwh: float, max_w: float = MAX_W) -> PlannedSession:
    return PlannedSession(f"s-{evse_id}", evse_id, need_kwh * 1000, DEPARTS, max_w)


def plan_of(problem: PlanningProblem, power_w: dict[str, Sequence[float]]) -> Plan:
    """A plan written by hand: each session's power per block, its shortfall the rest."""
    hours = BLOCKS.hours
    sessions = {
        s.id: SessionPlan(
            s.id, tuple(power_w[s.id]), max(s.need_wh - sum(power_w[s.id]) * hours, 0.0)
        )
        for s in problem.sessions
    }
    departures = {s.id: s.departure for s in problem.sessions}
    return Plan(BLOCKS, sessions, departures, PlanStatus.OPTIMAL, solve_seconds=0.0)


def read(snap: Snapshot, plan: Plan, problem: PlanningProblem, session_id: str) -> Readiness:
    found = {s.id: s for s in snap.sessions}[session_id]
    forecast = planned_readiness(found, snap, plan, problem)
    assert forecast is not None
    return forecast


def test_a_plan_that_delivers_the_need_is_met() -> None:
    """10 kWh by 11:00; the plan gives 10 kW for the first hour: met."""
    snap = snapshot(depot().topology(), sessions=(session("a/1", energy_kwh=10.0, hours_left=2),))
    problem = problem_of([planned("a/1", 10.0)], [50_000.0] * 8)
    plan = plan_of(problem, {"s-a/1": [10_000.0] * 4 + [0.0] * 4})
    forecast = read(snap, plan, problem, "s-a/1")
    assert (forecast.basis, forecast.short_wh, forecast.cause) == (Basis.PLAN, 0.0, None)
    assert forecast.expected_wh == pytest.approx(10_000.0)
    assert forecast.words(UTC) == "a/1 (session s-a/1) will have its 10.0 kWh by 11:00 (plan)"


def test_only_the_rest_of_the_plan_counts_from_now() -> None:
    """Planned at 09:00, read at 09:30 with 4 kWh delivered: 4 + 10 kW × 0.5 h + 5 kW ×
    1 h = 14 kWh of 20, 6 kWh short — the half hour already gone is not counted again."""
    now = T0 + timedelta(minutes=30)
    s = session("a/1", energy_kwh=20.0, hours_left=2, delivered_kwh=4.0)
    snap = replace(snapshot(depot().topology(), sessions=(s,)), at=now)
    problem = problem_of([planned("a/1", 20.0)], [50_000.0] * 8)
    plan = plan_of(problem, {"s-a/1": [10_000.0] * 4 + [5_000.0] * 4})
    forecast = read(snap, plan, problem, "s-a/1")
    assert forecast.expected_wh == pytest.approx(4_000 + 10_000 * 0.5 + 5_000 * 1.0)
    assert forecast.short_wh == pytest.approx(6_000.0)
    assert forecast.at == now


def test_short_behind_a_node_full_from_a_given_block() -> None:
    """db-1 has 50 kW until 10:00, then 20 kW. Both sessions get their 22.08 kW
    maximum for the first hour, then 10 kW each: 32.08 kWh of 40, 7.92 kWh short,
    because db-1 is full from 10:00."""
    sessions = (session("a/1", energy_kwh=40.0, hours_left=2), session("b/1", hours_left=2))
    snap = snapshot(depot(source=False).topology(), sessions=sessions)
    problem = problem_of(
        [planned("a/1", 40.0), planned("b/1", 40.0)], [50_000.0] * 4 + [20_000.0] * 4
    )
    power = [MAX_W] * 4 + [10_000.0] * 4
    plan = plan_of(problem, {"s-a/1": power, "s-b/1": power})
    forecast = read(snap, plan, problem, "s-a/1")
    assert forecast.short_wh == pytest.approx(40_000 - MAX_W - 10_000)
    assert forecast.cause is not None
    assert (forecast.cause.kind, forecast.cause.ref) == ("node_limit", "db-1")
    assert forecast.cause.since == T0 + timedelta(hours=1)
    assert forecast.words(UTC) == (
        "a/1 (session s-a/1) will be 7.9 kWh short at 11:00: db-1 is full from 10:00 (plan)"
    )
    # the controller's words: ISO instants in UTC, for clients to put in site time
    assert "short at 2024-03-04T11:00:00Z: db-1 is full from 2024-03-04T10:00:00Z" in (
        forecast.words()
    )


def test_the_lowest_full_node_is_named() -> None:
    """gc and db-1 are both full from the first block: db-1 (fewer sessions) is named."""
    sessions = (session("a/1", energy_kwh=40.0, hours_left=2),)
    snap = snapshot(depot().topology(), sessions=sessions)
    problem = problem_of([planned("a/1", 40.0)], [15_000.0] * 8, gc_w=15_000.0)
    plan = plan_of(problem, {"s-a/1": [15_000.0] * 8})
    forecast = read(snap, plan, problem, "s-a/1")
    assert forecast.cause is not None and forecast.cause.node == "db-1"


def test_a_current_row_counts_each_session_by_its_weight() -> None:
    """A 40 A row in amps (1/690 A per W of a three-phase 230 V EVSE): 13.8 kW each
    is 20 A each, so the row is full from the first block."""
    sessions = (session("a/1", energy_kwh=40.0, hours_left=2), session("b/1", hours_left=2))
    snap = snapshot(depot(source=False).topology(), sessions=sessions)
    ids = ("s-a/1", "s-b/1")
    amps = NodeCapacity("db-1", (40.0,) * 8, ids, weights=(1 / 690.0, 1 / 690.0))
    problem = problem_of([planned("a/1", 40.0), planned("b/1", 40.0)], [50e3] * 8)
    problem = replace(problem, nodes=(amps,))
    plan = plan_of(problem, {"s-a/1": [13_800.0] * 8, "s-b/1": [13_800.0] * 8})
    forecast = read(snap, plan, problem, "s-a/1")
    assert forecast.short_wh == pytest.approx(40_000 - 2 * 13_800)
    assert forecast.cause is not None
    assert (forecast.cause.kind, forecast.cause.node, forecast.cause.since) == (
        "node_limit",
        "db-1",
        T0,
    )


def envelope_cut(limit_w: float) -> Envelope:
    """dso's envelope E-cut on db-1, 10:00 to 12:00."""
    return cut("E-cut", (60, 180), limit_w, target="db-1")


def under_the_cut(*, a_kwh: float) -> Snapshot:
    """a/1 needing ``a_kwh`` and b/1 50 kWh by 11:00, with E-cut at 20 kW from 10:00,
    its source online."""
    online = {"dso": SourceHealth("dso", T0, offline_after_s=300.0)}
    sessions = (session("a/1", energy_kwh=a_kwh, hours_left=2), session("b/1", hours_left=2))
    cut_at = (envelope_cut(20_000.0),)
    return snapshot(depot().topology(), sessions=sessions, envelopes=cut_at, sources=online)


def assert_held_by_the_cut(forecast: Readiness) -> None:
    """Short because db-1 is full under E-cut from 10:00."""
    cause = forecast.cause
    assert cause is not None
    assert (cause.kind, cause.ref, cause.node, cause.since) == (
        "envelope",
        "E-cut",
        "db-1",
        T0 + timedelta(hours=1),
    )


def snapshot_problem(snap: Snapshot, *sessions: PlannedSession) -> PlanningProblem:
    """The problem of ``sessions`` with the snapshot's own capacities."""
    flat = (0.2,) * BLOCKS.count, (0.0,) * BLOCKS.count
    return PlanningProblem(BLOCKS, sessions, node_capacities(snap, BLOCKS), *flat)


def test_short_under_an_envelope_names_the_envelope() -> None:
    """db-1's own limit is 50 kW; envelope E-cut holds it at 20 kW from 10:00."""
    snap = under_the_cut(a_kwh=40.0)
    problem = snapshot_problem(snap, planned("a/1", 40.0), planned("b/1", 40.0))
    power = [MAX_W] * 4 + [10_000.0] * 4
    plan = plan_of(problem, {"s-a/1": power, "s-b/1": power})
    forecast = read(snap, plan, problem, "s-a/1")
    assert_held_by_the_cut(forecast)
    assert forecast.cause.words(UTC, forecast.at) == (
        "db-1 is full under envelope E-cut from 10:00"
    )


def test_short_under_an_offline_sources_fallback_names_the_source() -> None:
    """The source is offline: its site fallback (20 kW) holds db-1 from now."""
    sessions = (session("a/1", energy_kwh=40.0, hours_left=2), session("b/1", hours_left=2))
    snap = snapshot(depot().topology(), sessions=sessions)  # never heard from: offline
    problem = snapshot_problem(snap, planned("a/1", 40.0), planned("b/1", 40.0))
    plan = plan_of(problem, {"s-a/1": [10_000.0] * 8, "s-b/1": [10_000.0] * 8})
    forecast = read(snap, plan, problem, "s-a/1")
    assert forecast.short_wh == pytest.approx(20_000.0)
    assert forecast.cause is not None
    assert (forecast.cause.kind, forecast.cause.ref, forecast.cause.since) == (
        "fallback",
        "dso",
        T0,
    )
    assert forecast.cause.words(UTC, T0) == (
        "db-1 is full under the site's fallback for offline source dso now"
    )


@pytest.mark.parametrize(
    ("vehicle_a", "kind", "said"),
    [
        (None, "charger_limit", "its EVSE's maximum power is not enough"),
        (16.0, "vehicle_limit", "the vehicle's maximum power is not enough"),
    ],
)
def test_short_at_its_own_maximum_throughout_blames_the_charger_or_the_vehicle(
    vehicle_a: float | None, kind: str, said: str
) -> None:
    """50 kWh in 2 h at most 22.08 kW (11.04 kW with a 16 A vehicle): short, with no
    node full."""
    max_w = MAX_W if vehicle_a is None else vehicle_a * 690.0
    s = session("a/1", energy_kwh=50.0, hours_left=2, vehicle_max_current_a=vehicle_a)
    snap = snapshot(depot().topology(), sessions=(s,))
    problem = problem_of([planned("a/1", 50.0, max_w)], [50_000.0] * 8)
    plan = plan_of(problem, {"s-a/1": [max_w] * 8})
    forecast = read(snap, plan, problem, "s-a/1")
    assert forecast.short_wh == pytest.approx(50_000 - 2 * max_w)
    assert forecast.cause is not None
    assert (forecast.cause.kind, forecast.cause.ref) == (kind, "a/1")
    assert forecast.words(UTC).endswith(f"at 11:00: {said} (plan)")


def test_without_a_plan_the_present_limit_is_held_until_departure() -> None:
    """A 40 A board shared by two: 20 A = 13.8 kW each for 1 h, 36.2 kWh short of 50;
    db-1 is full now."""
    sessions = (session("a/1", hours_left=1.0), session("b/1", hours_left=1.0))
    snap = snapshot(two_on_forty_amps(), sessions=sessions)
    forecast = forecasts(snap, allocate(snap))["s-a/1"]
    assert forecast.basis is Basis.PRESENT_LIMIT
    assert forecast.short_wh == pytest.approx(50_000 - 13_800)
    assert forecast.cause is not None
    assert (forecast.cause.kind, forecast.cause.node, forecast.cause.since) == (
        "node_limit",
        "db-1",
        T0,
    )
    assert forecast.words(UTC) == (
        "a/1 (session s-a/1) will be 36.2 kWh short at 10:00: db-1 is full now (present limit)"
    )


def test_a_plan_that_does_not_cover_a_session_leaves_it_on_its_present_limit() -> None:
    sessions = (session("a/1", energy_kwh=10.0, hours_left=2), session("b/1", hours_left=2))
    snap = snapshot(depot().topology(), sessions=sessions)
    problem = problem_of([planned("a/1", 10.0)], [50_000.0] * 8)
    plan = plan_of(problem, {"s-a/1": [10_000.0] * 4 + [0.0] * 4})
    found = forecasts(snap, allocate(snap), plan, problem)
    assert found["s-a/1"].basis is Basis.PLAN
    assert found["s-b/1"].basis is Basis.PRESENT_LIMIT
    failed = Plan(BLOCKS, {}, {}, PlanStatus.FAILED, 0.0, detail="infeasible")
    assert {f.basis for f in forecasts(snap, allocate(snap), failed, problem).values()} == {
        Basis.PRESENT_LIMIT
    }


def test_a_solved_plan_reads_back_its_own_shortfall_and_the_full_board() -> None:
    """HiGHS on the depot with E-cut: whatever it plans, the forecast's shortfall is
    the plan's, and the cause is db-1 under E-cut from 10:00 (before it, there is room
    for both at their maximum)."""
    snap = under_the_cut(a_kwh=60.0)
    problem = snapshot_problem(snap, planned("a/1", 60.0), planned("b/1", 50.0))
    plan = solve(problem)
    forecast = read(snap, plan, problem, "s-a/1")
    assert forecast.short_wh == pytest.approx(plan.sessions["s-a/1"].shortfall_wh, abs=1.0)
    assert_held_by_the_cut(forecast)


def test_a_departure_at_risk_is_a_condition_on_its_evse_past_the_threshold() -> None:
    short = Readiness("s-1", "a/1", T0, DEPARTS, 40_000.0, 30_000.0, 10_000.0, Basis.PLAN)
    slight = Readiness("s-2", "b/1", T0, DEPARTS, 40_000.0, 39_500.0, 500.0, Basis.PLAN)
    overdue = Readiness("s-3", "c/1", DEPARTS, DEPARTS, 40_000.0, 0.0, 40_000.0, Basis.PLAN)
    [condition] = departures_at_risk({f.session_id: f for f in (short, slight, overdue)})
    assert condition.kind is AlertKind.DEPARTURE_AT_RISK
    assert condition.subject == Subject(SubjectKind.EVSE, "a/1")
    assert condition.reason == "session s-1 will be 10.0 kWh short at 2024-03-04T11:00:00Z (plan)"
    assert condition.data["short_wh"] == 10_000.0
    assert condition.headline == "evse a/1 departure at risk"
    assert departures_at_risk({"s-2": slight}, threshold_wh=100.0) != []
    # a stored extreme: its figures are null in the alert's JSON, never Infinity
    extreme = replace(short, need_wh=math.inf, short_wh=math.inf)
    [condition] = departures_at_risk({"s-1": extreme})
    assert json.loads(json.dumps(dict(condition.data), allow_nan=False))["short_wh"] is None
    # paused for its turn at the minimum current: not on its present limit, on a plan yes
    turn = ReadinessCause("min_current_admission", "db-1", None, T0, "no room for 6 A")
    waiting = replace(short, basis=Basis.PRESENT_LIMIT, cause=turn)
    assert departures_at_risk({"s-1": waiting}) == []
    assert departures_at_risk({"s-1": replace(waiting, basis=Basis.PLAN)}) != []


def test_the_controllers_own_problem_names_the_node_of_a_full_constraint_row() -> None:
    """The problem the controller builds (a row per constraint of the allocator's
    model, ``db-1 import_power``), solved by HiGHS: db-1 under E-cut from 10:00."""
    snap = under_the_cut(a_kwh=60.0)
    settings = PlannerSettings(enabled=True, horizon=timedelta(hours=2))
    problem = planning_problem(snap, CostSignals(), settings)
    assert "db-1 import_power" in {row.node_id for row in problem.nodes}
    plan = solve(problem)
    forecast = forecasts(snap, allocate(snap), plan, problem)["s-a/1"]
    assert forecast.basis is Basis.PLAN and forecast.short_wh > 1_000.0
    assert_held_by_the_cut(forecast)


def test_a_plan_solved_inside_a_block_promises_nothing_of_the_time_gone() -> None:
    """Solved at 09:10, 10 kWh by 11:00 at up to 22.08 kW, with a flat price: the plan
    charges at once and the forecast is met. (Were the block 09:00–09:15 counted whole,
    the plan would put 5.52 kWh in it of which only 1.84 kWh can come, and the forecast
    would read a vehicle with 1.5 h to spare short by 3.7 kWh.)"""
    now = T0 + timedelta(minutes=10)
    s = session("a/1", energy_kwh=10.0, hours_left=2)
    snap = replace(snapshot(depot(source=False).topology(), sessions=(s,)), at=now)
    settings = PlannerSettings(enabled=True, horizon=timedelta(hours=2))
    problem = planning_problem(snap, CostSignals(), settings)
    assert (problem.blocks.start, problem.now) == (T0, now)
    plan = solve(problem)
    assert plan.sessions["s-a/1"].power_w[0] == pytest.approx(MAX_W, rel=1e-6)
    forecast = forecasts(snap, allocate(snap), plan, problem)["s-a/1"]
    assert (forecast.basis, forecast.short_wh) == (Basis.PLAN, 0.0)


@settings(max_examples=40)
@given(
    needs_kwh=st.lists(st.floats(0.0, 60.0), min_size=1, max_size=3),
    board_kw=st.lists(st.sampled_from([5.0, 15.0, 30.0, 60.0]), min_size=8, max_size=8),
    hours_left=st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0]), min_size=3, max_size=3),
)
def test_a_short_session_on_a_solved_plan_is_short_by_the_plans_shortfall_and_has_a_cause(
    needs_kwh: list[float], board_kw: list[float], hours_left: list[float]
) -> None:
    """Whatever the needs, departures and db-1's capacity per block: the forecast at the
    plan's start misses what the plan misses, and a session the plan leaves short is
    either at its maximum until it leaves or behind a full row — never without a cause
    (else the plan could have given it more)."""
    evses = ("a/1", "b/1", "c/1")[: len(needs_kwh)]
    built = depot(source=False).charger("c", "db-1")
    sessions = tuple(
        session(evse, energy_kwh=kwh, hours_left=hours)
        for evse, kwh, hours in zip(evses, needs_kwh, hours_left, strict=False)
    )
    snap = snapshot(built.topology(), sessions=sessions)
    ids = tuple(s.id for s in sessions)
    problem = PlanningProblem(
        BLOCKS,
        tuple(
            PlannedSession(s.id, s.evse_id, need * 1000, T0 + timedelta(hours=h), MAX_W)
            for s, need, h in zip(sessions, needs_kwh, hours_left, strict=False)
        ),
        (NodeCapacity("db-1", tuple(kw * 1000 for kw in board_kw), ids),),
        (0.2,) * BLOCKS.count,
        (0.0,) * BLOCKS.count,
    )
    plan = solve(problem)
    found = forecasts(snap, allocate(snap), plan, problem)
    for s in sessions:
        forecast = found[s.id]
        assert forecast.basis is Basis.PLAN
        assert forecast.short_wh == pytest.approx(plan.sessions[s.id].shortfall_wh, abs=2.0)
        if forecast.short_wh > 0.0:
            assert forecast.cause is not None, forecast
            assert forecast.cause.kind in ("node_limit", "charger_limit")
