"""The control loop: a cycle every tick, and at once when something changes.

Each cycle takes in the outcomes that arrived since the last one, allocates a
snapshot of what the controller knows, commits what it decided — every limit that
changes with its reason, the envelopes' and sources' transitions, the alerts raised
and cleared — and only then hands the commands to the dispatcher, which sends them
without the loop waiting for any charger. Outcomes come back on their own: an
accepted limit is in force; a charger that rejects, does not answer or is offline
becomes uncontrollable for the next cycle, which runs at once.

Safe while commands are out: an EVSE whose command is unanswered keeps it in the
allocation and counts at the higher of its two limits, so every limit decided
meanwhile is safe whether that command lands or not; of one cycle's commands the
decreases go at once, and the increases that share a node with one of them wait for
the next cycle, which runs as soon as the batch is answered (or, if some are slow,
``settle_wall_s`` later) and decides them again with what is then known — the slow
ones counted at the higher of their limits. The
loop ticks on schedule (every ``tick_s`` of the controller's clock, not tick plus
the cycle's time); an input that changes (an envelope, a session, a charger) starts
a cycle at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from depotctl.controller.alerts import AlertBook
from depotctl.controller.dispatch import Dispatcher, LimitCommand, Outcome, going_now
from depotctl.controller.lifecycle import lifecycle_entries
from depotctl.controller.service import Controller, LiveState
from depotctl.controller.store import JournalKind, NewJournalEntry, UnitOfWork, journal_entry
from depotctl.domain.admission import Admission, switched
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.domain.commands import CommandPurpose, Delivery
from depotctl.domain.snapshot import Snapshot
from depotctl.engine import BindingKind, EvseState
from depotctl.engine.alerts import alert_conditions
from depotctl.protocols.ocpp.commands import ConnectReport
from depotctl.views import binding_json

log = logging.getLogger("depotctl.controller")

#: a cycle longer than this (wall) is logged: everything else waits meanwhile
SLOW_CYCLE_S = 0.25


@dataclass(frozen=True, slots=True)
class CycleResult:
    """What one cycle did: the reason it ran, the commands it sent and those it left
    for the next cycle, or the error that stopped it."""

    reason: str
    commands: tuple[LimitCommand, ...] = ()
    deferred: tuple[LimitCommand, ...] = ()
    error: str | None = None


@dataclass
class ControlLoop:
    """Runs cycles on ``controller`` through ``dispatcher`` every ``tick_s`` of the
    controller's clock (which may run faster than real time)."""

    controller: Controller
    dispatcher: Dispatcher
    tick_s: float = 5.0
    #: how long (wall) the next cycle waits for a batch's answers before deciding again
    settle_wall_s: float = 0.25
    #: limits the chargers accepted, by EVSE: what is in force
    in_force: dict[str, float] = field(default_factory=dict)
    #: commands sent and not answered yet, by EVSE
    in_flight: dict[str, LimitCommand] = field(default_factory=dict)
    #: whether each EVSE is switched on or off, and since when (fairness rotation's
    #: minimum on and off times count from then)
    admission: dict[str, Admission] = field(default_factory=dict)
    #: how long the per-minute telemetry history is kept (of the controller's clock)
    telemetry_retention_s: float = 35 * 86_400.0
    _pruned_at: datetime | None = None
    #: outcomes reported since the last cycle
    _outcomes: list[Outcome] = field(default_factory=list)
    #: EVSEs whose value in force is only an upper bound: told again even if unchanged
    _resend: set[str] = field(default_factory=set)
    #: per EVSE, its last command's failure: its charger is uncontrollable meanwhile
    _failed: dict[str, tuple[CommandOutcome, str | None]] = field(default_factory=dict)
    #: the commands of the last batch not answered yet, and when (wall) it went out
    _awaited: set[str] = field(default_factory=set)
    _deferred_at: float | None = None
    #: the next instant the allocation's inputs change by themselves, and what changes
    _upcoming: tuple[datetime, str] | None = None
    _next_tick: datetime | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _reasons: list[str] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    alerts: AlertBook = field(init=False)

    def __post_init__(self) -> None:
        self.controller.on_change(self.trigger)
        self.alerts = AlertBook(self.controller.units)

    # -- what wakes it ---------------------------------------------------------------

    def trigger(self, reason: str) -> None:
        """Run a cycle as soon as possible; safe to call from any thread (the API's
        handlers run in a thread pool)."""
        self._reasons.append(reason)
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._wake.set)
        else:
            self._wake.set()

    def report(self, outcome: Outcome) -> None:
        """The dispatcher's sink: an outcome, applied at the start of the next cycle.
        A failure runs that cycle at once; so does the last answer of a batch (its
        deferred increases are decided then)."""
        self._outcomes.append(outcome)
        evse_id = outcome.command.evse_id
        if outcome.result is not None and not outcome.accepted:
            self.trigger(f"{evse_id} {outcome.result.value}")
        elif evse_id in self._awaited:
            self._awaited.discard(evse_id)
            if not self._awaited:
                self.trigger("the commands were answered")

    def charger_connected(self, report: ConnectReport) -> None:
        """A charger can take calls and was sent its fallback profile: online, and
        controllable if it accepted it. What its EVSEs may draw is not known exactly
        (a profile of before may still hold), so each counts at the highest it may
        be under and is told its limit again."""
        applied = self.controller.applied
        if applied is None:
            return
        at = self.controller.clock.now()
        charger_id = report.charger_id
        known = self.controller.units().chargers.state(charger_id)
        accepted = report.fallback is CommandOutcome.ACCEPTED
        for evse in applied.topology.chargers_evses(charger_id):
            held = known.held_at(evse.id, at) if known.held else []
            self.in_force[evse.id] = min(max([evse.fallback_a, *held]), evse.max_current_a)
            self.admission.pop(evse.id, None)  # on or off, and since when: not known
            self._resend.add(evse.id)
            self.in_flight.pop(evse.id, None)
            self._failed.pop(evse.id, None)
        reason = None if accepted else (report.fallback_reason or report.fallback.value)
        state = replace(
            known,
            online=True,
            fallback_accepted=accepted,
            last_outcome=None if accepted else report.fallback,
            last_command_at=at,
            reason=None if accepted else f"fallback profile {report.fallback.value}: {reason}",
            held=_pruned(known.held, at),
        )
        entry = journal_entry(
            JournalKind.COMMAND_OUTCOME,
            f"{charger_id} fallback profile: {report.fallback.value}"
            + (f" ({report.fallback_reason})" if report.fallback_reason else "")
            + ("" if accepted else "; uncontrollable until it accepts one"),
            at=at,
            data={
                "charger": charger_id,
                "profile": "fallback",
                "outcome": report.fallback.value,
                "max_profile": report.max_profile.value,
            },
        )
        with self.controller.units() as uow:
            uow.chargers.put([state])
            uow.journal.record([entry])
        self.controller.changed(f"charger {charger_id} ready")

    # -- running -------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until ``stop`` is set."""
        self._loop = asyncio.get_running_loop()
        self._next_tick = self.controller.clock.now()  # ticks count from the start
        reason = "start"
        while not stop.is_set():
            await self.cycle(reason)
            reason = await self._next(stop)

    async def _next(self, stop: asyncio.Event) -> str:
        clock = self.controller.clock
        now = clock.now()
        tick = timedelta(seconds=self.tick_s)
        if self._next_tick is None:
            self._next_tick = now
        while self._next_tick <= now:  # on schedule: missed ticks are skipped, not queued
            self._next_tick += tick
        at, reason = self._next_tick, "tick"
        if self._upcoming is not None and self._upcoming[0] < at:
            at, reason = self._upcoming  # a reading going stale, an envelope starting…
        waiters = {
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(clock.sleep(max((at - now).total_seconds(), 0.0))),
        }
        settle = None
        if self._deferred_at is not None:
            remaining = self._deferred_at + self.settle_wall_s - time.monotonic()
            settle = asyncio.ensure_future(asyncio.sleep(max(remaining, 0.0)))
            waiters.add(settle)
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self._wake.is_set():
            self._wake.clear()
            reasons, self._reasons = self._reasons, []
            return ", ".join(dict.fromkeys(reasons)) or "event"
        if settle is not None and settle.done() and not settle.cancelled():
            self._deferred_at = None
            return "settling: some commands are still out"
        if reason == "tick":
            self._next_tick = at + tick
        return reason

    async def cycle(self, reason: str = "tick") -> CycleResult:
        """One control cycle (it never waits for a charger)."""
        began = time.perf_counter()
        try:
            return self._cycle(reason)
        finally:
            took = time.perf_counter() - began
            self.controller.metrics.cycle_seconds.observe(took)
            if took > SLOW_CYCLE_S:
                log.info("a slow control cycle: %.0f ms (%s)", took * 1e3, reason)

    def _cycle(self, reason: str) -> CycleResult:
        units = self.controller.units
        try:
            outcomes, self._outcomes = self._outcomes, []
            if outcomes:
                with units() as uow:
                    self._apply_outcomes(uow, outcomes)
            live = self.controller.live(
                self.in_force,
                pending={e: c.limit_a for e, c in self.in_flight.items()},
                admission=self.admission,
            )
            commands = self._commands(live)
            now, later = going_now(commands)
            with units() as uow:  # what was decided is durable before it is sent
                entries = lifecycle_entries(uow, live.snapshot)
                entries += self.alerts.update(
                    alert_conditions(live.snapshot, live.allocation), at=live.snapshot.at
                )
                entries += self._changes(live, now)
                uow.journal.record(entries)
        except Exception as error:  # keep the limits in force; say why nothing changed
            log.exception("control cycle failed")
            self._journal_failure(reason, error)
            return CycleResult(reason, error=f"{type(error).__name__}: {error}")
        # once this batch is answered (or, if some are slow, ``settle_wall_s`` later) the
        # next cycle decides again with what is then known: the deferred increases, and
        # the room a charger that did not answer still holds
        self._deferred_at = time.monotonic() if now else None
        self._awaited = {c.evse_id for c in now}
        for command in now:
            self.in_flight[command.evse_id] = command
            self._resend.discard(command.evse_id)
        if now:
            self.dispatcher.send(now, self.report)
        steady = {e: a for e, a in self.in_force.items() if e not in self.in_flight}
        self.dispatcher.renew(steady, self.report)
        self.controller.publish(live, max_age_s=self.tick_s)
        self._upcoming = upcoming(live.snapshot)
        self._prune(live.snapshot.at)
        return CycleResult(reason, tuple(now), tuple(later))

    # -- deciding ------------------------------------------------------------------

    def _commands(self, live: LiveState) -> list[LimitCommand]:
        """A command for every EVSE of a controllable charger whose limit is not the
        one in force (or whose value in force is only an upper bound). An EVSE never
        told anything holds its charger's persistent fallback."""
        at = live.snapshot.at
        evses = live.snapshot.topology.evses
        commands = []
        for evse_id, limit in live.allocation.limits_a.items():
            if evse_id in self.in_flight:
                continue  # it keeps its command until that is answered
            # never told anything: it holds its persistent fallback
            previous = self.in_force.get(evse_id, evses[evse_id].fallback_a)
            resend = evse_id in self._resend
            if not resend and math.isclose(previous, limit, abs_tol=1e-9):
                continue  # unchanged: no need to look at why (the common case)
            view = live.allocation.evses[evse_id]
            if view.state is EvseState.UNCONTROLLABLE:
                continue
            if view.binding.kind is BindingKind.COMMAND_PENDING:
                continue
            evse = evses[evse_id]
            commands.append(
                LimitCommand(evse_id, evse.charger_id, limit, previous, at, path=evse.path)
            )
        return commands

    def _changes(self, live: LiveState, commands: list[LimitCommand]) -> list[NewJournalEntry]:
        entries = []
        for command in commands:
            view = live.allocation.evses[command.evse_id]
            before = "none" if command.previous_a is None else f"{command.previous_a:.1f} A"
            entries.append(
                journal_entry(
                    JournalKind.ALLOCATION_CHANGED,
                    f"{command.evse_id} limit {before} → {command.limit_a:.1f} A: "
                    f"{view.binding.kind.value}"
                    + (f" {view.binding.ref}" if view.binding.ref else "")
                    + f" ({view.binding.detail})",
                    at=command.at,
                    evse=command.evse_id,
                    envelope=view.binding.ref
                    if view.binding.kind is BindingKind.ENVELOPE
                    else None,
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
        return entries

    # -- outcomes --------------------------------------------------------------------

    def _apply_outcomes(self, uow: UnitOfWork, outcomes: list[Outcome]) -> None:
        """Accepted limits are in force; anything else makes the charger
        uncontrollable, and a limit that may have landed counts until it lapses."""
        at = self.controller.clock.now()
        # read now, not from a cycle's snapshot: only a connection says a charger is back
        states = uow.chargers.states()
        touched: dict[str, ChargerState] = {}
        entries = []
        for outcome in outcomes:
            command = outcome.command
            evse_id, charger_id = command.evse_id, command.charger_id
            if self.in_flight.get(evse_id) is command:
                del self.in_flight[evse_id]
            state = touched.get(charger_id) or states.get(charger_id) or ChargerState(charger_id)
            held = dict(_pruned(state.held, at))
            if outcome.result is None:  # superseded before it was sent: nothing changed
                entries.append(_outcome_entry(at, outcome))
                continue
            if outcome.accepted:
                before = self.in_force.get(evse_id, command.previous_a)
                switch = switched(self.admission.get(evse_id), before, command.limit_a, at)
                if switch is not None:
                    self.admission[evse_id] = switch
                self.in_force[evse_id] = command.limit_a
                self._failed.pop(evse_id, None)
                held[evse_id] = (
                    (HeldLimit(command.limit_a, outcome.held_until),)
                    if outcome.held_until is not None
                    else ()
                )
            else:
                self._failed[evse_id] = (outcome.result, outcome.reason)
                if outcome.held_until is not None:  # it may have landed
                    held[evse_id] = (
                        *held.get(evse_id, ()),
                        HeldLimit(command.limit_a, outcome.held_until),
                    )
            touched[charger_id] = self._charger_state(
                state, outcome, held={k: v for k, v in held.items() if v}, at=at
            )
            if command.purpose is not CommandPurpose.RENEWAL or not outcome.accepted:
                entries.append(_outcome_entry(at, outcome))
        if touched:
            uow.chargers.put(touched.values())
        if entries:
            uow.journal.record(entries)

    def _charger_state(
        self,
        state: ChargerState,
        outcome: Outcome,
        *,
        held: dict[str, tuple[HeldLimit, ...]],
        at: datetime,
    ) -> ChargerState:
        """The charger after ``outcome``: uncontrollable while any of its EVSEs' last
        command failed, offline once a command found it gone."""
        charger_id = state.charger_id
        failures = sorted(
            (evse_id, failure)
            for evse_id, failure in self._failed.items()
            if evse_id.split("/", 1)[0] == charger_id
        )
        online = state.online and outcome.result is not CommandOutcome.OFFLINE
        accepted = outcome.accepted
        if failures:
            evse_id, (result, reason) = failures[0]
            last_outcome: CommandOutcome | None = result
            why: str | None = f"{evse_id}: {result.value}" + (f" ({reason})" if reason else "")
        else:
            last_outcome, why = CommandOutcome.ACCEPTED, None
        if not online:
            why = state.reason if not state.online else f"offline: {outcome.reason}"
        return replace(
            state,
            online=online,
            last_outcome=last_outcome,
            last_accepted_limit_a=outcome.command.limit_a
            if accepted
            else state.last_accepted_limit_a,
            last_command_at=at,
            reason=why,
            held=held,
        )

    # -- upkeep ----------------------------------------------------------------------

    def _prune(self, now: datetime) -> None:
        """Drop telemetry history past its retention, at most once an hour."""
        if self._pruned_at is not None and (now - self._pruned_at).total_seconds() < 3600:
            return
        self._pruned_at = now
        dropped = self.controller.units().telemetry.prune(
            before=now - timedelta(seconds=self.telemetry_retention_s)
        )
        if dropped:
            log.info("dropped %d minutes of telemetry older than the retention", dropped)

    def _journal_failure(self, reason: str, error: Exception) -> None:
        try:
            self.controller.units().journal.record(
                [
                    journal_entry(
                        JournalKind.CYCLE_FAILED,
                        f"control cycle ({reason}) failed: {type(error).__name__}: {error}",
                        at=self.controller.clock.now(),
                        data={"reason": reason},
                    )
                ]
            )
        except Exception:  # the store itself may be what failed
            log.exception("could not journal the failed cycle")


def _outcome_entry(at: datetime, outcome: Outcome) -> NewJournalEntry:
    command = outcome.command
    result = outcome.result.value if outcome.result is not None else "not sent"
    what = {
        CommandPurpose.CHANGE: "",
        CommandPurpose.RENEWAL: " (renewal)",
        CommandPurpose.RETRY: " (retry)",
    }[command.purpose]
    maybe = (
        "; it may have landed: counted until "
        + outcome.held_until.isoformat(timespec="seconds").replace("+00:00", "Z")
        if outcome.held_until is not None
        and not outcome.accepted
        and outcome.delivery is Delivery.UNANSWERED
        else ""
    )
    return journal_entry(
        JournalKind.COMMAND_OUTCOME,
        f"{command.evse_id} {command.limit_a:.1f} A{what}: {result}"
        + (f" ({outcome.reason})" if outcome.reason else "")
        + maybe,
        at=at,
        evse=command.evse_id,
        data={
            "limit_a": command.limit_a,
            "outcome": result,
            "purpose": command.purpose.value,
            "delivery": outcome.delivery.value,
            **({"reason": outcome.reason} if outcome.reason else {}),
        },
    )


def _pruned(
    held: Mapping[str, tuple[HeldLimit, ...]], at: datetime
) -> dict[str, tuple[HeldLimit, ...]]:
    """The held limits still valid at ``at``."""
    kept = {evse_id: tuple(h for h in limits if h.holds_at(at)) for evse_id, limits in held.items()}
    return {evse_id: limits for evse_id, limits in kept.items() if limits}


def upcoming(snapshot: Snapshot) -> tuple[datetime, str] | None:
    """The first instant after ``snapshot.at`` at which its inputs change with no new
    message: a fresh reading going stale, an envelope starting or ending, a source
    falling silent for longer than it may, a held limit lapsing. The loop runs a cycle
    then, not at the next tick."""
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
    for state in snapshot.chargers.values():
        if state.is_controllable:
            continue
        for evse_id, limits in state.held.items():
            for held in limits:
                if held.until is not None:
                    events.append((held.until, f"a held limit on {evse_id} lapses"))
    ahead = [event for event in events if event[0] > now]
    return min(ahead, key=lambda event: event[0]) if ahead else None
