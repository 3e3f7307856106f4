"""Following a plan: the block's rate as each session's planned_rate_a, the note that
says why, and the allocator's explanation of a deferral in the site's time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from depotctl.domain.policy import Policy
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.tariff import EnergyPeriod, Tariff, TariffSeason
from depotctl.domain.tariff_calendar import DailyWindow
from depotctl.domain.topology import Topology
from depotctl.engine import BindingKind, EvseState, allocate
from depotctl.engine.planner import Plan, PlanStatus, solve
from depotctl.engine.planner.follow import followed
from depotctl.engine.planner.inputs import CostSignals, PlannerSettings, planning_problem
from tests.engine.conftest import Depot
from tests.engine.node_loads import overloads
from tests.engine.strategies import snapshots

#: 17:00 in Sydney (daylight time, +11), two hours before the price drops at 19:00
NOW = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)
WPA = 3 * 230.0
SETTINGS = PlannerSettings(enabled=True, horizon=timedelta(hours=12))


def tariff() -> Tariff:
    every = ["all"]
    periods = (
        EnergyPeriod("peak", DailyWindow.parse(every, "07:00", "19:00"), 0.21),
        EnergyPeriod("night", DailyWindow.parse(every, "19:00", "07:00"), 0.06),
    )
    return Tariff("AUD", (TariffSeason("all year", 0, 365, periods),))


def sydney_depot() -> Topology:
    topology = Depot().node("site", current_a=200.0).charger("c1", "site").charger("c2", "site")
    plain = topology.topology()
    return Topology("test", "Australia/Sydney", plain.nodes, plain.evses, {}, {})


def car(evse_id: str, kwh: float, *, hours: float) -> Session:
    """A vehicle plugged in at NOW that needs ``kwh`` within ``hours``."""
    requirement = EnergyRequirement(kwh * 1000.0, NOW + timedelta(hours=hours))
    return Session(id=f"s-{evse_id}", evse_id=evse_id, started=NOW, requirement=requirement)


def snapshot_at(at: datetime, *sessions: Session) -> Snapshot:
    return Snapshot(
        at=at,
        topology=sydney_depot(),
        policy=Policy(safety_margin=0.0, hysteresis_a=0.0),
        sessions=sessions,
    )


def test_a_session_with_slack_is_deferred_to_the_cheap_block_and_explain_says_why() -> None:
    lax = car("c1/1", 30.0, hours=10.0)  # departs 03:00 local
    snap = snapshot_at(NOW, lax)
    problem = planning_problem(snap, CostSignals(tariff=tariff()), SETTINGS)
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    following = followed(snap, problem, plan)
    [planned] = following.sessions
    assert planned.planned_rate_a == 0.0  # nothing at the peak price
    note = following.plan_notes[lax.id]
    assert (note.price_now, note.cheaper_price) == (0.21, 0.06)
    assert note.cheaper_from == datetime(2024, 3, 4, 8, 0, tzinfo=UTC)  # 19:00 local
    assert note.slack_h == pytest.approx(10.0 - 30_000 / (32 * WPA))

    allocation = allocate(following)
    view = allocation.evses["c1/1"]
    assert view.limit_a == 0.0 and view.state is EvseState.PAUSED
    assert view.binding.kind is BindingKind.PLANNED_RATE
    assert view.binding.detail == (
        "at the plan's rate of 0.0 A for this block; deferred: 0.21 /kWh now vs "
        "0.06 /kWh from 19:00; departs 03:00, 8.6 h of slack"
    )

    # two hours on, in the cheap block, the plan's rate is the session's full rate
    later = followed(snapshot_at(NOW + timedelta(hours=2), lax), problem, plan)
    assert later.sessions[0].planned_rate_a == pytest.approx(32.0)


def test_an_urgent_session_goes_first_unless_the_plan_holds_it_below_its_full_rate() -> None:
    """Urgent (30 kWh in 1.5 h at 22 kW leaves 8 min of laxity): the plan charges it at
    its full rate, and so does the allocator, first; without a plan it is urgent too;
    a plan that holds it below its full rate — having weighed its departure against
    every other session's — is followed (on Caltech 2019-05-13 at 30 kVA urgency
    overriding such plans cost 3 points of energy)."""
    tight = car("c2/1", 30.0, hours=1.5)
    snap = snapshot_at(NOW, tight)
    problem = planning_problem(snap, CostSignals(tariff=tariff()), SETTINGS)
    following = followed(snap, problem, solve(problem))
    assert following.sessions[0].planned_rate_a == pytest.approx(32.0)
    allocation = allocate(following)
    assert allocation.evses["c2/1"].limit_a == pytest.approx(32.0)
    first = allocation.priority("c2/1")
    assert first is not None and first.urgent
    unplanned = allocate(snapshot_at(NOW, tight))
    alone = unplanned.priority("c2/1")
    assert unplanned.evses["c2/1"].limit_a == pytest.approx(32.0)
    assert alone is not None and alone.urgent
    held = replace(following.sessions[0], planned_rate_a=10.0)
    holding = allocate(snapshot_at(NOW, held))
    view = holding.evses["c2/1"]
    assert view.limit_a == pytest.approx(10.0)
    assert view.binding.kind is BindingKind.PLANNED_RATE
    assert str(holding.priority("c2/1")).startswith("class 0, held by the plan: laxity 8 min")


def test_a_session_the_plan_does_not_know_is_left_to_the_allocator() -> None:
    known = car("c1/1", 30.0, hours=10.0)
    snap = snapshot_at(NOW, known)
    problem = planning_problem(snap, CostSignals(tariff=tariff()), SETTINGS)
    plan = solve(problem)
    newcomer = car("c2/1", 30.0, hours=10.0)
    following = followed(snapshot_at(NOW, known, newcomer), problem, plan)
    rates = {s.id: s.planned_rate_a for s in following.sessions}
    assert rates[newcomer.id] is None and rates[known.id] is not None
    assert set(following.plan_notes) == {known.id}
    # past the horizon the plan has no answer: nobody follows it
    beyond = followed(snapshot_at(NOW + timedelta(hours=13), known), problem, plan)
    assert beyond.sessions[0].planned_rate_a is None and not beyond.plan_notes


def with_rate(plan: Plan, session_id: str, watts: float) -> Plan:
    """``plan`` with ``session_id`` planned ``watts`` in every block."""
    planned = plan.sessions[session_id]
    rates = replace(planned, power_w=(watts,) * len(planned.power_w))
    return replace(plan, sessions={**plan.sessions, session_id: rates})


def test_rates_below_the_minimum_current_are_pooled_and_the_allocator_admits_them() -> None:
    """The LP may plan 4 A each where the EVSEs' minimum is 6 A: paused, both sessions
    would lose what the plan counted on; pooled, the earlier departure charges at a
    minimum and the 2 A left: 8 A."""
    early, late = car("c1/1", 30.0, hours=6.0), car("c2/1", 30.0, hours=10.0)
    snap = snapshot_at(NOW, early, late)
    problem = planning_problem(snap, CostSignals(), SETTINGS)
    plan = with_rate(with_rate(solve(problem), early.id, 4.0 * WPA), late.id, 4.0 * WPA)
    following = followed(snap, problem, plan)
    rates = {s.id: s.planned_rate_a for s in following.sessions}
    assert rates == {early.id: pytest.approx(8.0), late.id: 0.0}
    allocation = allocate(following)
    view = allocation.evses["c1/1"]
    assert view.limit_a == pytest.approx(8.0) and view.state is EvseState.CHARGING
    assert view.binding.kind is BindingKind.PLANNED_RATE
    assert allocation.evses["c2/1"].limit_a == 0.0
    # above the minimum the plan's rate is kept as it is, and no power is no power
    kept = followed(snap, problem, with_rate(plan, early.id, 10.0 * WPA))
    assert {s.id: s.planned_rate_a for s in kept.sessions} == {
        early.id: pytest.approx(10.0),
        late.id: pytest.approx(6.0),  # 4 A alone: nearer a minimum than none
    }
    idle = followed(snap, problem, with_rate(with_rate(plan, early.id, 0.5), late.id, 0.5))
    assert [s.planned_rate_a for s in idle.sessions] == [0.0, 0.0]


def test_a_session_the_plan_finishes_within_the_block_charges_at_its_minimum() -> None:
    """250 Wh left: the plan spreads it over the 15-minute block, 1 kW (1.4 A), under
    the 6 A minimum and alone in the pool; planned so again at every replan, such a
    session stayed a few Wh short until it left. It gets its minimum: the same energy
    within the block, sooner."""
    almost = car("c1/1", 0.25, hours=10.0)
    snap = snapshot_at(NOW, almost)
    problem = planning_problem(snap, CostSignals(), SETTINGS)
    plan = solve(problem)
    assert plan.sessions[almost.id].power_w[0] == pytest.approx(1_000.0, rel=1e-3)
    [following] = followed(snap, problem, plan).sessions
    assert following.planned_rate_a == pytest.approx(6.0)
    # needing more than the block gives, the same rate is pooled: alone, under half a
    # minimum, it is none
    more = replace(almost, requirement=EnergyRequirement(5_000.0, NOW + timedelta(hours=10)))
    [pooled] = followed(snapshot_at(NOW, more), problem, plan).sessions
    assert pooled.planned_rate_a == 0.0


def test_a_rate_pooled_to_the_minimum_still_keeps_the_nodes_limit() -> None:
    """Pooled to its minimum, a session still gets it only where every limit has room:
    under a 4 A node (the plan's 4 A) it pauses, held by the node, not the plan."""
    lax = car("c1/1", 30.0, hours=10.0)
    tight = Depot().node("site", current_a=4.0).charger("c1", "site").topology()
    snap = replace(snapshot_at(NOW, lax), topology=tight)
    problem = planning_problem(snap, CostSignals(), SETTINGS)
    plan = solve(problem)
    assert plan.sessions[lax.id].power_w[0] == pytest.approx(4.0 * WPA, rel=1e-3)
    following = followed(snap, problem, plan)
    assert following.sessions[0].planned_rate_a == pytest.approx(6.0)
    view = allocate(following).evses["c1/1"]
    assert view.limit_a == 0.0 and view.state is EvseState.PAUSED
    assert view.binding.kind is not BindingKind.PLANNED_RATE


# Properties: the plan fits the allocator's safe model, and following it stays safe

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TWO_HOURS = PlannerSettings(enabled=True, horizon=timedelta(hours=2))


@PROPERTY
@given(snapshots(previous=False))
def test_the_plans_rates_now_keep_every_limit_of_the_allocators_model(snap: Snapshot) -> None:
    """Every session at its planned power for the block now: no node, phase or envelope
    past what the site's other load and the uncontrollable chargers leave."""
    snap = replace(snap, pending={})  # a command out counts twice: not the plan's case
    problem = planning_problem(snap, CostSignals(), TWO_HOURS)
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    amps = {
        session.evse_id: plan.sessions[session.id].power_w[0]
        / snap.topology.evses[session.evse_id].watts_per_amp
        for session in problem.sessions
    }
    assert overloads(snap, amps) == []


@PROPERTY
@given(snapshots())
def test_the_allocator_following_a_plan_keeps_every_limit(snap: Snapshot) -> None:
    problem = planning_problem(snap, CostSignals(), TWO_HOURS)
    following = followed(snap, problem, solve(problem))
    assert overloads(following, allocate(following).limits_a) == []


def test_a_session_charging_on_forecast_solar_says_so_not_the_tariff() -> None:
    # 10 kW of forecast PV over the dear hours till 19:00: the plan charges on it now,
    # the margin costs nothing (export earns nothing); the words quote 0, not 0.21
    lax = car("c1/1", 30.0, hours=10.0)
    snap = snapshot_at(NOW, lax)
    base = planning_problem(snap, CostSignals(tariff=tariff()), SETTINGS)
    sunny = tuple(
        10_000.0 if start < NOW + timedelta(hours=2) else 0.0 for start in base.blocks.starts()
    )
    problem = replace(base, generation_w=sunny)
    plan = solve(problem)
    following = followed(snap, problem, plan)
    assert following.sessions[0].planned_rate_a == pytest.approx(10_000.0 / WPA)
    note = following.plan_notes[lax.id]
    assert (note.price_now, note.grid_price_now, note.cheaper_price) == (0.0, 0.21, None)
    detail = allocate(following).evses["c1/1"].binding.detail
    assert "; charges now on forecast solar: 0 /kWh vs 0.21 /kWh from the grid;" in detail

    # without the sun the same block's margin is the tariff's again
    dark = followed(snap, base, solve(base)).plan_notes[lax.id]
    assert (dark.price_now, dark.grid_price_now) == (0.21, None)


def test_a_deferral_to_forecast_solar_names_it() -> None:
    # the sun comes at 21:00 (a night of 0.06 before it): the plan waits for it
    lax = car("c1/1", 30.0, hours=10.0)
    snap = snapshot_at(NOW, lax)
    base = planning_problem(snap, CostSignals(tariff=tariff()), SETTINGS)
    later = (NOW + timedelta(hours=4), NOW + timedelta(hours=6))
    sunny = tuple(
        30_000.0 if later[0] <= start < later[1] else 0.0 for start in base.blocks.starts()
    )
    following = followed(
        snap, replace(base, generation_w=sunny), solve(replace(base, generation_w=sunny))
    )
    note = following.plan_notes[lax.id]
    assert (note.price_now, note.cheaper_price, note.cheaper_solar) == (0.21, 0.0, True)
    assert note.cheaper_from == later[0]
    detail = allocate(following).evses["c1/1"].binding.detail
    assert "deferred: 0.21 /kWh now vs 0 /kWh from 21:00 on forecast solar;" in detail
