"""Envelopes: list them with their state now, submit one, withdraw one.

A write is one unit of work with its journal entry (naming the envelope), then
``depot.changed`` so the control loop runs a cycle at once. "Now" is the controller's
clock; the target and the source are checked against the site in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from depotctl.api.encoding import utc_text
from depotctl.api.inputs import EnvelopeInput
from depotctl.config import envelope_of
from depotctl.controller.ports import Depot
from depotctl.controller.services.errors import Conflict, Invalid, NotFound
from depotctl.controller.services.lookups import check_target, site_in_force, unknown
from depotctl.controller.store import (
    EnvelopeConflict,
    JournalKind,
    NewJournalEntry,
    UnitOfWork,
    journal_entry,
)
from depotctl.controller.store.oscp import OutboxMessage, PeerRecord
from depotctl.domain import Current, Power
from depotctl.domain.envelopes import (
    LOCAL_SOURCE,
    Envelope,
    EnvelopeState,
    EnvelopeStatus,
    EnvelopeWindowError,
    LimitUnit,
    SourceHealth,
    source_healths,
    states_at,
)


@dataclass(frozen=True, slots=True)
class EnvelopeNow:
    """An envelope with its state at ``at`` and whether its source is online then."""

    envelope: Envelope
    status: EnvelopeStatus
    source_online: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class EnvelopeBoard:
    """Every envelope with its state now, every source's health, and the OSCP links by
    source (each with the messages waiting for its provider)."""

    at: datetime
    envelopes: tuple[EnvelopeNow, ...]
    sources: tuple[SourceHealth, ...]
    links: Mapping[str, tuple[PeerRecord, tuple[OutboxMessage, ...]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A submitted envelope as stored now; ``new`` False for a resubmission."""

    envelope: EnvelopeNow
    new: bool


def envelope_board(depot: Depot) -> EnvelopeBoard:
    """Every envelope with its state now (sources sorted by id)."""
    now = depot.clock.now()
    uow = depot.units()
    health = _health(depot, uow)
    envelopes = uow.envelopes.all()
    statuses = states_at(envelopes, health, now)
    return EnvelopeBoard(
        now,
        tuple(_now(e, statuses.get(e.id), health.get(e.source), now) for e in envelopes),
        tuple(health[source_id] for source_id in sorted(health)),
        {
            source.id: (uow.oscp.get(source.id), tuple(uow.oscp.outbox(source.id)))
            for source in (depot.applied.site.spec.envelope_sources if depot.applied else ())
            if source.protocol == "oscp"
        },
    )


def submit_envelope(depot: Depot, body: EnvelopeInput) -> Submitted:
    """Store a submitted envelope (its source heard from now) and journal it if new.
    Refuses a target or source the site lacks, a window that is empty or has passed,
    a withdrawn id, and an id taken by other content."""
    site = site_in_force(depot)
    check_target(site, body.target)
    sources = [LOCAL_SOURCE, *site.topology.sources]
    if body.source not in sources:
        raise unknown(
            "source",
            body.source,
            f'site {site.topology.site} has no envelope source "{body.source}"',
            sources,
        )
    now = depot.clock.now()
    with depot.units() as uow:
        existing = uow.envelopes.get(body.id)
        envelope = _envelope_of(body, received_at=existing.received_at if existing else now)
        if envelope.end is not None and envelope.end <= now:
            raise Invalid(
                f"envelope {body.id} ends at {utc_text(envelope.end)}, which has passed "
                f"(the controller's time is {utc_text(now)}); check the time zone"
            )
        if existing is not None and existing.withdrawn_at is not None:
            raise Conflict(
                f"envelope {body.id} was withdrawn at {utc_text(existing.withdrawn_at)}; "
                "submit a new envelope under a new id",
                envelope=body.id,
            )
        try:
            new = uow.envelopes.put(envelope)
        except EnvelopeConflict:
            raise Conflict(
                f"envelope {body.id} is already stored with different content; "
                "an envelope never changes: submit a new id (a newer envelope of the same "
                "source, target and limit kind supersedes the older one)",
                envelope=body.id,
            ) from None
        uow.sources.heard_from(envelope.source, now)
        if new:
            uow.journal.record([_received(envelope, now)])
    depot.changed(
        f"envelope {envelope.id} received" if new else f"source {envelope.source} heard from"
    )
    return Submitted(_one(depot, envelope.id), new)


