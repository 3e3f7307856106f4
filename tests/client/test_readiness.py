"""The readiness lines ``depotctl status`` prints, from the API's answers as a
controller writes them: none open, an older controller that forecasts nothing, every
one ready, some short (the most short first, in the site's time)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from depotctl.api import Sessions
from depotctl.client.readiness import readiness_lines, short_json

SYDNEY = ZoneInfo("Australia/Sydney")
AT = "2026-03-02T14:00:00+00:00"


def listed(*readiness: dict[str, Any] | None) -> Sessions:
    sessions = [
        {
            "id": f"bus-{n}",
            "evse": f"dc-0{n}/1",
            "started": AT,
            "energy_delivered": "5 kWh",
            "requirement": None,
            "vehicle_max_current": None,
            "priority_class": 0,
            "open": True,
            "ended_at": None,
            "outlook": None,
            **({} if forecast is None else {"readiness": forecast}),
        }
        for n, forecast in enumerate(readiness, start=1)
    ]
    return Sessions.model_validate({"time": AT, "sessions": sessions})


def forecast(n: int, short_wh: float) -> dict[str, Any]:
    return {
        "session": f"bus-{n}",
        "evse": f"dc-0{n}/1",
        "at": AT,
        "departure": "2026-03-02T19:30:00+00:00",
        "need_wh": 250_000.0,
        "expected_wh": 250_000.0 - short_wh,
        "short_wh": short_wh,
        "basis": "plan",
        "cause": None
        if short_wh == 0
        else {"kind": "node_limit", "ref": "db-1", "node": "db-1", "since": AT, "detail": ""},
        "text": "…",
    }


def test_no_session_an_older_controller_and_every_one_ready() -> None:
    assert readiness_lines(listed().sessions, SYDNEY) == ["ready     no open session"]
    older = listed(None, None).sessions
    assert readiness_lines(older, SYDNEY) == ["ready     not forecast (an older controller)"]
    ready = listed(forecast(1, 0.0), forecast(2, 0.0)).sessions
    assert readiness_lines(ready, SYDNEY) == ["ready     every session (2)"]


def test_the_short_ones_most_short_first_in_the_sites_time() -> None:
    answer = listed(forecast(1, 2_000.0), forecast(2, 0.0), forecast(3, 18_000.0))
    assert readiness_lines(answer.sessions, SYDNEY) == [
        "ready     2 of 3 sessions will be short",
        "  dc-03/1 (session bus-3) will be 18.0 kWh short at 2026-03-03 06:30:00+11:00: db-1 is full now (plan)",
        "  dc-01/1 (session bus-1) will be 2.0 kWh short at 2026-03-03 06:30:00+11:00: db-1 is full now (plan)",
    ]
    assert [r["session"] for r in short_json(answer)["short"]] == ["bus-3", "bus-1"]


def test_a_session_a_few_watt_hours_behind_is_not_listed_as_short() -> None:
    """A live serve printed "2 of 2 sessions will be short … will be 0.0 kWh short" for
    two sessions 40 Wh behind their plan (a meter reading late): what reads as 0.0 kWh
    is not a shortfall to list; 0.1 kWh is."""
    answer = listed(forecast(1, 40.0), forecast(2, 60.0))
    assert readiness_lines(answer.sessions, SYDNEY) == [
        "ready     1 of 2 sessions will be short",
        "  dc-02/1 (session bus-2) will be 0.1 kWh short at 2026-03-03 06:30:00+11:00: db-1 is full now (plan)",
    ]
    assert [r["session"] for r in short_json(answer)["short"]] == ["bus-2"]
