"""Sessions behind their plan: the one rule of the controller and the replay —
urgency overrides the plan whenever following it would leave a session short; a
session the plan meets follows it even with little laxity."""

from __future__ import annotations

from datetime import timedelta

import pytest

from depotctl.engine import BindingKind, allocate
from depotctl.engine.planner import behind_plan, released_behind, solve
from depotctl.engine.planner.behind import BEHIND_BY, planned_wh
from depotctl.engine.planner.follow import followed
from depotctl.engine.planner.inputs import CostSignals, planning_problem
from tests.engine.planner.test_follow import (
    NOW,
    SETTINGS,
    WPA,
    car,
    snapshot_at,
    tariff,
    with_rate,
)

#: what a minute at an EVSE's full 32 A gives (Wh): the leeway before a session is behind
MINUTE_WH = 32 * WPA * BEHIND_BY.total_seconds() / 3600


def test_planned_wh_counts_from_now_to_the_departure_and_nothing_for_a_stranger() -> None:
    lax = car("c1/1", 30.0, hours=10.0)
    snap = snapshot_at(NOW, lax)
    problem = planning_problem(snap, CostSignals(tariff=tariff()), SETTINGS)
    plan = with_rate(solve(problem), lax.id, 3_000.0)
    at = NOW + timedelta(minutes=5)  # a third into the first block
    departure = NOW + timedelta(hours=10)
    assert planned_wh(plan, lax.id, at, departure) == pytest.approx(3_000.0 * (10 - 5 / 60))
    # a later "until" is cut at the plan's departure; an earlier one counts to it
    assert planned_wh(plan, lax.id, at, departure + timedelta(hours=1)) == pytest.approx(
        3_000.0 * (10 - 5 / 60)
    )
    assert planned_wh(plan, lax.id, NOW, NOW + timedelta(hours=1)) == pytest.approx(3_000.0)
    assert planned_wh(plan, "nobody", at, departure) == 0.0


@pytest.mark.parametrize(
    ("short_wh", "behind"),
    [(0.0, False), (MINUTE_WH * 0.5, False), (MINUTE_WH * 1.5, True), (5_000.0, True)],
)
def test_a_session_is_behind_when_the_plan_leaves_it_short_by_more_than_a_minute(
    short_wh: float, behind: bool
) -> None:
    lax = car("c1/1", 30.0, hours=10.0)  # 30 kWh over 10 h: 3 kW meets it exactly
    snap = snapshot_at(NOW, lax)
    problem = planning_problem(snap, CostSignals(tariff=tariff()), SETTINGS)
    plan = with_rate(solve(problem), lax.id, (30_000.0 - short_wh) / 10.0)
    following = followed(snap, problem, plan)
    assert following.sessions[0].planned_rate_a is not None
    assert (lax.id in behind_plan(following, plan)) is behind
    released = released_behind(following, plan)
    assert (released.sessions[0].planned_rate_a is None) is behind
    # without a planned rate (the plan does not cap it) there is nothing to release
    assert behind_plan(snap, plan) == frozenset()


def test_an_urgent_session_follows_a_plan_that_meets_it_and_not_one_that_leaves_it_short() -> None:
    """30 kWh in 1.5 h at 22 kW: 8 minutes of laxity, urgent. Held at 20 kW for the
    1.5 h, the plan still meets it: it follows the plan ("held by the plan"). Held at
    15 kW, 7.5 kWh short: urgency decides, at its full 32 A, first."""
    tight = car("c2/1", 30.0, hours=1.5)
    snap = snapshot_at(NOW, tight)
    problem = planning_problem(snap, CostSignals(tariff=tariff()), SETTINGS)
    solved = solve(problem)

    meeting = with_rate(solved, tight.id, 20_000.0)
    following = released_behind(followed(snap, problem, meeting), meeting)
    assert following.sessions[0].planned_rate_a == pytest.approx(20_000.0 / WPA)
    held = allocate(following)
    assert held.evses["c2/1"].limit_a == pytest.approx(20_000.0 / WPA, abs=0.1)  # 0.1 A steps
    assert held.evses["c2/1"].binding.kind is BindingKind.PLANNED_RATE
    assert str(held.priority("c2/1")).startswith("class 0, held by the plan")

    short = with_rate(solved, tight.id, 15_000.0)
    released = released_behind(followed(snap, problem, short), short)
    assert released.sessions[0].planned_rate_a is None
    alone = allocate(released)
    first = alone.priority("c2/1")
    assert alone.evses["c2/1"].limit_a == pytest.approx(32.0)
    assert first is not None and first.urgent
