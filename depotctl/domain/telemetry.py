"""Telemetry: readings with timestamps, fresh or stale by the site's policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from depotctl.domain.phases import Phase
from depotctl.domain.quantity import BOUNDS, Dimension, in_bounds


@dataclass(frozen=True, slots=True)
class Reading:
    """What a meter measured at a node at ``at`` (aware). Current is per phase."""

    node: str
    at: datetime
    power_w: float | None = None
    current_a: Mapping[Phase, float] | None = None

    def age_s(self, now: datetime) -> float:
        return (now - self.at).total_seconds()

    def is_stale(self, now: datetime, stale_after_s: float) -> bool:
        """Stale when older than the policy allows, or stamped in the future."""
        age = self.age_s(now)
        return age > stale_after_s or age < -stale_after_s

    def beyond_bounds(self) -> str | None:
        """What of this reading no meter of a depot reads, in words (a value that is not
        finite, or beyond the bound of a power or a current: ``quantity.BOUNDS``); None
        when every value is within them."""
        values = [] if self.power_w is None else [("power", Dimension.POWER, self.power_w)]
        for phase, amps in (self.current_a or {}).items():
            values.append((f"current on {phase}", Dimension.CURRENT, amps))
        for what, dimension, value in values:
            if not in_bounds(dimension, value):
                return f"{what} {value} is not finite or beyond ±{BOUNDS[dimension].written}"
        return None


#: Latest reading per node id.
Telemetry = Mapping[str, Reading]
