"""Lineage: where a session's limits came from and what they cost, read from the
journal's limit changes and the session records. A session's lineage is its arrival,
each limit change with its binding constraint, the energy delivered against its need
and its outcome; an envelope's is every EVSE it limited and the energy that cost each.

An envelope's cost to an EVSE is an estimate from limits, not meters: over each span
the envelope bound the EVSE, the limit it had just before the span minus the limit it
had, times the EVSE's watts per amp, times the span's length (never below zero). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from depotctl.domain.sessions import RequirementSource, Session
from depotctl.engine.outlook import TOLERANCE_WH

ENVELOPE = "envelope"


@dataclass(frozen=True, slots=True)
class LimitStep:
    """One journaled limit change of an EVSE and its binding constraint."""

    at: datetime
    evse: str
    session: str | None
    limit_a: float
    previous_a: float | None
    kind: str  #: the binding constraint's kind (envelope, node_current, planned_rate …)
    ref: str | None  #: the envelope, node or policy behind it
    detail: str

    @property
    def cause(self) -> str:
        return f"{self.kind} {self.ref}" if self.ref else self.kind


@dataclass(frozen=True, slots=True)
class SessionLineage:
    """A session from its arrival: its limit changes, its need (the energy it must have
    by its departure, and whether that is the site's default) and its outcome.
    ``ended`` None is a session still open."""

    session: Session
    ended: datetime | None
    steps: tuple[LimitStep, ...]
    need_wh: float
    departure: datetime
    default_need: bool

    @property
    def delivered_wh(self) -> float:
        """In all once ended, else so far."""
        return self.session.energy_delivered_wh

    @property
    def short_wh(self) -> float:
        """What it lacks (0 when met)."""
        short = self.need_wh - self.delivered_wh
        return short if short > TOLERANCE_WH else 0.0

    def held_back_most(self, until: datetime) -> str | None:
        """The constraint (kind and ref) that held the session furthest below its
        highest limit for longest (amps times seconds, up to ``until``); None when it
        had its highest limit throughout."""
        spans = _spans(self.steps, until)
        highest = max((step.limit_a for step, _ in spans), default=0.0)
        lost: dict[str, float] = {}
        for step, end in spans:
            amp_s = (highest - step.limit_a) * (end - step.at).total_seconds()
            if amp_s > 0:
                lost[step.cause] = lost.get(step.cause, 0.0) + amp_s
        return max(lost, key=lambda cause: lost[cause]) if lost else None

    @property
    def outcome(self) -> str:
        """``met``, ``short by X kWh because Y``, or how far an open session is."""
        got = f"{self.delivered_wh / 1000:.1f} kWh"
        short = self.short_wh
        need = f"{self.need_wh / 1000:.1f} kWh" + (" (the site's default)" * self.default_need)
        if self.ended is None:
            return f"open: {got} of {need} so far"
        if short == 0.0:
            return f"met: {got} of {need}"
        held = self.held_back_most(self.ended)
        because = f"because {held} held it back most"
        if held is None:
            because = "with its highest limit throughout: it left too soon or drew less"
        if not self.steps:
            because = "with no limit change in this window"
        return f"short by {short / 1000:.1f} kWh ({got} of {need}) {because}"

    def words(self, zone: tzinfo) -> list[str]:
        """The lineage as lines, times in ``zone`` with their offset."""
        session = self.session
        vehicle = f" (vehicle {session.vehicle_id})" if session.vehicle_id else ""
        lines = [f"{site_time(session.started, zone)}  session {session.id}{vehicle} arrived"]
        lines[-1] += f" at {session.evse_id}, departs {site_time(self.departure, zone)}"
        for step in self.steps:
            before = "none" if step.previous_a is None else f"{step.previous_a:.1f} A"
            lines.append(
                f"{site_time(step.at, zone)}  limit {before} → {step.limit_a:.1f} A: "
                f"{step.cause} ({step.detail})"
            )
        if self.ended is not None:
            lines.append(f"{site_time(self.ended, zone)}  ended")
        lines.append(f"outcome: {self.outcome}")
        return lines


@dataclass(frozen=True, slots=True)
class EnvelopeCost:
    """What an envelope cost one EVSE: how long it bound it, and the energy (Wh)."""

    evse: str
    bound_s: float
    energy_wh: float

    def words(self) -> str:
        """``dc-01/1: limited 30 min, cost about 6.44 kWh``."""
        minutes, kwh = self.bound_s / 60, self.energy_wh / 1000
        return f"{self.evse}: limited {minutes:.0f} min, cost about {kwh:.2f} kWh"


@dataclass(frozen=True, slots=True)
class EnvelopeLineage:
    """Every EVSE an envelope limited, the changes it made, and what it cost each."""

    envelope: str
    steps: tuple[LimitStep, ...]
    costs: tuple[EnvelopeCost, ...]

    @property
    def energy_wh(self) -> float:
        return sum(cost.energy_wh for cost in self.costs)

    def words(self, zone: tzinfo) -> list[str]:
        """The lineage as lines, times in ``zone`` with their offset."""
        if not self.costs:
            return [f"envelope {self.envelope} limited no EVSE in this window"]
        lines = [
            f"{site_time(step.at, zone)}  {step.evse} limit "
            f"{'none' if step.previous_a is None else f'{step.previous_a:.1f} A'} → "
            f"{step.limit_a:.1f} A ({step.detail})"
            for step in self.steps
        ]
        lines += [cost.words() for cost in self.costs]
        lines.append(
            f"envelope {self.envelope} limited {len(self.costs)} EVSE(s), "
            f"about {self.energy_wh / 1000:.2f} kWh in all"
        )
        return lines


def site_time(at: datetime, zone: tzinfo) -> str:
    """``2026-03-02 18:05:00+11:00``: an instant in the site's zone with its offset."""
    return at.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def session_lineage(
    session: Session,
    ended: datetime | None,
    steps: Sequence[LimitStep],
    need: tuple[float, datetime, RequirementSource],
) -> SessionLineage:
    """A session's lineage from its own limit changes (``need``: the energy it must
    have, by when, and where that came from: :func:`.outlook.requirement_of`)."""
    own = tuple(sorted((s for s in steps if s.session == session.id), key=lambda s: s.at))
    need_wh, departure, source = need
    default = source is RequirementSource.DEFAULT
    return SessionLineage(session, ended, own, need_wh, departure, default)


def envelope_lineage(
    envelope: str,
    steps: Sequence[LimitStep],
    watts_per_amp: Mapping[str, float],
    until: datetime,
) -> EnvelopeLineage:
    """An envelope's lineage from the limit changes of every EVSE it ever bound
    (``steps``: all their changes in the window, any binding), the estimate up to
    ``until`` (see the module's rule)."""
    by_evse: dict[str, list[LimitStep]] = {}
    for step in sorted(steps, key=lambda s: s.at):
        by_evse.setdefault(step.evse, []).append(step)
    costs, bound = [], []
    for evse, own in sorted(by_evse.items()):
        seconds = energy = 0.0
        before: float | None = None
        for step, end in _spans(own, until):
            if not _binds(step, envelope):
                before = None
                continue
            bound.append(step)
            if before is None:
                before = step.previous_a if step.previous_a is not None else step.limit_a
            span_s = (end - step.at).total_seconds()
            seconds += span_s
            lost_a = max(before - step.limit_a, 0.0)
            energy += lost_a * watts_per_amp.get(evse, 0.0) * span_s / 3600
        if seconds > 0:
            costs.append(EnvelopeCost(evse, seconds, energy))
    return EnvelopeLineage(envelope, tuple(bound), tuple(costs))


def _binds(step: LimitStep, envelope: str) -> bool:
    return step.kind == ENVELOPE and step.ref == envelope


def _spans(steps: Sequence[LimitStep], until: datetime) -> list[tuple[LimitStep, datetime]]:
    """Each step with when the next one replaced it (the last: ``until``)."""
    if not steps:
        return []
    ends = [step.at for step in steps[1:]] + [until]
    return [(step, max(end, step.at)) for step, end in zip(steps, ends, strict=True)]


__all__ = [
    "EnvelopeCost",
    "EnvelopeLineage",
    "LimitStep",
    "SessionLineage",
    "envelope_lineage",
    "session_lineage",
    "site_time",
]
