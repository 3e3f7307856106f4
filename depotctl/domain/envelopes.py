"""Operating envelopes: time-bounded limits from outside, and their lifecycle.

An envelope is protocol-neutral (OSCP group ids and request ids stay in the
adapter). Its state at a time *t* follows from its window, its source's health and
withdrawals: ``received → pending → active → expired | withdrawn``;
``active → fallback_eligible`` when its source is stale or offline;
``fallback_eligible → active_fallback`` when the fallback policy applies;
``active_fallback → active`` on a fresh primary envelope;
``active_fallback → expired`` when the fallback's validity ends.

The rules, as evaluated by :func:`envelope_state` (first match wins):

- *not yet received* (``received_at > t``): the envelope is unknown at *t*; it never
  applies and :func:`states_at` leaves it out. ``received`` itself is the state before
  the first evaluation: it is never evaluated, only journaled
  (:func:`transitions` starts an envelope it has not seen from ``received``).
- ``withdrawn`` from ``withdrawn_at`` (inclusive).
- ``expired`` from ``end`` (windows are half-open ``[start, end)``) or from the
  instant a newer envelope supersedes it, whichever comes first.
- ``pending`` before ``start``.
- inside its window, a normal envelope is ``active`` while its source is online and
  ``fallback_eligible`` while it is offline; a source's own fallback envelope
  (``mode`` fallback) is ``active_fallback`` while its source is offline and
  ``pending`` while it is online (back online, the fresh primary envelopes are
  ``active`` again).

Supersession (:func:`supersessions`): within one source, a newer envelope (later
``received_at``; on a tie, the greater id) for the same target and direction — and
the same limit: mode, unit and phase scope — supersedes an older one whose window
overlaps its own, from the instant it comes into force: ``max(start, received_at)``.
(A power envelope and a current envelope, or envelopes on different phases, hold side
by side: replacing one by the other would drop a limit.) An older envelope stays in force before
that. An envelope that never comes into force (withdrawn by then, or received after
its window ended) supersedes nothing, and a superseded envelope never comes back.

What applies (:func:`applicable_limits`) — never "unlimited", and a source going
offline never loosens a limit: ``active`` envelopes (fresh); while a source is
offline, its ``fallback_eligible`` envelopes *still apply* (not fresh) beside its
``active_fallback`` envelopes, and where it has no fallback envelope in force for a
target and direction, the site's fallback for that source applies to each of its
targets. The engine combines everything on a node by minimum; ``priority`` does not
change what applies.

Ahead of its start (``lead``): an envelope known at *t* whose window starts within
``lead`` of *t*, and that will be in force then as far as is known at *t*, applies
already, so that the decreases it needs have reached the chargers by its start. Its
state stays ``pending``; its limit only ever tightens (the engine takes the minimum).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from depotctl.domain.phases import Phase
from depotctl.domain.topology import NodeLimits, SourceSpec


class EnvelopeState(StrEnum):
    RECEIVED = "received"
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    FALLBACK_ELIGIBLE = "fallback_eligible"
    ACTIVE_FALLBACK = "active_fallback"


#: The operators' own envelope source: envelopes submitted through the API or the
#: console. Every site has it; it needs no declaration and never goes offline.
LOCAL_SOURCE = "local"


class Direction(StrEnum):
    IMPORT = "import"
    EXPORT = "export"


class EnvelopeMode(StrEnum):
    NORMAL = "normal"
    FALLBACK = "fallback"


class LimitUnit(StrEnum):
    W = "W"  # total power over the node's phases
    A = "A"  # current per phase (on ``phases``, or every phase)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A limit on ``target`` from ``source`` over ``[start, end)`` (aware, UTC; ``end``
    None means open-ended). ``mode`` fallback marks the source's own fallback
    envelope, which applies only while the source is offline."""

    id: str
    source: str
    target: str
    direction: Direction
    limit: float
    unit: LimitUnit
    start: datetime
    end: datetime | None
    received_at: datetime
    mode: EnvelopeMode = EnvelopeMode.NORMAL
    phases: frozenset[Phase] | None = None
    priority: int = 0
    withdrawn_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise EnvelopeWindowError(
                f"envelope {self.id} ends at {_utc_text(self.end)}, not after its start at "
                f"{_utc_text(self.start)}"
            )


