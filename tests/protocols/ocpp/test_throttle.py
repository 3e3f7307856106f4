"""Token buckets and the per-address throttle of refused attempts: bursts, refills in
the clock they are given, and a map of addresses that never outgrows its bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.protocols.ocpp.throttle import AddressThrottle, TokenBucket, address_key


def test_a_bucket_gives_its_burst_then_one_per_refill_interval() -> None:
    bucket = TokenBucket.full(3, 0.5, now=100.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.seconds_to_token(100.0) == pytest.approx(2.0)
    assert not bucket.take(101.0)
    assert bucket.take(102.0)
    assert not bucket.take(102.0)


def test_a_clock_going_back_refills_nothing() -> None:
    bucket = TokenBucket.full(1, 1.0, now=100.0)
    assert bucket.take(100.0)
    assert not bucket.take(50.0)
    assert not bucket.take(100.5)
    assert bucket.take(101.0)


@given(st.lists(st.floats(min_value=0, max_value=30), max_size=60))
def test_a_bucket_never_gives_more_than_its_burst_and_what_accrued(steps: list[float]) -> None:
    bucket = TokenBucket.full(5, 0.25, now=0.0)
    now, taken = 0.0, 0
    for step in steps:
        now += step
        taken += bucket.take(now)
        assert taken <= 5 + now * 0.25
        assert 0 <= bucket.tokens <= 5


def test_an_address_is_throttled_only_by_its_own_refusals() -> None:
    throttle = AddressThrottle(per_s=0.1)
    for _ in range(4):
        throttle.refused("10.0.0.7", burst=4, now=0.0)
    assert throttle.seconds_to_allowed("10.0.0.7", 4, 0.0) == pytest.approx(10.0)
    assert throttle.seconds_to_allowed("10.0.0.8", 4, 0.0) == 0.0
    assert throttle.seconds_to_allowed("10.0.0.7", 4, 10.0) == 0.0


def test_a_larger_site_raises_the_burst_of_an_address_already_seen() -> None:
    throttle = AddressThrottle(per_s=0.0)
    for _ in range(4):
        throttle.refused("10.0.0.7", burst=4, now=0.0)
    assert throttle.seconds_to_allowed("10.0.0.7", 4, 0.0) > 0
    # a revision with more chargers: the burst grows, tokens come back only by the clock
    throttle.refused("10.0.0.7", burst=8, now=0.0)
    assert throttle.seconds_to_allowed("10.0.0.7", 8, 0.0) > 0


def test_the_map_of_addresses_is_bounded_and_forgets_the_least_recent() -> None:
    throttle = AddressThrottle(per_s=0.0, max_addresses=3)
    for n in range(10_000):
        throttle.refused(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", burst=1, now=0.0)
        assert len(throttle) <= 3
    assert throttle.seconds_to_allowed("10.0.39.15", 1, 0.0) > 0  # the last one
    assert throttle.seconds_to_allowed("10.0.0.0", 1, 0.0) == 0.0  # long forgotten


def test_an_address_whose_allowance_came_back_is_forgotten() -> None:
    throttle = AddressThrottle(per_s=1.0)
    throttle.refused("10.0.0.7", burst=2, now=0.0)
    assert len(throttle) == 1
    assert throttle.seconds_to_allowed("10.0.0.7", 2, 5.0) == 0.0
    assert len(throttle) == 0


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.168.1.20", "192.168.1.20"),
        ("::ffff:192.168.1.20", "192.168.1.20"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_an_address_counts_as_its_host_or_ipv6_64(host: str | None, key: str | None) -> None:
    assert address_key(host) == key


def test_an_unknown_address_is_never_throttled() -> None:
    throttle = AddressThrottle(per_s=0.0)
    for _ in range(5):
        throttle.refused(None, burst=1, now=0.0)
    assert throttle.seconds_to_allowed(None, 1, 0.0) == 0.0
    assert len(throttle) == 0
