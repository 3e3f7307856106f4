"""The reports over real HTTP (uvicorn in a thread, a real SQLite store): a Monday at
the AU bus depot (Australia/Sydney, +11:00) recorded as the controller records it —
sessions started and ended through the API, the chargers' meter readings as the OCPP
side stores them, the grid meter's through POST /telemetry — read back as cost, carbon
and readiness, the figures computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from depotctl.controller.compaction import Compaction
from depotctl.controller.retention import Retention
from depotctl.domain.telemetry import Reading
from tests.controller import test_inputs
from tests.controller.test_inputs import START, Depot, post, problem

# test_inputs' fixtures: one served app for the module, a fresh controller per test
server = test_inputs.server
depot = test_inputs.depot

#: Monday 2026-03-02 00:00 in Sydney (+11:00); the clock stands at START, Tuesday 01:00
MONDAY = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


def at(local_hour: float) -> datetime:
    """Monday's local ``local_hour`` (Sydney, +11:00) in UTC."""
    return MONDAY + timedelta(hours=local_hour)


def record_monday(depot: Depot, vehicles: dict[str, str] | None = None) -> None:
    """Three buses on Monday, each charged at one power for a while (each session of
    the vehicle ``vehicles`` names for it, if any):

    - bus-a on dc-01/1, 22:00–23:00 (off-peak, 0.12 /kWh; carbon 0.71 kg/kWh), 60 kW,
      read every minute: 60 kWh, its register 60 kWh; it needed 50 kWh by 23:30;
    - bus-b on dc-02/1, 13:00–14:00 (shoulder, 0.21 /kWh; 0.54 kg/kWh), 30 kW, read
      every other minute only: 15 kWh of readings, but its register says 40 kWh, which
      is what it is charged for; it needed 60 kWh by 14:00: short by 20 kWh;
    - bus-c on dc-03/1, 15:00–15:30 (peak, 0.38 /kWh; 0.61 kg/kWh), 100 kW: 50 kWh; the
      grid meter m-main read 120 kW meanwhile (the workshop's 20 kW too). It has no
      requirement: the site's default (04:30) makes it depart on Tuesday.
    """
    buses = (
        (
            "bus-a",
            "dc-01",
            at(22),
            60,
            60.0,
            1,
            60_000.0,
            {"energy": "50 kWh", "departure": at(23.5)},
        ),
        (
            "bus-b",
            "dc-02",
            at(13),
            60,
            30.0,
            2,
            40_000.0,
            {"energy": "60 kWh", "departure": at(14)},
        ),
        ("bus-c", "dc-03", at(15), 30, 100.0, 1, 50_000.0, None),
    )
    for name, charger, start, minutes, kw, every, register, need in buses:
        body: dict[str, Any] = {"id": name, "evse": f"{charger}/1", "started": start.isoformat()}
        if vehicles and name in vehicles:
            body["vehicle"] = vehicles[name]
        if need is not None:
            body["requirement"] = {
                "energy": need["energy"],
                "departure": need["departure"].isoformat(),
            }
        assert post(depot, "/sessions", body).status_code == 201
        depot.controller.units().telemetry.put(
            Reading(charger, start + timedelta(minutes=m, seconds=30), power_w=kw * 1000)
            for m in range(0, minutes, every)
        )
        end = {
            "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
            "energy_delivered": f"{register / 1000:g} kWh",
        }
        assert post(depot, f"/sessions/{name}/end", end).status_code == 200
    readings = [
        {
            "node": "m-main",
            "at": (at(15) + timedelta(minutes=m, seconds=30)).isoformat(),
            "power": "120 kW",
        }
        for m in range(30)
    ]
    assert post(depot, "/telemetry", {"readings": readings}).status_code == 200


