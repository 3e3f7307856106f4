"""The control loop on a real SQLite store: limits journaled with their reasons,
dispatched decreases first, outcomes fed back, failures kept safe."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.config import compile_site
from depotctl.controller.clock import SimClock
from depotctl.controller.decisions import envelope_lead, upcoming
from depotctl.controller.dispatch import (
    OutcomeSink,
    RecordingDispatcher,
    going_now,
    in_safe_order,
)
from depotctl.controller.loop import ControlLoop, CycleResult
from depotctl.controller.service import Controller, checked_site
from depotctl.controller.store import JournalKind, Store
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.commands import LimitCommand, Outcome
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
    controller.units().sessions.put(
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
    # never told anything, it held its 16 A fallback (the idle chg-02/1 may start at
    # its fallback: nothing to send it)
    assert command.evse_id == "chg-01/1" and command.previous_a == 16.0
    # alone on a 100 A board: its own 22 kW rating binds, 31.88 A rounded down
    assert command.limit_a == pytest.approx(31.8)
    run(loop, "the outcome")
    assert loop.in_force == {"chg-01/1": command.limit_a}
    changed = controller.units().journal.entries(kind=JournalKind.ALLOCATION_CHANGED)
    assert [e.evse for e in changed] == ["chg-01/1"]
    assert changed[0].session == "S-1"
    assert changed[0].data["binding"]["kind"] == BindingKind.CHARGER_LIMIT.value
    outcomes = controller.units().journal.entries(kind=JournalKind.COMMAND_OUTCOME)
    assert [e.data["outcome"] for e in outcomes] == ["accepted"]
    # journaled before it was sent: the decision's entry comes first
    assert changed[0].id < outcomes[0].id
    state = controller.units().chargers.states()["chg-01"]
    assert state.last_accepted_limit_a == pytest.approx(31.8)
    assert state.held["chg-01/1"][0].limit_a == pytest.approx(31.8)


def test_an_unchanged_limit_is_not_sent_again(controller: Controller) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    run(loop)
    run(loop)
    assert len(dispatcher.sent) == 1


def cut(controller: Controller, limit_w: float) -> None:
    controller.units().sources.heard_from("local", controller.clock.now())
    controller.units().envelopes.put(
        Envelope(
            id=f"E-{limit_w:g}",
            source="local",
            target="gc-main",
            direction=Direction.IMPORT,
            limit=limit_w,
            unit=LimitUnit.W,
            start=controller.clock.now(),
            end=controller.clock.now() + timedelta(hours=1),
            received_at=controller.clock.now(),
        )
    )


def test_decreases_go_out_at_once_and_related_increases_in_the_next_cycle(
    controller: Controller,
) -> None:
    """Of one cycle's commands the decreases go at once; an increase under a node one of
    them frees was computed as if it had landed, so it waits for the next cycle, which
    runs as soon as the decreases are answered and decides it again."""
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    plug(controller, "chg-02/1", "S-2")
    run(loop)
    run(loop)
    cut(controller, 20_000.0)  # both come down
    run(loop)
    assert all(c.is_decrease for c in dispatcher.sent[-1]) and len(dispatcher.sent[-1]) == 2
    run(loop)
    # S-1 leaves: its EVSE comes down to its start allowance, S-2 may rise into the room
    controller.units().sessions.end("S-1", at=controller.clock.now(), energy_delivered_wh=1_000.0)
    result = run(loop)
    assert [c.evse_id for c in result.commands] == ["chg-01/1"]
    assert result.commands[0].is_decrease
    assert [c.evse_id for c in result.deferred] == ["chg-02/1"]
    assert loop._awaited == set()  # the recorder answered at once: nothing to wait for
    follow_up = run(loop, "the decreases were answered")
    assert [(c.evse_id, c.is_decrease) for c in follow_up.commands] == [("chg-02/1", False)]


def test_going_now_sends_every_decrease_and_only_unrelated_increases() -> None:
    def command(evse: str, limit: float, previous: float | None, *above: str) -> LimitCommand:
        charger = evse.split("/")[0]
        return LimitCommand(evse, charger, limit, previous, START, path=(charger, *above))

    down = command("a/1", 5.0, 10.0, "db-1", "gc-1")
    up_same_board = command("b/1", 20.0, 10.0, "db-1", "gc-1")
    up_elsewhere = command("c/1", 20.0, 10.0, "db-2", "gc-2")
    unknown = LimitCommand("d/1", "d", 8.0, None, START)  # no path: shares every node
    now, later = going_now([up_same_board, up_elsewhere, down])
    assert (now, later) == ([down, up_elsewhere], [up_same_board])
    now, later = going_now([up_elsewhere, unknown])
    assert (now, later) == ([unknown], [up_elsewhere])
    assert going_now([up_same_board, up_elsewhere]) == ([up_same_board, up_elsewhere], [])


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
    run(loop, "the outcome")
    assert loop.in_force == {}  # an unacknowledged command is never assumed applied
    state = controller.units().chargers.states()["chg-01"]
    assert state.last_outcome is CommandOutcome.REJECTED and not state.is_controllable
    live = controller.live()
    view = live.allocation.evses["chg-01/1"]
    assert view.state is EvseState.UNCONTROLLABLE
    # it accepted nothing of ours: it is assumed at its 16 A fallback, reserved on the board
    board = live.allocation.constraints[("db-1", LimitKind.CURRENT_L1)]
    assert board.reserved == pytest.approx(16.0)
    run(loop)
    assert len(dispatcher.sent) == 1  # nothing more is sent to it


def test_an_unanswered_limit_counts_until_its_validity_ends_then_the_fallback(
    controller: Controller,
) -> None:
    """A command that timed out may have landed: its charger counts at it until the
    profile would lapse, then at its fallback."""
    dispatcher = RecordingDispatcher(answer=lambda c: CommandOutcome.TIMEOUT, validity_s=60.0)
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    run(loop, "the outcome")
    board = ("db-1", LimitKind.CURRENT_L1)
    assert controller.live().allocation.constraints[board].reserved == pytest.approx(31.8)
    assert controller.live().allocation.evses["chg-01/1"].state is EvseState.UNCONTROLLABLE
    controller.clock.advance(61)
    assert controller.live().allocation.constraints[board].reserved == pytest.approx(16.0)
    [entry] = controller.units().journal.entries(kind=JournalKind.COMMAND_OUTCOME)
    assert "it may have landed: counted until" in entry.message


def test_a_silent_charger_holds_up_nobody(controller: Controller) -> None:
    """chg-01 never answers. An envelope cut: both decreases go out; chg-02's is
    answered; the next cycle counts chg-01 at the higher of its two limits, and when
    the cut is lifted chg-02 rises at once although chg-01's command is still out."""
    answered: list[LimitCommand] = []

    class SilentOne(RecordingDispatcher):
        def send(self, commands: Sequence[LimitCommand], report: OutcomeSink) -> None:
            self.sent.append(list(commands))
            for command in commands:
                if command.charger_id != "chg-01":
                    answered.append(command)
                    report(Outcome(command, CommandOutcome.ACCEPTED, None))

    dispatcher = SilentOne()
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-02/1", "S-2")
    run(loop)
    run(loop)
    plug(controller, "chg-01/1", "S-1")  # its command (16 A → 31.8 A) is never answered
    run(loop)
    assert loop.in_flight.keys() == {"chg-01/1"}
    view = controller.live(
        previous_limits=loop.in_force, pending={"chg-01/1": 31.8}
    ).allocation.evses["chg-01/1"]
    assert view.binding.kind is BindingKind.COMMAND_PENDING
    cut(controller, 30_000.0)
    result = run(loop, "envelope")
    # chg-01/1 keeps its command; chg-02/1 comes down to what is left beside 31.8 A
    assert [c.evse_id for c in result.commands] == ["chg-02/1"]
    assert result.commands[0].is_decrease
    live = controller.live(previous_limits=loop.in_force, pending={"chg-01/1": 31.8})
    assert live.allocation.constraints[("gc-main", LimitKind.IMPORT_POWER)].headroom >= -1e-6
    run(loop, "the outcome")  # chg-02/1's decrease is in force
    lowered = loop.in_force["chg-02/1"]
    controller.units().envelopes.withdraw("E-30000", at=controller.clock.now())
    lifted = run(loop, "envelope withdrawn")
    # computed with chg-01/1 at the higher of its limits: safe whether it lands or not,
    # so it goes out now, chg-01/1's command still unanswered
    assert [(c.evse_id, c.is_decrease) for c in lifted.commands] == [("chg-02/1", False)]
    assert lifted.commands[0].limit_a > lowered and lifted.deferred == ()
    assert loop.in_flight.keys() == {"chg-01/1", "chg-02/1"}
    assert dispatcher.sent[-1] == list(lifted.commands)


