"""Each departure planned one replan interval early, but for a session already that
close to it (it would drop out of the plan)."""

from __future__ import annotations

from datetime import timedelta

from depotctl.domain.sessions import Session
from depotctl.engine.planner import held_back
from tests.engine.planner.test_follow import NOW, car, snapshot_at

FIVE = timedelta(minutes=5)


def departures(sessions: tuple[Session, ...]) -> dict[str, object]:
    return {s.id: s.requirement.departure if s.requirement else None for s in sessions}


def test_departures_are_brought_forward_and_one_that_close_keeps_its_own() -> None:
    lax = car("c1/1", 30.0, hours=10.0)
    leaving = car("c2/1", 1.0, hours=4 / 60)  # leaves in 4 min
    unknown = Session(id="s-c3/1", evse_id="c3/1", started=NOW)  # no requirement
    snap = snapshot_at(NOW, lax, leaving, unknown)
    early = held_back(snap, FIVE)
    assert departures(early.sessions) == {
        lax.id: NOW + timedelta(hours=10) - FIVE,
        leaving.id: NOW + timedelta(minutes=4),
        unknown.id: None,
    }
    # only the departures move: the need and the rest of the snapshot are as they were
    assert [s.requirement.energy_wh if s.requirement else None for s in early.sessions] == [
        30_000.0,
        1_000.0,
        None,
    ]
    assert early.at == snap.at and early.topology is snap.topology
    assert held_back(snap, timedelta(0)) is snap
