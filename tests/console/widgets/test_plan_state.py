"""The header says the planner's state — off, waiting, following, failed or stale
since when — from the coordinator's one poll of ``/state``, driven with Textual's Pilot
against a real controller of its own."""

from __future__ import annotations

import pytest

from depotctl.console.model import Connection, Link, Model
from depotctl.console.widgets.status import StatusBar, header_text
from depotctl.controller.planning import Planning
from depotctl.domain.planning import PlannerSettings
from depotctl.engine.planner import Plan, PlanningProblem
from tests.console.conftest import Depot, loaded, shown, wait_for

pytestmark = pytest.mark.anyio


def infeasible(problem: PlanningProblem, warm: Plan | None) -> Plan:
    raise RuntimeError("HiGHS: model infeasible")


async def test_the_header_shows_the_planner_waiting_then_failed_since_and_nothing_when_off(
    fresh_depot: Depot,
) -> None:
    controller = fresh_depot.controller
    app = fresh_depot.console()
    async with app.run_test(size=(200, 30)) as pilot:
        await loaded(pilot, app)
        await pilot.pause()
        assert app.model.planner is not None and app.model.planner.state == "off"
        assert "plan" not in shown(app.query_one(StatusBar))  # a site that does not plan

        planning = Planning(controller, PlannerSettings(enabled=True), solver=infeasible)
        await wait_for(pilot, lambda: app.model.planner and app.model.planner.state == "waiting")
        await pilot.pause()
        assert "  plan waiting" in shown(app.query_one(StatusBar))

        failed = await planning.replan(controller.current().snapshot, "a test")
        await wait_for(pilot, lambda: app.model.planner and app.model.planner.state == "failed")
        await pilot.pause()
        since = failed.at.astimezone(app.model.local).strftime("%H:%M:%S")
        assert f"  plan failed since {since}" in shown(app.query_one(StatusBar))


def test_a_controller_without_the_planners_state_shows_no_plan() -> None:
    model = Model(Connection("http://depot", Link.CONNECTED))
    assert "plan" not in header_text(model).plain
