"""A plan's answers per instant: a battery's setpoint, and none outside what it knows."""

from __future__ import annotations

from datetime import timedelta

from depotctl.engine.planner import Plan, PlanStatus, StoragePlan, plan_blocks
from tests.engine.conftest import T0

HOUR = timedelta(hours=1)


def plan(status: PlanStatus = PlanStatus.OPTIMAL) -> Plan:
    bess = StoragePlan("bess", (-5_000.0, 8_000.0), (3_000.0, 10_000.0))
    return Plan(plan_blocks(T0, 2 * HOUR, HOUR), {}, {}, status, 0.0, storage={"bess": bess})


def test_a_setpoint_is_its_blocks_and_none_outside_the_plan() -> None:
    assert plan().setpoint_at("bess", T0 + timedelta(minutes=59)) == -5_000.0
    assert plan().setpoint_at("bess", T0 + HOUR) == 8_000.0
    assert plan().setpoint_at("bess", T0 + 2 * HOUR) is None
    assert plan().setpoint_at("bess", T0 - timedelta(seconds=1)) is None
    assert plan().setpoint_at("other", T0) is None
    assert plan(PlanStatus.FAILED).setpoint_at("bess", T0) is None