class EnvelopeWindowError(ValueError):
    """An envelope whose window is empty: it ends when or before it starts."""


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """When an envelope source was last heard from; offline after ``offline_after_s``
    of silence (never heard counts as offline) — or, where the source's last message
    named its own deadline (``deadline``: OSCP's ``offline_mode_at``), after that."""

    source: str
    last_heard: datetime | None
    offline_after_s: float | None
    deadline: datetime | None = None

    @property
    def offline_at(self) -> datetime | None:
        """When the source goes (or went) offline unless heard from again; None when
        it was never heard from (offline) or never goes offline."""
        if self.last_heard is None:
            return None
        if self.deadline is not None:
            return self.deadline
        if self.offline_after_s is None:
            return None
        return self.last_heard + timedelta(seconds=self.offline_after_s)

    def is_online(self, at: datetime) -> bool:
        if self.last_heard is None:
            return False
        offline_at = self.offline_at
        return offline_at is None or at <= offline_at


@dataclass(frozen=True, slots=True)
class Heard:
    """When a source was last heard from, and the deadline that message set (None: the
    source's ``offline_after`` counts from it)."""

    at: datetime
    deadline: datetime | None = None


def source_healths(
    declared: Mapping[str, SourceSpec], heard: Mapping[str, datetime | Heard]
) -> dict[str, SourceHealth]:
    """Every source the site declares (with its offline-after), then every other one
    heard from (one the site does not declare never goes offline once heard), by id."""

    def health(source_id: str, offline_after_s: float | None) -> SourceHealth:
        last = heard.get(source_id)
        if isinstance(last, Heard):
            return SourceHealth(source_id, last.at, offline_after_s, last.deadline)
        return SourceHealth(source_id, last, offline_after_s)

    healths = {
        source_id: health(source_id, spec.offline_after_s) for source_id, spec in declared.items()
    }
    for source_id in heard:
        healths.setdefault(source_id, health(source_id, None))
    return healths


#: States in which an envelope's limit applies.
IN_FORCE = frozenset(
    {EnvelopeState.ACTIVE, EnvelopeState.FALLBACK_ELIGIBLE, EnvelopeState.ACTIVE_FALLBACK}
)


@dataclass(frozen=True, slots=True)
class EnvelopeStatus:
    """An envelope's state at an instant, and why, in words for the journal."""

    state: EnvelopeState
    reason: str

    @property
    def in_force(self) -> bool:
        return self.state in IN_FORCE


@dataclass(frozen=True, slots=True)
class Supersession:
    """Envelope ``by`` supersedes another from ``at``."""

    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EnvelopeTransition:
    """A change of state between two evaluations, with the reason for the new state."""

    envelope_id: str
    before: EnvelopeState
    after: EnvelopeState
    reason: str


OriginKind = Literal["envelope", "site_fallback"]


@dataclass(frozen=True, slots=True)
class LimitOrigin:
    """Where an applied limit comes from: envelope ``envelope_id`` of ``source``, or the
    site's fallback for offline ``source``. ``fresh`` only for an envelope whose source
    is online; ``starts`` for an envelope applied ahead of its window's start."""

    kind: OriginKind
    envelope_id: str | None
    source: str
    fresh: bool
    starts: datetime | None = None

    def __str__(self) -> str:
        if self.kind == "site_fallback":
            return f"site fallback for offline source {self.source}"
        ahead = f", from {_when(self.starts)}" if self.starts is not None else ""
        return f"envelope {self.envelope_id} ({'fresh' if self.fresh else 'fallback'}{ahead})"


@dataclass(frozen=True, slots=True)
class AppliedLimit:
    """A limit in force on ``target``: W total over its phases, or A per phase on
    ``phases`` (None: every phase)."""

    target: str
    direction: Direction
    limit: float
    unit: LimitUnit
    phases: frozenset[Phase] | None
    origin: LimitOrigin


# Evaluating one envelope


