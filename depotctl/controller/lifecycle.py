"""The envelope lifecycle in the journal: every envelope transition and every envelope
source going offline or online, journaled once, with its reason, before the cycle
dispatches anything.

The control loop calls, once per cycle, before it dispatches, inside the unit of
work that also records the entries (or through :func:`record_lifecycle`, which does
both)::

    entries = lifecycle_entries(uow, live.snapshot)

Each call evaluates the stored envelopes at ``snapshot.at`` with the snapshot's source
health (:func:`depotctl.domain.envelopes.states_at`), compares with the states stored
by the previous call (``received`` before the first), stores the new ones and returns
one ``envelope.state`` entry per change. Expired and withdrawn envelopes stay so and
are not evaluated again (:func:`changeable`), so a cycle's cost follows the envelopes
in play, not every envelope ever received. An envelope seen for the first time
starts from ``received``: one received and already in its window at the same
evaluation reads ``received → active``, one entry. Each configured envelope source
(``snapshot.topology.sources``; the operators' ``local`` source never goes offline) is
compared the same way with its stored health
(:class:`~depotctl.controller.store.sources.Sources`): ``source.offline`` says what now applies
in its stead (its fallback envelopes, the site's fallback, the limits that still hold
not fresh), ``source.online`` that its fresh envelopes apply again. The first
evaluation of a source journals what it finds (offline, if never heard from). Both
stored states live in the store, so a restart repeats nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from depotctl.controller.store import (
    JournalKind,
    NewJournalEntry,
    SourceState,
    UnitOfWork,
    journal_entry,
)
from depotctl.domain.envelopes import (
    LOCAL_SOURCE,
    AppliedLimit,
    Envelope,
    EnvelopeMode,
    EnvelopeState,
    EnvelopeStatus,
    EnvelopeTransition,
    SeriesKey,
    SourceHealth,
    Supersession,
    applicable_limits,
    series_key,
    states_at,
    supersessions,
    transitions,
)
from depotctl.domain.phases import Phase
from depotctl.domain.quantity import Current, Power
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.allocation import utc_text

__all__ = ["changeable", "describe_limit", "lifecycle_entries", "record_lifecycle"]


def lifecycle_entries(uow: UnitOfWork, snapshot: Snapshot) -> list[NewJournalEntry]:
    """Store the sources' and envelopes' states at ``snapshot.at`` and return the
    journal entries of their changes since the last call: sources first (a source going
    offline comes before the envelopes it makes fall back), then envelopes by id. Call it
    inside the unit of work that records the entries, so that a state is never stored
    without its entry (:func:`record_lifecycle` does both)."""
    with uow:
        stored = {envelope_id: s.state for envelope_id, s in uow.envelopes.states().items()}
        live = changeable(uow.envelopes.all(), stored)
        entries = _source_entries(uow, snapshot, live)
        entries += _envelope_entries(uow, snapshot, live, stored)
    return entries


def record_lifecycle(uow: UnitOfWork, snapshot: Snapshot) -> list[NewJournalEntry]:
    """:func:`lifecycle_entries`, recorded in the journal in the same transaction."""
    with uow:
        entries = lifecycle_entries(uow, snapshot)
        uow.journal.record(entries)
    return entries


# Envelopes


def _envelope_entries(
    uow: UnitOfWork,
    snapshot: Snapshot,
    live: Sequence[Envelope],
    stored: Mapping[str, EnvelopeState],
) -> list[NewJournalEntry]:
    at = snapshot.at
    statuses = states_at(live, snapshot.sources, at)
    changes = transitions(stored, statuses)
    if not changes:
        return []
    uow.envelopes.set_states(
        {change.envelope_id: statuses[change.envelope_id] for change in changes}
    )
    by_id = {envelope.id: envelope for envelope in live}
    superseded = supersessions(live)
    return [
        _envelope_entry(
            by_id[change.envelope_id],
            change,
            statuses[change.envelope_id],
            snapshot.sources.get(by_id[change.envelope_id].source),
            superseded.get(change.envelope_id),
            at,
        )
        for change in changes
    ]


def changeable(
    envelopes: Iterable[Envelope], stored: Mapping[str, EnvelopeState]
) -> list[Envelope]:
    """The envelopes to evaluate: those whose state can still change, with every newer
    envelope of their series (which may supersede them). An ``expired`` or ``withdrawn``
    envelope stays so as time moves on — except that an expired one withdrawn since reads
    ``withdrawn``, so it is evaluated until then. Leaving the others out keeps a cycle's
    cost to the envelopes in play, not every envelope ever received."""
    envelopes = list(envelopes)
    oldest: dict[SeriesKey, tuple[datetime, str]] = {}
    for envelope in envelopes:
        state = stored.get(envelope.id, EnvelopeState.RECEIVED)
        if state in _FINAL and not (
            state is EnvelopeState.EXPIRED and envelope.withdrawn_at is not None
        ):
            continue
        key, order = series_key(envelope), (envelope.received_at, envelope.id)
        oldest[key] = min(oldest.get(key, order), order)
    return [
        envelope
        for envelope in envelopes
        if series_key(envelope) in oldest
        and (envelope.received_at, envelope.id) >= oldest[series_key(envelope)]
    ]


_FINAL = frozenset({EnvelopeState.EXPIRED, EnvelopeState.WITHDRAWN})


def _envelope_entry(
    envelope: Envelope,
    change: EnvelopeTransition,
    status: EnvelopeStatus,
    health: SourceHealth | None,
    superseded: Supersession | None,
    at: datetime,
) -> NewJournalEntry:
    kind = "fallback envelope" if envelope.mode is EnvelopeMode.FALLBACK else "envelope"
    limit = describe_limit(
        envelope.target, envelope.direction, envelope.limit, envelope.unit, envelope.phases
    )
    cause = _cause(envelope, change, health, superseded, at)
    return journal_entry(
        JournalKind.ENVELOPE_STATE,
        f"{kind} {envelope.id} ({envelope.source} → {limit}): "
        f"{change.before.value} → {change.after.value}: {cause}",
        at=at,
        envelope=envelope.id,
        data={
            "envelope": envelope.id,
            "source": envelope.source,
            "target": envelope.target,
            "direction": envelope.direction.value,
            "limit": envelope.limit,
            "unit": envelope.unit.value,
            "mode": envelope.mode.value,
            "from": change.before.value,
            "to": change.after.value,
            "reason": status.reason,
        },
    )


def _cause(
    envelope: Envelope,
    change: EnvelopeTransition,
    health: SourceHealth | None,
    superseded: Supersession | None,
    at: datetime,
) -> str:
    """Why the envelope entered its new state, in a few words."""
    after, before = change.after, change.before
    source = envelope.source
    if after is EnvelopeState.PENDING:
        if envelope.mode is EnvelopeMode.FALLBACK and envelope.start <= at:
            return f"applies only while source {source} is offline; {_heard(health)}"
        return f"window starts at {_when(envelope.start)}"
    if after is EnvelopeState.ACTIVE:
        if before is EnvelopeState.RECEIVED and envelope.received_at >= envelope.start:
            return (
                f"received at {_when(envelope.received_at)} inside its window "
                f"(from {_when(envelope.start)})"
            )
        if before in (EnvelopeState.RECEIVED, EnvelopeState.PENDING):
            return f"window started at {_when(envelope.start)}"
        return f"source {source} is online again; {_heard(health)}"
    if after is EnvelopeState.FALLBACK_ELIGIBLE:
        return f"source {source} is offline ({_heard(health)}); the limit still holds, not fresh"
    if after is EnvelopeState.ACTIVE_FALLBACK:
        return f"source {source} is offline ({_heard(health)}); this fallback envelope applies"
    if after is EnvelopeState.WITHDRAWN:
        withdrawn = envelope.withdrawn_at or at
        return f"withdrawn by source {source} at {_when(withdrawn)}"
    # expired: the earlier of its window's end and its supersession (the end on a tie)
    if superseded is not None and (envelope.end is None or superseded.at < envelope.end):
        return f"superseded by envelope {superseded.by} from {_when(superseded.at)}"
    return f"window ended at {_when(envelope.end or at)}"


# Sources


def _source_entries(
    uow: UnitOfWork, snapshot: Snapshot, envelopes: Sequence[Envelope]
) -> list[NewJournalEntry]:
    """``envelopes``: at least every envelope that may be in force (the changeable ones)."""
    at = snapshot.at
    known = uow.sources.states()
    changed: list[SourceState] = []
    entries: list[NewJournalEntry] = []
    for source_id, spec in sorted(snapshot.topology.sources.items()):
        if source_id == LOCAL_SOURCE:
            continue
        health = snapshot.sources.get(source_id) or SourceHealth(
            source_id, None, spec.offline_after_s
        )
        online = health.is_online(at)
        previous = known.get(source_id)
        if previous is not None and previous.online == online:
            continue
        changed.append(SourceState(source_id, online, at))
        own = [envelope for envelope in envelopes if envelope.source == source_id]
        applies = applicable_limits(own, {source_id: health}, {source_id: spec}, at)
        entries.append(_source_entry(health, previous, online, applies, own, at))
    uow.sources.put_states(changed)
    return entries


def _source_entry(
    health: SourceHealth,
    previous: SourceState | None,
    online: bool,
    applies: Sequence[AppliedLimit],
    envelopes: Sequence[Envelope],
    at: datetime,
) -> NewJournalEntry:
    source = health.source
    modes = {envelope.id: envelope.mode for envelope in envelopes}
    in_force = ", ".join(
        f"{describe_limit(a.target, a.direction, a.limit, a.unit, a.phases)} ({_origin(a, modes)})"
        for a in applies
    )
    if online:
        was = "" if previous is None else f" after {_duration(at - previous.since)} offline"
        message = f"source {source} online{was}: {_heard(health)}; " + (
            f"its envelopes apply fresh: {in_force}"
            if in_force
            else "no envelope of its in force; the site's own limits apply"
        )
    else:
        message = f"source {source} offline: {_heard(health)}; now applies: {in_force}"
    offline_since = health.offline_at if not online else None
    data: dict[str, Any] = {
        "source": source,
        "from": None if previous is None else _health_word(previous.online),
        "to": _health_word(online),
        "last_heard": _iso(health.last_heard),
        "offline_after_s": health.offline_after_s,
        "offline_since": _iso(offline_since),
        "applies": [_limit_json(a) for a in applies],
    }
    kind = JournalKind.SOURCE_ONLINE if online else JournalKind.SOURCE_OFFLINE
    return journal_entry(kind, message, at=at, data=data)


def _origin(limit: AppliedLimit, modes: Mapping[str, EnvelopeMode]) -> str:
    origin = limit.origin
    if origin.kind == "site_fallback":
        return "the site's fallback"
    if origin.fresh:
        return f"envelope {origin.envelope_id}"
    if modes.get(origin.envelope_id or "") is EnvelopeMode.FALLBACK:
        return f"its fallback envelope {origin.envelope_id}"
    return f"envelope {origin.envelope_id}, still held, not fresh"


def _limit_json(limit: AppliedLimit) -> dict[str, Any]:
    return {
        "target": limit.target,
        "direction": limit.direction.value,
        "limit": limit.limit,
        "unit": limit.unit.value,
        "phases": sorted(limit.phases) if limit.phases is not None else None,
        "origin": limit.origin.kind,
        "envelope": limit.origin.envelope_id,
        "fresh": limit.origin.fresh,
    }


def _health_word(online: bool) -> str:
    return "online" if online else "offline"


# Words


def describe_limit(
    target: str,
    direction: str,
    limit: float,
    unit: str,
    phases: frozenset[Phase] | None,
) -> str:
    """``gc-main import ≤ 570 kW``; a current limit is per phase (``≤ 200 A per phase``,
    or ``≤ 200 A on L1``)."""
    if unit == "A":
        on = "per phase" if phases is None else "on " + ", ".join(sorted(phases))
        return f"{target} {direction} ≤ {Current.of(limit)} {on}"
    return f"{target} {direction} ≤ {Power.of(limit)}"


def _heard(health: SourceHealth | None) -> str:
    if health is None or health.last_heard is None:
        return "never heard from"
    if health.deadline is not None:
        after = f", its deadline {_when(health.deadline)}"
    elif health.offline_after_s is not None:
        after = f", offline after {_duration(timedelta(seconds=health.offline_after_s))}"
    else:
        after = ""
    return f"last heard {_when(health.last_heard)}{after}"


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat().replace("+00:00", "Z") if instant is not None else None


def _when(instant: datetime) -> str:
    """The whole instant in UTC, to the second (``2026-03-02T18:10:00Z``): readers put
    it in the site's time with no date to guess (older journals say ``18:10Z``)."""
    return utc_text(instant.astimezone(UTC))