def test_a_failing_cycle_sends_nothing_and_is_journaled(
    controller: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher)
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    run(loop)
    in_force = dict(loop.in_force)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the engine fell over")

    monkeypatch.setattr(controller, "live", broken)
    result = run(loop, "tick")
    assert result.error == "RuntimeError: the engine fell over"
    assert len(dispatcher.sent) == 1 and loop.in_force == in_force
    [failed] = controller.units().journal.entries(kind=JournalKind.CYCLE_FAILED)
    assert "the engine fell over" in failed.message


def test_a_change_runs_a_cycle_at_once(controller: Controller) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(controller, dispatcher, tick_s=3600.0)
    cycles: list[str] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        original = loop.cycle

        async def counted(reason: str = "tick") -> CycleResult:
            cycles.append(reason)
            return await original(reason)

        loop.cycle = counted  # type: ignore[method-assign]
        running = asyncio.create_task(loop.run(stop))
        await until(lambda: cycles == ["start"])
        assert dispatcher.sent == []  # nobody plugged in
        plug(controller, "chg-02/1", "S-9")
        controller.changed("session started")
        await until(lambda: bool(dispatcher.sent))
        stop.set()
        await asyncio.wait_for(running, 5)

    asyncio.run(scenario())  # the clock is paused: only the change can have run it
    assert cycles[1] == "session started"
    assert [c.evse_id for c in dispatcher.sent[0]] == ["chg-02/1"]


