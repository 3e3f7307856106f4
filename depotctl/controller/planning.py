"""The controller's horizon planner: when to plan again, solving off the event loop,
and whether the latest plan may be followed.

After each control cycle :meth:`Planning.after_cycle` looks at the cycle's snapshot:
a plan is due when there is none yet, when a session arrived or departed (or its
requirement changed), when the envelopes or the sources' health changed, at each
block boundary, and at least every ``replan`` interval. One solve runs at a time, in
a worker thread (``asyncio.to_thread``: the loop never waits for HiGHS), warm-started
from the previous plan; when it ends, the controller is told (a cycle runs at once)
and every snapshot from then on follows it (:meth:`Planning.followed`: each planned
session's ``planned_rate_a`` for the block now, and its note for ``explain``) — but
for a session behind it: a plan that does not give a session what it still needs —
solved short, or landed late (on a fast simulated clock, many minutes after the
instant it was solved for) — does not hold it, and urgency decides it
(:mod:`~depotctl.engine.planner.behind`, the replay's rule too). Each departure is
planned one replan interval early (:mod:`~depotctl.engine.planner.hold_back`), so
that what following falls short of between two plans has time to catch up.

A plan is followed only while it is usable: solved to optimality, covering now, and
no older than its ``replan`` interval and a block. Otherwise — a failed solve (the
solver's status, or signals that cannot price the horizon) or a stale plan — the
allocator alone decides; the change is journaled once (``planner.failed``,
``planner.stale``). A plan solved is journaled (``planner.solved``, with its counts
and solve time) when an event caused it or it ends a fallback; the rounds of the
clock alone (a block boundary, the replan interval) are not, to keep the journal
readable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from depotctl.config import (
    compile_planner,
    site_carbon_intensity,
    site_price_series,
    site_tariff,
)
from depotctl.controller.service import AppliedSite, Controller
from depotctl.controller.store import NewJournalEntry, journal_entry
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.tariff import DemandCharge
from depotctl.domain.topology import NodeKind
from depotctl.engine.planner import (
    Plan,
    PlanningProblem,
    PlanStatus,
    held_back,
    released_behind,
    solve,
)
from depotctl.engine.planner.billing_peaks import BillingPeaks, month_start
from depotctl.engine.planner.follow import followed
from depotctl.engine.planner.inputs import (
    CostSignals,
    block_start,
    planning_problem,
)

#: what solves a problem, warm-started from the previous plan when there is one: HiGHS
#: through :func:`depotctl.engine.planner.solve`, or a test's
Solver = Callable[[PlanningProblem, Plan | None], Plan]

log = logging.getLogger("depotctl.controller")


#: the reasons of the clock alone for a round (nothing the plan depends on changed)
BLOCK_BOUNDARY, REPLAN_INTERVAL = "a block boundary", "the replan interval"
_CLOCK_REASONS = (BLOCK_BOUNDARY, REPLAN_INTERVAL)


class PlanningKind(StrEnum):
    """The planner's journal kinds."""

    SOLVED = "planner.solved"
    FAILED = "planner.failed"
    STALE = "planner.stale"


class Following(StrEnum):
    """Whether the allocator follows a plan now."""

    NONE = "none"  # no plan yet
    FOLLOWING = "following"
    FAILED = "failed"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class PlanningRound:
    """One solve: for the snapshot of ``at`` (the controller's clock), why it ran, the
    problem and the plan (None when the problem could not be built), and the error
    that stopped it."""

    at: datetime
    reason: str
    problem: PlanningProblem | None
    plan: Plan | None
    error: str | None = None
    #: wall seconds to build the problem and solve it
    seconds: float = 0.0
    #: the billing window's demand peaks so far (W) it planned from, by charge
    demand_peaks_w: Mapping[str, float] = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.plan is not None and self.plan.status is PlanStatus.OPTIMAL


