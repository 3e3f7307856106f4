"""The planner's answer: each session's power per block, its shortfall, the solve."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from depotctl.engine.planner.blocks import Blocks


class PlanStatus(enum.Enum):
    """``optimal``: the plan is the program's optimum; ``failed``: the solver gave
    none (the plan is empty and must not be followed)."""

    OPTIMAL = "optimal"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """One session's planned power per block (W) and the energy it will miss (Wh)."""

    session_id: str
    power_w: tuple[float, ...]
    shortfall_wh: float


@dataclass(frozen=True, slots=True)
class Plan:
    """A solved horizon. ``detail`` says why a solve failed (the solver's status)."""

    blocks: Blocks
    sessions: Mapping[str, SessionPlan]
    departures: Mapping[str, datetime]
    status: PlanStatus
    solve_seconds: float
    objective: float | None = None
    detail: str = ""

    def rate_at(self, session_id: str, instant: datetime) -> float | None:
        """The planned power (W) of ``session_id`` at ``instant``: 0 from its departure
        on; None when the plan has no answer (failed, an unknown session, or an
        instant outside the horizon)."""
        planned = self.sessions.get(session_id)
        block = self.blocks.index(instant)
        if self.status is not PlanStatus.OPTIMAL or planned is None or block is None:
            return None
        if instant >= self.departures[session_id]:
            return 0.0
        return planned.power_w[block]
