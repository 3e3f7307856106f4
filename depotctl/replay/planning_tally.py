"""What the planner did over a replay: its solves, failures and their time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

#: The details of the first few failures kept.
DETAILS_KEPT = 5


@dataclass(slots=True)
class PlanningTally:
    """Plans solved and followed, solves that failed, horizons the signals could not
    price (the allocator alone decided those steps), and the time spent building the
    problems and in the solver."""

    solves: int = 0
    failed: int = 0
    unpriced: int = 0
    solve_s: float = 0.0
    build_s: float = 0.0
    details: list[str] = field(default_factory=list)

    def note(self, detail: str) -> None:
        """Keep ``detail`` (why a step was not planned) while fewer than
        :data:`DETAILS_KEPT` are kept."""
        if len(self.details) < DETAILS_KEPT:
            self.details.append(detail)


@runtime_checkable
class Planning(Protocol):
    """An allocator that plans: it meters each step's site energy and tallies its
    solves (:class:`depotctl.replay.planning.PlanFollower`)."""

    tally: PlanningTally

    @property
    def metered(self) -> Callable[[datetime, datetime, float], None]: ...
