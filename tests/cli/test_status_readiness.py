"""``depotctl status`` lists the sessions that will be short at their departure, the
most short first, in words and in the site's time, over the real app on loopback (the
AU depot, its clock standing at START = 01:00 in Sydney)."""

from __future__ import annotations

import json
from datetime import timedelta

from depotctl.domain.sessions import EnergyRequirement, Session
from tests.cli import test_status
from tests.cli.test_status import Served
from tests.controller.test_app import START

served = test_status.served


def plug(served: Served, session_id: str, evse_id: str, kwh: float, minutes: float) -> None:
    requirement = EnergyRequirement(kwh * 1000, START + timedelta(minutes=minutes))
    served.controller.units().sessions.put(
        Session(session_id, evse_id, START, requirement=requirement)
    )


def test_status_says_every_session_will_be_ready(served: Served) -> None:
    plug(served, "bus-9", "dc-13/1", 100.0, 600)
    code, out = served.status()
    assert code == 0, out
    assert out.splitlines()[-1] == "ready     every session (1)"
    assert json.loads(served.status("--format", "json")[1])["short"] == []


def test_status_lists_the_short_sessions_most_short_first_with_their_cause(
    served: Served,
) -> None:
    """Two buses on their own 150 kW chargers with too little time: 300 kWh in 1 h
    (150 kWh short) and 250 kWh in 1.5 h (25 kWh short), each at its own maximum; the
    relaxed one is not listed."""
    plug(served, "bus-1", "dc-01/1", 300.0, 60)
    plug(served, "bus-2", "dc-02/1", 250.0, 90)
    plug(served, "bus-9", "dc-13/1", 100.0, 600)
    code, out = served.status()
    assert code == 0, out
    lines = out.splitlines()
    head = lines.index("ready     2 of 3 sessions will be short")
    first, second = lines[head + 1 : head + 3]
    assert first == (
        "  dc-01/1 (session bus-1) will be 150.1 kWh short at 2026-03-03 02:00:00+11:00: "
        "its EVSE's maximum power is not enough (present limit)"
    )
    assert second.startswith("  dc-02/1 (session bus-2) will be 25.")
    assert " short at 2026-03-03 02:30:00+11:00: " in second
    assert len(lines) == head + 3
    short = json.loads(served.status("--format", "json")[1])["short"]
    assert [s["session"] for s in short] == ["bus-1", "bus-2"]
    assert short[0]["short_wh"] > short[1]["short_wh"] > 0
    assert short[0]["basis"] == "present limit"