def in_force_from(envelope: Envelope) -> datetime:
    """The instant an envelope can first apply: its start, or its receipt if later."""
    return max(envelope.start, envelope.received_at)


def envelope_state(
    envelope: Envelope,
    at: datetime,
    health: SourceHealth | None,
    *,
    superseded_at: datetime | None = None,
    superseded_by: str | None = None,
) -> EnvelopeStatus:
    """The state of ``envelope`` at ``at``, given its source's health (None: never heard
    from, so offline) and when a newer envelope supersedes it (see :func:`supersessions`)."""
    if health is not None and health.source != envelope.source:
        raise ValueError(
            f"envelope {envelope.id} is from source {envelope.source}, "
            f"not {health.source} whose health was given"
        )
    if envelope.received_at > at:
        return EnvelopeStatus(
            EnvelopeState.PENDING, f"not received until {_when(envelope.received_at)}"
        )
    if envelope.withdrawn_at is not None and envelope.withdrawn_at <= at:
        return EnvelopeStatus(
            EnvelopeState.WITHDRAWN,
            f"withdrawn by source {envelope.source} at {_when(envelope.withdrawn_at)}",
        )
    expiry = _expiry(envelope, at, superseded_at, superseded_by)
    if expiry is not None:
        return EnvelopeStatus(EnvelopeState.EXPIRED, expiry)
    if envelope.start > at:
        return EnvelopeStatus(EnvelopeState.PENDING, f"window starts at {_when(envelope.start)}")
    online = health is not None and health.is_online(at)
    source = _source_health(envelope.source, health, at)
    until = f"until {_when(envelope.end)}" if envelope.end is not None else "open-ended"
    if envelope.mode is EnvelopeMode.FALLBACK:
        if online:
            return EnvelopeStatus(
                EnvelopeState.PENDING,
                f"fallback envelope, applies only while its source is offline: {source}",
            )
        return EnvelopeStatus(
            EnvelopeState.ACTIVE_FALLBACK, f"{source}; its own fallback envelope applies, {until}"
        )
    if online:
        return EnvelopeStatus(EnvelopeState.ACTIVE, f"in its window, {until}; {source}")
    return EnvelopeStatus(
        EnvelopeState.FALLBACK_ELIGIBLE,
        f"{source}; the limit still holds (not fresh), {until}",
    )


# Supersession


def supersessions(envelopes: Iterable[Envelope]) -> dict[str, Supersession]:
    """For each superseded envelope (by id), the earliest newer envelope of its series
    (:func:`series_key`) that supersedes it, and from when. Ties go to the smaller id."""
    series: dict[SeriesKey, list[Envelope]] = defaultdict(list)
    for envelope in _unique(envelopes).values():
        series[series_key(envelope)].append(envelope)
    found: dict[str, Supersession] = {}
    for members in series.values():
        members.sort(key=lambda e: (e.received_at, e.id))
        for i, older in enumerate(members):
            best: tuple[datetime, str] | None = None
            for newer in members[i + 1 :]:
                since = _supersedes(newer, older)
                if since is not None and (best is None or (since, newer.id) < best):
                    best = (since, newer.id)
            if best is not None:
                found[older.id] = Supersession(by=best[1], at=best[0])
    return dict(sorted(found.items()))


SeriesKey = tuple[str, str, Direction, EnvelopeMode, LimitUnit, frozenset[Phase] | None]


def series_key(envelope: Envelope) -> SeriesKey:
    """Envelopes that replace one another: one source's limit of one kind on one node."""
    return (
        envelope.source,
        envelope.target,
        envelope.direction,
        envelope.mode,
        envelope.unit,
        envelope.phases,
    )


def _supersedes(newer: Envelope, older: Envelope) -> datetime | None:
    """From when ``newer`` supersedes ``older`` (same series, received later): when it
    comes into force, if it ever does and its window overlaps the older one's."""
    since = in_force_from(newer)
    if newer.end is not None and newer.end <= since:
        return None  # received after its window: never in force
    if newer.withdrawn_at is not None and newer.withdrawn_at <= since:
        return None  # withdrawn before it came into force
    if older.end is not None and older.end <= newer.start:
        return None
    if newer.end is not None and newer.end <= older.start:
        return None
    return since


