"""The site's policies, in base units, as the engine applies them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum


class StaleLoad(StrEnum):
    FALLBACK = "fallback"
    LAST_KNOWN_PLUS_MARGIN = "last_known_plus_margin"


class UncontrollableAssumption(StrEnum):
    LAST_ACCEPTED = "last_accepted"
    RATING = "rating"


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the allocator needs to know of a site's policies."""

    min_current_a: float = 6.0
    #: the fraction of every site limit kept free (0.05: 5 %); none on a charger's rating
    safety_margin: float = 0.05
    urgency_threshold_s: float = 1800.0  #: laxity under this makes a session urgent
    hysteresis_a: float = 1.0
    stale_after_s: float = 30.0
    stale_site_load: StaleLoad = StaleLoad.FALLBACK
    stale_margin: float = 0.2  #: added to a stale load's last value (0.2: +20 %)
    #: a session's departure when none is known: the next such time of day, in its zone
    default_departure: time = time(5, 30)
    default_energy_wh: float = 60_000.0
    uncontrollable: UncontrollableAssumption = UncontrollableAssumption.LAST_ACCEPTED
    priority: str = "laxity"
    rounding_a: float = 0.1
    #: fairness rotation: an EVSE switched on (off) during its session less than this
    #: long ago keeps its place ahead of (behind) the others of its tier
    min_on_s: float = 300.0
    min_off_s: float = 300.0

    @property
    def step_a(self) -> float:
        """The allocation step: the larger of the minimum current, the hysteresis and
        the rounding step (the efficiency invariant's tolerance)."""
        return max(self.min_current_a, self.hysteresis_a, self.rounding_a)