def withdraw_envelope(depot: Depot, envelope_id: str) -> EnvelopeNow:
    """Withdraw an envelope from now — also one a newer forecast cuts later — and journal
    it (once: again changes nothing)."""
    now = depot.clock.now()
    with depot.units() as uow:
        existing = uow.envelopes.get(envelope_id)
        if existing is None:
            raise NotFound(f"there is no envelope {envelope_id}", envelope=envelope_id)
        withdrawn = existing.withdrawn_at is None or existing.withdrawn_at > now
        if withdrawn:
            uow.envelopes.withdraw(envelope_id, at=now)
            uow.journal.record(
                [
                    journal_entry(
                        JournalKind.ENVELOPE_WITHDRAWN,
                        f"envelope {envelope_id} withdrawn: {limit_words(existing)} on "
                        f"{existing.target} no longer applies",
                        at=now,
                        envelope=envelope_id,
                        data={"source": existing.source, "target": existing.target},
                    )
                ]
            )
    if withdrawn:
        depot.changed(f"envelope {envelope_id} withdrawn")
    return _one(depot, envelope_id)


def envelope_data(envelope: Envelope) -> dict[str, Any]:
    """An envelope's terms, as journaled and as the API shows them."""
    return {
        "source": envelope.source,
        "target": envelope.target,
        "direction": envelope.direction.value,
        "limit": limit_words(envelope),
        "phases": sorted(envelope.phases) if envelope.phases is not None else None,
        "start": utc_text(envelope.start),
        "end": utc_text(envelope.end),
        "mode": envelope.mode.value,
        "priority": envelope.priority,
    }


def limit_words(envelope: Envelope) -> str:
    """``800 kW`` or ``150 A``."""
    if envelope.unit is LimitUnit.A:
        return str(Current.of(envelope.limit))
    return str(Power.of(envelope.limit))


def _one(depot: Depot, envelope_id: str) -> EnvelopeNow:
    board = envelope_board(depot)
    return next(e for e in board.envelopes if e.envelope.id == envelope_id)


def _health(depot: Depot, uow: UnitOfWork) -> dict[str, SourceHealth]:
    applied = depot.applied
    return source_healths(applied.topology.sources if applied else {}, uow.sources.heard())


def _now(
    envelope: Envelope, status: EnvelopeStatus | None, health: SourceHealth | None, at: datetime
) -> EnvelopeNow:
    if status is None:  # received after the controller's time (a clock set back)
        status = EnvelopeStatus(EnvelopeState.RECEIVED, "received later than the clock's time")
    return EnvelopeNow(envelope, status, health is not None and health.is_online(at), at)


def _received(envelope: Envelope, at: datetime) -> NewJournalEntry:
    window = (
        f"from {utc_text(envelope.start)}, open-ended"
        if envelope.end is None
        else f"from {utc_text(envelope.start)} until {utc_text(envelope.end)}"
    )
    return journal_entry(
        JournalKind.ENVELOPE_RECEIVED,
        f"envelope {envelope.id} received from source {envelope.source}: "
        f"{envelope.direction} {limit_words(envelope)} on {envelope.target} {window}",
        at=at,
        envelope=envelope.id,
        data=envelope_data(envelope),
    )


def _envelope_of(body: EnvelopeInput, *, received_at: datetime) -> Envelope:
    """The envelope ``body`` submits; :class:`Invalid` when its window is empty."""
    try:
        return envelope_of(body, received_at=received_at)
    except EnvelopeWindowError as error:
        raise Invalid(str(error)) from None
