"""The control loop on a real SQLite store: limits journaled with their reasons,
dispatched decreases first, outcomes fed back, failures kept safe."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.config.compile import compile_site
from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import (
    LimitCommand,
    Outcome,
    RecordingDispatcher,
    in_safe_order,
)
from depotctl.controller.loop import ControlLoop, CycleResult, upcoming
from depotctl.controller.service import Controller, checked_site
from depotctl.controller.store import JournalKind, Store
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.engine import BindingKind, EvseState, LimitKind
from tests.conftest import EXAMPLES

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
MINIMAL = EXAMPLES / "minimal.yaml"


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    store = Store.open(tmp_path / "depotctl.sqlite")
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(store, clock, base_dir=MINIMAL.parent)
    controller.seed(MINIMAL, MINIMAL.read_text(), author="test")
    yield controller
    controller.close()


def plug(controller: Controller, evse_id: str, session_id: str) -> None:
    controller.store.put_session(
        Session(
            id=session_id,
            evse_id=evse_id,
            started=controller.clock.now(),
            requirement=EnergyRequirement(40_000.0, START + timedelta(hours=8)),
        )
    )


def run(loop: ControlLoop, reason: str = "test") -> object:
    return asyncio.run(loop.cycle(reason))


def test_a_session_gets_a_limit_journaled_with_its_reason(controller: Controller) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    [[command]] = dispatcher.sent
    assert command.evse_id == "chg-01/1" and command.previous_a is None
    # alone on a 100 A board: its own 22 kW rating binds, 31.88 A rounded down
    assert command.limit_a == pytest.approx(31.8)
    assert loop.in_force == {"chg-01/1": command.limit_a}
    changed = controller.store.journal(kind=JournalKind.ALLOCATION_CHANGED)
    assert [e.evse for e in changed] == ["chg-01/1"]
    assert changed[0].session == "S-1"
    assert changed[0].data["binding"]["kind"] == BindingKind.CHARGER_LIMIT.value
    outcomes = controller.store.journal(kind=JournalKind.COMMAND_OUTCOME)
    assert [e.data["outcome"] for e in outcomes] == ["accepted"]
    state = controller.store.charger_states()["chg-01"]
    assert state.last_accepted_limit_a == pytest.approx(31.8)


def test_an_unchanged_limit_is_not_sent_again(controller: Controller) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    run(loop)
    assert len(dispatcher.sent) == 1


def test_decreases_go_out_before_increases(controller: Controller) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    plug(controller, "chg-02/1", "S-2")
    run(loop)
    # an envelope cuts the grid connection: both come down; then it is lifted
    controller.store.heard_from("local", START)
    controller.store.put_envelope(
        Envelope(
            id="E-1",
            source="local",
            target="gc-main",
            direction=Direction.IMPORT,
            limit=20_000.0,
            unit=LimitUnit.W,
            start=START,
            end=START + timedelta(hours=1),
            received_at=START,
        )
    )
    run(loop)
    cut = dispatcher.sent[-1]
    assert all(c.is_decrease for c in cut) and len(cut) == 2
    controller.store.end_session("S-1", at=controller.clock.now(), energy_delivered_wh=1_000.0)
    run(loop)
    mixed = dispatcher.sent[-1]
    kinds = [c.is_decrease for c in mixed]
    assert kinds == sorted(kinds, reverse=True)  # every decrease before every increase
    assert kinds[0] and not kinds[-1]
    assert {c.evse_id: c.limit_a for c in mixed}["chg-01/1"] == 0.0


def test_in_safe_order_puts_decreases_first() -> None:
    commands = [
        LimitCommand("b/1", "b", 20.0, 10.0, START),
        LimitCommand("a/1", "a", 5.0, 10.0, START),
        LimitCommand("c/1", "c", 8.0, None, START),
    ]
    assert [c.evse_id for c in in_safe_order(commands)] == ["a/1", "c/1", "b/1"]


def test_a_rejected_limit_makes_the_charger_uncontrollable(controller: Controller) -> None:
    dispatcher = RecordingDispatcher(answer=lambda c: CommandOutcome.REJECTED)
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    assert loop.in_force == {}  # an unacknowledged command is never assumed applied
    state = controller.store.charger_states()["chg-01"]
    assert state.last_outcome is CommandOutcome.REJECTED and not state.is_controllable
    live = controller.live()
    view = live.allocation.evses["chg-01/1"]
    assert view.state is EvseState.UNCONTROLLABLE
    # with no accepted limit it is assumed to draw its rating, reserved on the board
    board = live.allocation.constraints[("db-1", LimitKind.CURRENT_L1)]
    assert board.reserved == pytest.approx(31.88, abs=0.01)  # 22 kW at 3 × 230 V
    run(loop)
    assert len(dispatcher.sent) == 1  # nothing more is sent to it


def test_a_failing_cycle_sends_nothing_and_is_journaled(
    controller: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    in_force = dict(loop.in_force)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the engine fell over")

    monkeypatch.setattr(controller, "live", broken)
    result = run(loop, "tick")
    assert result.error == "RuntimeError: the engine fell over"
    assert len(dispatcher.sent) == 1 and loop.in_force == in_force
    [failed] = controller.store.journal(kind=JournalKind.CYCLE_FAILED)
    assert "the engine fell over" in failed.message


def test_a_change_runs_a_cycle_at_once(controller: Controller) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher, tick_s=3600.0)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(loop.run(stop))
        await asyncio.sleep(0.05)  # the start cycle: nobody plugged in
        assert dispatcher.sent == []
        plug(controller, "chg-02/1", "S-9")
        controller.changed("session started")
        for _ in range(100):
            if dispatcher.sent:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(running, 5)

    asyncio.run(scenario())
    assert [c.evse_id for c in dispatcher.sent[0]] == ["chg-02/1"]


def test_a_superseded_envelope_stays_expired_after_its_successor_ends(
    controller: Controller,
) -> None:
    """A (open-ended) is superseded by a newer B for [+1 h, +2 h); at +3 h, A must not
    come back into force just because B is over."""

    def envelope(
        envelope_id: str, limit_w: float, start: datetime, end: datetime | None, received: datetime
    ) -> Envelope:
        return Envelope(
            id=envelope_id,
            source="local",
            target="gc-main",
            direction=Direction.IMPORT,
            limit=limit_w,
            unit=LimitUnit.W,
            start=start,
            end=end,
            received_at=received,
        )

    controller.store.heard_from("local", START)
    controller.store.put_envelope(envelope("A", 10_000.0, START, None, START))
    controller.store.put_envelope(
        envelope(
            "B",
            50_000.0,
            START + timedelta(hours=1),
            START + timedelta(hours=2),
            START + timedelta(minutes=1),
        )
    )
    controller.clock.advance(3 * 3600)
    controller.store.heard_from("local", controller.clock.now())
    plug(controller, "chg-01/1", "S-1")
    live = controller.live()
    sources = {c.source.ref for c in live.allocation.constraints.values() if c.node_id == "gc-main"}
    assert "A" not in sources
    assert live.allocation.limits_a["chg-01/1"] > 10_000.0 / (3 * 230)


def test_a_charger_that_drops_off_while_its_command_is_out_stays_offline(
    controller: Controller,
) -> None:
    """Its connection said offline during the dispatch: the accepted outcome that
    arrived before must not bring it back online (only a reconnect does)."""

    class DropsOff(RecordingDispatcher):
        async def dispatch(self, commands: Sequence[LimitCommand]) -> list[Outcome]:
            outcomes = await super().dispatch(commands)
            controller.store.put_charger_states(
                [ChargerState("chg-01", online=False, reason="websocket closed")]
            )
            return outcomes

    loop = ControlLoop(controller, DropsOff())
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    state = controller.store.charger_states()["chg-01"]
    assert not state.online and not state.is_controllable
    assert state.last_outcome is CommandOutcome.ACCEPTED


def test_one_failed_evse_makes_its_charger_uncontrollable_whatever_the_order(
    tmp_path: Path,
) -> None:
    twin = MINIMAL.read_text().replace(
        "evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]",
        "evses: [{id: 1, connectors: [{id: 1}]}, {id: 2, connectors: [{id: 1}]}]",
        1,
    )
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(Store.open(tmp_path / "s.sqlite"), clock, base_dir=MINIMAL.parent)
    try:
        controller.seed(MINIMAL, twin, author="test")
        for rejected in ("chg-01/1", "chg-01/2"):  # the failure first, then last
            dispatcher = RecordingDispatcher(
                answer=lambda c, bad=rejected: (
                    CommandOutcome.REJECTED if c.evse_id == bad else CommandOutcome.ACCEPTED
                )
            )
            controller.store.put_charger_states([ChargerState("chg-01")])
            loop = ControlLoop(controller, dispatcher)
            plug(controller, "chg-01/1", f"S-1-{rejected}")
            plug(controller, "chg-01/2", f"S-2-{rejected}")
            run(loop)
            assert {c.evse_id for c in dispatcher.sent[0]} == {"chg-01/1", "chg-01/2"}
            state = controller.store.charger_states()["chg-01"]
            assert state.last_outcome is CommandOutcome.REJECTED, rejected
            assert not state.is_controllable
            for session in ("S-1", "S-2"):
                controller.store.end_session(
                    f"{session}-{rejected}", at=clock.now(), energy_delivered_wh=0.0
                )
    finally:
        controller.close()


def test_a_cycle_runs_when_a_reading_goes_stale_not_at_the_next_tick(tmp_path: Path) -> None:
    """Nothing arrives, yet the inputs change: the workshop's reading goes stale (its
    load then counts as its fallback). The loop wakes for it, an hour's tick ahead."""
    clock = SimClock(START, speed=600.0)  # ten simulated minutes a second
    controller = Controller(Store.open(tmp_path / "s.sqlite"), clock, base_dir=MINIMAL.parent)
    controller.seed(MINIMAL, MINIMAL.read_text(), author="test")
    stale_after = controller.require_site().policy.stale_after_s
    node = next(iter(controller.require_site().topology.nodes))
    controller.store.put_readings([Reading(node, clock.now(), power_w=1_000.0)])
    reasons: list[str] = []

    class Recording(ControlLoop):
        async def cycle(self, reason: str = "tick") -> CycleResult:
            reasons.append(reason)
            return await super().cycle(reason)

    async def main() -> None:
        loop = Recording(controller, RecordingDispatcher(), tick_s=3600.0)
        stop = asyncio.Event()
        running = asyncio.create_task(loop.run(stop))
        deadline = asyncio.get_running_loop().time() + 5.0
        while len(reasons) < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await running

    try:
        asyncio.run(main())
        assert reasons[:2] == ["start", f"telemetry from {node} stale"], reasons
        assert stale_after < 3600.0
    finally:
        controller.close()


def test_upcoming_names_the_first_change_ahead() -> None:
    site = checked_site(MINIMAL.read_text(), path=MINIMAL)
    topology, policy = compile_site(site, MINIMAL.parent)
    cut = Envelope(
        id="E-1",
        source="local",
        target="gc-main",
        direction=Direction.IMPORT,
        limit=10_000.0,
        unit=LimitUnit.W,
        start=START + timedelta(minutes=10),
        end=START + timedelta(minutes=40),
        received_at=START,
    )
    snap = Snapshot(at=START, topology=topology, policy=policy, envelopes=(cut,))
    assert upcoming(snap) == (START + timedelta(minutes=10), "envelope E-1 starts")
    later = Snapshot(
        at=START + timedelta(minutes=10), topology=topology, policy=policy, envelopes=(cut,)
    )
    assert upcoming(later) == (START + timedelta(minutes=40), "envelope E-1 ends")
    assert (
        upcoming(
            Snapshot(
                at=START + timedelta(hours=1), topology=topology, policy=policy, envelopes=(cut,)
            )
        )
        is None
    )
