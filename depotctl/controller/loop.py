"""The control loop: a cycle every tick, and at once when something changes.

Each cycle allocates a snapshot of what the controller knows, journals every limit
that changed with the reason for it, hands the changed limits to the dispatcher —
decreases before increases — and feeds the outcomes back: a charger that rejects,
times out or is offline becomes uncontrollable for the next cycle. A cycle that
raises keeps the limits in force (nothing is sent) and journals the error.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from depotctl.controller.dispatch import Dispatcher, LimitCommand, Outcome, in_safe_order
from depotctl.controller.service import Controller, LiveState
from depotctl.controller.store import JournalKind, NewJournalEntry
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.snapshot import Snapshot
from depotctl.engine import EvseState
from depotctl.engine.render import binding_json

log = logging.getLogger("depotctl.controller")


@dataclass(frozen=True, slots=True)
class CycleResult:
    """What one cycle did: the reason it ran, the commands sent and their outcomes,
    or the error that stopped it."""

    reason: str
    commands: tuple[LimitCommand, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    error: str | None = None


@dataclass
class ControlLoop:
    """Runs cycles on ``controller`` through ``dispatcher`` every ``tick_s`` of the
    controller's clock (which may run faster than real time)."""

    controller: Controller
    dispatcher: Dispatcher
    tick_s: float = 5.0
    #: limits the chargers accepted, by EVSE: what is in force
    in_force: dict[str, float] = field(default_factory=dict)
    #: how long the per-minute telemetry history is kept (of the controller's clock)
    telemetry_retention_s: float = 35 * 86_400.0
    _pruned_at: datetime | None = None
    #: outcomes the dispatcher reported of its own accord (retries), for the next cycle
    _reported: list[Outcome] = field(default_factory=list)
    #: the next instant the allocation's inputs change by themselves, and what changes
    _upcoming: tuple[datetime, str] | None = None
    #: EVSEs of chargers that just (re)connected: at their fallback until told again
    _at_fallback: dict[str, float] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _reasons: list[str] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None

    def __post_init__(self) -> None:
        self.controller.on_change(self.trigger)

    def trigger(self, reason: str) -> None:
        """Run a cycle as soon as possible; safe to call from any thread (the API's
        handlers run in a thread pool)."""
        self._reasons.append(reason)
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._wake.set)
        else:
            self._wake.set()

    def report(self, outcome: Outcome) -> None:
        """An outcome the dispatcher got of its own accord (a retry): applied at the
        start of the next cycle, which runs at once."""
        self._reported.append(outcome)
        self.trigger(f"{outcome.command.evse_id} retry {outcome.result.value}")

    def charger_connected(
        self, charger_id: str, fallback: CommandOutcome, reason: str | None = None
    ) -> None:
        """A charger (re)connected and was sent its fallback profile: it is at its
        fallback until a command says otherwise, so every one of its EVSEs' limits is
        sent again; controllable again only if it accepted the fallback."""
        applied = self.controller.applied
        if applied is None:
            return
        at = self.controller.clock.now()
        for evse in applied.topology.chargers_evses(charger_id):
            self.in_force.pop(evse.id, None)
            self._at_fallback[evse.id] = evse.fallback_a
        known = self.controller.store.charger_states().get(charger_id)
        accepted = fallback is CommandOutcome.ACCEPTED
        state = ChargerState(
            charger_id=charger_id,
            online=known.online if known is not None else True,
            last_outcome=fallback,
            last_accepted_limit_a=None,
            last_command_at=at,
            reason=reason,
        )
        entry = NewJournalEntry(
            at=at,
            kind=JournalKind.COMMAND_OUTCOME,
            message=f"{charger_id} fallback profile: {fallback.value}"
            + (f" ({reason})" if reason else "")
            + ("" if accepted else "; uncontrollable until it accepts one"),
            data={"charger": charger_id, "profile": "fallback", "outcome": fallback.value},
        )
        with self.controller.store.transaction():
            self.controller.store.put_charger_states([state])
            self.controller.store.append_journal([entry])
        self.controller.changed(f"charger {charger_id} connected")

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until ``stop`` is set."""
        self._loop = asyncio.get_running_loop()
        reason = "start"
        while not stop.is_set():
            await self.cycle(reason)
            reason = await self._next(stop)

    async def _next(self, stop: asyncio.Event) -> str:
        clock = self.controller.clock
        wait_s, reason = self.tick_s, "tick"
        if self._upcoming is not None:  # a reading going stale, an envelope starting…
            at, what = self._upcoming
            until_s = (at - clock.now()).total_seconds()
            if until_s < wait_s:
                wait_s, reason = max(until_s, 0.0), what
        wall_s = wait_s / max(clock.speed, 1e-9)
        waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
        _, pending = await asyncio.wait(
            waiters, timeout=wall_s, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if self._wake.is_set():
            self._wake.clear()
            reasons, self._reasons = self._reasons, []
            return ", ".join(dict.fromkeys(reasons)) or "event"
        return reason

    async def cycle(self, reason: str = "tick") -> CycleResult:
        """One control cycle."""
        try:
            reported, self._reported = self._reported, []
            if reported:  # retries answered since the last cycle
                with self.controller.store.transaction():
                    self._apply_outcomes(self.controller.clock.now(), reported)
            live = self.controller.live(self.in_force)
        except Exception as error:  # keep the limits in force; say why nothing changed
            log.exception("control cycle failed")
            self._journal_failure(reason, error)
            return CycleResult(reason, error=f"{type(error).__name__}: {error}")
        commands = self._commands(live)
        outcomes = await self.dispatcher.dispatch(commands) if commands else []
        renewed = await self.dispatcher.renew(self.in_force)
        # a renewal accepted changes nothing; one that was not makes its charger
        # uncontrollable like any other command
        failed = [o for o in renewed if o.result is not CommandOutcome.ACCEPTED]
        with self.controller.store.transaction():  # one durable write per cycle
            self._journal_changes(live, commands)
            self._apply_outcomes(live.snapshot.at, [*outcomes, *failed])
        self.controller.publish(live, max_age_s=self.tick_s)
        self._upcoming = upcoming(live.snapshot)
        self._prune(live.snapshot.at)
        return CycleResult(reason, tuple(commands), tuple(outcomes))

    def _prune(self, now: datetime) -> None:
        """Drop telemetry history past its retention, at most once an hour."""
        if self._pruned_at is not None and (now - self._pruned_at).total_seconds() < 3600:
            return
        self._pruned_at = now
        dropped = self.controller.store.prune_telemetry(
            before=now - timedelta(seconds=self.telemetry_retention_s)
        )
        if dropped:
            log.info("dropped %d minutes of telemetry older than the retention", dropped)

    def _commands(self, live: LiveState) -> list[LimitCommand]:
        """A command for every controllable EVSE whose limit changed: those in a session,
        and those that had a limit that must now come down."""
        at = live.snapshot.at
        commands = []
        for evse_id, limit in live.allocation.limits_a.items():
            previous = self.in_force.get(evse_id)
            resend = previous is None and evse_id in self._at_fallback
            if previous is None and limit <= 0 and not resend:
                continue
            if previous is not None and math.isclose(previous, limit, abs_tol=1e-9):
                continue  # unchanged: no need to look at why (the common case)
            view = live.allocation.evses[evse_id]
            if view.state is EvseState.UNCONTROLLABLE:
                continue
            if view.state is EvseState.IDLE and previous is None:
                continue  # no vehicle: its fallback is what it should hold
            if resend:  # its charger just reconnected: it is at its fallback
                previous = self._at_fallback[evse_id]
            evse = live.snapshot.topology.evses[evse_id]
            commands.append(
                LimitCommand(evse_id, evse.charger_id, limit, previous, at, path=evse.path)
            )
        return in_safe_order(commands)

    def _journal_changes(self, live: LiveState, commands: list[LimitCommand]) -> None:
        at = live.snapshot.at
        entries = []
        for command in commands:
            view = live.allocation.evses[command.evse_id]
            before = "none" if command.previous_a is None else f"{command.previous_a:.1f} A"
            entries.append(
                NewJournalEntry(
                    at=at,
                    kind=JournalKind.ALLOCATION_CHANGED,
                    message=(
                        f"{command.evse_id} limit {before} → {command.limit_a:.1f} A: "
                        f"{view.binding.kind.value}"
                        + (f" {view.binding.ref}" if view.binding.ref else "")
                        + f" ({view.binding.detail})"
                    ),
                    evse=command.evse_id,
                    envelope=view.binding.ref if view.binding.kind.value == "envelope" else None,
                    session=view.session_id,
                    data={
                        "limit_a": command.limit_a,
                        "previous_a": command.previous_a,
                        "state": view.state.value,
                        "binding": binding_json(view.binding),
                        "revision": live.revision.number,
                    },
                )
            )
        if entries:
            self.controller.store.append_journal(entries)

    def _apply_outcomes(self, at: datetime, outcomes: list[Outcome]) -> None:
        """Accepted limits are in force; anything else makes the charger uncontrollable
        (its state is stored, so the next cycle reserves its assumed draw)."""
        if not outcomes:
            return
        # read now, not from the cycle's snapshot: a charger may have gone offline
        # while its commands were out, and only its connection says it is back
        known = self.controller.store.charger_states()
        states: dict[str, ChargerState] = {}
        entries = []
        for outcome in outcomes:
            command = outcome.command
            accepted = outcome.result is CommandOutcome.ACCEPTED
            if accepted:
                self.in_force[command.evse_id] = command.limit_a
                self._at_fallback.pop(command.evse_id, None)
            earlier = states.get(command.charger_id)
            previous = earlier or known.get(command.charger_id)
            if accepted and earlier is not None and not earlier.is_controllable:
                # another EVSE of this charger failed in this batch: that one counts
                states[command.charger_id] = replace(
                    earlier,
                    last_accepted_limit_a=command.limit_a,
                )
            else:
                states[command.charger_id] = ChargerState(
                    charger_id=command.charger_id,
                    online=(previous.online if previous is not None else True)
                    and outcome.result is not CommandOutcome.OFFLINE,
                    last_outcome=outcome.result,
                    last_accepted_limit_a=(
                        command.limit_a
                        if accepted
                        else (previous.last_accepted_limit_a if previous else None)
                    ),
                    last_command_at=at,
                    reason=outcome.reason,
                )
            entries.append(
                NewJournalEntry(
                    at=at,
                    kind=JournalKind.COMMAND_OUTCOME,
                    message=(
                        f"{command.evse_id} {command.limit_a:.1f} A: {outcome.result.value}"
                        + (f" ({outcome.reason})" if outcome.reason else "")
                    ),
                    evse=command.evse_id,
                    data={"limit_a": command.limit_a, "outcome": outcome.result.value},
                )
            )
        self.controller.store.put_charger_states(states.values())
        self.controller.store.append_journal(entries)

    def _journal_failure(self, reason: str, error: Exception) -> None:
        try:
            self.controller.store.append_journal(
                [
                    NewJournalEntry(
                        at=self.controller.clock.now(),
                        kind=JournalKind.CYCLE_FAILED,
                        message=f"control cycle ({reason}) failed: {type(error).__name__}: {error}",
                        data={"reason": reason},
                    )
                ]
            )
        except Exception:  # the store itself may be what failed
            log.exception("could not journal the failed cycle")


def upcoming(snapshot: Snapshot) -> tuple[datetime, str] | None:
    """The first instant after ``snapshot.at`` at which its inputs change with no new
    message: a fresh reading going stale, an envelope starting or ending, a source
    falling silent for longer than it may. The loop runs a cycle then, not at the
    next tick."""
    now = snapshot.at
    events: list[tuple[datetime, str]] = []
    # a reading is stale, and a source offline, once *past* its allowance
    past = timedelta(milliseconds=1)
    stale_after = timedelta(seconds=snapshot.policy.stale_after_s) + past
    for reading in snapshot.telemetry.values():
        events.append((reading.at + stale_after, f"telemetry from {reading.node} stale"))
    for envelope in snapshot.envelopes:
        if envelope.withdrawn_at is not None and envelope.withdrawn_at <= now:
            continue
        events.append((envelope.start, f"envelope {envelope.id} starts"))
        if envelope.end is not None:
            events.append((envelope.end, f"envelope {envelope.id} ends"))
    for health in snapshot.sources.values():
        if health.last_heard is not None and health.offline_after_s is not None:
            silent = health.last_heard + timedelta(seconds=health.offline_after_s) + past
            events.append((silent, f"source {health.source} silent"))
    ahead = [event for event in events if event[0] > now]
    return min(ahead, key=lambda event: event[0]) if ahead else None
