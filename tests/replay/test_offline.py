"""The offline optimum: the planner's program with every session known in advance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology
from depotctl.engine.planner.inputs import CostSignals
from depotctl.recordings import ReplaySession
from depotctl.replay.offline import offline_optimum
from depotctl.replay.script import scale_top

T0 = datetime(2019, 5, 13, 16, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)


def _session(name: str, evse: str, arrival_h: float, hours: float, wh: float) -> ReplaySession:
    arrival = T0 + timedelta(hours=arrival_h)
    return ReplaySession(name, evse, evse, arrival, arrival + timedelta(hours=hours), wh, wh)


def test_every_session_is_planned_within_its_window_even_two_on_one_evse(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, policy = caltech
    sessions = [
        _session("first", "ca-308/1", 0, 2, 6_000.0),
        _session("second", "ca-308/1", 3, 2, 6_000.0),  # the same EVSE, later
        _session("other", "ca-508/1", 1, 1, 3_000.0),
    ]
    optimum = offline_optimum(
        topology, policy, sessions, T0, T0 + timedelta(hours=5), STEP, CostSignals()
    )
    assert optimum.delivered_share == pytest.approx(1.0)
    assert set(optimum.plan.sessions) == {"first", "second", "other"}
    starts = optimum.plan.blocks.starts()
    for session in sessions:
        power = optimum.plan.sessions[session.id].power_w
        outside = [
            p
            for at, p in zip(starts, power, strict=True)
            if not session.arrival <= at < session.departure
        ]
        assert max(outside, default=0.0) < 1e-6, session.id
    assert optimum.violations == ()


def test_a_short_site_delivers_what_its_capacity_allows_without_a_violation(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, policy = caltech
    scaled, _ = scale_top(topology, 0.02)  # 3 kW at the grid connection
    sessions = [
        _session("a", "ca-308/1", 0, 4, 20_000.0),
        _session("b", "ca-508/1", 0, 4, 20_000.0),
    ]
    optimum = offline_optimum(
        scaled, policy, sessions, T0, T0 + timedelta(hours=4), STEP, CostSignals()
    )
    delivered = sum(optimum.delivered_wh.values())
    # at most 3 kW for 4 h, less the safety margin and the tighter current rows
    assert 0.5 * 12_000.0 < delivered <= 12_000.0
    assert max(optimum.site_wh) <= 3_000.0 * STEP.total_seconds() / 3600 + 1e-6
    assert optimum.violations == ()