async def until(check: Callable[[], bool]) -> None:
    """Let the loop run until ``check`` holds (bounded: a broken loop fails, not hangs)."""
    for _ in range(10_000):
        if check():
            return
        await asyncio.sleep(0)
    raise AssertionError("the loop never got there")


def test_the_loop_ticks_on_schedule_whatever_a_cycle_costs(controller: Controller) -> None:
    """Period = tick: a cycle that takes 2 s of the clock does not push the next tick
    back by 2 s."""
    ticks: list[datetime] = []
    loop = ControlLoop(controller, RecordingDispatcher(), tick_s=5.0)
    original = loop.cycle

    async def slow(reason: str = "tick") -> CycleResult:
        ticks.append(controller.clock.now())
        controller.clock.advance(2.0)  # the cycle's own cost, in clock time
        return await original(reason)

    loop.cycle = slow  # type: ignore[method-assign]

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(loop.run(stop))
        await until(lambda: len(ticks) == 1)
        for expected in range(2, 6):
            await until(lambda: loop._next_tick is not None)
            controller.clock.advance(1.0)
            await asyncio.sleep(0)
            controller.clock.advance(2.0)  # 2 + 1 + 2 = 5 s after the start of the last
            await until(lambda n=expected: len(ticks) == n)
        stop.set()
        await asyncio.wait_for(running, 5)

    asyncio.run(scenario())
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ticks)]
    assert gaps == [5.0, 5.0, 5.0, 5.0]


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

    controller.units().sources.heard_from("local", START)
    controller.units().envelopes.put(envelope("A", 10_000.0, START, None, START))
    controller.units().envelopes.put(
        envelope(
            "B",
            50_000.0,
            START + timedelta(hours=1),
            START + timedelta(hours=2),
            START + timedelta(minutes=1),
        )
    )
    controller.clock.advance(3 * 3600)
    controller.units().sources.heard_from("local", controller.clock.now())
    plug(controller, "chg-01/1", "S-1")
    live = controller.live()
    sources = {c.source.ref for c in live.allocation.constraints.values() if c.node_id == "gc-main"}
    assert "A" not in sources
    assert live.allocation.limits_a["chg-01/1"] > 10_000.0 / (3 * 230)


def test_a_charger_that_drops_off_while_its_command_is_out_stays_offline(
    controller: Controller,
) -> None:
    """Its connection said offline while the command was out: the accepted outcome that
    arrived before must not bring it back online (only a reconnect does)."""

    class DropsOff(RecordingDispatcher):
        def send(self, commands: Sequence[LimitCommand], report: OutcomeSink) -> None:
            controller.units().chargers.put(
                [ChargerState("chg-01", online=False, reason="websocket closed")]
            )
            super().send(commands, report)

    loop = ControlLoop(controller, DropsOff())
    plug(controller, "chg-01/1", "S-1")
    run(loop)
    run(loop, "the outcome")
    state = controller.units().chargers.states()["chg-01"]
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
            controller.units().chargers.put([ChargerState("chg-01")])
            loop = ControlLoop(controller, dispatcher)
            plug(controller, "chg-01/1", f"S-1-{rejected}")
            plug(controller, "chg-01/2", f"S-2-{rejected}")
            run(loop)
            assert {c.evse_id for c in dispatcher.sent[0]} >= {"chg-01/1", "chg-01/2"}
            run(loop, "the outcomes")
            state = controller.units().chargers.states()["chg-01"]
            assert state.last_outcome is CommandOutcome.REJECTED, rejected
            assert not state.is_controllable
            for session in ("S-1", "S-2"):
                controller.units().sessions.end(
                    f"{session}-{rejected}", at=clock.now(), energy_delivered_wh=0.0
                )
    finally:
        controller.close()


