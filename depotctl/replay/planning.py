"""Online planning in a replay: the horizon planner at every step, the allocator
following its plan by the controller's rule.

:class:`PlanFollower` is an :data:`~depotctl.replay.steps.Allocator`. At every step it
sees only the step's snapshot — the sessions plugged in now, with the energy each
still needs by its departure; never a future arrival — and builds the horizon's
problem as the controller does (:func:`depotctl.engine.planner.inputs.planning_problem`:
the allocator's own constraint rows, the tariff's or price series' energy prices, the
carbon intensity, the tariff's demand charges with the billing window's peaks metered
so far), each departure held back by the planner's replan interval
(:func:`depotctl.engine.planner.held_back`), its horizon cut at the last departure
present and its first block starting now (the controller's grid of blocks would count
a block begun before now whole; the prices, carbon and demand terms are taken again
for the moved blocks, the rows' room is the grid block's). The replay reports each
step's energy to :meth:`PlanFollower.metered`. It solves, warm-started from the last
plan, and caps every session at the plan's rate for the block now
(:func:`depotctl.engine.planner.follow.followed`) but for a session the plan leaves
short (:func:`depotctl.engine.planner.released_behind`, the controller's function):
that one the allocator decides alone, urgency included. Every limit still overrides
the plan in the allocator. A solve that fails, or signals that cannot price the
horizon, leave that step to the allocator alone, counted in its
:class:`~depotctl.replay.planning_tally.PlanningTally`.
"""

from __future__ import annotations

import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from depotctl.domain.planning import PlannerSettings
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.allocation import Allocation
from depotctl.engine.planner import Plan, PlanningProblem, PlanStatus, solve
from depotctl.engine.planner.behind import released_behind
from depotctl.engine.planner.billing_peaks import BillingPeaks
from depotctl.engine.planner.follow import followed
from depotctl.engine.planner.hold_back import held_back
from depotctl.engine.planner.inputs import (
    CostSignals,
    PlanningInputError,
    block_carbon,
    block_prices,
    demand_terms,
    planning_problem,
)
from depotctl.replay.planning_tally import PlanningTally

Allocator = Callable[[Snapshot], Allocation]
_MINUTE = timedelta(minutes=1)


@dataclass
class PlanFollower:
    """A planner-following allocator (see the module). ``settings`` gives the block
    and the longest horizon; ``signals`` the prices, carbon and the tariff whose
    demand charges the plan weighs."""

    allocate: Allocator
    zone: ZoneInfo
    signals: CostSignals = field(default_factory=CostSignals)
    settings: PlannerSettings = field(default_factory=lambda: PlannerSettings(enabled=True))
    tally: PlanningTally = field(default_factory=PlanningTally)
    timer: Callable[[], float] = wallclock.perf_counter
    #: the billing window's demand peaks so far, from the energy metered
    peaks: BillingPeaks | None = None
    #: the last plan solved: the next solve starts from it
    _last: Plan | None = None

    def __post_init__(self) -> None:
        if self.peaks is None and self.signals.tariff is not None:
            self.peaks = BillingPeaks(self.signals.tariff, self.zone)

    def __call__(self, snapshot: Snapshot) -> Allocation:
        began = self.timer()
        try:
            problem = self.problem(snapshot)
        except PlanningInputError as error:
            self.tally.unpriced += 1
            self.tally.note(str(error))
            return self.allocate(snapshot)
        built = self.timer()
        plan = solve(problem, warm=self._last)
        self.tally.build_s += built - began
        self.tally.solves += 1
        self.tally.solve_s += plan.solve_seconds
        if plan.status is not PlanStatus.OPTIMAL:
            self.tally.failed += 1
            self.tally.note(f"{snapshot.at.isoformat()}: {plan.detail}")
            return self.allocate(snapshot)
        self._last = plan
        return self.allocate(released_behind(followed(snapshot, problem, plan), plan))

    def problem(self, snapshot: Snapshot) -> PlanningProblem:
        """The horizon's problem at ``snapshot``, its blocks from now (see the module),
        the demand charges from the peaks metered so far."""
        departures = [
            s.requirement.departure for s in snapshot.sessions if s.requirement is not None
        ]
        horizon = self.settings.horizon
        if departures:
            horizon = min(horizon, max(departures) - snapshot.at + self.settings.block)
        horizon = max(horizon, self.settings.block)
        tariff = self.signals.tariff
        peaks = self.peaks.peaks_w(snapshot.at) if self.peaks is not None else {}
        so_far = self.peaks.so_far_wh(snapshot.at) if self.peaks is not None else {}
        problem = planning_problem(
            held_back(snapshot, self.settings.replan),
            self.signals,
            replace(self.settings, horizon=horizon),
            peaks,
            so_far_wh=so_far,
        )
        if problem.blocks.start == snapshot.at:
            return problem
        # the first block starts now: the program counts it whole, and a block begun
        # before now would promise time that has gone
        blocks = replace(problem.blocks, start=snapshot.at)
        return replace(
            problem,
            blocks=blocks,
            price_per_kwh=block_prices(blocks, self.signals, self.zone),
            carbon_kg_per_kwh=block_carbon(blocks, self.signals),
            demand=()
            if tariff is None
            else demand_terms(tariff, blocks, self.zone, peaks, so_far, snapshot.at),
        )

    def metered(self, start: datetime, end: datetime, energy_wh: float) -> None:
        """The site drew ``energy_wh`` evenly over ``[start, end)`` (whole minutes): its
        minutes counted into the billing window's demand peaks."""
        if self.peaks is None:
            return
        minutes = max(1, round((end - start) / _MINUTE))
        watts = energy_wh / (minutes / 60.0)
        self.peaks.add((start + _MINUTE * m, watts) for m in range(minutes))
