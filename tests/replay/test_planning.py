"""Online planning in the replay: the allocator following a plan made every step from
the sessions present — deferring to cheaper energy, holding down the demand peak,
metering the billing window's peaks, and falling back to the allocator alone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from depotctl.domain.policy import Policy
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import Topology
from depotctl.engine import allocate
from depotctl.engine.planner.inputs import CostSignals
from depotctl.recordings import ReplaySession, read_sessions
from depotctl.replay.bill_report import replay_bill
from depotctl.replay.costs import replay_costs
from depotctl.replay.planning import PlanFollower
from depotctl.replay.run import ReplaySettings, run_replay
from depotctl.replay.steps import ReplayResult, as_session, replay
from tests.recordings.conftest import CALTECH_CSV, CALTECH_SITE
from tests.replay.conftest import acnportal_tariff
from tests.replay.conftest import replay_session as _session

LA = ZoneInfo("America/Los_Angeles")
NINE = datetime(2019, 5, 13, 9, 0, tzinfo=LA)  # a Monday
MAY_13 = date(2019, 5, 13)
STEP = timedelta(minutes=5)


def _replay(
    caltech: tuple[Topology, Policy], sessions: list[ReplaySession], allocator: object, hours: float
) -> ReplayResult:
    topology, policy = caltech
    return replay(
        topology,
        policy,
        sessions,
        allocator,  # type: ignore[arg-type]
        start=NINE,
        end=NINE + timedelta(hours=hours),
        step_s=STEP.total_seconds(),
        on_step=allocator.metered if isinstance(allocator, PlanFollower) else None,
    )


def test_following_the_plan_defers_a_flexible_session_to_the_cheaper_hours(
    caltech: tuple[Topology, Policy],
) -> None:
    # dear 0.30 /kWh from 06:00 to 12:00, 0.05 otherwise; 10 kWh wanted from 09:00 to 15:00
    tariff = acnportal_tariff([0, 6, 12], [0.05, 0.30, 0.05])
    sessions = [_session("ca-308/1", NINE, 6, 10_000.0)]
    follower = PlanFollower(allocate, LA, CostSignals(tariff=tariff))
    planned = _replay(caltech, sessions, follower, 6)
    alone = _replay(caltech, sessions, allocate, 6)
    before_noon = 36  # steps from 09:00 to 12:00
    assert sum(alone.site_wh[:before_noon]) == pytest.approx(10_000.0)
    assert sum(planned.site_wh[:before_noon]) < 1.0
    assert planned.outcomes[0].is_met
    assert planned.violations == ()
    assert follower.tally.solves == 72 and follower.tally.failed == 0


def test_following_the_plan_holds_the_demand_peak_down_and_meets_every_demand(
    caltech: tuple[Topology, Policy],
) -> None:
    # a flat price and 10 /kW on the peak: two sessions that could both charge at once
    tariff = acnportal_tariff([0], [0.10], demand=10.0)
    sessions = [
        _session("ca-308/1", NINE, 4, 5_000.0),
        _session("ca-508/1", NINE, 4, 5_000.0),
    ]
    follower = PlanFollower(allocate, LA, CostSignals(tariff=tariff))
    planned = _replay(caltech, sessions, follower, 4)
    alone = _replay(caltech, sessions, allocate, 4)

    def peak_kw(result: ReplayResult) -> float:
        bill = replay_bill(result.site_wh, NINE, STEP.total_seconds(), LA, tariff)
        return bill.demand[0].peak

    # alone, both charge at once at 6.656 kW each for the first quarter-hours
    assert peak_kw(alone) == pytest.approx(2 * 6.656, rel=0.01)
    # planned, the 10 kWh are spread: no quarter-hour below the flat 2.5 kW of 4 h, and
    # none near the two at once (the last quarter-hours before the held-back departures
    # catch up on what following fell short of: about 5 kW)
    assert 2.5 <= peak_kw(planned) <= 0.5 * peak_kw(alone)
    assert all(o.is_met for o in planned.outcomes)
    assert planned.violations == ()
    assert follower.tally.failed == 0 and follower.tally.unpriced == 0


def test_departures_are_held_back_by_the_replan_and_one_that_close_stays_in_the_plan(
    caltech: tuple[Topology, Policy],
) -> None:
    """Each departure is planned one replan interval (5 min) early, so what following
    falls short of between two plans has time to catch up; held back, a session leaving
    in 4 min would fall out of the plan while it charges at its full rate: the plan
    keeps its real departure and counts its power."""
    topology, policy = caltech
    tariff = acnportal_tariff([0], [0.10], demand=10.0)
    follower = PlanFollower(allocate, LA, CostSignals(tariff=tariff))
    leaving = as_session(_session("ca-308/1", NINE - timedelta(hours=3), 3 + 4 / 60, 5_000.0), 0.0)
    staying = as_session(_session("ca-508/1", NINE - timedelta(hours=1), 3, 5_000.0), 0.0)
    snapshot = Snapshot(at=NINE, topology=topology, policy=policy, sessions=(leaving, staying))
    assert follower.settings.replan == timedelta(minutes=5)
    departures = {s.id: s.departure for s in follower.problem(snapshot).sessions}
    assert departures == {
        leaving.id: NINE + timedelta(minutes=4),
        staying.id: NINE + timedelta(hours=2) - timedelta(minutes=5),
    }
    allocation = follower(snapshot)
    plan = follower._last
    assert plan is not None and follower.tally.failed == 0
    # the plan counts the urgent session's full 32 A (6.656 kW at 208 V) in its import
    # now: for its 4 minutes of the 15-minute block, at the block's average
    assert allocation.limits_a["ca-308/1"] == pytest.approx(32.0)
    assert plan.sessions[leaving.id].power_w[0] == pytest.approx(6_656.0, rel=0.01)
    assert plan.import_w[0] >= 6_656.0 * 4 / 15 * 0.99


def test_metered_energy_sets_the_peak_so_far_per_demand_interval() -> None:
    tariff = acnportal_tariff([0], [0.10], demand=10.0)
    follower = PlanFollower(allocate, LA, CostSignals(tariff=tariff))
    quarter = datetime(2019, 5, 13, 9, 0, tzinfo=LA)
    for k, wh in enumerate([500.0, 500.0, 500.0, 900.0]):
        follower.metered(quarter + STEP * k, quarter + STEP * (k + 1), wh)
    assert follower.peaks is not None
    peaks = follower.peaks.peaks_w(quarter)
    # 1.5 kWh in the first quarter-hour is 6 kW; the next has 0.9 kWh so far (3.6 kW)
    assert peaks[tariff.demand_charges[0]] == pytest.approx(6_000.0)


def test_signals_that_cannot_price_the_horizon_leave_the_step_to_the_allocator(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, policy = caltech
    tariff = acnportal_tariff([0], [0.1], months="01-01:01-31")  # January only
    follower = PlanFollower(allocate, LA, CostSignals(tariff=tariff))
    snapshot = Snapshot(
        at=NINE,
        topology=topology,
        policy=policy,
        sessions=(as_session(_session("ca-308/1", NINE, 4, 5_000.0), 0.0),),
    )
    allocation = follower(snapshot)
    assert follower.tally.unpriced == 1 and follower.tally.solves == 0
    assert "05-13" in follower.tally.details[0]
    assert allocation.limits_a == allocate(snapshot).limits_a


@pytest.mark.slow
def test_following_the_plan_on_caltech_keeps_every_limit_and_cuts_the_bill(
    caltech: tuple[Topology, Policy],
) -> None:
    # 2019-05-13 at 150 kVA under the site's SCE TOU-EV-4: every demand met, no
    # violation, a lower bill than the allocator alone (benchmarks/planner_replay.py
    # has the figures: 0.78 × EDF's)
    topology, policy = caltech
    costs = replay_costs(CALTECH_SITE)
    settings = ReplaySettings(first=MAY_13, last=MAY_13)
    sessions = read_sessions(CALTECH_CSV)
    follower = PlanFollower(allocate, LA, costs.signals(None))
    planned = run_replay(topology, policy, sessions, settings, follower, tariff=costs.tariff)
    alone = run_replay(topology, policy, sessions, settings, allocate, tariff=costs.tariff)
    assert planned.result.violations == ()
    assert planned.result.met == len(planned.result.outcomes) == 46
    assert planned.cost is not None and alone.cost is not None
    assert planned.cost.total < Decimal("0.9") * alone.cost.total
    assert follower.tally.failed == 0 and follower.tally.unpriced == 0
