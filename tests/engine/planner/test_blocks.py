"""The planner's time grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from depotctl.engine.planner import BLOCK, HORIZON, plan_blocks

T0 = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)


def test_default_grid_is_a_day_of_quarter_hours() -> None:
    blocks = plan_blocks(T0)
    assert (blocks.length, blocks.count) == (BLOCK, 96)
    assert blocks.end == T0 + HORIZON
    assert blocks.starts()[1] == T0 + timedelta(minutes=15)


def test_a_horizon_not_divisible_by_the_block_ends_with_a_whole_block() -> None:
    blocks = plan_blocks(T0, timedelta(minutes=50), timedelta(minutes=15))
    assert blocks.count == 4


def test_index_and_hours_before_a_departure() -> None:
    blocks = plan_blocks(T0, timedelta(hours=1))
    assert blocks.index(T0 - timedelta(seconds=1)) is None
    assert blocks.index(T0 + timedelta(minutes=29, seconds=59)) == 1
    assert blocks.index(T0 + timedelta(hours=1)) is None
    assert blocks.hours_before(T0 + timedelta(minutes=20)) == (0.25, 5 / 60, 0.0, 0.0)


def test_a_naive_start_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValueError, match="no time zone; pass an aware datetime in UTC"):
        plan_blocks(datetime(2026, 3, 4, 17, 0))


def test_a_horizon_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="horizon 0:00:00 must be positive"):
        plan_blocks(T0, timedelta(0))
