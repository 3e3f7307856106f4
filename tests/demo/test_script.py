"""The demo's script: how long before its window the evening cut is sent."""

from __future__ import annotations

from datetime import timedelta

from depotctl.demo.script import NOTICE, NOTICE_WALL_S, notice


def test_the_cut_is_sent_15_minutes_ahead_and_at_a_fast_clock_seconds_of_wall_time_ahead() -> None:
    assert notice(1) == notice(300) == NOTICE == timedelta(minutes=15)
    # at ×7200 15 minutes are 0.125 s of wall time: the notice is NOTICE_WALL_S of it
    assert notice(7200) == timedelta(hours=4)
    for speed in (1.0, 60.0, 450.0, 451.0, 3000.0, 7200.0):
        assert notice(speed) >= NOTICE
        assert notice(speed).total_seconds() / speed >= NOTICE_WALL_S
