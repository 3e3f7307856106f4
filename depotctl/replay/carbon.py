"""A replay's emissions: the energy each session drew in each step times the site's
carbon intensity over that step, summed per session and per local day.

Energy the site's intensity does not cover (a series that ends before the replay) is
counted as *uncovered*, with the windows it was drawn in: a session or day with any
is reported without a figure (``None``), never as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from depotctl.domain.carbon import Intensity, UncoveredError


@dataclass(slots=True)
class CarbonAccount:
    """Energy drawn (Wh), its emissions (kg CO2e) and the energy no intensity covers."""

    energy_wh: float = 0.0
    covered_kg: float = 0.0
    uncovered_wh: float = 0.0

    @property
    def kg(self) -> float | None:
        """The emissions, or None when some of the energy has no intensity."""
        return self.covered_kg if self.uncovered_wh == 0.0 else None

    def add(self, energy_wh: float, kg: float | None) -> None:
        self.energy_wh += energy_wh
        if kg is None:
            self.uncovered_wh += energy_wh
        else:
            self.covered_kg += kg


@dataclass(frozen=True)
class CarbonTally:
    """What a replay emitted: in all, per session and per local day (in order)."""

    intensity: str
    total: CarbonAccount
    by_session: Mapping[str, CarbonAccount]
    by_day: Mapping[date, CarbonAccount]
    #: The windows energy was drawn in without an intensity, in order; windows with
    #: no covered energy drawn between them are one.
    uncovered: tuple[tuple[datetime, datetime], ...]
    #: What the intensity covers, when some energy was drawn outside it.
    covers: tuple[datetime, datetime] | None = None


@dataclass
class CarbonLedger:
    """Accumulates a replay's emissions step by step."""

    intensity: Intensity
    zone: ZoneInfo
    _total: CarbonAccount = field(default_factory=CarbonAccount)
    _sessions: dict[str, CarbonAccount] = field(default_factory=dict)
    _days: dict[date, CarbonAccount] = field(default_factory=dict)
    _uncovered: list[tuple[datetime, datetime]] = field(default_factory=list)
    _covers: tuple[datetime, datetime] | None = None
    _last_uncovered: bool = False

    def record(self, session_id: str, start: datetime, end: datetime, energy_wh: float) -> None:
        """``energy_wh`` drawn by ``session_id`` evenly over ``[start, end)``."""
        account = self._sessions.setdefault(session_id, CarbonAccount())
        if energy_wh <= 0.0:
            return
        try:
            kg: float | None = self.intensity.emissions_kg(start, end, energy_wh)
        except UncoveredError as error:
            kg = None
            self._covers = error.covered
            if self._uncovered and self._last_uncovered:
                first, last = self._uncovered[-1]
                self._uncovered[-1] = (min(first, start), max(last, end))
            else:
                self._uncovered.append((start, end))
        self._last_uncovered = kg is None
        day = start.astimezone(self.zone).date()
        for sum_ in (account, self._days.setdefault(day, CarbonAccount()), self._total):
            sum_.add(energy_wh, kg)

    def tally(self) -> CarbonTally:
        return CarbonTally(
            intensity=self.intensity.describe(),
            total=self._total,
            by_session=dict(self._sessions),
            by_day=dict(sorted(self._days.items())),
            uncovered=tuple(self._uncovered),
            covers=self._covers,
        )


__all__ = ["CarbonAccount", "CarbonLedger", "CarbonTally"]