# At an instant


def states_at(
    envelopes: Iterable[Envelope], health: Mapping[str, SourceHealth], at: datetime
) -> dict[str, EnvelopeStatus]:
    """The status at ``at`` of every envelope received by then, by id (sorted). A source
    missing from ``health`` counts as never heard from."""
    known = _unique(envelopes)
    superseded = supersessions(known.values())
    states: dict[str, EnvelopeStatus] = {}
    for envelope_id in sorted(known):
        envelope = known[envelope_id]
        if envelope.received_at > at:
            continue
        by = superseded.get(envelope_id)
        states[envelope_id] = envelope_state(
            envelope,
            at,
            health.get(envelope.source),
            superseded_at=by.at if by else None,
            superseded_by=by.by if by else None,
        )
    return states


def applicable_limits(
    envelopes: Iterable[Envelope],
    health: Mapping[str, SourceHealth],
    sources: Mapping[str, SourceSpec],
    at: datetime,
    *,
    lead: timedelta = timedelta(0),
) -> tuple[AppliedLimit, ...]:
    """Every limit in force at ``at``, in a stable order (by target, direction, unit,
    origin). Overlapping limits on a node all come back: the engine takes the minimum.
    With a ``lead``, also the envelopes starting within it (:func:`upcoming_limits`).

    Envelopes apply while ``active`` (fresh), ``fallback_eligible`` or
    ``active_fallback`` (not fresh). For each source in ``sources`` that is offline,
    the site's fallback applies to each of its targets, in each direction for which the
    source has no fallback envelope of its own in force on that target: ``import_w``
    (import, W), ``export_w`` (export, W), ``current_a`` (A per phase, both
    directions); a fallback that sets nothing holds import at 0 W."""
    known = _unique(envelopes)
    limits: list[AppliedLimit] = []
    covered: set[tuple[str, str, Direction]] = set()
    for envelope_id, status in states_at(known.values(), health, at).items():
        if not status.in_force:
            continue
        envelope = known[envelope_id]
        limits.append(_applied(envelope, status))
        if status.state is EnvelopeState.ACTIVE_FALLBACK:
            covered.add((envelope.source, envelope.target, envelope.direction))
    for spec in sources.values():
        source_health = health.get(spec.id)
        if source_health is not None and source_health.is_online(at):
            continue
        origin = LimitOrigin("site_fallback", None, spec.id, fresh=False)
        for target in spec.targets:
            for direction, limit, unit in site_fallback_limits(spec.fallback):
                if (spec.id, target, direction) not in covered:
                    limits.append(AppliedLimit(target, direction, limit, unit, None, origin))
    limits.extend(upcoming_limits(known.values(), health, at, lead))
    return tuple(sorted(limits, key=_order))


def upcoming_limits(
    envelopes: Iterable[Envelope],
    health: Mapping[str, SourceHealth],
    at: datetime,
    lead: timedelta,
) -> list[AppliedLimit]:
    """The envelopes whose window starts after ``at`` and at most ``lead`` later, and
    that will be in force at their start as far as is known at ``at`` (what was received
    and withdrawn by then, the sources' health as it stands): each as a limit from now,
    so that the decreases it needs have reached the chargers by its start."""
    if lead <= timedelta(0):
        return []
    known = {
        e.id: e if e.withdrawn_at is None or e.withdrawn_at <= at else replace(e, withdrawn_at=None)
        for e in _unique(envelopes).values()
        if e.received_at <= at
    }
    starting = [e for e in known.values() if at < e.start <= at + lead]
    if not starting:
        return []
    superseded = supersessions(known.values())
    limits: list[AppliedLimit] = []
    for envelope in starting:
        by = superseded.get(envelope.id)
        status = envelope_state(
            envelope,
            envelope.start,
            health.get(envelope.source),
            superseded_at=by.at if by else None,
            superseded_by=by.by if by else None,
        )
        if status.in_force:
            limits.append(_applied(envelope, status, starts=envelope.start))
    return limits


