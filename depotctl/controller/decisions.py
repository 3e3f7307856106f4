"""What a control cycle decides, without I/O: the commands for the limits that
changed, the journal entries of the changes and of the chargers' answers, a charger's
state after an answer, and the next instant the inputs change by themselves. The
control loop (:mod:`depotctl.controller.loop`) does the I/O around them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import replace
from datetime import datetime, timedelta

from depotctl.controller.service import LiveState
from depotctl.controller.store import JournalKind, NewJournalEntry, journal_entry
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.domain.commands import CommandPurpose, Delivery, LimitCommand, Outcome
from depotctl.domain.snapshot import Snapshot
from depotctl.engine import BindingKind, EvseState
from depotctl.views import binding_json


def limit_commands(
    live: LiveState,
    in_force: Mapping[str, float],
    in_flight: Mapping[str, LimitCommand],
    resend: Set[str],
) -> list[LimitCommand]:
    """A command for every EVSE of a controllable charger whose limit is not the
    one in force (or whose value in force is only an upper bound). An EVSE never
    told anything holds its charger's persistent fallback."""
    at = live.snapshot.at
    evses = live.snapshot.topology.evses
    commands = []
    for evse_id, limit in live.allocation.limits_a.items():
        if evse_id in in_flight:
            continue  # it keeps its command until that is answered
        # never told anything: it holds its persistent fallback
        previous = in_force.get(evse_id, evses[evse_id].fallback_a)
        if evse_id not in resend and math.isclose(previous, limit, abs_tol=1e-9):
            continue  # unchanged: no need to look at why (the common case)
        view = live.allocation.evses[evse_id]
        if view.state is EvseState.UNCONTROLLABLE:
            continue
        if view.binding.kind is BindingKind.COMMAND_PENDING:
            continue
        evse = evses[evse_id]
        commands.append(LimitCommand(evse_id, evse.charger_id, limit, previous, at, path=evse.path))
    return commands


def allocation_entries(live: LiveState, commands: Sequence[LimitCommand]) -> list[NewJournalEntry]:
    """One ``allocation.changed`` entry per command: the EVSE's new limit and why."""
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
                envelope=view.binding.ref if view.binding.kind is BindingKind.ENVELOPE else None,
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


def charger_after(
    state: ChargerState,
    outcome: Outcome,
    *,
    failed: Mapping[str, tuple[CommandOutcome, str | None]],
    held: dict[str, tuple[HeldLimit, ...]],
    at: datetime,
) -> ChargerState:
    """The charger after ``outcome``: uncontrollable while any of its EVSEs' last
    command failed, offline once a command found it gone."""
    charger_id = state.charger_id
    failures = sorted(
        (evse_id, failure)
        for evse_id, failure in failed.items()
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
        last_accepted_limit_a=outcome.command.limit_a if accepted else state.last_accepted_limit_a,
        last_command_at=at,
        reason=why,
        held=held,
    )


def outcome_entry(at: datetime, outcome: Outcome) -> NewJournalEntry:
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


def pruned(
    held: Mapping[str, tuple[HeldLimit, ...]], at: datetime
) -> dict[str, tuple[HeldLimit, ...]]:
    """The held limits still valid at ``at``."""
    kept = {evse_id: tuple(h for h in limits if h.holds_at(at)) for evse_id, limits in held.items()}
    return {evse_id: limits for evse_id, limits in kept.items() if limits}


#: the wall time every charger needs to take a decrease (the envelope response
#: benchmark: 0.6 s for 300 chargers on an idle machine, up to 4.5 s on a loaded one)
DECREASE_WALL_S = 5.0


def envelope_lead(tick_s: float, speed: float) -> timedelta:
    """How long before its start an envelope applies, on a controller ticking every
    ``tick_s`` on a clock ``speed`` times real time: a tick (the cycle that sees it
    may be the next one) and :data:`DECREASE_WALL_S` of wall time for the decreases it
    needs to land — 10 s at real time with a 5 s tick."""
    return timedelta(seconds=tick_s + DECREASE_WALL_S * speed)


def upcoming(snapshot: Snapshot) -> tuple[datetime, str] | None:
    """The first instant after ``snapshot.at`` at which its inputs change with no new
    message: a fresh reading going stale, an envelope starting (and, with a lead,
    applying ahead of its start) or ending, a source
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
        if snapshot.envelope_lead > timedelta(0):
            early = envelope.start - snapshot.envelope_lead
            events.append((early, f"envelope {envelope.id} applies ahead of its start"))
        if envelope.end is not None:
            events.append((envelope.end, f"envelope {envelope.id} ends"))
    for health in snapshot.sources.values():
        if health.offline_at is not None:
            events.append((health.offline_at + past, f"source {health.source} silent"))
    for state in snapshot.chargers.values():
        if state.is_controllable:
            continue
        for evse_id, limits in state.held.items():
            for held in limits:
                if held.until is not None:
                    events.append((held.until, f"a held limit on {evse_id} lapses"))
    ahead = [event for event in events if event[0] > now]
    return min(ahead, key=lambda event: event[0]) if ahead else None
