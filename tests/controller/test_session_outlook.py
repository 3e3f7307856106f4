"""Each open session's outlook over real HTTP (uvicorn in a thread, a real SQLite
store): the expected energy at departure if the limit it has now held, the
shortfall and the constraint that causes it — on the AU bus depot, where four
urgent buses fill the 800 A board db-dc-north."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.controller import test_inputs
from tests.controller.test_inputs import START, Depot, iso, post, problem, session

# test_inputs' fixtures: one served app for the module, a fresh controller per test
server = test_inputs.server
depot = test_inputs.depot

#: a three-phase 230 V EVSE: 3 × 230 W per amp per line
W_PER_A = 690.0
#: four buses on row 1 (board db-dc-north) that need 300 kWh within 1.5 h
NEAR = ("dc-01/1", "dc-02/1", "dc-03/1", "dc-04/1")


def start_buses(depot: Depot) -> None:
    for n, evse in enumerate(NEAR, start=1):
        body = session(
            id=f"bus-{n}",
            evse=evse,
            requirement={"energy": "300 kWh", "departure": iso(90)},
            vehicle_max_current=None,
        )
        assert post(depot, "/sessions", body).status_code == 201
    # on the other board, with the whole night ahead
    relaxed = session(
        id="bus-9",
        evse="dc-13/1",
        requirement={"energy": "100 kWh", "departure": iso(600)},
        vehicle_max_current=None,
    )
    assert post(depot, "/sessions", relaxed).status_code == 201


def listed(depot: Depot, **params: str) -> dict[str, Any]:
    with depot.client("readonly") as client:
        response = client.get("/api/v1/sessions", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def state_evses(depot: Depot) -> dict[str, dict[str, Any]]:
    with depot.client("readonly") as client:
        response = client.get("/api/v1/state")
    assert response.status_code == 200
    return {evse["id"]: evse for evse in response.json()["evses"]}


def test_a_near_departure_behind_a_full_board_is_short_naming_the_board(depot: Depot) -> None:
    start_buses(depot)
    body = listed(depot)
    assert body["time"] == START.isoformat()
    sessions = {s["id"]: s for s in body["sessions"]}
    evses = state_evses(depot)
    outlook = sessions["bus-1"]["outlook"]
    evse = evses["dc-01/1"]
    assert evse["state"] == "charging"
    # the expected energy: 5 kWh so far + the limit in /state for 1.5 h
    assert outlook["limit_a"] == evse["limit_a"]
    expected = 5_000 + evse["limit_a"] * W_PER_A * 1.5
    assert expected < 300_000
    assert outlook["expected_energy_wh"] == round(expected, 3)
    assert outlook["shortfall_wh"] == round(300_000 - expected, 3)
    assert outlook["on_track"] is False and outlook["overdue"] is False
    assert outlook["required_energy_wh"] == 300_000
    assert outlook["departure"] == iso(90)
    assert outlook["requirement_source"] == "schedule"
    hours = (300_000 - 5_000) / (evse["limit_a"] * W_PER_A)
    complete_at = datetime.fromisoformat(outlook["complete_at"])
    assert abs(complete_at - (START + timedelta(hours=hours))) < timedelta(seconds=1)
    # the cause: the board's static current limit, exactly as /state gives it
    constraint = outlook["constraint"]
    assert constraint["kind"] == "node_limit"
    assert constraint["ref"] == "db-dc-north"
    assert "db-dc-north" in constraint["detail"]
    assert constraint == evse["binding"]


def test_a_session_with_the_night_ahead_is_on_track(depot: Depot) -> None:
    start_buses(depot)
    outlook = {s["id"]: s for s in listed(depot)["sessions"]}["bus-9"]["outlook"]
    assert outlook["on_track"] is True
    assert outlook["shortfall_wh"] == 0
    assert outlook["expected_energy_wh"] == 100_000
    assert outlook["constraint"] is None
    assert datetime.fromisoformat(outlook["complete_at"]) < START + timedelta(minutes=600)


def test_one_session_has_its_outlook_too(depot: Depot) -> None:
    start_buses(depot)
    every = {s["id"]: s for s in listed(depot)["sessions"]}
    with depot.client("readonly") as client:
        response = client.get("/api/v1/sessions/bus-1")
    assert response.status_code == 200
    one = response.json()
    assert one["time"] == START.isoformat()
    assert one["id"] == "bus-1" and one["evse"] == "dc-01/1"
    assert one["outlook"] == every["bus-1"]["outlook"]


def test_an_unknown_session_is_404(depot: Depot) -> None:
    with depot.client("readonly") as client:
        response = client.get("/api/v1/sessions/bus-0000")
    assert problem(response, 404, "not_found")["session"] == "bus-0000"


def test_past_its_departure_a_session_is_overdue_with_what_it_has(depot: Depot) -> None:
    start_buses(depot)
    depot.clock.advance(2 * 3600)  # 30 min past the departure of bus-1 .. bus-4
    body = listed(depot)
    assert body["time"] == iso(120)
    outlook = {s["id"]: s for s in body["sessions"]}["bus-1"]["outlook"]
    assert outlook["overdue"] is True
    assert outlook["expected_energy_wh"] == 5_000  # nobody reported more energy
    assert outlook["shortfall_wh"] == 295_000
    assert outlook["on_track"] is False
    assert outlook["constraint"] is not None


def test_a_session_without_a_requirement_is_measured_against_the_site_default(
    depot: Depot,
) -> None:
    """The AU depot's default: 250 kWh by 04:30 Sydney; START is 01:00 there."""
    body = session(requirement=None, vehicle_max_current=None)
    del body["requirement"]
    assert post(depot, "/sessions", body).status_code == 201
    [listed_session] = listed(depot)["sessions"]
    assert listed_session["requirement"] is None
    outlook = listed_session["outlook"]
    assert outlook["requirement_source"] == "default"
    assert outlook["required_energy_wh"] == 250_000
    assert outlook["departure"] == iso(210)  # 04:30 +11:00
    assert outlook["shortfall_wh"] == round(250_000 - outlook["expected_energy_wh"], 3)


def test_ended_sessions_have_no_outlook(depot: Depot) -> None:
    start_buses(depot)
    assert post(depot, "/sessions/bus-2/end", {}).status_code == 200
    every = {s["id"]: s for s in listed(depot, all="true")["sessions"]}
    assert every["bus-2"]["open"] is False and every["bus-2"]["outlook"] is None
    assert every["bus-1"]["outlook"] is not None
    with depot.client("readonly") as client:
        one = client.get("/api/v1/sessions/bus-2").json()
    assert one["outlook"] is None and one["ended_at"] is not None


def allocations(depot: Depot) -> float:
    value = depot.controller.metrics.registry.get_sample_value("depotctl_allocations_total")
    assert value is not None
    return value


def test_the_listing_allocates_once_not_once_per_session(depot: Depot) -> None:
    start_buses(depot)
    before = allocations(depot)
    assert len(listed(depot)["sessions"]) == 5
    assert allocations(depot) == before + 1
