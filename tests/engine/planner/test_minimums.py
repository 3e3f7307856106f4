"""A plan's rates below the EVSEs' minimum currents, pooled into whole minimums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.domain.topology import EvseSpec
from depotctl.engine.planner.minimums import IDLE_W, PlannedRate, rates_a
from tests.engine.conftest import Depot

NOW = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)


def evses(count: int, *, min_a: float = 6.0) -> list[EvseSpec]:
    depot = Depot().node("site", current_a=400.0)
    for k in range(count):
        depot = depot.charger(f"c{k}", "site", min_a=min_a)
    topology = depot.topology()
    return [topology.evses[f"c{k}/1"] for k in range(count)]


def at_amps(evse: EvseSpec, amps: float, *, hours: float, name: str | None = None) -> PlannedRate:
    return PlannedRate(
        name or f"s-{evse.id}", amps * evse.watts_per_amp, evse, NOW + timedelta(hours=hours)
    )


def test_three_sessions_at_4_a_under_a_6_a_minimum_become_two_at_6_a_earliest_first() -> None:
    a, b, c = evses(3)
    caps = rates_a(
        [at_amps(a, 4.0, hours=3.0), at_amps(b, 4.0, hours=1.0), at_amps(c, 4.0, hours=2.0)]
    )
    # 12 A planned below the minimum: two whole minimums, to the earliest departures
    assert caps == {"s-c1/1": 6.0, "s-c2/1": 6.0, "s-c0/1": 0.0}


def test_rates_at_or_above_the_minimum_are_kept_and_idle_is_none() -> None:
    a, b = evses(2)
    caps = rates_a([at_amps(a, 10.0, hours=1.0), PlannedRate("s-idle", IDLE_W / 2, b, NOW)])
    assert caps["s-c0/1"] == pytest.approx(10.0) and caps["s-idle"] == 0.0


def test_a_pool_under_half_a_minimum_charges_nobody_and_half_or_more_charges_one() -> None:
    a, b = evses(2)
    assert rates_a([at_amps(a, 2.9, hours=1.0)]) == {"s-c0/1": 0.0}
    assert rates_a([at_amps(a, 3.0, hours=1.0)]) == {"s-c0/1": 6.0}
    # two at 1.5 A pool to one minimum, and ties in departure go by session id
    caps = rates_a([at_amps(b, 1.5, hours=1.0), at_amps(a, 1.5, hours=1.0)])
    assert caps == {"s-c0/1": 6.0, "s-c1/1": 0.0}


def test_the_pools_remainder_raises_the_sessions_charging_earliest_departure_first() -> None:
    """2 A below a 6 A minimum is too little for a minimum: it goes onto the sessions
    charging, the earliest departure first, each up to its EVSE's 32 A."""
    a, b, c = evses(3)
    caps = rates_a(
        [at_amps(a, 10.0, hours=2.0), at_amps(b, 2.0, hours=1.0), at_amps(c, 31.0, hours=0.5)]
    )
    assert caps == {
        "s-c2/1": pytest.approx(32.0),  # departs first: 1 A to its maximum
        "s-c0/1": pytest.approx(11.0),  # the 1 A left
        "s-c1/1": 0.0,
    }
    # nobody charging: the remainder is nobody's
    assert rates_a([at_amps(a, 2.0, hours=1.0), at_amps(b, 0.0, hours=1.0)]) == {
        "s-c0/1": 0.0,
        "s-c1/1": 0.0,
    }


def test_a_session_finishing_in_the_block_gets_its_minimum_outside_the_pool() -> None:
    """2 A that finishes a session within the block: at 6 A it takes the same energy
    sooner. Not finishing, 2 A is under half a minimum: none, and onto the 10 A one."""
    a, b = evses(2)
    done = at_amps(a, 2.0, hours=1.0)._replace(finishing=True)
    assert rates_a([done, at_amps(b, 10.0, hours=2.0)]) == {
        "s-c0/1": 6.0,
        "s-c1/1": pytest.approx(10.0),
    }
    assert rates_a([at_amps(a, 2.0, hours=1.0), at_amps(b, 10.0, hours=2.0)]) == {
        "s-c0/1": 0.0,
        "s-c1/1": pytest.approx(12.0),
    }


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 40.0, allow_nan=False),
            st.sampled_from([6.0, 8.0, 10.0]),
            st.integers(0, 12),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_pooled_minimums_keep_the_plans_power_within_half_a_minimum(
    planned: list[tuple[float, float, int]],
) -> None:
    """Every cap is none or at least its EVSE's minimum, and at most its maximum; a
    rate at or above the minimum is kept or raised; the plan's total power comes out
    within half the largest minimum above it, and below it only when every session
    charging is at its maximum."""
    rates = []
    for k, (amps, min_a, hours) in enumerate(planned):
        [evse] = evses(1, min_a=min_a)
        rates.append(at_amps(evse, min(amps, evse.max_current_a), hours=hours, name=f"s{k}"))
    caps = rates_a(rates)
    assert set(caps) == {rate.session_id for rate in rates}
    planned_w = capped_w = 0.0
    for rate in rates:
        cap = caps[rate.session_id]
        amps = rate.watts / rate.evse.watts_per_amp
        assert cap == 0.0 or rate.evse.min_current_a - 1e-9 <= cap <= rate.evse.max_current_a + 1e-9
        if rate.watts > IDLE_W and amps >= rate.evse.min_current_a:
            assert cap >= amps - 1e-9
        if rate.watts > IDLE_W:
            planned_w += rate.watts
        capped_w += cap * rate.evse.watts_per_amp
    half = max(rate.evse.min_current_a * rate.evse.watts_per_amp for rate in rates) / 2
    assert capped_w <= planned_w + half + 1e-6
    if capped_w < planned_w - IDLE_W:
        charging = [rate for rate in rates if caps[rate.session_id] > 0.0]
        assert all(caps[r.session_id] == pytest.approx(r.evse.max_current_a) for r in charging)