class Planning:
    """The horizon planner of one controller (see the module). ``solver`` solves a
    problem (HiGHS by default; a test injects one that fails). The latest round —
    its problem and plan — is :attr:`latest`; :meth:`usable` says whether it is
    followed at an instant."""

    def __init__(
        self, controller: Controller, settings: PlannerSettings, *, solver: Solver = solve
    ) -> None:
        self.controller = controller
        #: the settings in use (:meth:`for_site`: the site's, again at each revision)
        self.settings = settings
        self._settings_of: Callable[[AppliedSite], PlannerSettings] | None = None
        self._revision: int | None = None
        self.solver = solver
        self.latest: PlanningRound | None = None
        #: the solve in flight, if any
        self.task: asyncio.Task[PlanningRound] | None = None
        self.following = Following.NONE
        self._inputs: PlanInputs | None = None  # what the latest round was planned from
        self._signals: tuple[int, CostSignals] | None = None
        self._peaks: BillingPeaks | None = None
        #: what each battery holds now (Wh), for the plan (controller/storage.py)
        self.storage_wh: Callable[[], Mapping[str, float]] = dict
        controller.planning = self

    @classmethod
    def for_site(cls, controller: Controller, *, solver: Solver = solve) -> Planning:
        """The planner of ``serve``: the site's ``planner:`` settings (off unless
        enabled), read again whenever another revision is in force."""
        planning = cls(controller, PlannerSettings(), solver=solver)
        planning._settings_of = site_planner_settings
        planning._follow_revision()
        return planning

    def _follow_revision(self) -> None:
        """Another revision in force: its settings; a plan of the one before is dropped."""
        applied = self.controller.applied
        number = applied.revision.number if applied is not None else None
        if number == self._revision:
            return
        self._revision = number
        if self._settings_of is not None and applied is not None:
            self.settings = self._settings_of(applied)
        if self.latest is not None:
            self.latest, self._inputs, self.following = None, None, Following.NONE

    # -- following --------------------------------------------------------------------

    def usable(self, at: datetime) -> PlanningRound | None:
        """The latest round if its plan may be followed at ``at`` (see the module)."""
        latest = self.latest
        if latest is None or not latest.solved or latest.problem is None:
            return None
        assert latest.plan is not None
        blocks = latest.plan.blocks
        if blocks.index(at) is None or at - latest.at > self.settings.replan + blocks.length:
            return None
        return latest

    def followed(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with the usable plan's rates and notes (but for the sessions
        it leaves short: :func:`~depotctl.engine.planner.released_behind`); as it is
        without one."""
        latest = self.usable(snapshot.at)
        if latest is None or latest.problem is None or latest.plan is None:
            return snapshot
        return released_behind(followed(snapshot, latest.problem, latest.plan), latest.plan)

    # -- replanning -------------------------------------------------------------------

    def after_cycle(self, snapshot: Snapshot) -> None:
        """After a control cycle: journal a plan gone stale, and start a solve when one
        is due and none is running (needs a running event loop)."""
        self._follow_revision()
        if self.following is Following.FOLLOWING and self.usable(snapshot.at) is None:
            self._journal_stale(snapshot.at)
        reason = self.due(snapshot)
        if reason is None or (self.task is not None and not self.task.done()):
            return
        self.task = asyncio.get_running_loop().create_task(self.replan(snapshot, reason))

    def due(self, snapshot: Snapshot) -> str | None:
        """Why a plan is due for ``snapshot`` (None: it is not)."""
        if not self.settings.enabled:
            return None
        latest = self.latest
        if latest is None:
            return "no plan yet"
        changed = _what_changed(self._inputs, _inputs_of(snapshot))
        if changed:
            return changed
        if block_start(snapshot.at, self.settings.block) > block_start(
            latest.at, self.settings.block
        ):
            return BLOCK_BOUNDARY
        if snapshot.at - latest.at >= self.settings.replan:
            return REPLAN_INTERVAL
        return None

    async def replan(self, snapshot: Snapshot, reason: str) -> PlanningRound:
        """Build and solve the plan of ``snapshot`` in a worker thread, make it the
        latest, journal it and tell the controller."""
        self._inputs = _inputs_of(snapshot)
        planned = await asyncio.to_thread(self._solve, snapshot, reason)
        self.latest = planned
        with self.controller.units() as uow:
            uow.journal.record(self._entries(planned))
        self.controller.changed(f"a plan ({reason})")
        return planned

    def signals(self) -> CostSignals:
        """The site's tariff, prices and carbon (read once per revision)."""
        applied = self.controller.require_site()
        number = applied.revision.number
        if self._signals is None or self._signals[0] != number:
            base_dir = self.controller.base_dir_of(applied.revision)
            carbon_price = compile_planner(applied.site).carbon_price
            signals = CostSignals(
                tariff=site_tariff(applied.site, base_dir),
                prices=site_price_series(applied.site, base_dir),
                carbon=site_carbon_intensity(applied.site, base_dir),
                carbon_price_per_kg=carbon_price.per_kg if carbon_price is not None else 0.0,
            )
            self._signals = (number, signals)
        return self._signals[1]

    def _solve(self, snapshot: Snapshot, reason: str) -> PlanningRound:
        """One round, in the worker thread: the site's signals (its files are read
        here, not on the event loop), the peaks so far, the problem, the solve."""
        began = time.perf_counter()
        problem: PlanningProblem | None = None
        previous = self.latest
        warm = previous.plan if previous is not None and previous.solved else None
        try:
            signals = self.signals()
            peaks = self._peaks_w(snapshot, signals)
            early = held_back(snapshot, self.settings.replan)
            so_far = self._peaks.so_far_wh(snapshot.at) if peaks and self._peaks else {}
            problem = planning_problem(
                early, signals, self.settings, peaks, self.storage_wh(), so_far
            )
            plan = self.solver(problem, warm)
        except Exception as failure:  # the allocator alone decides; say why
            log.exception("planning failed")
            return PlanningRound(
                snapshot.at,
                reason,
                problem,
                None,
                error=f"{type(failure).__name__}: {failure}",
                seconds=time.perf_counter() - began,
            )
        error = (
            None
            if plan.status is PlanStatus.OPTIMAL
            else f"the solver found no plan: {plan.detail}"
        )
        return PlanningRound(
            snapshot.at,
            reason,
            problem,
            plan,
            error,
            seconds=time.perf_counter() - began,
            demand_peaks_w={charge.label: watts for charge, watts in peaks.items()},
        )

    def _peaks_w(self, snapshot: Snapshot, signals: CostSignals) -> Mapping[DemandCharge, float]:
        """The billing window's demand peaks so far, from the grid connections' metered
        power by minute (each minute read once; the minute now when it is over)."""
        tariff = signals.tariff
        if tariff is None or not tariff.demand_charges:
            return {}
        zone = ZoneInfo(snapshot.topology.timezone)
        if self._peaks is None or self._peaks.tariff is not tariff:
            self._peaks = BillingPeaks(tariff, zone)
        peaks = self._peaks
        since = peaks.counted_until or month_start(snapshot.at, zone)
        until = snapshot.at.replace(second=0, microsecond=0)
        imported: dict[datetime, float] = {}
        telemetry = self.controller.units().telemetry
        for node in snapshot.topology.nodes.values():
            if node.kind is not NodeKind.GRID_CONNECTION:
                continue
            for minute in telemetry.history(node.id, since=since, until=until, limit=50_000):
                if minute.power_w_mean is not None:
                    imported[minute.minute] = imported.get(minute.minute, 0.0) + minute.power_w_mean
        peaks.add(sorted(imported.items()))
        return peaks.peaks_w(snapshot.at)

    # -- the journal ------------------------------------------------------------------

    def _entries(self, planned: PlanningRound) -> list[NewJournalEntry]:
        at = planned.at
        if planned.solved:
            routine = planned.reason in _CLOCK_REASONS and self.following is Following.FOLLOWING
            self.following = Following.FOLLOWING
            if routine:
                return []
            assert planned.plan is not None and planned.problem is not None
            plan, problem = planned.plan, planned.problem
            short_kwh = sum(s.shortfall_wh for s in plan.sessions.values()) / 1000.0
            return [
                journal_entry(
                    PlanningKind.SOLVED,
                    f"plan solved ({planned.reason}): {len(problem.sessions)} session(s), "
                    f"{len(problem.nodes)} row(s) × {problem.blocks.count} blocks in "
                    f"{plan.solve_seconds:.2f} s"
                    + (f"; {short_kwh:.1f} kWh short of the needs" if short_kwh > 0.05 else ""),
                    at=at,
                    data={
                        "reason": planned.reason,
                        "sessions": len(problem.sessions),
                        "rows": len(problem.nodes),
                        "blocks": problem.blocks.count,
                        "solve_s": round(plan.solve_seconds, 4),
                        "build_and_solve_s": round(planned.seconds, 4),
                        "shortfall_kwh": round(short_kwh, 3),
                        "objective": plan.objective,
                        "demand_peaks_so_far_kw": {
                            label: round(watts / 1000.0, 3)
                            for label, watts in planned.demand_peaks_w.items()
                        },
                    },
                )
            ]
        if self.following is Following.FAILED:
            return []  # journaled once, when it began failing
        self.following = Following.FAILED
        return [
            journal_entry(
                PlanningKind.FAILED,
                f"planning failed ({planned.reason}): {planned.error}; the allocator alone "
                "decides until a plan is solved",
                at=at,
                data={"reason": planned.reason, "error": planned.error},
            )
        ]

    def _journal_stale(self, at: datetime) -> None:
        self.following = Following.STALE
        latest = self.latest
        made = latest.at.isoformat() if latest is not None else "never"
        entry = journal_entry(
            PlanningKind.STALE,
            f"the plan of {made} is stale (older than its replan interval and a block, "
            "or past its horizon); the allocator alone decides until a plan is solved",
            at=at,
            data={"plan_at": made, "replan_s": self.settings.replan.total_seconds()},
        )
        with self.controller.units() as uow:
            uow.journal.record([entry])


