"""The planner's state over real HTTP (``planner`` of ``GET /api/v1/state``) and in
``depotctl status``: a real controller (SQLite store, simulated clock moved by the
test, its control loop) served by uvicorn on loopback. Off without a planner; waiting
before its first solve; following, with the solve's time, duration and when the next
is due; stale once the plan is older than its replan interval and a block; failed
since the first of a run of failed solves."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from depotctl.api import State
from depotctl.cli import app as cli
from depotctl.controller.app import create_app
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.planning import Planning
from depotctl.controller.service import Controller
from depotctl.engine.planner import Plan, PlanningProblem
from tests.controller.test_app import serving
from tests.controller.test_planning import (
    LAX,
    SETTINGS,
    START,
    advance,
    cycle_and_plan,
)
from tests.controller.test_planning import controller as controller  # the fixture

#: 18:15 in Sydney: the block after START's (18:00), before the replan interval ends
NEXT_BLOCK = START + SETTINGS.block


def planner_over_http(controller: Controller) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """``/state``'s ``planner``, ``depotctl status``'s text and its JSON's ``planner``."""
    tokens = load_or_create_tokens(controller.store.path.parent)
    with serving(create_app(controller, tokens)) as url:
        answer = httpx.get(f"{url}/api/v1/state", headers=_bearer(tokens), timeout=10)
        text = _status(url, tokens, controller.store.path.parent)
        as_json = _status(url, tokens, controller.store.path.parent, "--format", "json")
    assert answer.status_code == 200, answer.text
    planner = answer.json()["planner"]
    assert State.model_validate(answer.json()).planner is not None  # the API's model
    return planner, text, json.loads(as_json)["planner"]


def _bearer(tokens: Tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.readonly}"}


def _status(url: str, tokens: Tokens, state_dir: Path, *options: str) -> str:
    token_file = state_dir / "tokens" / "readonly.token"
    assert token_file.read_text().strip() == tokens.readonly
    result = CliRunner().invoke(
        cli, ["status", "--server", url, "--token-file", str(token_file), *options]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def plan_line(text: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith("plan ")]
    return line


def test_without_a_planner_it_is_off(controller: Controller) -> None:
    planner, text, as_json = planner_over_http(controller)
    assert planner["state"] == "off" and planner["since"] is None
    assert plan_line(text) == "plan      planner off"
    assert as_json == planner


def test_following_says_when_it_solved_how_long_it_took_and_when_the_next_is_due(
    controller: Controller,
) -> None:
    planning = Planning(controller, SETTINGS)
    planner, text, _ = planner_over_http(controller)
    assert planner["state"] == "waiting"
    assert plan_line(text) == "plan      waiting for its first solve"

    asyncio.run(cycle_and_plan(ControlLoop(controller, RecordingDispatcher()), planning))
    assert planning.latest is not None
    planner, text, as_json = planner_over_http(controller)
    assert planner["state"] == "following"
    solved = planning.latest.at  # START, and the µs the loop's cycle took
    assert solved - START < timedelta(seconds=1)
    assert _instant(planner["since"]) == _instant(planner["solved_at"]) == solved
    assert planner["solve_s"] == pytest.approx(planning.latest.seconds, abs=0.001)
    # due by the replan interval's end (18:05), before the next block's start (18:15)
    assert _instant(planner["next_by"]) == min(NEXT_BLOCK, solved + SETTINGS.replan)
    assert plan_line(text) == (
        f"plan      following, solved 2026-03-02 18:00:00+11:00 in {planner['solve_s']:.2f} s, "
        "next by 2026-03-02 18:05:00+11:00"
    )
    assert as_json == planner

    # past the replan interval and a block with no solve since: stale from then on
    went = solved + SETTINGS.replan + SETTINGS.block
    advance(controller, (went - START).total_seconds() + 60)
    planner, text, _ = planner_over_http(controller)
    assert (planner["state"], _instant(planner["since"])) == ("stale", went)
    assert plan_line(text) == "plan      stale since 2026-03-02 18:20:00+11:00: the allocator alone"


def infeasible(problem: PlanningProblem, warm: Plan | None) -> Plan:
    raise RuntimeError("HiGHS: model infeasible")


def test_failed_says_since_the_first_failure_of_the_run_and_why(controller: Controller) -> None:
    loop = ControlLoop(controller, RecordingDispatcher())
    planning = Planning(controller, SETTINGS, solver=infeasible)
    for step in range(2):  # the second fails again, after the replan interval
        advance(controller, step * SETTINGS.replan.total_seconds())
        asyncio.run(cycle_and_plan(loop, planning))
    [first] = controller.units().journal.entries(kind="planner.failed")
    assert planning.latest is not None and planning.latest.at > first.at + SETTINGS.replan / 2
    planner, text, _ = planner_over_http(controller)
    assert planner["state"] == "failed"
    assert _instant(planner["since"]) == first.at  # the run's first failure, not the last
    assert _instant(planner["solved_at"]) == planning.latest.at
    assert planner["error"] == "RuntimeError: HiGHS: model infeasible"
    assert plan_line(text) == (
        "plan      failed since 2026-03-02 18:00:00+11:00: the allocator alone "
        "(RuntimeError: HiGHS: model infeasible)"
    )
    assert LAX in controller.current().allocation.evses


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
