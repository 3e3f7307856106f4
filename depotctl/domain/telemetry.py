"""Telemetry: readings with timestamps, fresh or stale by the site's policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from depotctl.domain.phases import Phase


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


#: Latest reading per node id.
Telemetry = Mapping[str, Reading]
