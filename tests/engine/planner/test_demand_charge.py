"""A demand term's values (what is refused and why) and the quarter hours it bills:
the one under way counts what was drawn before now."""

from __future__ import annotations

import itertools
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.domain.bill import EPOCH, BillingWindow, Interval, LoadProfile, bill
from depotctl.domain.tariff import DemandCharge, EnergyPeriod, Tariff, TariffSeason
from depotctl.domain.tariff_calendar import DailyWindow
from depotctl.engine.planner import (
    DemandTerm,
    NodeCapacity,
    PlannedSession,
    PlanningProblem,
    plan_blocks,
)
from depotctl.engine.planner.demand_charge import quarter_shares
from depotctl.engine.planner.plan import Plan, PlanStatus
from depotctl.engine.planner.solve import solve
from tests.engine.conftest import T0


def test_a_term_within_the_horizon_passes() -> None:
    DemandTerm(12.5, (0, 3, 4), peak_so_far_w=80_000.0).check(0, 5)


@pytest.mark.parametrize(
    ("term", "message"),
    [
        (DemandTerm(-1.0, (0,)), r"demand term 2: rate_per_kw -1.0 must be finite and ≥ 0"),
        (DemandTerm(1.0, (0,), -5.0), r"peak_so_far_w -5.0 must be finite and ≥ 0"),
        (DemandTerm(1.0, (3, 7)), r"block\(s\) 7 outside the horizon's 0…4"),
        (DemandTerm(1.0, (2, 1)), r"blocks must be ascending, each once"),
    ],
)
def test_a_term_the_program_cannot_hold_is_refused(term: DemandTerm, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        term.check(2, 5)


# -- the quarter hour under way --------------------------------------------------------

QUARTER = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)
UTC_ZONE = ZoneInfo("UTC")
WATT = 1e-3
ALL_DAY = DemandCharge("max-demand", (DailyWindow.parse(["all"], "00:00", "24:00"),), 20.0)


def all_day_tariff() -> Tariff:
    energy = (EnergyPeriod("flat", DailyWindow.parse(["all"], "00:00", "24:00"), 0.1),)
    return Tariff("USD", (TariffSeason("all", 0, 365, energy, (ALL_DAY,)),))


def half_gone(so_far_wh: float) -> PlanningProblem:
    """At 09:07:30, half the 09:00 quarter gone with ``so_far_wh`` drawn, a 50 kW peak so
    far: a vehicle takes 20 kWh by 09:30 at up to 100 kW."""
    return PlanningProblem(
        blocks=plan_blocks(T0, timedelta(minutes=30)),
        sessions=(PlannedSession("a", "e1", 20_000.0, T0 + timedelta(minutes=30), 100_000.0),),
        nodes=(),
        price_per_kwh=(0.1, 0.1),
        carbon_kg_per_kwh=(0.0, 0.0),
        demand=(DemandTerm(20.0, (0, 1), peak_so_far_w=50_000.0, so_far_wh=so_far_wh),),
        now=T0 + timedelta(minutes=7, seconds=30),
    )


def test_a_quarter_half_gone_at_40_kw_leaves_60_kw_for_its_rest_under_a_50_kw_peak() -> None:
    # 5 kWh drawn (40 kW for 7.5 minutes). A 50 kW peak allows 12.5 kWh in the quarter,
    # so 7.5 kWh in its last 7.5 minutes: 60 kW, not the 100 kW a block counted as the
    # quarter's average would allow (12.5 kWh from now); 12.5 kWh (50 kW) next quarter
    plan = solve(half_gone(5_000.0))
    assert plan.sessions["a"].power_w == pytest.approx((60_000.0, 50_000.0), abs=WATT)
    assert plan.demand_peak_w == pytest.approx((50_000.0,), abs=WATT)


def test_the_quarter_under_way_with_nothing_drawn_before_now_allows_its_whole_budget() -> None:
    # nothing drawn: 12.5 kWh in the 7.5 minutes left (100 kW)
    assert solve(half_gone(0.0)).sessions["a"].power_w[0] == pytest.approx(100_000.0, abs=WATT)


