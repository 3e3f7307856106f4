"""The controller plans and the allocator follows: a real controller (SQLite store,
simulated clock moved by the test, its control loop and HTTP API) with a tariff that
makes waiting worthwhile. A session with slack is held at 0 A in the dear hours and
charges once the price drops; an urgent one is never held; a failed solve and a
stale plan fall back to the allocator alone, journaled once; ``explain`` says why."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from depotctl.cli import app as cli
from depotctl.cli.render_explain import explain_text
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.planning import Following, Planning, PlanningKind
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.domain.planning import CarbonPrice, PlannerSettings
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.telemetry import Reading
from depotctl.engine import BindingKind
from depotctl.engine.planner import Plan, PlanningProblem, solve
from tests.conftest import EXAMPLES
from tests.controller.test_app import serving

#: Monday 2 March 2026, 18:00 in Sydney (daylight time, +11)
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
#: 23:00 in Sydney: the night price, until 01:00
NIGHT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SETTINGS = PlannerSettings(enabled=True, horizon=timedelta(hours=24))
TARIFF = (
    "  tariff:\n"
    "    currency: AUD\n"
    '    seasons: [{name: all-year, from: "01-01", to: "12-31", energy: [\n'
    '      {name: day, days: all, from: "01:00", to: "23:00", price: 0.21 /kWh},\n'
    '      {name: night, days: all, from: "23:00", to: "01:00", price: 0.06 /kWh}],\n'
    "      demand: [{name: day-demand, days: all, period: day, price: 10 /kW/month}]}]\n"
)
LAX, URGENT = "chg-01/1", "chg-02/1"


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    site = tmp_path / "site.yaml"
    site.write_text((EXAMPLES / "minimal.yaml").read_text() + TARIFF)
    store = Store.open(tmp_path / "depotctl.sqlite")
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(store, clock, base_dir=tmp_path)
    controller.seed(site, site.read_text(), author="test")
    # the lax bus: 40 kWh by 06:10 (19:10 UTC), about 1.8 h at its 22 kW
    plug(controller, LAX, "S-lax", 40.0, datetime(2026, 3, 2, 19, 10, tzinfo=UTC))
    # the urgent one: 30 kWh in 1.5 h, about 1.4 h at its rate
    plug(controller, URGENT, "S-urgent", 30.0, START + timedelta(hours=1.5))
    yield controller
    controller.close()


def plug(controller: Controller, evse_id: str, session_id: str, kwh: float, by: datetime) -> None:
    requirement = EnergyRequirement(kwh * 1000.0, by)
    session = Session(session_id, evse_id, controller.clock.now(), requirement=requirement)
    controller.units().sessions.put(session)


def advance(controller: Controller, seconds: float) -> None:
    clock = controller.clock
    assert isinstance(clock, SimClock)
    clock.advance(seconds)


async def cycle_and_plan(loop: ControlLoop, planning: Planning) -> None:
    """A cycle, the solve it started (if any), and the cycle the new plan runs."""
    await loop.cycle("test")
    if planning.task is not None:
        await planning.task
    await loop.cycle("the plan")


def limits(controller: Controller) -> dict[str, tuple[float, BindingKind]]:
    evses = controller.current().allocation.evses
    return {e: (evses[e].limit_a, evses[e].binding.kind) for e in (LAX, URGENT)}


def kinds(controller: Controller, kind: str) -> list[str]:
    return [entry.message for entry in controller.units().journal.entries(kind=kind)]


def test_a_session_with_slack_waits_for_the_night_price_and_an_urgent_one_never_waits(
    controller: Controller, tmp_path: Path
) -> None:
    # the grid connection drew 30 kW from 17:00 to 17:15 today: this month's peak so far
    readings = [
        Reading("gc-main", START - timedelta(minutes=60 - m, seconds=-30), power_w=30_000.0)
        for m in range(15)
    ]
    controller.units().telemetry.put(readings)
    planning = Planning(controller, SETTINGS)
    loop = ControlLoop(controller, RecordingDispatcher())

    asyncio.run(cycle_and_plan(loop, planning))
    assert planning.following is Following.FOLLOWING
    assert planning.latest is not None and planning.latest.problem is not None
    [term] = planning.latest.problem.demand
    # each departure is planned one replan interval early (explain gives the real one)
    departures = {s.id: s.departure for s in planning.latest.problem.sessions}
    assert departures == {
        "S-lax": datetime(2026, 3, 2, 19, 10, tzinfo=UTC) - SETTINGS.replan,
        "S-urgent": START + timedelta(hours=1.5) - SETTINGS.replan,
    }
    assert term.peak_so_far_w == pytest.approx(30_000.0) and term.rate_per_kw == 10.0
    lax, urgent = limits(controller)[LAX], limits(controller)[URGENT]
    assert lax == (0.0, BindingKind.PLANNED_RATE)
    assert urgent[0] == pytest.approx(31.8)  # its own 22 kW rating, not the plan
    [solved] = controller.units().journal.entries(kind=PlanningKind.SOLVED)
    assert solved.message.startswith("plan solved (no plan yet): 2 session(s)")
    assert solved.data["demand_peaks_so_far_kw"] == {"all-year day-demand": 30.0}

    # what `depotctl explain` prints, from the controller's API
    tokens = load_or_create_tokens(controller.store.path.parent)
    with serving(create_app(controller, tokens)) as url:
        response = httpx.get(
            f"{url}/api/v1/explain/{LAX}",
            headers={"Authorization": f"Bearer {tokens.admin}"},
            timeout=10,
        )
        exported = httpx.get(
            f"{url}/api/v1/snapshot",
            params={"format": "yaml"},
            headers={"Authorization": f"Bearer {tokens.admin}"},
            timeout=10,
        )
    assert response.status_code == 200
    text = explain_text(response.json())
    deferred = (
        "at the plan's rate of 0.0 A for this block; deferred: 0.21 /kWh now vs 0.06 /kWh "
        "from 23:00; departs 06:10, 10.3 h of slack"
    )
    assert deferred in " ".join(text.split())
    # the exported snapshot carries the plan's notes: offline, explain says the same
    assert exported.status_code == 200
    (tmp_path / "exported.yaml").write_text(exported.text)
    offline = CliRunner().invoke(
        cli, ["explain", LAX, "--snapshot", str(tmp_path / "exported.yaml")]
    )
    assert offline.exit_code == 0, offline.output
    assert deferred in " ".join(offline.stdout.split())

    # 23:00: a block boundary replans, and the bus charges at the night price
    advance(controller, (NIGHT - START).total_seconds())
    asyncio.run(cycle_and_plan(loop, planning))
    assert kinds(controller, PlanningKind.SOLVED)[-1].startswith("plan solved (a block boundary)")
    amps, _ = limits(controller)[LAX]
    assert amps > 6.0  # more than its minimum: charging
    # the next block boundary plans again, and the journal is not told of a routine round
    advance(controller, SETTINGS.block.total_seconds())
    asyncio.run(cycle_and_plan(loop, planning))
    assert planning.latest is not None and planning.latest.at >= NIGHT + SETTINGS.block
    assert planning.latest.reason == "a block boundary"
    assert len(kinds(controller, PlanningKind.SOLVED)) == 2


def test_the_quarter_under_way_counts_the_grid_meters_minutes_before_now(
    controller: Controller,
) -> None:
    # 40 kW from 07:00 to 07:07, planned at 07:07:30: 4.67 kWh in the quarter, and the
    # half minute not read yet at the peak so far (18.7 kW: the 4.67 kWh over 15 min)
    controller.units().telemetry.put(
        [
            Reading("gc-main", START + timedelta(minutes=m, seconds=30), power_w=40_000.0)
            for m in range(7)
        ]
    )
    advance(controller, 7.5 * 60)
    planning = Planning(controller, SETTINGS)
    asyncio.run(cycle_and_plan(ControlLoop(controller, RecordingDispatcher()), planning))
    assert planning.latest is not None and planning.latest.problem is not None
    [term] = planning.latest.problem.demand
    drawn = 40_000.0 * 7 / 60
    assert term.peak_so_far_w == pytest.approx(drawn * 4)
    assert term.so_far_wh == pytest.approx(drawn + drawn * 4 * 0.5 / 60)


def test_a_failed_solve_leaves_the_allocator_alone_journaled_once(controller: Controller) -> None:
    def infeasible(problem: PlanningProblem, warm: Plan | None) -> Plan:
        raise RuntimeError("HiGHS: model infeasible")

    planning = Planning(controller, SETTINGS, solver=infeasible)
    loop = ControlLoop(controller, RecordingDispatcher())
    asyncio.run(cycle_and_plan(loop, planning))
    advance(controller, SETTINGS.replan.total_seconds())
    asyncio.run(cycle_and_plan(loop, planning))  # the replan interval: it fails again
    assert planning.following is Following.FAILED
    [failed] = kinds(controller, PlanningKind.FAILED)
    assert "RuntimeError: HiGHS: model infeasible; the allocator alone decides" in failed
    lax, _ = limits(controller)[LAX]
    assert lax == pytest.approx(31.8)  # not held: no plan is followed


def test_a_plan_gone_stale_while_a_solve_hangs_is_not_followed(controller: Controller) -> None:
    release = threading.Event()
    calls = 0

    warms: list[Plan | None] = []

    def first_quick_then_slow(problem: PlanningProblem, warm: Plan | None) -> Plan:
        nonlocal calls
        calls += 1
        warms.append(warm)
        if calls > 1:
            release.wait(timeout=60)  # a hang, not a busy machine
        return solve(problem, warm)

    planning = Planning(controller, SETTINGS, solver=first_quick_then_slow)
    loop = ControlLoop(controller, RecordingDispatcher())

    async def scenario() -> None:
        await cycle_and_plan(loop, planning)
        assert limits(controller)[LAX] == (0.0, BindingKind.PLANNED_RATE)
        # past the replan interval and a block, the second solve still running
        stale_after = SETTINGS.replan + SETTINGS.block
        advance(controller, stale_after.total_seconds() + 1)
        await loop.cycle("tick")  # starts the slow solve
        await loop.cycle("tick")  # finds the plan stale
        assert planning.following is Following.STALE
        assert limits(controller)[LAX][0] == pytest.approx(31.8)
        release.set()
        assert planning.task is not None
        await planning.task

    try:
        asyncio.run(scenario())
    finally:
        release.set()
    [stale] = kinds(controller, PlanningKind.STALE)
    assert "is stale" in stale and "the allocator alone decides" in stale
    assert planning.following is Following.FOLLOWING  # the slow solve landed
    # the second solve started from the first plan (warm), the first from nothing
    assert warms[0] is None and warms[1] is not None and warms[1].sessions


def test_serve_plans_as_the_site_says(tmp_path: Path) -> None:
    text = (
        (EXAMPLES / "minimal.yaml").read_text()
        + TARIFF
        + "  carbon: {constant: 0.5 kg/kWh, price: 85 AUD/t}\n"
        + "  planner: {enabled: true, horizon: 12 h, block: 30 min, replan: 10 min}\n"
    )
    site = tmp_path / "site.yaml"
    site.write_text(text)
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(Store.open(tmp_path / "depotctl.sqlite"), clock, base_dir=tmp_path)
    try:
        controller.seed(site, text, author="test")
        planning = Planning.for_site(controller)
        assert controller.planning is planning
        assert planning.settings == PlannerSettings(
            enabled=True,
            horizon=timedelta(hours=12),
            block=timedelta(minutes=30),
            replan=timedelta(minutes=10),
            carbon_price=CarbonPrice(0.085, "AUD"),
        )
        assert planning.signals().carbon_price_per_kg == pytest.approx(0.085)
        plug(controller, LAX, "S-lax", 40.0, datetime(2026, 3, 2, 19, 10, tzinfo=UTC))
        asyncio.run(cycle_and_plan(ControlLoop(controller, RecordingDispatcher()), planning))
        assert planning.latest is not None and planning.latest.problem is not None
        assert planning.latest.problem.blocks.count == 24  # 12 h of 30 min
        assert planning.latest.problem.carbon_price_per_kg == pytest.approx(0.085)
    finally:
        controller.close()