def report(depot: Depot, kind: str, **params: str) -> dict[str, Any]:
    with depot.client("readonly") as client:
        response = client.get(f"/api/v1/reports/{kind}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_cost_of_a_day_is_the_grid_meter_where_it_read_and_the_sessions_elsewhere(
    depot: Depot,
) -> None:
    record_monday(depot)
    body = report(depot, "cost", since=MONDAY.isoformat())
    assert (body["currency"], body["by"], body["timezone"]) == ("AUD", "day", "Australia/Sydney")
    assert body["until"] == START.isoformat()
    monday, tuesday = body["rows"]
    # Monday, by hand: bus-a 60 kWh × 0.12 = 7.20, bus-b its register's 40 kWh × 0.21 =
    # 8.40 (not its 15 kWh of readings), and 15:00–15:30 from the grid meter, which read:
    # 120 kW × 0.5 h = 60 kWh × 0.38 = 22.80 (bus-c's own 50 kWh are inside it).
    # Energy 60 + 40 + 60 = 160 kWh; cost 7.20 + 8.40 + 22.80 = 38.40 AUD; carbon
    # 60 × 0.71 + 40 × 0.54 + 60 × 0.61 = 42.6 + 21.6 + 36.6 = 100.8 kg CO2e.
    assert monday["key"] == "2026-03-02"
    assert monday["energy_kwh"] == pytest.approx(160.0)
    assert monday["ev_energy_kwh"] == pytest.approx(150.0)
    assert monday["energy_cost"] == 38.40
    assert monday["carbon_kg_co2e"] == pytest.approx(100.8)
    assert (monday["metered_minutes"], monday["minutes"]) == (30, 1440)
    # Tuesday 00:00–01:00 (the clock's now): nothing drawn
    assert (tuesday["key"], tuesday["energy_kwh"], tuesday["energy_cost"]) == (
        "2026-03-03",
        0.0,
        0.0,
    )
    assert body["total"] == {"energy_kwh": 160.0, "energy_cost": 38.40, "carbon_kg_co2e": 100.8}
    # The billing window, March cut to the report: energy 38.40; the peak-period demand
    # charge on the highest quarter-hour, 120 kW (15:00) × 18.60 = 2,232.00; 3.50 /day
    # for the two local days it touches = 7.00; total 2,277.40 AUD.
    [march] = body["billing"]
    assert march["partial"] is True
    assert (march["energy_cost"], march["demand_charge"], march["fixed_charge"]) == (
        38.40,
        2232.0,
        7.0,
    )
    [demand] = march["demand"]
    assert demand["peak_kw"] == pytest.approx(120.0)
    assert datetime.fromisoformat(demand["peak_start"]) == at(15)
    assert march["total"] == 2277.40


def test_by_session_each_session_is_its_own_energy_at_its_times(depot: Depot) -> None:
    record_monday(depot)
    body = report(depot, "cost", since=MONDAY.isoformat(), by="session")
    rows = {row["key"]: row for row in body["rows"]}
    assert [(k, r["evse"], r["energy_kwh"], r["energy_cost"]) for k, r in sorted(rows.items())] == [
        ("bus-a", "dc-01/1", 60.0, 7.20),
        ("bus-b", "dc-02/1", 40.0, 8.40),
        ("bus-c", "dc-03/1", 50.0, 19.00),  # 50 kWh × 0.38
    ]
    assert "ev_energy_kwh" not in rows["bus-a"]
    # the bill is the site's, whatever the rows
    assert body["billing"][0]["total"] == 2277.40


def test_the_carbon_report_gives_kg_per_row_and_the_signal(depot: Depot) -> None:
    record_monday(depot)
    body = report(depot, "carbon", since=MONDAY.isoformat(), until=at(24).isoformat())
    assert body["intensity"] == "hourly profile (Australia/Sydney)"
    [monday] = body["rows"]
    assert monday["carbon_kg_co2e"] == pytest.approx(100.8)
    assert "energy_cost" not in monday


def test_readiness_says_what_each_session_had_by_its_departure(depot: Depot) -> None:
    record_monday(depot)
    body = report(depot, "readiness", since=MONDAY.isoformat(), until=at(30).isoformat())
    rows = {row["session"]: row for row in body["sessions"]}
    assert set(rows) == {"bus-a", "bus-b"}
    assert (rows["bus-a"]["met"], rows["bus-a"]["delivered_kwh"]) == (True, 60.0)
    # bus-b's 40 kWh were all drawn before its 14:00 departure: 20 kWh short of 60
    assert (rows["bus-b"]["met"], rows["bus-b"]["short_kwh"]) == (False, pytest.approx(20.0))
    assert rows["bus-b"]["requirement_source"] == "schedule"
    # bus-c departs at the default 04:30 on Tuesday: after now, counted as ahead
    assert body["ahead"] == 1
    assert body["days"] == [
        {"date": "2026-03-02", "sessions": 2, "met": 1, "short": 1, "short_kwh": 20.0}
    ]


def test_refusals_name_what_is_wrong(depot: Depot) -> None:
    with depot.client("readonly") as client:
        backwards = client.get(
            "/api/v1/reports/cost", params={"since": at(10).isoformat(), "until": at(9).isoformat()}
        )
        future = client.get(
            "/api/v1/reports/cost", params={"since": (START + timedelta(hours=1)).isoformat()}
        )
        empty = client.get("/api/v1/reports/cost", params={"since": MONDAY.isoformat()})
    assert "is not after since" in problem(backwards, 422, "invalid_request")["message"]
    assert "is not in the past" in problem(future, 422, "invalid_request")["message"]
    message = problem(empty, 404, "no_history")["message"]
    assert "no session and no reading of the grid meters (m-main)" in message


