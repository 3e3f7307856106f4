"""Which vehicle a session charges: its idTag / idToken looked up in the site's
vehicles (``spec.vehicles``), never guessed; and the words that name it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from depotctl.controller.store.sessions import SessionRecord, Sessions
from depotctl.domain.sessions import Session
from depotctl.domain.vehicles import VehicleRoster

#: The journal's kind for a session's vehicle named after it began (a token the
#: charger sent later, or the API).
SESSION_VEHICLE = "session.vehicle"


def identified(session: Session, roster: VehicleRoster) -> Session:
    """``session`` with the vehicle and fleet of its token, when the site lists the
    token; a vehicle already named (by the API) is kept."""
    if session.vehicle_id is not None:
        return session
    vehicle = roster.of_token(session.id_token)
    if vehicle is None:
        return session
    return replace(session, vehicle_id=vehicle.id, fleet_id=vehicle.fleet)


def vehicle_words(session: Session) -> str:
    """``vehicle bus-42 (fleet sydney-buses)``; for a token the site does not list,
    ``idTag 04A1B2C3, no vehicle of the site``; empty without either."""
    if session.vehicle_id is not None:
        fleet = f" (fleet {session.fleet_id})" if session.fleet_id else ""
        return f"vehicle {session.vehicle_id}{fleet}"
    if session.id_token is not None:
        return f"idTag {session.id_token}, no vehicle of the site"
    return ""


def vehicle_data(session: Session) -> dict[str, str | None]:
    """The vehicle, fleet and idTag as journaled (``id_tag``: the journal refuses keys
    that look like secrets, and an idTag is an identifier, not a credential)."""
    return {
        "vehicle": session.vehicle_id,
        "fleet": session.fleet_id,
        "id_tag": session.id_token,
    }


def session_words(session: Session) -> str:
    """``session chg-01:12`` and its vehicle when known: ``session chg-01:12 (bus-42)``."""
    vehicle = f" ({session.vehicle_id})" if session.vehicle_id else ""
    return f"session {session.id}{vehicle}"


#: How far either side of an instant a vehicle's sessions are named, when it was not
#: plugged in then (a night and the days around it)
NEARBY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Stay:
    """A vehicle's time on an EVSE: its session, from when to when (``end`` None:
    still plugged in)."""

    vehicle: str
    session: str
    evse: str
    start: datetime
    end: datetime | None

    @classmethod
    def of(cls, record: SessionRecord) -> Stay:
        session = record.session
        return cls(
            session.vehicle_id or "", session.id, session.evse_id, session.started, record.ended_at
        )

    def words(self) -> str:
        """``dc-05/1 from 2026-12-08T07:24:51Z to 2026-12-08T19:53:52Z`` (UTC: a client
        writes it in site time); ``…, still plugged in`` while open."""
        until = f" to {utc_words(self.end)}" if self.end is not None else ", still plugged in"
        return f"{self.evse} from {utc_words(self.start)}{until}"


def stay_at(sessions: Sessions, vehicle_id: str, at: datetime) -> Stay | None:
    """Where ``vehicle_id`` was plugged in at ``at``: the session it charged in, from the
    recorded sessions (started at or before ``at``, not yet ended; the vehicle's own,
    by the store's index); the latest started should two overlap."""
    found = [
        record
        for record in sessions.of_vehicle(vehicle_id, at, at + timedelta(microseconds=1))
        if record.ended_at is None or record.ended_at > at
    ]
    return Stay.of(found[-1]) if found else None


def sessions_near(sessions: Sessions, at: datetime) -> list[SessionRecord]:
    """The sessions open within :data:`NEARBY` of ``at``, by start."""
    return sessions.overlapping(at - NEARBY, at + NEARBY)


def stays_near(sessions: Sessions, vehicle_id: str, at: datetime) -> list[Stay]:
    """``vehicle_id``'s stays open within :data:`NEARBY` of ``at``, by start."""
    return [Stay.of(r) for r in sessions.of_vehicle(vehicle_id, at - NEARBY, at + NEARBY)]


def not_plugged_in(vehicle_id: str, at: datetime | None, near: list[Stay]) -> str:
    """Why ``vehicle_id`` names no EVSE at ``at`` (None: now), naming where it was:
    ``vehicle bus-42 was not plugged in at …; it was on dc-12/1 from … to ….``"""
    when = "is not plugged in now" if at is None else f"was not plugged in at {utc_words(at)}"
    stays = ", then on ".join(stay.words() for stay in near)
    within = "within that stay" if len(near) == 1 else "within one of those stays"
    ask = "an instant " + within + ("" if at is not None else " (at=)")
    return (
        f"vehicle {vehicle_id} {when}; it was on {stays}. Ask about {ask}, or about the "
        f'EVSE itself ("{near[-1].evse}")'
    )


def no_such_subject(name: str, site: str, at: datetime | None, now: datetime) -> str:
    """``name`` is neither an EVSE of ``site`` nor a vehicle of a session near ``at``
    (None: now)."""
    when = "now" if at is None else utc_words(at)
    return (
        f'site {site} has no EVSE "{name}", and no vehicle "{name}" charged within '
        f"{NEARBY.total_seconds() / 3600:.0f} hours of {when}; EVSE ids are "
        '"<charger id>/<evse id>", a vehicle is named as its sessions name it'
        + (f" (now is {utc_words(now)})" if at is not None else "")
    )


def utc_words(at: datetime) -> str:
    """``2026-12-08T07:24:51Z``: an instant in an answer's words, to the second."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