def site_planner_settings(applied: AppliedSite) -> PlannerSettings:
    """The site's ``planner:`` as the engine takes it."""
    return compile_planner(applied.site)


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """What a plan depends on besides time: the sessions (and their needs), the
    envelopes, the sources online."""

    sessions: frozenset[tuple[str, str, object, float | None]]
    envelopes: tuple[object, ...]
    online: frozenset[str]


def _inputs_of(snapshot: Snapshot) -> PlanInputs:
    sessions = frozenset(
        (s.id, s.evse_id, s.requirement, s.vehicle_max_current_a) for s in snapshot.sessions
    )
    online = frozenset(
        source for source, health in snapshot.sources.items() if health.is_online(snapshot.at)
    )
    return PlanInputs(sessions, snapshot.envelopes, online)


def _what_changed(before: PlanInputs | None, now: PlanInputs) -> str | None:
    if before is None:
        return "no plan yet"
    if before.sessions != now.sessions:
        ids_then = {s[0] for s in before.sessions}
        ids_now = {s[0] for s in now.sessions}
        arrived, left = sorted(ids_now - ids_then), sorted(ids_then - ids_now)
        words = [f"arrival {i}" for i in arrived] + [f"departure {i}" for i in left]
        return ", ".join(map(str, words)) or "a session's requirement"
    if before.envelopes != now.envelopes:
        return "the envelopes"
    if before.online != now.online:
        return "a source's health"
    return None
