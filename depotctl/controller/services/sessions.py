"""Sessions: list them with their outlook at departure, start one, end one, set the
fleet's schedule or the vehicle for one. A session is named by its id, or by the
vehicle of an open one (``bus-42``).

A write is one unit of work with its journal entry (naming the session and its
EVSE), then ``depot.changed`` so the control loop runs a cycle at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from depotctl.api.encoding import figure, utc_text
from depotctl.api.inputs import RequirementInput, SessionEndInput, SessionInput, VehicleInput
from depotctl.controller.ports import Depot
from depotctl.controller.readiness import live_forecasts
from depotctl.controller.service import NoSite
from depotctl.controller.services.errors import Conflict, Invalid, NotFound
from depotctl.controller.services.lookups import check_evse, site_in_force
from depotctl.controller.store import (
    JournalKind,
    SessionConflict,
    SessionRecord,
    UnitOfWork,
    journal_entry,
)
from depotctl.controller.vehicles import (
    SESSION_VEHICLE,
    session_words,
    vehicle_data,
    vehicle_words,
)
from depotctl.domain import Current, Energy
from depotctl.domain.readiness import Readiness
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.engine import SessionOutlook, session_outlooks


@dataclass(frozen=True, slots=True)
class SessionsAt:
    """Sessions with the outlook of the open ones at ``at`` (the instant of the
    allocation in force; none before the first revision, or once ended)."""

    at: datetime
    records: tuple[SessionRecord, ...]
    outlooks: dict[str, SessionOutlook] = field(default_factory=dict)
    forecasts: dict[str, Readiness] = field(default_factory=dict)


def list_sessions(depot: Depot, *, include_ended: bool = False) -> SessionsAt:
    """The open sessions (all, with ``include_ended``) and their outlooks."""
    records = tuple(depot.units().sessions.all(open_only=not include_ended))
    if not any(record.is_open for record in records):
        return SessionsAt(depot.clock.now(), records)
    return _with_outlooks(depot, records)


def one_session(depot: Depot, session_id: str) -> SessionsAt:
    """One session (by id, or a vehicle's open one) and its outlook; :class:`NotFound`
    for an unknown id."""
    record = _session_named(depot.units(), session_id)
    if not record.is_open:
        return SessionsAt(depot.clock.now(), (record,))
    return _with_outlooks(depot, (record,))


def start_session(depot: Depot, body: SessionInput) -> SessionRecord:
    """Store and journal a session starting on an EVSE of the site in force."""
    check_evse(site_in_force(depot), body.evse)
    now = depot.clock.now()
    started = (body.started or now).astimezone(UTC)
    requirement = _requirement(body.id, body.requirement, started)
    session = Session(
        id=body.id,
        evse_id=body.evse,
        started=started,
        energy_delivered_wh=body.energy_delivered.base if body.energy_delivered else 0.0,
        requirement=requirement,
        vehicle_max_current_a=(
            body.vehicle_max_current.amps if body.vehicle_max_current is not None else None
        ),
        priority_class=body.priority_class,
        vehicle_id=body.vehicle,
        fleet_id=body.fleet if body.vehicle is not None else None,
    )
    with depot.units() as uow:
        existing = uow.sessions.get(body.id)
        if existing is not None:
            raise Conflict(
                f"session {body.id} already exists (on EVSE {existing.session.evse_id} "
                f"since {utc_text(existing.session.started)})",
                session=body.id,
            )
        try:
            uow.sessions.put(session)
        except SessionConflict as error:
            raise Conflict(str(error), session=body.id) from None
        parts = (vehicle_words(session), requirement_words(requirement) if requirement else "")
        words = "".join(f", {part}" for part in parts if part)
        uow.journal.record(
            [
                journal_entry(
                    JournalKind.SESSION_STARTED,
                    f"session {session.id} started on EVSE {session.evse_id}{words}",
                    at=now,
                    evse=session.evse_id,
                    session=session.id,
                    data=session_data(session),
                )
            ]
        )
    depot.changed(f"session {session.id} started on {session.evse_id}")
    return SessionRecord(session)


def end_session(depot: Depot, session_id: str, body: SessionEndInput) -> SessionRecord:
    """End an open session (now, or when ``body`` says) and journal it."""
    now = depot.clock.now()
    with depot.units() as uow:
        record = _open_session(uow, session_id)
        session_id = record.session.id  # named by its vehicle, perhaps
        ended_at = (body.ended_at or now).astimezone(UTC)
        if ended_at < record.session.started:
            raise Invalid(
                f"session {session_id} cannot end at {utc_text(ended_at)}, before it started "
                f"at {utc_text(record.session.started)}",
                session=session_id,
            )
        energy_wh = (
            body.energy_delivered.base
            if body.energy_delivered is not None
            else record.session.energy_delivered_wh
        )
        ended = uow.sessions.end(session_id, at=ended_at, energy_delivered_wh=energy_wh)
        uow.journal.record(
            [
                journal_entry(
                    JournalKind.SESSION_ENDED,
                    f"{session_words(record.session)} ended on EVSE {record.session.evse_id} "
                    f"with {_energy(energy_wh)} delivered",
                    at=now,
                    evse=record.session.evse_id,
                    session=session_id,
                    data={
                        "ended_at": utc_text(ended_at),
                        "energy_delivered": _energy(energy_wh),
                        "energy_delivered_wh": energy_wh,
                    },
                )
            ]
        )
    depot.changed(f"session {session_id} ended on {record.session.evse_id}")
    return ended


def set_requirement(depot: Depot, session_id: str, body: RequirementInput) -> SessionRecord:
    """The fleet's schedule for an open session (energy by departure), journaled."""
    now = depot.clock.now()
    with depot.units() as uow:
        record = _open_session(uow, session_id)
        session_id = record.session.id  # named by its vehicle, perhaps
        requirement = _requirement(session_id, body, record.session.started)
        assert requirement is not None
        session = replace(record.session, requirement=requirement)
        uow.sessions.put(session)
        uow.journal.record(
            [
                journal_entry(
                    JournalKind.SESSION_REQUIREMENT,
                    f"{session_words(session)} on EVSE {session.evse_id}: "
                    f"{requirement_words(requirement)} (the fleet's schedule)",
                    at=now,
                    evse=session.evse_id,
                    session=session_id,
                    data=requirement_data(requirement),
                )
            ]
        )
    depot.changed(f"session {session_id} requirement")
    return SessionRecord(session)


def session_data(session: Session) -> dict[str, Any]:
    """A session's terms, as journaled and as the API shows them."""
    return {
        "evse": session.evse_id,
        "started": utc_text(session.started),
        "energy_delivered": _energy(session.energy_delivered_wh),
        "energy_delivered_wh": figure(session.energy_delivered_wh),
        "requirement": (
            requirement_data(session.requirement) if session.requirement is not None else None
        ),
        "vehicle_max_current": (
            str(Current.of(session.vehicle_max_current_a))
            if session.vehicle_max_current_a is not None
            else None
        ),
        "priority_class": session.priority_class,
        "vehicle": session.vehicle_id,
        "fleet": session.fleet_id,
    }


def set_vehicle(depot: Depot, session_id: str, body: VehicleInput) -> SessionRecord:
    """Name (or, with null, forget) the vehicle an open session charges, journaled."""
    now = depot.clock.now()
    with depot.units() as uow:
        record = _open_session(uow, session_id)
        session_id = record.session.id  # named by its vehicle, perhaps
        fleet = body.fleet if body.vehicle is not None else None
        session = replace(record.session, vehicle_id=body.vehicle, fleet_id=fleet)
        if body.vehicle is not None:
            other = uow.sessions.open_of_vehicle(body.vehicle)
            if other is not None and other.session.id != session.id:
                raise Conflict(
                    f"vehicle {body.vehicle} is charging in session {other.session.id} on EVSE "
                    f"{other.session.evse_id}; end that session or set its vehicle to null "
                    "first",
                    session=session.id,
                )
        uow.sessions.put(session)
        said = vehicle_words(session) if session.vehicle_id else "no known vehicle"
        uow.journal.record(
            [
                journal_entry(
                    SESSION_VEHICLE,
                    f"session {session.id} on EVSE {session.evse_id}: {said} (the API)",
                    at=now,
                    evse=session.evse_id,
                    session=session.id,
                    data={**vehicle_data(session), "via": "api"},
                )
            ]
        )
    depot.changed(f"session {session.id} vehicle")
    return SessionRecord(session)


def requirement_data(requirement: EnergyRequirement) -> dict[str, Any]:
    return {
        "energy": _energy(requirement.energy_wh),
        "energy_wh": figure(requirement.energy_wh),
        "departure": utc_text(requirement.departure),
        "source": requirement.source.value,
    }


def requirement_words(requirement: EnergyRequirement) -> str:
    return f"needs {_energy(requirement.energy_wh)} by {utc_text(requirement.departure)}"


def _with_outlooks(depot: Depot, records: tuple[SessionRecord, ...]) -> SessionsAt:
    try:
        live = depot.current()
    except NoSite:
        return SessionsAt(depot.clock.now(), records)
    outlooks = session_outlooks(live.snapshot, live.allocation)
    return SessionsAt(live.snapshot.at, records, outlooks, live_forecasts(live, depot.planning))


def _session_named(uow: UnitOfWork, name: str) -> SessionRecord:
    """The session with id ``name``, else the open session of vehicle ``name``."""
    record = uow.sessions.get(name) or uow.sessions.open_of_vehicle(name.lower())
    if record is None:
        raise NotFound(
            f"there is no session {name}, and no vehicle {name} with an open session "
            "(GET /api/v1/sessions lists the open ones)",
            session=name,
        )
    return record


def _open_session(uow: UnitOfWork, session_id: str) -> SessionRecord:
    record = _session_named(uow, session_id)
    session_id = record.session.id
    if record.ended_at is not None:
        raise Conflict(
            f"session {session_id} ended at {utc_text(record.ended_at)}; it cannot change",
            session=session_id,
        )
    return record


def _requirement(
    session_id: str, body: RequirementInput | None, started: datetime
) -> EnergyRequirement | None:
    if body is None:
        return None
    departure = body.departure.astimezone(UTC)
    if departure <= started:
        raise Invalid(
            f"session {session_id} departs at {utc_text(departure)}, not after it started at "
            f"{utc_text(started)}",
            session=session_id,
        )
    return EnergyRequirement(body.energy.base, departure, RequirementSource.SCHEDULE)


def _energy(wh: float) -> str:
    return str(Energy.of(wh))
