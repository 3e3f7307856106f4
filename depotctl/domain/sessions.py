"""Sessions (a vehicle plugged into an EVSE) and their energy requirements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RequirementSource(StrEnum):
    SCHEDULE = "schedule"  # the fleet's schedule, through the API
    VEHICLE = "vehicle"  # OCPP 2.0.1 NotifyEVChargingNeeds
    DEFAULT = "default"  # the site's default requirement policy


@dataclass(frozen=True, slots=True)
class EnergyRequirement:
    """The energy a session must have received in all, by a deadline (aware, UTC).

    What is still needed is ``energy_wh`` less the session's ``energy_delivered_wh``;
    a need stated mid-session (OCPP 2.0.1's energy amount) is added to what the
    session has already received when it is recorded."""

    energy_wh: float
    departure: datetime
    source: RequirementSource = RequirementSource.SCHEDULE


@dataclass(frozen=True, slots=True)
class Session:
    """A vehicle on an EVSE. ``requirement`` None means the need is unknown: the
    site's default requirement applies, never "no deadline". ``priority_class`` 0 is
    the most important. ``planned_rate_a`` is the planner's cap for this block.
    ``vehicle_id`` and ``fleet_id`` name the vehicle and its fleet operator when known
    (never guessed); ``id_token`` is the OCPP idTag / idToken it started with."""

    id: str
    evse_id: str
    started: datetime
    energy_delivered_wh: float = 0.0
    requirement: EnergyRequirement | None = None
    vehicle_max_current_a: float | None = None
    planned_rate_a: float | None = None
    priority_class: int = 0
    vehicle_id: str | None = None
    fleet_id: str | None = None
    id_token: str | None = None
