"""A vehicle of a scenario: when it comes and goes, what it needs, how fast it takes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One visit. Times are aware, in the controller's clock. ``energy_wh`` None
    takes whatever it gets until it leaves; ``max_power_w`` None takes whatever the
    charger offers. ``evse`` (``chg-01/1``) or ``charger`` (``chg-01``) say where it
    plugs in; neither: any free EVSE. With ``battery_wh`` and ``soc_percent`` (on
    arrival) the charger reports its state of charge."""

    id: str
    arrival: datetime
    departure: datetime | None = None
    energy_wh: float | None = None
    max_power_w: float | None = None
    evse: str | None = None
    charger: str | None = None
    battery_wh: float | None = None
    soc_percent: float | None = None
    id_tag: str | None = None

    @property
    def tag(self) -> str:
        """The token it authorises with (at most 20 characters, as 1.6 allows)."""
        return (self.id_tag or self.id)[:20]
