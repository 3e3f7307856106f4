"""How long the endpoint waits for an answer: what answers took, smoothed (RFC 6298),
between a floor and a ceiling, doubled after a call that went unanswered."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.protocols.ocpp.round_trips import RECENT, RoundTrips


def test_before_any_answer_the_wait_is_the_floor() -> None:
    assert RoundTrips(2.0, 30.0).wait_s() == 2.0


def test_answers_that_take_longer_than_the_floor_make_the_wait_longer_than_they_take() -> None:
    trips = RoundTrips(2.0, 30.0)
    trips.answered(3.0)  # srtt 3, rttvar 1.5: 3 + 4 × 1.5
    assert trips.wait_s() == pytest.approx(9.0)
    for _ in range(50):  # answers that all take 3 s: the spread shrinks, to half again
        trips.answered(3.0)
    assert trips.wait_s() == pytest.approx(4.5)


def test_one_answer_far_later_than_the_rest_keeps_the_wait_above_it_while_it_is_recent() -> None:
    """A burst: the smoothed figures barely move, the latest answers show it."""
    trips = RoundTrips(0.1, 30.0)
    for _ in range(RECENT):
        trips.answered(0.2)
    trips.answered(4.0)
    assert trips.wait_s() == pytest.approx(6.0)
    for _ in range(RECENT - 1):
        trips.answered(0.2)
    assert trips.wait_s() == pytest.approx(6.0)  # still among the latest
    trips.answered(0.2)
    assert trips.wait_s() < 1.0  # gone from them: the smoothed figures again


def test_fast_answers_never_bring_the_wait_below_the_floor() -> None:
    trips = RoundTrips(2.0, 30.0)
    for _ in range(20):
        trips.answered(0.01)
    assert trips.wait_s() == 2.0


def test_a_call_that_timed_out_doubles_the_wait_until_an_answer_is_heard() -> None:
    trips = RoundTrips(2.0, 30.0)
    trips.timed_out()
    assert trips.wait_s() == 4.0
    trips.timed_out()
    trips.timed_out()
    trips.timed_out()
    assert trips.wait_s() == 30.0  # the ceiling: a silent charger is still found out
    trips.answered(0.5)
    assert trips.wait_s() == 2.0  # 0.5 + 4 × 0.25 is below the floor


@given(st.lists(st.floats(min_value=0.0, max_value=1e4), max_size=40), st.booleans())
def test_the_wait_stays_between_the_floor_and_the_ceiling(
    samples: list[float], time_out_last: bool
) -> None:
    trips = RoundTrips(0.5, 30.0)
    for sample in samples:
        trips.answered(sample)
    if time_out_last:
        trips.timed_out()
    assert 0.5 <= trips.wait_s() <= 30.0