def test_a_cycle_runs_when_a_reading_goes_stale_not_at_the_next_tick(tmp_path: Path) -> None:
    """Nothing arrives, yet the inputs change: the workshop's reading goes stale (its
    load then counts as its fallback). The loop wakes for it, an hour's tick ahead."""
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(Store.open(tmp_path / "s.sqlite"), clock, base_dir=MINIMAL.parent)
    controller.seed(MINIMAL, MINIMAL.read_text(), author="test")
    stale_after = controller.require_site().policy.stale_after_s
    node = next(iter(controller.require_site().topology.nodes))
    controller.units().telemetry.put([Reading(node, clock.now(), power_w=1_000.0)])
    reasons: list[str] = []

    class Recording(ControlLoop):
        async def cycle(self, reason: str = "tick") -> CycleResult:
            reasons.append(reason)
            return await super().cycle(reason)

    async def main() -> None:
        loop = Recording(controller, RecordingDispatcher(), tick_s=3600.0)
        stop = asyncio.Event()
        running = asyncio.create_task(loop.run(stop))
        await until(lambda: reasons == ["start"])
        clock.advance(stale_after + 1)
        await until(lambda: len(reasons) == 2)
        stop.set()
        await running

    try:
        asyncio.run(main())
        assert reasons == ["start", f"telemetry from {node} stale"], reasons
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


def test_an_envelope_with_a_lead_wakes_the_loop_that_much_before_its_start() -> None:
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
    lead = envelope_lead(5.0, 1.0)
    assert lead == timedelta(seconds=10)  # a tick and the decreases' 5 s of wall time
    assert envelope_lead(5.0, 20.0) == timedelta(seconds=105)
    snap = Snapshot(
        at=START, topology=topology, policy=policy, envelopes=(cut,), envelope_lead=lead
    )
    assert upcoming(snap) == (
        START + timedelta(minutes=10) - lead,
        "envelope E-1 applies ahead of its start",
    )


def test_an_envelope_posted_ahead_has_its_decreases_out_before_it_starts(
    tmp_path: Path,
) -> None:
    """A cut known a minute ahead, with a 10 s lead: the loop wakes 10 s before its
    start (an hour's tick away) and sends the decrease then, so that it has landed when
    the envelope starts; the explanation says why the limit fell early."""
    clock = SimClock(START, speed=1.0)
    clock.pause()
    lead = timedelta(seconds=10)
    store = Store.open(tmp_path / "s.sqlite")
    controller = Controller(store, clock, base_dir=MINIMAL.parent, envelope_lead=lead)
    controller.seed(MINIMAL, MINIMAL.read_text(), author="test")
    plug(controller, "chg-01/1", "S-1")
    starts = START + timedelta(minutes=1)
    controller.units().sources.heard_from("local", START)
    controller.units().envelopes.put(
        Envelope(
            id="E-cut",
            source="local",
            target="gc-main",
            direction=Direction.IMPORT,
            limit=5_000.0,
            unit=LimitUnit.W,
            start=starts,
            end=starts + timedelta(hours=1),
            received_at=START,
        )
    )
    dispatcher = RecordingDispatcher()
    reasons: list[str] = []

    class Recording(ControlLoop):
        async def cycle(self, reason: str = "tick") -> CycleResult:
            reasons.append(reason)
            return await super().cycle(reason)

    async def main() -> None:
        loop = Recording(controller, dispatcher, tick_s=3600.0)
        stop = asyncio.Event()
        running = asyncio.create_task(loop.run(stop))
        await until(lambda: len(dispatcher.sent) == 1)  # the session's first limit
        clock.advance(45.0)  # 15 s before the start: not yet
        await until(lambda: len(reasons) >= 2)  # the outcome's cycle
        assert len(dispatcher.sent) == 1
        clock.advance(6.0)  # 9 s before the start: within the lead
        await until(lambda: len(dispatcher.sent) == 2)
        stop.set()
        await running

    try:
        asyncio.run(main())
        [first], later = dispatcher.sent
        [decrease] = [c for c in later if c.evse_id == "chg-01/1"]
        assert "envelope E-cut applies ahead of its start" in reasons
        assert decrease.limit_a < first.limit_a and decrease.at < starts
        [entry] = [
            e
            for e in controller.units().journal.entries(kind=JournalKind.ALLOCATION_CHANGED)
            if e.data.get("limit_a") == decrease.limit_a
        ]
        assert entry.data["binding"]["kind"] == BindingKind.ENVELOPE.value
        assert "ahead of its start at 2026-03-02T18:01:00Z" in entry.message
    finally:
        controller.close()
