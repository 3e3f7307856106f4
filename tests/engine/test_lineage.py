"""Lineage's rules by hand: an envelope's cost is the limit before its binding minus
the limit under it, times watts per amp, times each span it bound; a short session
names the constraint that held it furthest below its highest limit for longest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.engine.lineage import LimitStep, envelope_lineage, session_lineage

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 19:00 in Sydney (+11)


def step(
    minute: int, limit: float, previous: float | None, kind: str, ref: str | None
) -> LimitStep:
    at = T0 + timedelta(minutes=minute)
    return LimitStep(at, "dc-01/1", "s-1", limit, previous, kind, ref, f"{kind} words")


STEPS = [
    step(0, 32.0, None, "charger_limit", "dc-01/1"),
    step(10, 20.0, 32.0, "envelope", "dnsp-cut"),  # 12 A off for 10 min
    step(20, 10.0, 20.0, "envelope", "dnsp-cut"),  # 22 A off (from 32) for 20 min
    step(40, 0.0, 10.0, "operator_override", "dc-01/1"),  # 32 A off for 5 min
    step(45, 32.0, 0.0, "charger_limit", "dc-01/1"),
]


def test_an_envelope_costs_the_limit_before_it_minus_the_limit_under_it() -> None:
    found = envelope_lineage("dnsp-cut", STEPS, {"dc-01/1": 690.0}, T0 + timedelta(hours=1))
    [cost] = found.costs
    assert cost.bound_s == 30 * 60
    # 12 A x 690 W/A x 1/6 h + 22 A x 690 W/A x 1/3 h
    assert cost.energy_wh == pytest.approx(1380.0 + 5060.0)
    assert found.energy_wh == cost.energy_wh
    assert [s.at for s in found.steps] == [STEPS[1].at, STEPS[2].at]
    assert envelope_lineage("other", STEPS, {"dc-01/1": 690.0}, T0).costs == ()


def test_a_short_session_names_what_held_it_back_most() -> None:
    departure = T0 + timedelta(hours=2)
    session = Session("s-1", "dc-01/1", T0, 9_500.0, EnergyRequirement(20_000.0, departure))
    need = (20_000.0, departure, RequirementSource.SCHEDULE)
    ended = T0 + timedelta(minutes=50)
    other = LimitStep(T0, "dc-02/1", "s-2", 1.0, 1.0, "envelope", "x", "")
    found = session_lineage(session, ended, [other, *reversed(STEPS)], need)
    assert found.steps == tuple(STEPS)  # its own, in time order
    # envelope: 12 A x 600 s + 22 A x 1200 s = 33,600 A s; the pause 32 A x 300 s
    assert found.outcome == (
        "short by 10.5 kWh (9.5 kWh of 20.0 kWh) because envelope dnsp-cut held it back most"
    )
    words = found.words(ZoneInfo("Australia/Sydney"))
    assert words[0] == (
        "2026-12-07 19:00:00+11:00  session s-1 arrived at dc-01/1, departs "
        "2026-12-07 21:00:00+11:00"
    )
    assert words[-2:] == ["2026-12-07 19:50:00+11:00  ended", f"outcome: {found.outcome}"]
    bare = session_lineage(session, ended, [], need)  # no limit change in the window
    assert bare.outcome == (
        "short by 10.5 kWh (9.5 kWh of 20.0 kWh) with no limit change in this window"
    )
    full = session_lineage(session, ended, STEPS[:1], need)  # 32 A throughout
    assert full.outcome.endswith("with its highest limit throughout: it left too soon or drew less")
    met = session_lineage(session, ended, STEPS, (9_000.0, departure, RequirementSource.DEFAULT))
    assert met.outcome == "met: 9.5 kWh of 9.0 kWh (the site's default)"
