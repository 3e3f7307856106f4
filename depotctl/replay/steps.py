"""Offline replay: recorded sessions through the allocator, step by simulated step.

The clock is the loop's own: step *k* starts at ``start + k·step``. At each step the
replay builds a :class:`Snapshot` of the sessions plugged in during the step (each
with the energy delivered so far and its demand by its real departure, so that the
remainder is still needed; the scripted envelopes; no telemetry), asks the allocator for
limits, and lets every vehicle draw ``min(limit, EVSE maximum)`` — no more than its
remaining demand — for the part of the step it is plugged in. A session arriving or
leaving within a step is in that step's snapshot, and its draw counts on every node
for the whole step (conservative on capacity, exact on energy). The loads that the
draws put on each node are recomputed independently of the engine and checked
against each node's static limits and the envelopes in force (:mod:`loads`).
"""

from __future__ import annotations

import time as wallclock
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from depotctl.domain.envelopes import Envelope, SourceHealth
from depotctl.domain.phases import Phase
from depotctl.domain.policy import Policy
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import Topology
from depotctl.engine.allocation import Allocation
from depotctl.recordings import ReplaySession
from depotctl.replay.carbon import CarbonLedger, CarbonTally
from depotctl.replay.loads import (
    PHASES,
    Violation,
    is_in_force,
    node_bounds,
    node_loads,
    violations,
)
from depotctl.replay.script import REPLAY_SOURCE
from depotctl.replay.trace import TraceWriter

Allocator = Callable[[Snapshot], Allocation]
#: Told, after each step, the step's start and end and the energy (Wh) the site drew.
StepObserver = Callable[[datetime, datetime, float], None]

#: A demand counts as met when at most this share of it is left undelivered.
MET_TOLERANCE = 0.001


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    session: ReplaySession
    delivered_wh: float

    @property
    def is_met(self) -> bool:
        return self.delivered_wh >= self.session.demand_wh * (1.0 - MET_TOLERANCE) - 1e-6

    @property
    def shortfall_wh(self) -> float:
        return max(0.0, self.session.demand_wh - self.delivered_wh)


@dataclass(slots=True)
class Peak:
    """The highest value a node carried, and the start of the step it was reached."""

    value: float = 0.0
    at: datetime | None = None

    def update(self, value: float, at: datetime) -> None:
        if value > self.value:
            self.value, self.at = value, at


@dataclass(slots=True)
class NodePeaks:
    node: str
    current_a: dict[Phase, Peak] = field(default_factory=lambda: {p: Peak() for p in PHASES})
    power_w: Peak = field(default_factory=Peak)


@dataclass(frozen=True)
class ReplayResult:
    """What a replay measured; the settings that produced it are the caller's."""

    topology: Topology
    start: datetime
    end: datetime
    step_s: float
    steps: int
    outcomes: tuple[SessionOutcome, ...]
    peaks: Mapping[str, NodePeaks]
    violations: tuple[Violation, ...]
    wall_s: float
    wall_s_by_day: Mapping[date, float]
    #: The emissions, when the site declares its carbon intensity.
    carbon: CarbonTally | None = None
    #: The energy (Wh) every session drew in each step, in step order.
    site_wh: tuple[float, ...] = ()

    @property
    def demand_wh(self) -> float:
        return sum(o.session.demand_wh for o in self.outcomes)

    @property
    def delivered_wh(self) -> float:
        return sum(o.delivered_wh for o in self.outcomes)

    @property
    def delivered_share(self) -> float:
        return self.delivered_wh / self.demand_wh if self.demand_wh > 0 else 1.0

    @property
    def met(self) -> int:
        return sum(1 for o in self.outcomes if o.is_met)

    @property
    def missed(self) -> list[SessionOutcome]:
        """Sessions that left (their departure is their deadline) with demand unmet."""
        return [o for o in self.outcomes if not o.is_met]

    @property
    def simulated_days(self) -> float:
        return self.steps * self.step_s / 86400.0

    @property
    def wall_s_per_day(self) -> float:
        return self.wall_s / self.simulated_days if self.steps else 0.0


