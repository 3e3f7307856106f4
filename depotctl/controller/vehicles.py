"""Which vehicle a session charges: its idTag / idToken looked up in the site's
vehicles (``spec.vehicles``), never guessed; and the words that name it."""

from __future__ import annotations

from dataclasses import replace

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
