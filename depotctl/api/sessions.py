"""Charging sessions with the fleet's energy requirements, and each open session's
outlook at its departure (``GET /api/v1/sessions``; one session answers a start, an
end or a new requirement). Energies are quantities with their unit (``"5 kWh"``) and,
beside them, in Wh (``energy_delivered_wh``, ``energy_wh``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from depotctl.api.allocation import Binding
from depotctl.api.base import ApiModel, Instant
from depotctl.api.readiness import Readiness


class Requirement(ApiModel):
    """The energy a session must have received in all by its departure."""

    energy: str = Field(description='"300 kWh"')
    energy_wh: float | None = Field(None, description="The same energy in Wh.")
    departure: Instant
    source: str = Field(description="schedule, vehicle or default.")


class Outlook(ApiModel):
    """What happens if the EVSE's limit now holds until the departure."""

    required_energy_wh: float | None
    departure: Instant
    requirement_source: str = Field(description='schedule, vehicle, or "default" (the site\'s).')
    limit_a: float | None
    limit_kw: float | None
    expected_energy_wh: float | None
    shortfall_wh: float | None
    on_track: bool
    complete_at: Instant | None = Field(description="Null at limit 0.")
    overdue: bool
    constraint: Binding | None = Field(description="What causes the shortfall; null on track.")


class SessionRecord(ApiModel):
    """A session as a write answers it."""

    id: str
    evse: str
    started: Instant
    energy_delivered: str = Field(description='So far (in all, once ended): "5 kWh".')
    energy_delivered_wh: float | None = Field(None, description="The same energy in Wh.")
    requirement: Requirement | None = Field(description="Null: the site's default applies.")
    vehicle_max_current: str | None
    priority_class: int
    vehicle: str | None = Field(
        None, description="The vehicle it charges (bus-42): from its idTag, or the API."
    )
    fleet: str | None = Field(None, description="The vehicle's fleet operator.")
    open: bool
    ended_at: Instant | None


class Session(SessionRecord):
    """A session as listed, with its outlook at departure (null once ended, or on an
    EVSE the site in force no longer has)."""

    outlook: Outlook | None
    readiness: Readiness | None = Field(
        None, description="Its readiness forecast (null once ended, or without an outlook)."
    )

    @property
    def required_wh(self) -> float | None:
        """The energy it must have by its departure: the outlook's (the site's default
        when it states none), else its requirement's."""
        if self.outlook is not None and self.outlook.required_energy_wh is not None:
            return self.outlook.required_energy_wh
        return self.requirement.energy_wh if self.requirement is not None else None

    @property
    def departure(self) -> datetime | None:
        """When it must have it: the outlook's departure, else its requirement's."""
        if self.outlook is not None:
            return self.outlook.departure
        return self.requirement.departure if self.requirement is not None else None


class Sessions(ApiModel):
    """Open sessions by start (with ``?all=true`` the ended ones too); ``time`` is the
    instant the outlooks are computed at."""

    time: Instant
    sessions: list[Session]


class SessionAt(Session):
    """``GET /api/v1/sessions/{id}``: one session and the instant of its outlook."""

    time: Instant