def test_blocks_across_quarters_split_by_their_time_in_each() -> None:
    # 20-minute blocks from 09:05, now 09:10: block 0's 15 minutes from now are 5 in
    # 09:00–09:15 and 10 in 09:15–09:30; block 1 (09:25–09:45) 5 and 15 minutes
    blocks = plan_blocks(T0 + timedelta(minutes=5), timedelta(minutes=40), timedelta(minutes=20))
    shares = quarter_shares(blocks, T0 + timedelta(minutes=10))
    first = (T0 - EPOCH) // QUARTER
    assert shares.block.tolist() == [0, 0, 1, 1]
    assert (shares.quarter - first).tolist() == [0, 1, 1, 2]
    assert shares.share.tolist() == pytest.approx([1 / 3, 2 / 3, 0.25, 0.75])
    assert shares.now_quarter == first


@st.composite
def problems(draw: st.DrawFn) -> PlanningProblem:
    """A horizon of blocks of any of the lengths a site may give, on the grid or off
    it, from an instant inside the first; sessions leaving anywhere; a base load; one
    demand charge with a peak so far and energy drawn before now."""
    length = timedelta(minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 60])))
    start = T0 + timedelta(minutes=draw(st.integers(0, 14)))
    count = draw(st.integers(1, 5))
    blocks = plan_blocks(start, length * count, length)
    now = start + timedelta(seconds=draw(st.integers(0, int(length.total_seconds()) - 1)))
    kw = st.floats(0.0, 60.0)
    sessions = tuple(
        PlannedSession(
            f"s{i}",
            f"e{i}",
            draw(st.floats(0.0, 60_000.0)),
            now + timedelta(minutes=draw(st.integers(1, int(length * count / MINUTE) + 30))),
            draw(kw) * 1000.0,
        )
        for i in range(draw(st.integers(1, 3)))
    )
    ids = tuple(s.id for s in sessions)
    return PlanningProblem(
        blocks=blocks,
        sessions=sessions,
        nodes=(NodeCapacity("site", tuple(draw(kw) * 1000.0 for _ in range(count)), ids),),
        price_per_kwh=tuple(draw(st.floats(0.01, 0.5)) for _ in range(count)),
        carbon_kg_per_kwh=(0.0,) * count,
        base_load_w=tuple(draw(st.floats(0.0, 20.0)) * 1000.0 for _ in range(count)),
        demand=(
            DemandTerm(
                draw(st.floats(0.5, 30.0)),
                tuple(range(count)),
                draw(kw) * 1000.0,
                draw(st.floats(0.0, 15_000.0)),
            ),
        ),
        now=now,
    )


def planned_profile(problem: PlanningProblem, plan: Plan) -> LoadProfile:
    """The site's import as the plan draws it, from the quarter hour holding now: the
    energy before now (evenly), then per block from now each session at its power
    until it leaves, and the base load."""
    now = problem.now or problem.blocks.start
    begins = EPOCH + (now - EPOCH) // QUARTER * QUARTER
    (term,) = problem.demand
    intervals = [Interval(begins, now, term.so_far_wh / 1000.0)] if begins < now else []
    for b, start in enumerate(problem.blocks.starts()):
        lo, hi = max(start, now), start + problem.blocks.length
        cuts = sorted({lo, hi, *(s.departure for s in problem.sessions if lo < s.departure < hi)})
        for a, z in itertools.pairwise(cuts):
            watts = problem.base_load()[b] + sum(
                plan.sessions[s.id].power_w[b] for s in problem.sessions if s.departure >= z
            )
            intervals.append(Interval(a, z, watts / 1000.0 * (z - a).total_seconds() / 3600.0))
    return LoadProfile(tuple(intervals))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_the_billed_peak_of_the_plan_never_exceeds_its_peak_column(
    problem: PlanningProblem,
) -> None:
    """The bill (:func:`depotctl.domain.bill.bill`, on the plan's import minute by
    minute and the energy drawn before now) finds no quarter hour above the plan's
    peak."""
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    profile = planned_profile(problem, plan)
    window = BillingWindow(T0 - timedelta(hours=1), problem.blocks.end + QUARTER, UTC_ZONE)
    billed = bill(profile, all_day_tariff(), window)
    peak_kw = max((line.peak for line in billed.demand), default=0.0)
    assert peak_kw * 1000.0 <= plan.demand_peak_w[0] + 1e-6 * max(1.0, plan.demand_peak_w[0])