def replay_window(
    sessions: Sequence[ReplaySession], zone: ZoneInfo, first: date | None, step_s: float
) -> tuple[datetime, datetime]:
    """From local midnight of ``first`` (else of the first arrival's local date) to
    the last departure, on the step grid."""
    if first is None:
        first = min(s.arrival for s in sessions).astimezone(zone).date() if sessions else None
    if first is None:
        raise ValueError("no sessions to replay and no start date")
    start = datetime.combine(first, datetime.min.time(), zone)
    last = max((s.departure for s in sessions), default=start)
    steps = max(0, -(-(last - start).total_seconds() // step_s))
    return start, start + timedelta(seconds=steps * step_s)


def replay(
    topology: Topology,
    policy: Policy,
    sessions: Sequence[ReplaySession],
    allocate: Allocator,
    *,
    start: datetime,
    end: datetime,
    step_s: float = 300.0,
    envelopes: tuple[Envelope, ...] = (),
    trace: TraceWriter | None = None,
    carbon: CarbonLedger | None = None,
    timer: Callable[[], float] = wallclock.perf_counter,
    on_step: StepObserver | None = None,
) -> ReplayResult:
    """Replay ``sessions`` on ``topology`` from ``start`` to ``end`` in steps of
    ``step_s`` seconds. ``carbon`` accounts each step's energy per session; ``on_step``
    is told each step's site energy (a planner meters its peak with it; counted in the
    wall time); ``timer`` measures wall time per step and nothing else; trace writing
    and carbon accounting are not counted in it."""
    if step_s <= 0:
        raise ValueError("the step must be longer than 0 s")
    zone = ZoneInfo(topology.timezone)
    step = timedelta(seconds=step_s)
    sessions = [on_step_grid(s, topology, start, step) for s in sessions]
    pending = sorted(sessions, key=_order)
    next_arrival = 0
    delivered = {s.id: 0.0 for s in pending}
    present: list[ReplaySession] = []
    peaks = {node_id: NodePeaks(node_id) for node_id in topology.nodes}
    found: list[Violation] = []
    wall_by_day: dict[date, float] = {}
    site_wh: list[float] = []
    sources = {REPLAY_SOURCE: SourceHealth(REPLAY_SOURCE, None, None)} if envelopes else {}
    static_bounds = node_bounds(topology, (), start)
    steps = 0
    at = start.astimezone(UTC)
    while at < end:
        began = timer()
        step_end = at + step
        present = [s for s in present if s.departure > at]
        while next_arrival < len(pending) and pending[next_arrival].arrival < step_end:
            arriving = pending[next_arrival]
            next_arrival += 1
            if arriving.departure > at:
                present.append(arriving)
        if sources:
            sources = {REPLAY_SOURCE: SourceHealth(REPLAY_SOURCE, at, None)}
        snapshot = Snapshot(
            at=at,
            topology=topology,
            policy=policy,
            envelopes=envelopes,
            sources=sources,
            sessions=tuple(as_session(s, delivered[s.id]) for s in present),
        )
        allocation = allocate(snapshot)
        draws, plugged, energy = step_draws(topology, present, allocation, delivered, at, step_end)
        for session_id, wh in energy.items():
            delivered[session_id] += wh
        site_wh.append(sum(energy.values()))
        if on_step is not None:
            on_step(at, step_end, site_wh[-1])
        loads = node_loads(topology, draws)
        in_force = [e for e in envelopes if is_in_force(e, at)]
        bounds = node_bounds(topology, in_force, at) if in_force else static_bounds
        found.extend(violations(loads, bounds, at))
        for node_id, load in loads.items():
            node_peaks = peaks[node_id]
            for phase in PHASES:
                node_peaks.current_a[phase].update(load.current_a[phase], at)
            node_peaks.power_w.update(load.power_w, at)
        day = at.astimezone(zone).date()
        wall_by_day[day] = wall_by_day.get(day, 0.0) + timer() - began
        if carbon is not None:
            for session in present:
                drawn_from, drawn_to = max(session.arrival, at), min(session.departure, step_end)
                carbon.record(session.id, drawn_from, drawn_to, energy[session.id])
        if trace is not None:
            _write_trace(
                trace, topology, allocation, present, draws, plugged, energy, delivered, at
            )
            for node_id, load in loads.items():
                trace.node(at, load, bounds[node_id])
        steps += 1
        at = step_end
    return ReplayResult(
        topology=topology,
        start=start,
        end=end,
        step_s=step_s,
        steps=steps,
        outcomes=tuple(SessionOutcome(s, delivered[s.id]) for s in sorted(sessions, key=_order)),
        peaks=peaks,
        violations=tuple(found),
        wall_s=sum(wall_by_day.values()),
        wall_s_by_day=wall_by_day,
        carbon=carbon.tally() if carbon is not None else None,
        site_wh=tuple(site_wh),
    )


def on_step_grid(
    session: ReplaySession, topology: Topology, start: datetime, step: timedelta
) -> ReplaySession:
    """The session with its arrival and departure moved to the start of the step they
    fall in, as acnportal does: a vehicle is present for whole steps, and its demand
    is capped at what that whole-step window can deliver."""

    def grid(instant: datetime) -> datetime:
        return start + step * ((instant - start) // step)

    arrival, departure = grid(session.arrival), grid(session.departure)
    evse = topology.evses[session.evse_id]
    hours = max(0.0, (departure - arrival).total_seconds() / 3600.0)
    deliverable = evse.max_current_a * evse.watts_per_amp * hours
    return replace(
        session,
        arrival=arrival,
        departure=departure,
        demand_wh=min(session.demand_wh, deliverable),
    )


def _order(session: ReplaySession) -> tuple[datetime, str]:
    return session.arrival, session.id


def as_session(session: ReplaySession, delivered_wh: float) -> Session:
    """The session as the allocator sees it. The engine reads ``requirement.energy_wh``
    as the session's whole demand and subtracts ``energy_delivered_wh`` itself
    (``engine/demand.py``), so the requirement carries the demand, not the remainder."""
    return Session(
        id=session.id,
        evse_id=session.evse_id,
        started=session.arrival,
        energy_delivered_wh=delivered_wh,
        requirement=EnergyRequirement(
            energy_wh=session.demand_wh,
            departure=session.departure,
            source=RequirementSource.SCHEDULE,
        ),
    )


def step_draws(
    topology: Topology,
    present: Sequence[ReplaySession],
    allocation: Allocation,
    delivered: Mapping[str, float],
    at: datetime,
    step_end: datetime,
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """What each plugged-in vehicle draws in the step ``[at, step_end)``: amps by EVSE,
    seconds plugged in by EVSE, and Wh delivered by session. A vehicle draws the
    lowest of its limit, the EVSE's maximum and the current that would just finish
    its remaining demand in the time it is plugged in."""
    draws: dict[str, float] = {}
    plugged: dict[str, float] = {}
    energy: dict[str, float] = {}
    for session in present:
        evse = topology.evses[session.evse_id]
        seconds = (min(session.departure, step_end) - max(session.arrival, at)).total_seconds()
        limit = allocation.limits_a.get(evse.id, 0.0)
        remaining = max(0.0, session.demand_wh - delivered[session.id])
        hours = seconds / 3600.0
        finishing = remaining / (evse.watts_per_amp * hours) if hours > 0 else 0.0
        amps = max(0.0, min(limit, evse.max_current_a, finishing))
        draws[evse.id] = amps
        plugged[evse.id] = seconds
        energy[session.id] = min(remaining, amps * evse.watts_per_amp * hours)
    return draws, plugged, energy


def _write_trace(
    trace: TraceWriter,
    topology: Topology,
    allocation: Allocation,
    present: Sequence[ReplaySession],
    draws: Mapping[str, float],
    plugged: Mapping[str, float],
    energy: Mapping[str, float],
    delivered: Mapping[str, float],
    at: datetime,
) -> None:
    on_evse = {s.evse_id: s for s in present}
    for evse_id in topology.evses:
        granted = allocation.evses.get(evse_id)
        session = on_evse.get(evse_id)
        trace.evse(
            at,
            evse_id,
            session.id if session else None,
            granted.limit_a if granted is not None else 0.0,
            draws.get(evse_id, 0.0),
            plugged.get(evse_id, 0.0),
            energy.get(session.id, 0.0) if session else 0.0,
            delivered[session.id] if session else None,
        )
