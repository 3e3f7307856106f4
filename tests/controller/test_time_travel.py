"""Time travel: a recorded night replayed cycle by cycle. The real control loop runs
over a real SQLite store on a simulated clock moved by the test — sessions arriving
and leaving, telemetry, an envelope, an operator's pause, a charger that rejects a
limit and turns uncontrollable, the planner followed on a dear-then-cheap tariff —
and every cycle's snapshot, rebuilt from the recorded inputs at its instant, is the
one the cycle decided from; its allocation gives the same limits, and each journaled
limit change is the rebuilt decision at its time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.inputs_record import InputsRecorder
from depotctl.controller.loop import ControlLoop
from depotctl.controller.planning import Planning
from depotctl.controller.service import Controller, LiveState
from depotctl.controller.store import JournalKind, Store
from depotctl.controller.time_travel import inputs_kept_since, journal_decisions, state_at
from depotctl.domain.chargers import CommandOutcome
from depotctl.domain.commands import LimitCommand
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.telemetry import Reading
from depotctl.engine import BindingKind
from tests.conftest import EXAMPLES

#: Monday 2 March 2026, 18:00 in Sydney (+11)
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
TARIFF = (
    "  tariff:\n"
    "    currency: AUD\n"
    '    seasons: [{name: all-year, from: "01-01", to: "12-31", energy: [\n'
    '      {name: day, days: all, from: "01:00", to: "23:00", price: 0.21 /kWh},\n'
    '      {name: night, days: all, from: "23:00", to: "01:00", price: 0.06 /kWh}]}]\n'
)
SETTINGS = PlannerSettings(enabled=True, horizon=timedelta(hours=24))


def controller_of(state_dir: Path) -> Controller:
    """A controller on a paused clock at :data:`START`, the minimal site with a
    dear-then-cheap tariff seeded."""
    site = state_dir / "site.yaml"
    site.write_text((EXAMPLES / "minimal.yaml").read_text() + TARIFF)
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(Store.open(state_dir / "depotctl.sqlite"), clock, base_dir=state_dir)
    controller.seed(site, site.read_text(), author="test")
    return controller


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    controller = controller_of(tmp_path)
    yield controller
    controller.close()


class Night:
    """The loop, the planner, and every cycle's decision as the loop published it."""

    def __init__(self, controller: Controller, *, keyframe_every: int) -> None:
        self.controller = controller
        self.rejecting: set[str] = set()
        self.dispatcher = RecordingDispatcher(answer=self._answer)
        self.loop = ControlLoop(
            controller, self.dispatcher, inputs=InputsRecorder(keyframe_every=keyframe_every)
        )
        self.planning = Planning(controller, SETTINGS)
        self.cycles: list[LiveState] = []
        publish = controller.publish

        def published(live: LiveState, *, max_age_s: float) -> None:
            self.cycles.append(live)
            publish(live, max_age_s=max_age_s)

        controller.publish = published  # type: ignore[method-assign]

    def _answer(self, command: LimitCommand) -> CommandOutcome:
        if command.charger_id in self.rejecting:
            return CommandOutcome.REJECTED
        return CommandOutcome.ACCEPTED

    def step(self, seconds: float) -> None:
        """Time passes; a cycle, the plan it asked for (if any) and, a second later,
        the cycle that takes in the outcomes and the plan."""
        clock = self.controller.clock
        assert isinstance(clock, SimClock)
        clock.advance(seconds)
        asyncio.run(self._cycles(clock))

    async def _cycles(self, clock: SimClock) -> None:
        await self.loop.cycle("tick")
        if self.planning.task is not None:
            await self.planning.task
        clock.advance(1)
        await self.loop.cycle("the outcomes")

    def now(self) -> datetime:
        return self.controller.clock.now()


def arrive(controller: Controller, evse_id: str, session_id: str, kwh: float, hours: float) -> None:
    now = controller.clock.now()
    requirement = EnergyRequirement(kwh * 1000.0, now + timedelta(hours=hours))
    controller.units().sessions.put(Session(session_id, evse_id, now, requirement=requirement))


