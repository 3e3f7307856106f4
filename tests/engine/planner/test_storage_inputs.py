"""The site's batteries in the planning problem: a battery with known energy and a
fresh reading is planned (its metered power no longer reserved, its path's power rows
added), a stale one is not (reserved at its maximum charge)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from depotctl.domain.planning import PlannerSettings
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import StorageSpec, Topology
from depotctl.engine.planner import PlanStatus, solve
from depotctl.engine.planner.inputs import CostSignals, planning_problem
from depotctl.engine.planner.storage_inputs import planned_storage
from tests.engine.conftest import T0, Depot, session, snapshot

HOUR = PlannerSettings(enabled=True, horizon=timedelta(hours=1))
BATTERY = StorageSpec(
    id="bess",
    parent="db-2",
    connection=None,
    voltage_ln=230.0,
    capacity_wh=100_000.0,
    max_charge_w=30_000.0,
    max_discharge_w=25_000.0,
    charge_efficiency=0.95,
    discharge_efficiency=0.9,
    min_soc=0.1,
    max_soc=0.9,
)


def topology() -> Topology:
    depot = (
        Depot()
        .node("site", import_w=40_000.0)
        .node("db-1", "site")
        .charger("c1", "db-1")
        .node("db-2", "site", import_w=35_000.0)
    )
    return replace(depot.topology(), storage={"bess": BATTERY})


def test_a_battery_read_fresh_is_planned_on_the_power_rows_of_its_path() -> None:
    reading = Reading("bess", T0, power_w=10_000.0)
    snap = snapshot(topology(), telemetry={"bess": reading}, sessions=(session("c1/1"),))
    problem = planning_problem(snap, CostSignals(), HOUR, storage_wh={"bess": 50_000.0})
    [battery] = problem.storage
    assert battery.node_ids == ("db-2 import_power", "site import_power")
    assert battery.energy_wh == 50_000.0 and battery.final_energy_wh == 50_000.0
    assert (battery.max_charge_w, battery.max_discharge_w) == (30_000.0, 25_000.0)
    rows = {row.node_id: row for row in problem.nodes}
    # its metered 10 kW is the plan's to decide: not reserved against the rows
    assert set(rows["site import_power"].capacity_w) == {40_000.0}
    assert set(rows["db-2 import_power"].capacity_w) == {35_000.0}
    assert rows["db-2 import_power"].session_ids == ()
    assert set(problem.base_load_w or ()) == {0.0}


def test_a_stale_battery_is_not_planned_and_counts_at_its_maximum_charge() -> None:
    old = Reading("bess", T0 - timedelta(minutes=5), power_w=-20_000.0)
    snap = snapshot(topology(), telemetry={"bess": old}, sessions=(session("c1/1"),))
    problem = planning_problem(snap, CostSignals(), HOUR, storage_wh={"bess": 50_000.0})
    assert problem.storage == ()
    assert set(problem.base_load_w or ()) == {30_000.0}
    rows = {row.node_id: row for row in problem.nodes}
    assert set(rows["site import_power"].capacity_w) == {10_000.0}


def test_without_its_energy_a_battery_is_not_planned() -> None:
    reading = Reading("bess", T0, power_w=0.0)
    snap = snapshot(topology(), telemetry={"bess": reading}, sessions=(session("c1/1"),))
    assert planning_problem(snap, CostSignals(), HOUR).storage == ()


def test_the_plan_keeps_a_planned_battery_and_the_sessions_within_each_row() -> None:
    reading = Reading("bess", T0, power_w=0.0)
    snap = snapshot(topology(), telemetry={"bess": reading}, sessions=(session("c1/1"),))
    problem = planning_problem(snap, CostSignals(), HOUR, storage_wh={"bess": 20_000.0})
    problem = replace(problem, price_per_kwh=(0.1, 0.1, 0.3, 0.3))  # cheap, then dear
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    setpoints = plan.storage["bess"].setpoint_w
    sessions = plan.sessions[problem.sessions[0].id].power_w
    assert setpoints[0] > 0 and setpoints[3] < 0  # bought cheap, spent dear
    for charge, drawn in zip(setpoints, sessions, strict=True):
        assert charge <= 35_000.0 + 1e-6
        assert charge + drawn <= 40_000.0 + 1e-6


def test_planned_storage_clamps_the_energy_to_the_capacity() -> None:
    battery = planned_storage(BATTERY, 120_000.0, ("site import_power",))
    assert battery.energy_wh == battery.final_energy_wh == pytest.approx(100_000.0)


def test_path_up_runs_from_a_node_to_its_grid_connection() -> None:
    assert topology().path_up("c1") == ("c1", "db-1", "site")
