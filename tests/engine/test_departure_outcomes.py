"""What each session got by its departure: the energy before it (a minute across it
for its part), its need, met or short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from depotctl.domain.sessions import RequirementSource, Session
from depotctl.engine.departure_outcomes import delivered_by, departure_outcomes
from depotctl.engine.energy_history import RecordedSession

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_a_minute_across_the_departure_counts_for_its_part_before_it() -> None:
    profile = {T0: 600.0, T0 + MIN: 600.0, T0 + 2 * MIN: 600.0}
    assert delivered_by(profile, T0 + 1.5 * MIN) == pytest.approx(900.0)
    assert delivered_by(profile, T0 + 10 * MIN) == 1800.0


def test_sessions_departing_in_the_window_are_met_or_short_by_what_they_lacked() -> None:
    sessions = [
        RecordedSession(Session(sid, f"c-{n}/1", T0), T0 + 3 * MIN)
        for n, sid in enumerate(("early", "short", "met", "late"))
    ]
    profiles = {s.session.id: {T0: 10_000.0} for s in sessions}
    departs = {"early": -MIN, "short": MIN, "met": 2 * MIN, "late": 10 * MIN}
    needs = {"early": 1.0, "short": 15_000.0, "met": 10_000.5, "late": 1.0}

    def need(session: Session) -> tuple[float, datetime, RequirementSource]:
        return needs[session.id], T0 + departs[session.id], RequirementSource.SCHEDULE

    outcomes = departure_outcomes(sessions, profiles, need, T0, T0 + 5 * MIN)
    assert [(o.recorded.session.id, o.met, o.short_wh) for o in outcomes] == [
        ("short", False, 5000.0),
        ("met", True, 0.0),  # half a Wh short is within the tolerance
    ]