def a_recorded_night(controller: Controller, *, keyframe_every: int = 5) -> Night:
    night = Night(controller, keyframe_every=keyframe_every)
    uow = controller.units()
    night.step(5)  # nobody here yet
    arrive(controller, "chg-01/1", "S-lax", 40.0, 11.0)  # plenty of slack: it waits
    arrive(controller, "chg-02/1", "S-urgent", 30.0, 1.5)  # no slack: it charges
    for minute in range(1, 13):
        at = night.now()
        meter = Reading("gc-main", at, power_w=15_000.0 + 700.0 * minute)
        uow.telemetry.put([meter])
        night.step(60)
    uow.sources.heard_from("local", night.now())
    now = night.now()  # a cut to 12 kW from 2 minutes on, for 6 minutes
    start, end = now + timedelta(minutes=2), now + timedelta(minutes=8)
    cut = Envelope(
        "E-cut", "local", "gc-main", Direction.IMPORT, 12e3, LimitUnit.W, start, end, now
    )
    uow.envelopes.put(cut)
    for _ in range(10):
        night.step(60)
    at = night.now()
    uow.overrides.put(EvseOverride("chg-02/1", True, None, at, "alice@depot-ops", "cable check"))
    night.step(30)
    night.step(30)
    uow.overrides.clear("chg-02/1")
    night.rejecting.add("chg-02")  # its next limit is rejected: uncontrollable
    for _ in range(4):
        night.step(45)
    delivered = 12_000.0
    uow.sessions.end("S-urgent", at=night.now(), energy_delivered_wh=delivered)
    night.step(20)
    # 23:00 in Sydney: the night price, and the waiting bus charges on the plan
    night.step((datetime(2026, 3, 2, 12, 0, tzinfo=UTC) - night.now()).total_seconds())
    for _ in range(5):
        night.step(300)
    return night


def test_every_cycle_of_a_recorded_night_is_rebuilt_exactly(controller: Controller) -> None:
    night = a_recorded_night(controller)
    assert len(night.cycles) >= 60
    instants = [live.snapshot.at for live in night.cycles]
    assert len(set(instants)) == len(instants)  # one cycle per instant
    # the night had what it should: a plan followed, an envelope binding, a pause, an
    # uncontrollable charger, a session gone
    bindings = {v.binding.kind for live in night.cycles for v in live.allocation.evses.values()}
    assert {BindingKind.PLANNED_RATE, BindingKind.ENVELOPE} <= bindings
    assert any(live.snapshot.overrides for live in night.cycles)
    assert any(not s.is_controllable for s in night.cycles[-1].snapshot.chargers.values())
    assert any(live.snapshot.plan_notes for live in night.cycles)

    for live in night.cycles:
        past = state_at(controller, live.snapshot.at)
        assert past is not None
        assert past.live.revision.number == live.revision.number
        assert past.live.snapshot == live.snapshot
        assert past.live.allocation.limits_a == live.allocation.limits_a
        assert {e: v.binding for e, v in past.live.allocation.evses.items()} == {
            e: v.binding for e, v in live.allocation.evses.items()
        }
        # between two cycles the depot is as the earlier one left it
        between = state_at(controller, live.snapshot.at + timedelta(milliseconds=500))
        assert between is not None and between.live.snapshot.at == live.snapshot.at

    changed = controller.units().journal.entries(kind=JournalKind.ALLOCATION_CHANGED)
    assert len(changed) >= 6
    for entry in changed:
        past = state_at(controller, entry.at)
        assert past is not None and entry.evse is not None
        view = past.live.allocation.evses[entry.evse]
        assert view.limit_a == entry.data["limit_a"]
        assert view.binding.kind.value == entry.data["binding"]["kind"]


def test_before_the_inputs_kept_only_the_journal_answers(controller: Controller) -> None:
    night = a_recorded_night(controller, keyframe_every=4)
    first = night.cycles[0].snapshot.at
    assert inputs_kept_since(controller) == first
    assert state_at(controller, first - timedelta(seconds=1)) is None
    # inputs older than a retention dropped: rebuilt from the next keyframe on only
    middle = night.cycles[len(night.cycles) // 2].snapshot.at
    assert controller.units().cycle_inputs.prune(before=middle) > 0
    kept = inputs_kept_since(controller)
    assert kept is not None and first < kept <= middle
    early = night.cycles[3]
    assert early.snapshot.at < kept and state_at(controller, early.snapshot.at) is None
    decisions = journal_decisions(controller, early.snapshot.at)
    journaled = controller.units().journal.entries(
        kind=JournalKind.ALLOCATION_CHANGED, until=early.snapshot.at + timedelta(microseconds=1)
    )
    assert decisions and {e: d.id for e, d in decisions.items()} == {
        e.evse: e.id for e in journaled if e.evse is not None
    }
    [only] = journal_decisions(controller, early.snapshot.at, "chg-02/1").values()
    assert only.id == decisions["chg-02/1"].id
    # what is kept is still exact
    for live in night.cycles:
        if live.snapshot.at >= kept:
            past = state_at(controller, live.snapshot.at)
            assert past is not None and past.live.snapshot == live.snapshot
