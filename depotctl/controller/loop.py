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
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from depotctl.controller.alerts import AlertBook
from depotctl.controller.compaction import Compaction
from depotctl.controller.decisions import (
    allocation_entries,
    charger_after,
    limit_commands,
    outcome_entry,
    pruned,
    upcoming,
)
from depotctl.controller.dispatch import Dispatcher, going_now
from depotctl.controller.inputs_record import InputsRecorder
from depotctl.controller.lifecycle import lifecycle_entries
from depotctl.controller.oscp.compliance import oscp_compliance
from depotctl.controller.readiness import live_forecasts
from depotctl.controller.retention import Retention
from depotctl.controller.service import Controller
from depotctl.controller.storage import Batteries
from depotctl.controller.store import JournalKind, UnitOfWork, journal_entry
from depotctl.domain.admission import Admission, switched
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.domain.commands import CommandPurpose, LimitCommand, Outcome
from depotctl.engine.alerts import alert_conditions
from depotctl.engine.readiness import departures_at_risk
from depotctl.protocols.ocpp.commands import ConnectReport

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
    #: how long the store keeps each kind of history (controller/compaction.py)
    retention: Retention = field(default_factory=Retention)
    _compaction: Compaction | None = None
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
    #: the site's batteries, steered each cycle (controller/storage.py); None: none
    batteries: Batteries | None = None
    #: each cycle's inputs, recorded for time travel (controller/time_travel.py)
    inputs: InputsRecorder = field(default_factory=InputsRecorder)

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
            held=pruned(known.held, at),
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
        if self.batteries is not None:  # their first readings, for the first cycle and plan
            await self.batteries.poll()
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
                previous_limits=self.in_force,
                pending={e: c.limit_a for e, c in self.in_flight.items()},
                admission=self.admission,
            )
            commands = limit_commands(live, self.in_force, self.in_flight, self._resend)
            now, later = going_now(commands)
            with units() as uow:  # what was decided is durable before it is sent
                entries = lifecycle_entries(uow, live.snapshot)
                conditions = alert_conditions(live.snapshot, live.allocation)
                conditions += oscp_compliance(uow, live)
                conditions += departures_at_risk(live_forecasts(live, self.controller.planning))
                entries += self.alerts.update(conditions, at=live.snapshot.at)
                entries += allocation_entries(live, now)
                uow.journal.record(entries)
                self.inputs.record(uow, live.snapshot, revision=live.revision.number)
            self.inputs.committed()
        except Exception as error:  # keep the limits in force; say why nothing changed
            self.inputs.forget()
            log.exception("control cycle failed")
            self._journal_failure(reason, error)
            return CycleResult(reason, error=f"{type(error).__name__}: {error}")
        # once this batch is answered (or, if some are slow, ``settle_wall_s`` later) the
        # next cycle decides again with what is then known: the deferred increases, and
        # the room a charger that did not answer still holds
        self._deferred_at = time.monotonic() if now else None
        self._awaited = {c.evse_id for c in now}
        if self.batteries is not None:  # load off first; added load once EVSEs answered
            self.batteries.steer(live, evse_commands_out=bool(now or self.in_flight))
        for command in now:
            self.in_flight[command.evse_id] = command
            self._resend.discard(command.evse_id)
        if now:
            self.dispatcher.send(now, self.report)
        steady = {e: a for e, a in self.in_force.items() if e not in self.in_flight}
        self.dispatcher.renew(steady, self.report)
        self.controller.publish(live, max_age_s=self.tick_s)
        if self.controller.planning is not None:  # a plan due starts solving off the loop
            self.controller.planning.after_cycle(live.snapshot)
        self._upcoming = upcoming(live.snapshot)
        self._prune(live.snapshot.at)
        return CycleResult(reason, tuple(now), tuple(later))

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
            held = dict(pruned(state.held, at))
            if outcome.result is None:  # superseded before it was sent: nothing changed
                entries.append(outcome_entry(at, outcome))
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
            touched[charger_id] = charger_after(
                state,
                outcome,
                failed=self._failed,
                held={k: v for k, v in held.items() if v},
                at=at,
            )
            if command.purpose is not CommandPurpose.RENEWAL or not outcome.accepted:
                entries.append(outcome_entry(at, outcome))
        if touched:
            uow.chargers.put(touched.values())
        if entries:
            uow.journal.record(entries)

    # -- upkeep ----------------------------------------------------------------------

    def _prune(self, now: datetime) -> None:
        """Start the store's compaction pass when one is due: on a worker thread of the
        running event loop (inline without one)."""
        if self._compaction is None:
            self._compaction = Compaction(self.controller.units, self.retention)
        if not self._compaction.claim(now):
            return
        try:
            asyncio.get_running_loop().run_in_executor(None, self._compaction.run_logged, now)
        except RuntimeError:  # no running loop
            self._compaction.run_logged(now)

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
