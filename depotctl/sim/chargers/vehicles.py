"""A vehicle of a scenario: when it comes and goes, what it needs, how fast it takes it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One visit. Times are aware, in the controller's clock. ``energy_wh`` None
    takes whatever it gets until it leaves; ``max_power_w`` None takes whatever the
    charger offers. ``evse`` (``chg-01/1``) or ``charger`` (``chg-01``) say where it
    plugs in; neither: any free EVSE. With ``battery_wh`` and ``soc_percent`` (on
    arrival) the charger reports its state of charge. ``arrives_after_s`` is set when
    the scenario gave the arrival as a duration after the start, ``stays_s`` when it
    gave the departure as one after the arrival: :meth:`anchored` counts them from
    the moment the fleet is up."""

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
    arrives_after_s: float | None = None
    stays_s: float | None = None

    @property
    def tag(self) -> str:
        """The token it authorises with (at most 20 characters, as 1.6 allows)."""
        return (self.id_tag or self.id)[:20]

    def anchored(self, start: datetime) -> Vehicle:
        """The same visit with its times relative to the start counted from ``start``
        (absolute times stay as they are)."""
        if self.arrives_after_s is None:
            return self
        arrival = start + timedelta(seconds=self.arrives_after_s)
        departure = self.departure
        if departure is not None and self.stays_s is not None:
            departure = arrival + timedelta(seconds=self.stays_s)
        return replace(self, arrival=arrival, departure=departure)