def test_session_rows_name_their_vehicle_when_known(depot: Depot) -> None:
    start, end = at(22), at(23)
    body = {"id": "s-42", "evse": "dc-01/1", "started": start.isoformat(), "vehicle": "bus-42"}
    body["requirement"] = {"energy": "50 kWh", "departure": at(23.5).isoformat()}
    assert post(depot, "/sessions", body).status_code == 201
    depot.controller.units().telemetry.put(
        Reading("dc-01", start + timedelta(minutes=m, seconds=30), power_w=60_000.0)
        for m in range(60)
    )
    ended = {"ended_at": end.isoformat(), "energy_delivered": "60 kWh"}
    assert post(depot, "/sessions/s-42/end", ended).status_code == 200
    [row] = report(depot, "cost", since=MONDAY.isoformat(), by="session")["rows"]
    assert (row["key"], row["vehicle"]) == ("s-42", "bus-42")
    readiness = report(depot, "readiness", since=MONDAY.isoformat(), until=at(30).isoformat())
    assert [(s["session"], s["vehicle"]) for s in readiness["sessions"]] == [("s-42", "bus-42")]


#: Monday's sessions by vehicle: bus-42 charged twice (bus-a, bus-c), bus-7 once.
VEHICLES = {"bus-a": "bus-42", "bus-b": "bus-7", "bus-c": "bus-42"}


@pytest.mark.parametrize("kind", ["cost", "carbon"])
def test_a_vehicles_report_is_its_sessions_rows_of_the_whole_report(
    depot: Depot, kind: str
) -> None:
    record_monday(depot, VEHICLES)
    since = MONDAY.isoformat()
    every = report(depot, kind, since=since, by="session")
    body = report(depot, kind, since=since, vehicle="bus-42")
    assert body["by"] == "session"  # a vehicle's report is per session by default
    its = [row for row in every["rows"] if row["vehicle"] == "bus-42"]
    assert [row["key"] for row in its] == ["bus-c", "bus-a"]
    assert body["rows"] == its
    figures = ["energy_kwh", "carbon_kg_co2e"] + (["energy_cost"] if kind == "cost" else [])
    for figure in figures:
        assert body["total"][figure] == pytest.approx(sum(row[figure] for row in its))
    if kind == "cost":
        assert body["total"]["energy_cost"] == pytest.approx(7.20 + 19.00)
        assert body["billing"] == []  # a bill is the site's


def test_a_vehicles_readiness_is_its_departures(depot: Depot) -> None:
    record_monday(depot, VEHICLES)
    window = {"since": MONDAY.isoformat(), "until": at(30).isoformat()}
    body = report(depot, "readiness", vehicle="bus-7", **window)
    assert [(s["session"], s["vehicle"], s["met"]) for s in body["sessions"]] == [
        ("bus-b", "bus-7", False)
    ]
    assert body["ahead"] == 0
    ahead = report(depot, "readiness", vehicle="bus-42", **window)
    assert ([s["session"] for s in ahead["sessions"]], ahead["ahead"]) == (["bus-a"], 1)


def test_a_vehicle_without_a_session_or_by_day_is_refused(depot: Depot) -> None:
    record_monday(depot, VEHICLES)
    since = MONDAY.isoformat()
    with depot.client("readonly") as client:
        unknown = [
            client.get(f"/api/v1/reports/{kind}", params={"since": since, "vehicle": "bus-99"})
            for kind in ("cost", "carbon", "readiness")
        ]
        by_day = client.get(
            "/api/v1/reports/cost", params={"since": since, "vehicle": "bus-42", "by": "day"}
        )
    for response in unknown:
        assert "vehicle bus-99" in problem(response, 404, "no_history")["message"]
    message = problem(by_day, 422, "invalid_request")["message"]
    assert "cannot be split by vehicle" in message


def test_a_period_past_the_raw_retention_reports_from_quarter_hours_to_the_cent(
    depot: Depot,
) -> None:
    """40 days on, Monday's minutes are folded into quarter hours (the compaction pass
    of --keep-telemetry 30d): every report of Monday reads the same as before the pass."""
    record_monday(depot)
    depot.clock.advance(timedelta(days=40).total_seconds())
    window = {"since": MONDAY.isoformat(), "until": at(30).isoformat()}
    asked = [("cost", "day"), ("cost", "session"), ("carbon", "day"), ("readiness", "day")]
    before = [report(depot, kind, by=by, **window) for kind, by in asked]

    counts = Compaction(depot.controller.units, Retention()).run(depot.clock.now())
    assert counts.minutes_folded == 60 + 30 + 30 + 30  # bus-a, bus-b, bus-c, m-main
    telemetry = depot.controller.units().telemetry
    assert telemetry.history("m-main") == [] and len(telemetry.quarters("m-main")) == 2

    assert [report(depot, kind, by=by, **window) for kind, by in asked] == before
    monday = before[0]["rows"][0]
    assert (monday["energy_cost"], monday["metered_minutes"]) == (38.40, 30)
