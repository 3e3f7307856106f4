"""The composite schedule: which profile governs, what an EVSE draws, and a property
against an independent recomputation."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.domain.charge_points import RateUnit
from depotctl.sim.chargers.composite import (
    Electrical,
    EvseInput,
    Running,
    boundaries,
    composite_schedule,
    draws,
    evse_limit_w,
    governing,
    share,
    station_limit_w,
)
from depotctl.sim.chargers.profiles import Kind, Profile, Purpose, Recurrency
from tests.sim.chargers.builders import START, WATTS_PER_AMP, profile

THREE_PHASE = Electrical(WATTS_PER_AMP, 3)
RATING_W = 32 * WATTS_PER_AMP
TX = Running("tx-1", START)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def one_evse(demand_w: float = math.inf, running: Running | None = TX) -> dict[int, EvseInput]:
    return {1: EvseInput(RATING_W, demand_w, running)}


def test_without_any_profile_an_evse_draws_its_rating() -> None:
    assert draws([], one_evse(), START, THREE_PHASE) == {1: RATING_W}


def test_without_any_profile_the_vehicle_may_want_less() -> None:
    assert draws([], one_evse(5000.0), START, THREE_PHASE) == {1: 5000.0}


def test_a_charger_wide_default_profile_applies_to_every_evse() -> None:
    fallback = profile(8, evse=0)
    two = {1: EvseInput(RATING_W, math.inf), 2: EvseInput(RATING_W, math.inf)}
    assert draws([fallback], two, START, THREE_PHASE) == {1: 8 * 690.0, 2: 8 * 690.0}


def test_the_highest_stack_level_governs_even_when_it_is_higher() -> None:
    low = profile(8, id=1, evse=0, stack_level=0)
    high = profile(20, id=2, evse=0, stack_level=3)
    assert draws([low, high], one_evse(), START, THREE_PHASE)[1] == 20 * 690.0


def test_a_tx_profile_replaces_the_default_for_its_transaction() -> None:
    fallback = profile(8, id=1, evse=0)
    dynamic = profile(25, id=2, purpose=Purpose.TX, transaction_id="tx-1")
    assert draws([fallback, dynamic], one_evse(), START, THREE_PHASE)[1] == 25 * 690.0


def test_a_tx_profile_of_another_transaction_does_not_count() -> None:
    fallback = profile(8, id=1, evse=0)
    stale = profile(25, id=2, purpose=Purpose.TX, transaction_id="tx-0")
    assert draws([fallback, stale], one_evse(), START, THREE_PHASE)[1] == 8 * 690.0


def test_the_draw_is_the_minimum_across_purposes() -> None:
    cap = profile(10, id=1, evse=0, purpose=Purpose.STATION_MAX)
    dynamic = profile(25, id=2, purpose=Purpose.TX, transaction_id="tx-1")
    assert draws([cap, dynamic], one_evse(), START, THREE_PHASE)[1] == 10 * 690.0


def test_the_vehicle_demand_is_part_of_the_minimum() -> None:
    dynamic = profile(25, purpose=Purpose.TX, transaction_id="tx-1")
    assert draws([dynamic], one_evse(4000.0), START, THREE_PHASE)[1] == 4000.0


def test_an_expired_profile_lapses_to_the_one_below() -> None:
    fallback = profile(8, id=1, evse=0)
    dynamic = profile(
        25, id=2, purpose=Purpose.TX, transaction_id="tx-1", valid_to=at(1), stack_level=1
    )
    assert evse_limit_w([fallback, dynamic], 1, at(0.99), TX, THREE_PHASE) == 25 * 690.0
    assert evse_limit_w([fallback, dynamic], 1, at(1), TX, THREE_PHASE) == 8 * 690.0


def test_a_profile_not_yet_valid_does_not_count() -> None:
    later = profile(20, id=2, evse=0, stack_level=2, valid_from=at(5))
    fallback = profile(8, id=1, evse=0)
    assert evse_limit_w([fallback, later], 1, at(4), TX, THREE_PHASE) == 8 * 690.0
    assert evse_limit_w([fallback, later], 1, at(5), TX, THREE_PHASE) == 20 * 690.0


def test_a_schedule_past_its_duration_lapses() -> None:
    fallback = profile(8, id=1, evse=0)
    timed = profile(20, id=2, evse=0, stack_level=1, duration_s=600)
    assert evse_limit_w([fallback, timed], 1, at(9), TX, THREE_PHASE) == 20 * 690.0
    assert evse_limit_w([fallback, timed], 1, at(10), TX, THREE_PHASE) == 8 * 690.0


def test_periods_follow_one_another() -> None:
    stepped = profile(0, evse=0, periods=((0, 10), (600, 20), (1200, 5)))
    limits = [evse_limit_w([stepped], 1, at(m), TX, THREE_PHASE) for m in (0, 9, 10, 25)]
    assert limits == [6900.0, 6900.0, 13800.0, 3450.0]


def test_a_relative_schedule_starts_with_the_transaction() -> None:
    relative = profile(0, evse=0, kind=Kind.RELATIVE, periods=((0, 10), (600, 20)))
    started_later = Running("tx-1", at(30))
    assert evse_limit_w([relative], 1, at(35), started_later, THREE_PHASE) == 6900.0
    assert evse_limit_w([relative], 1, at(40), started_later, THREE_PHASE) == 13800.0


def test_a_daily_schedule_repeats() -> None:
    nightly = profile(
        0,
        evse=0,
        kind=Kind.RECURRING,
        recurrency=Recurrency.DAILY,
        periods=((0, 10), (3600, 30)),
    )
    tomorrow = START + timedelta(days=1)
    assert evse_limit_w([nightly], 1, tomorrow + timedelta(minutes=30), TX, THREE_PHASE) == 6900.0
    assert evse_limit_w([nightly], 1, tomorrow + timedelta(minutes=90), TX, THREE_PHASE) == 20700.0


def test_watts_are_taken_as_they_are_and_amps_on_fewer_phases_count_less() -> None:
    in_watts = profile(7000, unit=RateUnit.WATTS, evse=0)
    one_phase = profile(16, number_phases=1, evse=0)
    assert evse_limit_w([in_watts], 1, START, TX, THREE_PHASE) == 7000.0
    assert evse_limit_w([one_phase], 1, START, TX, THREE_PHASE) == 16 * 230.0


def test_the_charger_cap_is_shared_max_min_fairly() -> None:
    cap = profile(30, evse=0, purpose=Purpose.STATION_MAX)
    evses = {1: EvseInput(RATING_W, 2000.0), 2: EvseInput(RATING_W, math.inf)}
    got = draws([cap], evses, START, THREE_PHASE)
    assert got[1] == 2000.0
    assert math.isclose(got[2], 30 * 690.0 - 2000.0)


def test_share_gives_everyone_their_want_under_the_cap() -> None:
    assert share({1: 5.0, 2: 3.0}, 100.0) == {1: 5.0, 2: 3.0}
    assert share({1: 5.0, 2: 30.0, 3: 30.0}, 25.0) == {1: 5.0, 2: 10.0, 3: 10.0}
    assert share({1: 5.0}, None) == {1: 5.0}


def test_the_charger_cap_is_only_on_evse_zero() -> None:
    assert station_limit_w([profile(10, evse=0, purpose=Purpose.STATION_MAX)], START, THREE_PHASE)
    misplaced = profile(10, evse=1, purpose=Purpose.STATION_MAX)
    assert station_limit_w([misplaced], START, THREE_PHASE) is None


def test_on_a_tie_the_evse_profile_beats_the_charger_wide_one() -> None:
    wide = profile(8, id=1, evse=0, stack_level=1)
    own = profile(12, id=2, evse=1, stack_level=1)
    held = governing([wide, own], 1, START, TX, THREE_PHASE)
    assert held[Purpose.TX_DEFAULT][0].id == 2


def test_boundaries_are_the_instants_a_limit_may_change() -> None:
    stepped = profile(0, id=1, evse=0, periods=((0, 10), (600, 20)), valid_to=at(30))
    dynamic = profile(25, id=2, purpose=Purpose.TX, transaction_id="tx-1", duration_s=120)
    found = boundaries([stepped, dynamic], START, at(60))
    assert found == [at(2), at(10), at(30)]


def test_the_composite_schedule_names_every_change() -> None:
    fallback = profile(8, id=1, evse=0)
    dynamic = profile(20, id=2, purpose=Purpose.TX, transaction_id="tx-1", valid_to=at(5))
    periods = composite_schedule(
        [fallback, dynamic], one_evse(), 1, START, 900, THREE_PHASE, RateUnit.AMPS
    )
    assert periods == [(0.0, 20.0), (300.0, 8.0)]
    in_watts = composite_schedule(
        [fallback, dynamic], one_evse(), 1, START, 900, THREE_PHASE, RateUnit.WATTS
    )
    assert in_watts == [(0.0, 13800.0), (300.0, 5520.0)]


def test_the_composite_schedule_without_profiles_is_the_rating() -> None:
    assert composite_schedule([], one_evse(), 1, START, 60, THREE_PHASE, RateUnit.AMPS) == [
        (0.0, 32.0)
    ]


# Property: against an independent recomputation


def _limit_now(p: Profile, instant: datetime) -> float | None:
    """Only absolute schedules with one period are generated, so this is the whole rule."""
    if p.valid_from is not None and instant < p.valid_from:
        return None
    if p.valid_to is not None and instant >= p.valid_to:
        return None
    start = p.schedule.start
    assert start is not None
    elapsed = (instant - start).total_seconds()
    if elapsed < 0 or (p.schedule.duration_s is not None and elapsed >= p.schedule.duration_s):
        return None
    value = p.schedule.periods[0].limit
    return value if p.schedule.unit is RateUnit.WATTS else value * WATTS_PER_AMP


def _oracle_own(profiles: list[Profile], evse: int, instant: datetime) -> float | None:
    """The governing own limit: a valid TxProfile of the highest stack level if any,
    else the valid TxDefaultProfile of the highest stack level."""
    for purpose in (Purpose.TX, Purpose.TX_DEFAULT):
        candidates = [
            (p.stack_level, 1 if p.evse == evse else 0, p.received_at, p.id, limit)
            for p in profiles
            if p.purpose is purpose
            and (p.evse == evse or (purpose is Purpose.TX_DEFAULT and p.evse == 0))
            and (purpose is not Purpose.TX or p.transaction_id == f"tx-{evse}")
            and (limit := _limit_now(p, instant)) is not None
        ]
        if candidates:
            return max(candidates)[-1]
    return None


def _oracle_cap(profiles: list[Profile], instant: datetime) -> float | None:
    candidates = [
        (p.stack_level, p.received_at, p.id, limit)
        for p in profiles
        if p.purpose is Purpose.STATION_MAX
        and p.evse == 0
        and (limit := _limit_now(p, instant)) is not None
    ]
    return max(candidates)[-1] if candidates else None


@st.composite
def profiles_at(draw: st.DrawFn) -> tuple[list[Profile], dict[int, EvseInput], datetime]:
    count = draw(st.integers(0, 8))
    profiles = []
    for index in range(count):
        purpose = draw(st.sampled_from([Purpose.TX_DEFAULT, Purpose.TX, Purpose.STATION_MAX]))
        evse = (
            0
            if purpose is Purpose.STATION_MAX
            else draw(st.integers(0 if purpose is Purpose.TX_DEFAULT else 1, 2))
        )
        unit = draw(st.sampled_from([RateUnit.AMPS, RateUnit.WATTS]))
        limit = draw(st.floats(0, 40)) if unit is RateUnit.AMPS else draw(st.floats(0, 30000))
        start = at(draw(st.integers(-60, 30)))
        valid_from = draw(st.none() | st.integers(-60, 60).map(at))
        valid_to = draw(st.none() | st.integers(-60, 60).map(at))
        profiles.append(
            profile(
                limit,
                id=index + 1,
                evse=evse,
                stack_level=draw(st.integers(0, 3)),
                purpose=purpose,
                unit=unit,
                start=start,
                duration_s=draw(st.none() | st.integers(60, 7200).map(float)),
                valid_from=valid_from,
                valid_to=valid_to,
                transaction_id=f"tx-{draw(st.integers(1, 3))}" if purpose is Purpose.TX else None,
                received_at=at(draw(st.integers(-60, 0))),
            )
        )
    evses = {
        n: EvseInput(
            RATING_W,
            draw(st.sampled_from([0.0, math.inf]) | st.floats(0, 30000)),
            Running(f"tx-{n}", START),
        )
        for n in (1, 2)
    }
    instant = at(draw(st.integers(-30, 90)))
    return profiles, evses, instant


@settings(max_examples=300)
@given(profiles_at())
def test_the_draw_never_exceeds_a_governing_limit_or_the_vehicle(
    case: tuple[list[Profile], dict[int, EvseInput], datetime],
) -> None:
    profiles, evses, instant = case
    got = draws(profiles, evses, instant, THREE_PHASE)
    cap = _oracle_cap(profiles, instant)
    tolerance = 1e-6
    for number, evse in evses.items():
        own = _oracle_own(profiles, number, instant)
        assert got[number] >= 0
        assert got[number] <= evse.rating_w + tolerance
        assert got[number] <= evse.demand_w + tolerance
        if own is not None:
            assert got[number] <= own + tolerance
        if cap is None:  # nothing shared: exactly the least of the three
            expected = min(evse.rating_w, evse.demand_w, own if own is not None else math.inf)
            assert math.isclose(got[number], max(expected, 0.0), abs_tol=tolerance)
    if cap is not None:
        assert sum(got.values()) <= cap + tolerance
