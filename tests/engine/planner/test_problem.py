"""The planning problem's values: what is refused and why, and the topology's ancestry."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from depotctl.engine.planner import (
    DemandTerm,
    NodeCapacity,
    PlannedSession,
    PlannedStorage,
    PlanningProblem,
    plan_blocks,
    sessions_under,
)
from tests.engine.conftest import T0, Depot, session

BLOCKS = plan_blocks(T0, timedelta(hours=1))


def one(session_id: str = "a", need_wh: float = 1_000.0) -> PlannedSession:
    return PlannedSession(session_id, "e", need_wh, T0 + timedelta(hours=1), 7_000.0)


def problem(**fields: object) -> PlanningProblem:
    values: dict[str, object] = {
        "blocks": BLOCKS,
        "sessions": (one(),),
        "nodes": (NodeCapacity("site", (10_000.0,) * 4, ("a",)),),
        "price_per_kwh": (0.2,) * 4,
        "carbon_kg_per_kwh": (0.3,) * 4,
    }
    values.update(fields)
    return PlanningProblem(**values)  # type: ignore[arg-type]


def test_a_series_of_the_wrong_length_names_it_and_the_block_count() -> None:
    with pytest.raises(ValueError, match=r"price_per_kwh has 3 values for 4 blocks"):
        problem(price_per_kwh=(0.2,) * 3)


def test_now_must_be_aware_and_inside_the_first_block() -> None:
    for now in (T0 - timedelta(seconds=1), T0 + BLOCKS.length):
        with pytest.raises(ValueError, match="outside the first block"):
            problem(now=now)
    with pytest.raises(ValueError, match="no time zone"):
        problem(now=T0.replace(tzinfo=None))
    assert problem(now=T0 + timedelta(seconds=1)).now == T0 + timedelta(seconds=1)


def test_a_node_carrying_an_unknown_session_is_refused() -> None:
    with pytest.raises(ValueError, match=r"node 'site' carries unknown session\(s\) 'ghost'"):
        problem(nodes=(NodeCapacity("site", (1.0,) * 4, ("a", "ghost")),))


def test_weights_are_one_per_session_finite_and_each_session_once() -> None:
    problem(nodes=(NodeCapacity("l1", (16.0,) * 4, ("a",), (1 / 230,)),))
    with pytest.raises(ValueError, match=r"node 'l1' has 2 weights for 1 sessions"):
        problem(nodes=(NodeCapacity("l1", (16.0,) * 4, ("a",), (1.0, 1.0)),))
    with pytest.raises(ValueError, match=r"the weight of session 'a' is inf"):
        problem(nodes=(NodeCapacity("l1", (16.0,) * 4, ("a",), (math.inf,)),))
    with pytest.raises(ValueError, match=r"node 'l1' lists session 'a' twice"):
        problem(nodes=(NodeCapacity("l1", (16.0,) * 4, ("a", "a")),))


def test_a_duplicate_session_and_a_negative_need_are_refused() -> None:
    with pytest.raises(ValueError, match="session 'a' is listed twice"):
        problem(sessions=(one(), one()))
    with pytest.raises(ValueError, match=r"session 'a': need_wh -1.0 must be finite and ≥ 0"):
        problem(sessions=(one(need_wh=-1.0),))


def test_an_unlimited_capacity_is_allowed_but_not_an_unknown_price() -> None:
    problem(nodes=(NodeCapacity("site", (math.inf,) * 4, ("a",)),))
    with pytest.raises(ValueError, match=r"carbon_kg_per_kwh\[2\] is nan"):
        problem(carbon_kg_per_kwh=(0.3, 0.3, math.nan, 0.3))


def test_the_penalty_outweighs_the_dearest_kwh_with_carbon() -> None:
    dear = problem(price_per_kwh=(2.0,) * 4, carbon_price_per_kg=10.0)
    assert dear.energy_cost_per_kwh() == (5.0,) * 4
    assert dear.penalty_per_kwh() == 5_000.0
    assert problem().penalty_per_kwh() == 1_000.0
    assert problem(shortfall_per_kwh=7.0).penalty_per_kwh() == 7.0


def test_base_load_and_generation_are_per_block_and_default_to_zeros() -> None:
    assert problem().base_load() == problem().generation() == (0.0,) * 4
    assert problem(generation_w=(1.0, 2.0, 3.0, 4.0)).generation() == (1.0, 2.0, 3.0, 4.0)
    with pytest.raises(ValueError, match=r"base_load_w has 2 values for 4 blocks"):
        problem(base_load_w=(1.0, 2.0))


def test_a_battery_on_an_unknown_node_or_listed_twice_is_refused() -> None:
    bess = PlannedStorage("bess", ("db-9",), 0.0, 10_000.0, 0.0, 1.0, 5_000.0, 5_000.0)
    with pytest.raises(ValueError, match=r"storage 'bess' loads unknown node\(s\) 'db-9'"):
        problem(storage=(bess,))
    on_site = PlannedStorage("bess", ("site",), 0.0, 10_000.0, 0.0, 1.0, 5_000.0, 5_000.0)
    with pytest.raises(ValueError, match=r"storage 'bess' is listed twice"):
        problem(storage=(on_site, on_site))


def test_a_demand_term_outside_the_horizon_is_refused() -> None:
    with pytest.raises(ValueError, match=r"demand term 0: block\(s\) 4 outside"):
        problem(demand=(DemandTerm(10.0, (3, 4)),))


def test_the_penalty_counts_a_demand_rate_as_one_block_setting_the_peak() -> None:
    # 20 /kW over a quarter-hour: a kWh can cost 80 in demand charge, + 0.2 + 0
    assert problem(demand=(DemandTerm(20.0, (0,)),)).penalty_per_kwh() == pytest.approx(80_200.0)


def test_the_tie_break_stays_below_half_of_every_real_difference() -> None:
    assert problem().early_per_kwh() == 1e-3  # one price: nothing to outweigh
    assert problem(price_per_kwh=(0.2, 0.2, 0.2004, 0.3)).early_per_kwh() == pytest.approx(2e-4)
    assert problem(demand=(DemandTerm(1e-3, (0,)),)).early_per_kwh() == pytest.approx(5e-4)


def test_sessions_under_follows_each_evses_path_to_the_grid() -> None:
    depot = (
        Depot()
        .node("site")
        .node("db-1", "site")
        .node("db-2", "site")
        .charger("c1", "db-1")
        .charger("c2", "db-2")
    )
    topology = depot.topology()
    under = sessions_under(topology, [session("c1/1"), session("c2/1")])
    assert under["site"] == ("s-c1/1", "s-c2/1")
    assert under["db-1"] == ("s-c1/1",)
    assert under["c2"] == ("s-c2/1",)
    with pytest.raises(ValueError, match="EVSE 'c9/1', which site 'test' does not have"):
        sessions_under(topology, [session("c9/1")])
