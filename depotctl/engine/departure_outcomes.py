"""What each session got by its departure: its need (its own requirement, else the
site's default), the energy delivered before the departure, met or short by how much.

This is the past, read from the sessions' energy by minute
(:mod:`depotctl.engine.energy_history`); the forecast of a departure still ahead is
the live readiness's. A minute across the departure counts for its part before it.
Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from depotctl.domain.sessions import RequirementSource, Session
from depotctl.engine.energy_history import MINUTE, MinuteEnergy, RecordedSession
from depotctl.engine.outlook import TOLERANCE_WH

#: A session's need: the energy it must have in all (Wh), by when, and from where.
Need = tuple[float, datetime, RequirementSource]


@dataclass(frozen=True, slots=True)
class DepartureOutcome:
    """One session at its departure."""

    recorded: RecordedSession
    needed_wh: float
    departure: datetime
    source: RequirementSource
    delivered_wh: float

    @property
    def short_wh(self) -> float:
        """How much it lacked at its departure (0 when met)."""
        short = self.needed_wh - self.delivered_wh
        return short if short > TOLERANCE_WH else 0.0

    @property
    def met(self) -> bool:
        return self.short_wh == 0.0


def delivered_by(profile: MinuteEnergy, departure: datetime) -> float:
    """The energy of ``profile`` drawn before ``departure`` (Wh)."""
    delivered = 0.0
    for minute, wh in profile.items():
        if minute + MINUTE <= departure:
            delivered += wh
        elif minute < departure:
            delivered += wh * ((departure - minute) / MINUTE)
    return delivered


def departure_outcomes(
    sessions: Sequence[RecordedSession],
    profiles: Mapping[str, MinuteEnergy],
    need_of: Callable[[Session], Need],
    start: datetime,
    end: datetime,
) -> list[DepartureOutcome]:
    """The outcome of every session departing in ``[start, end)``, by departure then
    session id."""
    outcomes = []
    for recorded in sessions:
        needed, departure, source = need_of(recorded.session)
        if not start <= departure < end:
            continue
        delivered = delivered_by(profiles.get(recorded.session.id, {}), departure)
        outcomes.append(DepartureOutcome(recorded, needed, departure, source, delivered))
    return sorted(outcomes, key=lambda o: (o.departure, o.recorded.session.id))


__all__ = ["DepartureOutcome", "Need", "delivered_by", "departure_outcomes"]
