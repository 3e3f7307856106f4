"""The headless demo's summary, from figures built here: each vehicle's energy as the
controller recorded it (every session on its EVSE during its stay) against its meter,
and the disagreements named with why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from depotctl.config import load_site
from depotctl.demo.summary import Inputs, render_text, summarise
from tests.conftest import EXAMPLES

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def _vehicle(id_: str, evse: str, arrival: float, departure: float, wh: float) -> dict[str, Any]:
    return {
        "id": id_,
        "evse": evse,
        "arrival": _at(arrival),
        "departure": _at(departure),
        "energy_needed_wh": wh,
        "energy_delivered_wh": wh,
        "met": True,
        "outcome": "left",
    }


def _session(
    id_: str, evse: str, started: float, energy: str, *, open_: bool = False
) -> dict[str, Any]:
    return {
        "id": id_,
        "evse": evse,
        "started": _at(started),
        "energy_delivered": energy,
        "open": open_,
        "ended_at": None if open_ else _at(started + 1),
    }


def _summary(vehicles: list[dict[str, Any]], sessions: list[dict[str, Any]]) -> dict[str, Any]:
    topology, _ = load_site(EXAMPLES / "minimal.yaml")
    end = START + timedelta(hours=24)
    report = {"vehicles": vehicles, "from": START.isoformat(), "to": end.isoformat()}
    return summarise(Inputs(topology, START, end, 300.0, report, sessions, {}, [], []))


def test_each_vehicles_record_is_every_session_of_its_stay_against_its_meter() -> None:
    vehicles = [
        _vehicle("van-1", "chg-01/1", 0, 4, 20_000.0),
        _vehicle("van-2", "chg-01/1", 5, 12, 30_500.5),  # the same EVSE, after van-1
        _vehicle("bus-1", "chg-02/1", 1, 12, 80_000.0),
    ]
    sessions = [
        # started a little before van-1's arrival by the controller's (later) clock
        _session("chg-01:1", "chg-01/1", -0.01, "20 kWh"),
        # van-2's charger rebooted: a second transaction for the vehicle still plugged in
        _session("chg-01:2", "chg-01/1", 5, "10 kWh"),
        _session("chg-01:3", "chg-01/1", 8, "20.5 kWh"),
        # bus-1's end never reached the controller: open, at its last reading
        _session("chg-02:tx", "chg-02/1", 1, "75.2 kWh", open_=True),
    ]
    summary = _summary(vehicles, sessions)
    energy = summary["energy"]
    assert energy["controller_delivered_wh"] == 20_000 + 10_000 + 20_500 + 75_200
    assert energy["controller_sessions_open"] == 1
    assert (energy["vehicles_recorded"], energy["vehicles_agreeing"]) == (3, 2)
    recorded = {v["id"]: v["recorded"] for v in summary["vehicles"]}
    assert recorded["van-1"]["sessions"] == ["chg-01:1"]
    assert recorded["van-2"]["sessions"] == ["chg-01:2", "chg-01:3"]
    assert recorded["van-2"]["difference_wh"] == -0.5  # within a 1.6 meter's resolution
    assert recorded["van-2"]["agrees"]
    [wrong] = energy["disagreements"]
    assert (wrong["id"], wrong["controller_wh"], wrong["difference_wh"]) == (
        "bus-1",
        75_200.0,
        -4_800.0,
    )
    assert wrong["open"] == ["chg-02:tx"]

    text = render_text(summary)
    assert "agrees with the meter for 2 of 3 vehicles; 1 session still open" in text
    assert "bus-1 on chg-02/1: meter 80.000 kWh, controller 75.200 kWh over 1 session" in text


def test_a_vehicle_without_a_session_disagrees_unless_it_got_nothing() -> None:
    vehicles = [
        _vehicle("bus-1", "chg-01/1", 0, 4, 1_000.0),
        {**_vehicle("bus-2", "chg-02/1", 0, 4, 0.0), "energy_needed_wh": None},
    ]
    summary = _summary(vehicles, [])
    [wrong] = summary["energy"]["disagreements"]
    assert (wrong["id"], wrong["sessions"], wrong["difference_wh"]) == ("bus-1", [], -1_000.0)