def _applied(
    envelope: Envelope, status: EnvelopeStatus, *, starts: datetime | None = None
) -> AppliedLimit:
    """An envelope in force as a limit: fresh while ``active``."""
    fresh = status.state is EnvelopeState.ACTIVE
    origin = LimitOrigin("envelope", envelope.id, envelope.source, fresh, starts)
    return AppliedLimit(
        envelope.target, envelope.direction, envelope.limit, envelope.unit, envelope.phases, origin
    )


def site_fallback_limits(
    fallback: NodeLimits,
) -> tuple[tuple[Direction, float, LimitUnit], ...]:
    """A source's site fallback as limits: import and export power, and the current
    per phase in both directions. One that sets nothing holds import at 0 W, so an
    offline source never leaves its targets unlimited."""
    limits: list[tuple[Direction, float, LimitUnit]] = []
    if fallback.import_w is not None:
        limits.append((Direction.IMPORT, fallback.import_w, LimitUnit.W))
    if fallback.export_w is not None:
        limits.append((Direction.EXPORT, fallback.export_w, LimitUnit.W))
    if fallback.current_a is not None:
        limits.append((Direction.IMPORT, fallback.current_a, LimitUnit.A))
        limits.append((Direction.EXPORT, fallback.current_a, LimitUnit.A))
    return tuple(limits) if limits else ((Direction.IMPORT, 0.0, LimitUnit.W),)


def transitions(
    before: Mapping[str, EnvelopeState], after: Mapping[str, EnvelopeStatus]
) -> list[EnvelopeTransition]:
    """The state changes from one evaluation to the next, by envelope id, each with the
    reason for its new state. An envelope missing from ``before`` starts from
    ``received``; one missing from ``after`` (forgotten) is not reported."""
    changes: list[EnvelopeTransition] = []
    for envelope_id in sorted(after):
        previous = EnvelopeState(before.get(envelope_id, EnvelopeState.RECEIVED))
        status = after[envelope_id]
        if status.state != previous:
            changes.append(EnvelopeTransition(envelope_id, previous, status.state, status.reason))
    return changes


def _expiry(
    envelope: Envelope, at: datetime, superseded_at: datetime | None, superseded_by: str | None
) -> str | None:
    """Why the envelope has expired by ``at`` (the earlier cause), or None."""
    causes: list[tuple[datetime, str]] = []
    if envelope.end is not None and envelope.end <= at:
        causes.append((envelope.end, f"window ended at {_when(envelope.end)}"))
    if superseded_at is not None and superseded_at <= at:
        by = f" by envelope {superseded_by}" if superseded_by else ""
        causes.append((superseded_at, f"superseded{by} from {_when(superseded_at)}"))
    return min(causes, key=lambda cause: cause[0])[1] if causes else None


def _source_health(source: str, health: SourceHealth | None, at: datetime) -> str:
    """The source's health at ``at``, in words."""
    if health is None or health.last_heard is None:
        return f"source {source} is offline: never heard from"
    heard = f"last heard {_when(health.last_heard)}"
    if health.is_online(at):
        return f"source {source} is online ({heard})"
    silence = (at - health.last_heard).total_seconds()
    return (
        f"source {source} is offline: {heard}, {silence:g} s ago "
        f"(offline after {health.offline_after_s:g} s)"
    )


def _when(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")


def _unique(envelopes: Iterable[Envelope]) -> dict[str, Envelope]:
    """Envelopes by id; an id given twice is an error (the store keeps one per id)."""
    by_id: dict[str, Envelope] = {}
    for envelope in envelopes:
        if envelope.id in by_id and by_id[envelope.id] != envelope:
            raise ValueError(f"two different envelopes share the id {envelope.id}")
        by_id[envelope.id] = envelope
    return by_id


def _order(
    limit: AppliedLimit,
) -> tuple[str, str, str, str, str, str, float, bool, tuple[str, ...]]:
    origin = limit.origin
    phases = tuple(sorted(limit.phases)) if limit.phases is not None else ()
    return (
        limit.target,
        limit.direction,
        limit.unit,
        origin.kind,
        origin.envelope_id or "",
        origin.source,
        limit.limit,
        limit.phases is not None,
        phases,
    )
