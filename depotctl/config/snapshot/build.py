"""A checked snapshot document → the engine's :class:`~depotctl.domain.snapshot.Snapshot`
(base units, UTC)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from depotctl.config.snapshot.schema import (
    AdmissionEntry,
    OverrideEntry,
    PlanNoteEntry,
    SessionEntry,
    SnapshotDocument,
)
from depotctl.domain import Current, Quantity
from depotctl.domain.admission import Admission
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.envelopes import (
    Direction,
    Envelope,
    EnvelopeMode,
    LimitUnit,
    SourceHealth,
)
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.phases import Phase
from depotctl.domain.plan_notes import PlanNote
from depotctl.domain.policy import Policy
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import Topology


def to_snapshot(document: SnapshotDocument, topology: Topology, policy: Policy) -> Snapshot:
    """The engine's input. Sources take their offline-after from the site; a source the
    snapshot does not list has never been heard from."""
    sources = {
        entry.id: SourceHealth(
            source=entry.id,
            last_heard=_utc(entry.last_heard),
            # the operators' own source (``local``) is declared by no site and never
            # goes offline
            offline_after_s=(
                topology.sources[entry.id].offline_after_s if entry.id in topology.sources else None
            ),
            deadline=_utc(entry.deadline),
        )
        for entry in document.envelope_sources
    }
    telemetry = {
        entry.node: Reading(
            node=entry.node,
            at=_utc_required(entry.at),
            power_w=entry.power.base if entry.power is not None else None,
            current_a=(
                {Phase(name): amps.amps for name, amps in entry.current.items()}
                if entry.current is not None
                else None
            ),
        )
        for entry in document.telemetry
    }
    chargers = {
        entry.id: ChargerState(
            charger_id=entry.id,
            online=entry.online,
            last_outcome=CommandOutcome(entry.last_outcome) if entry.last_outcome else None,
            last_accepted_limit_a=(
                entry.last_accepted_limit.amps if entry.last_accepted_limit is not None else None
            ),
            last_command_at=_utc(entry.last_command_at),
            reason=entry.reason,
        )
        for entry in document.chargers
    }
    return Snapshot(
        at=_utc_required(document.at),
        topology=topology,
        policy=policy,
        envelopes=tuple(
            envelope_of(entry, received_at=entry.received_at, withdrawn_at=entry.withdrawn_at)
            for entry in document.envelopes
        ),
        sources=sources,
        telemetry=telemetry,
        sessions=tuple(_session(entry) for entry in document.sessions),
        chargers=chargers,
        previous_limits={evse: amps.amps for evse, amps in document.previous_limits.items()},
        overrides={entry.evse: _override(entry, document.at) for entry in document.overrides},
        admission={evse: _admission(entry) for evse, entry in document.admission.items()},
        plan_notes={
            entry.id: _plan_note(entry.id, entry.plan_note)
            for entry in document.sessions
            if entry.plan_note is not None
        },
    )


class EnvelopeFields(Protocol):
    """An envelope as written: a snapshot's entry or an API request's body."""

    @property
    def id(self) -> str: ...
    @property
    def direction(self) -> str: ...  # import or export
    @property
    def source(self) -> str: ...
    @property
    def limit(self) -> Quantity: ...  # a current (per phase) or a power
    @property
    def target(self) -> str: ...
    @property
    def phases(self) -> Sequence[str] | None: ...  # a current's; None: all the target's
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime | None: ...  # exclusive; None: open-ended
    @property
    def mode(self) -> str: ...  # normal, or fallback (only while its source is offline)
    @property
    def priority(self) -> int: ...


def envelope_of(
    fields: EnvelopeFields, *, received_at: datetime, withdrawn_at: datetime | None = None
) -> Envelope:
    """The domain's envelope (base units, UTC); raises ``EnvelopeWindowError`` for an
    empty window."""
    return Envelope(
        id=fields.id,
        source=fields.source,
        target=fields.target,
        direction=Direction(fields.direction),
        limit=fields.limit.base,
        unit=LimitUnit.A if isinstance(fields.limit, Current) else LimitUnit.W,
        start=_utc_required(fields.start),
        end=_utc(fields.end),
        received_at=_utc_required(received_at),
        mode=EnvelopeMode(fields.mode),
        phases=frozenset(Phase(p) for p in fields.phases) if fields.phases else None,
        priority=fields.priority,
        withdrawn_at=_utc(withdrawn_at),
    )


def _session(entry: SessionEntry) -> Session:
    requirement = entry.requirement
    return Session(
        id=entry.id,
        evse_id=entry.evse,
        started=_utc_required(entry.started),
        energy_delivered_wh=entry.energy_delivered.base,
        requirement=(
            EnergyRequirement(
                energy_wh=requirement.energy.base,
                departure=_utc_required(requirement.departure),
                source=RequirementSource(requirement.source),
            )
            if requirement is not None
            else None
        ),
        vehicle_max_current_a=(
            entry.vehicle_max_current.amps if entry.vehicle_max_current is not None else None
        ),
        planned_rate_a=entry.planned_rate.amps if entry.planned_rate is not None else None,
        priority_class=entry.priority_class,
    )


def _plan_note(session_id: str, entry: PlanNoteEntry) -> PlanNote:
    return PlanNote(
        session_id=session_id,
        price_now=entry.price_now,
        cheaper_price=entry.cheaper_price,
        cheaper_from=_utc(entry.cheaper_from),
        departure=_utc_required(entry.departure),
        slack_h=entry.slack_hours,
        grid_price_now=entry.grid_price_now,
        cheaper_solar=entry.cheaper_solar,
    )


def _override(entry: OverrideEntry, at: datetime) -> EvseOverride:
    return EvseOverride(
        evse_id=entry.evse,
        paused=entry.paused,
        cap_a=entry.cap.amps if entry.cap is not None else None,
        set_at=_utc_required(entry.set_at or at),
        author=entry.author,
        reason=entry.reason,
    )


def _admission(entry: AdmissionEntry) -> Admission:
    """Switched on, or off (checked: exactly one of the two is given)."""
    if entry.on_since is not None:
        return Admission(True, _utc_required(entry.on_since))
    assert entry.off_since is not None
    return Admission(False, _utc_required(entry.off_since))


def _utc_required(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def _utc(instant: datetime | None) -> datetime | None:
    return instant.astimezone(UTC) if instant is not None else None
