"""Operator overrides: an operator's hold on one EVSE, over whatever the allocator
would give it — paused (no current) or capped (at most so many amps per line)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class EvseOverride:
    """An operator's hold on an EVSE: ``paused`` (no current), and/or ``cap_a`` (amps
    per line at most). At least one of the two is set; ``set_at`` is aware UTC,
    ``author`` who set it, ``reason`` why (free text, for the explanation).

    It lasts until it is cleared: across sessions, so an EVSE paused for a damaged
    cable stays paused for the next vehicle too. On an EVSE without a session it
    changes nothing until one starts."""

    evse_id: str
    paused: bool
    cap_a: float | None
    set_at: datetime
    author: str
    reason: str | None = None

    @property
    def max_current_a(self) -> float:
        """The most the EVSE may have under this override, in amps per line: 0 when
        paused, else the cap. A cap that is not a number of amps (negative, NaN)
        counts as 0 A: an override never lets more through than it says."""
        if self.paused:
            return 0.0
        if self.cap_a is None:
            return math.inf
        if math.isnan(self.cap_a) or self.cap_a < 0:
            return 0.0
        return self.cap_a
