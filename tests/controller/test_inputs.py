"""The API's inputs over real HTTP (uvicorn in a thread, a real SQLite store in
``tmp_path``): envelopes, sessions and requirements, telemetry; each write journaled
and signalled to the control loop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from depotctl.controller.app import create_app
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.errors import MAX_BODY_BYTES
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.domain.phases import Phase
from tests.controller.test_app import AU_DEPOT, Running, serving

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


class Depot(Running):
    changes: list[str]

    def journal(self, **params: str) -> list[dict[str, Any]]:
        with self.client() as client:
            response = client.get("/api/v1/journal", params=params)
        assert response.status_code == 200
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries


def fresh_controller(state_dir: Path) -> tuple[Controller, SimClock]:
    """The AU bus depot seeded into a new store, on a clock standing at START until a
    test advances it."""
    clock = SimClock(START, monotonic=lambda: 0.0)
    controller = Controller(
        Store.open(state_dir / "depotctl.sqlite"), clock, base_dir=AU_DEPOT.parent
    )
    controller.seed(AU_DEPOT, AU_DEPOT.read_text(encoding="utf-8"), author="test")
    return controller, clock


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str, Tokens]]:
    """One server for the module; each test gives it a controller of its own."""
    state_dir = tmp_path_factory.mktemp("state")
    controller, _ = fresh_controller(state_dir)
    tokens = load_or_create_tokens(state_dir)
    app = create_app(controller, tokens)
    try:
        with serving(app) as url:
            yield app, url, tokens
    finally:
        controller.close()


@pytest.fixture
def depot(server: tuple[FastAPI, str, Tokens], tmp_path: Path) -> Iterator[Depot]:
    """The served app with a fresh controller (its own SQLite file in ``tmp_path``);
    ``changes`` collects every ``controller.changed`` reason."""
    app, url, tokens = server
    controller, clock = fresh_controller(tmp_path)
    changes: list[str] = []
    controller.on_change(changes.append)
    previous = app.state.controller
    app.state.controller = controller
    running = Depot(url, tokens, clock, controller)
    running.changes = changes
    try:
        yield running
    finally:
        app.state.controller = previous
        controller.close()


def iso(minutes: float) -> str:
    """START plus ``minutes``, as ISO 8601 UTC (the API's own output)."""
    return (START + timedelta(minutes=minutes)).isoformat()


def envelope(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "env-1",
        "target": "gc-main",
        "limit": "800 kW",
        "start": "2026-03-03T02:00:00+11:00",  # START + 1 h
        "end": "2026-03-03T04:00:00+11:00",  # START + 3 h
    }
    body.update(fields)
    return body


def session(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "bus-0417",
        "evse": "dc-01/1",
        "energy_delivered": "5 kWh",
        "requirement": {"energy": "180 kWh", "departure": "2026-03-03T05:30:00+11:00"},
        "vehicle_max_current": "200 A",
    }
    body.update(fields)
    return body


def post(depot: Depot, path: str, body: Any, token: str | None = "admin") -> httpx.Response:
    with depot.client(token) as client:
        return client.post("/api/v1" + path, json=body)


def envelopes(depot: Depot) -> dict[str, Any]:
    with depot.client("readonly") as client:
        response = client.get("/api/v1/envelopes")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


# Envelopes


def test_submitting_an_envelope_stores_journals_and_signals_it(depot: Depot) -> None:
    response = post(depot, "/envelopes", envelope())
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "env-1"
    assert body["source"] == "local"
    assert body["limit"] == "800 kW"
    assert body["direction"] == "import"
    assert body["start"] == iso(60) and body["end"] == iso(180)
    assert body["received_at"] == START.isoformat()
    assert depot.controller.units().envelopes.get("env-1") is not None
    [entry] = depot.journal(envelope="env-1")
    assert entry["kind"] == "envelope.received"
    assert entry["envelope"] == "env-1"
    assert "800 kW on gc-main" in entry["message"]
    assert entry["data"]["limit"] == "800 kW"
    assert depot.changes == ["envelope env-1 received"]


def test_envelopes_are_pending_before_their_window_and_active_inside(depot: Depot) -> None:
    assert post(depot, "/envelopes", envelope()).status_code == 201
    [listed] = envelopes(depot)["envelopes"]
    assert listed["state"] == "pending"
    assert listed["source_online"] is True
    assert "window starts" in listed["reason"]

    depot.clock.advance(90 * 60)
    [listed] = envelopes(depot)["envelopes"]
    assert listed["state"] == "active"
    assert listed["limit"] == "800 kW"

    depot.clock.advance(2 * 3600)
    [listed] = envelopes(depot)["envelopes"]
    assert listed["state"] == "expired"


def test_envelopes_list_the_sources_and_whether_they_are_online(depot: Depot) -> None:
    sources = {s["id"]: s for s in envelopes(depot)["sources"]}
    assert sources["ausgrid-oscp"]["online"] is False  # never heard from
    assert sources["ausgrid-oscp"]["offline_after_s"] == 300
    assert "local" not in sources

    assert post(depot, "/envelopes", envelope(source="ausgrid-oscp")).status_code == 201
    sources = {s["id"]: s for s in envelopes(depot)["sources"]}
    assert sources["ausgrid-oscp"]["online"] is True  # the submission counts as heard
    assert sources["ausgrid-oscp"]["last_heard"] == START.isoformat()

    depot.clock.advance(301)
    listed = envelopes(depot)
    assert {s["id"]: s["online"] for s in listed["sources"]} == {"ausgrid-oscp": False}
    assert listed["envelopes"][0]["source_online"] is False


def test_a_current_envelope_on_some_phases_keeps_its_unit_and_phases(depot: Depot) -> None:
    body = envelope(id="env-a", target="db-dc-north", limit="150 A", phases=["L2", "L1"])
    response = post(depot, "/envelopes", body)
    assert response.status_code == 201
    assert response.json()["limit"] == "150 A"
    assert response.json()["phases"] == ["L1", "L2"]
    stored = depot.controller.units().envelopes.get("env-a")
    assert stored is not None
    assert stored.limit == 150 and stored.unit == "A"
    assert stored.phases == frozenset({Phase.L1, Phase.L2})


def test_phases_on_a_power_envelope_are_refused(depot: Depot) -> None:
    body = problem(post(depot, "/envelopes", envelope(phases=["L1"])), 422, "invalid_request")
    assert "current limit" in body["message"]


def test_resubmitting_the_same_envelope_is_200_and_journaled_once(depot: Depot) -> None:
    assert post(depot, "/envelopes", envelope()).status_code == 201
    depot.clock.advance(30)
    response = post(depot, "/envelopes", envelope())
    assert response.status_code == 200
    assert response.json()["received_at"] == START.isoformat()  # the first receipt
    assert [e["kind"] for e in depot.journal(envelope="env-1")] == ["envelope.received"]


def test_the_openapi_declares_both_answers_to_a_submission(depot: Depot) -> None:
    # found by the API fuzz's status code conformance check (test_fuzz.py)
    paths = httpx.get(depot.url + "/openapi.json").json()["paths"]
    assert {"200", "201"} <= set(paths["/api/v1/envelopes"]["post"]["responses"])


def test_the_same_id_with_other_content_is_409(depot: Depot) -> None:
    assert post(depot, "/envelopes", envelope()).status_code == 201
    body = problem(post(depot, "/envelopes", envelope(limit="700 kW")), 409, "conflict")
    assert body["envelope"] == "env-1"
    assert "different content" in body["message"]
    stored = depot.controller.units().envelopes.get("env-1")
    assert stored is not None and stored.limit == 800_000


def test_an_envelope_ending_before_it_starts_is_400(depot: Depot) -> None:
    body = envelope(start="2026-03-03T04:00:00+11:00", end="2026-03-03T02:00:00+11:00")
    error = problem(post(depot, "/envelopes", body), 400, "invalid_request")
    assert "not after its start" in error["message"]
    assert depot.controller.units().envelopes.get("env-1") is None
    assert depot.changes == []


def test_an_envelope_that_already_ended_is_400(depot: Depot) -> None:
    body = envelope(start="2026-03-02T10:00:00Z", end="2026-03-02T12:00:00Z")
    error = problem(post(depot, "/envelopes", body), 400, "invalid_request")
    assert "has passed" in error["message"]


def test_a_naive_time_is_refused(depot: Depot) -> None:
    body = problem(
        post(depot, "/envelopes", envelope(start="2026-03-03T02:00:00")), 422, "invalid_request"
    )
    assert body["problems"][0]["where"] == "body.start"
    assert "offset" in body["message"]


# Found by the API fuzz (test_fuzz.py): each was a 500 (OverflowError converting to UTC,
# or SQLite's 64-bit integers), and a session stored at the end of time broke /state.
OUT_OF_SPAN = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "1969-12-31T23:59:59Z"]
TIMED_WRITES = [
    ("/envelopes", lambda t: envelope(start=t), "body.start"),
    ("/envelopes", lambda t: envelope(end=t), "body.end"),
    ("/sessions", lambda t: session(started=t), "body.started"),
    ("/sessions", lambda t: session(requirement={"energy": "1 kWh", "departure": t}), None),
    ("/telemetry", lambda t: {"readings": [{"node": "workshop", "at": t, "power": "1 kW"}]}, None),
]


@pytest.mark.parametrize("at", OUT_OF_SPAN, ids=["year-1", "year-9999", "before-1970"])
@pytest.mark.parametrize(
    ("path", "body", "where"), TIMED_WRITES, ids=["start", "end", "started", "departure", "at"]
)
def test_a_time_outside_the_span_is_422_and_stores_nothing(
    depot: Depot, at: str, path: str, body: Any, where: str | None
) -> None:
    error = problem(post(depot, path, body(at)), 422, "invalid_request")
    assert "outside the times the controller takes" in error["message"]
    if where is not None:
        assert error["problems"][0]["where"] == where
    assert depot.controller.units().envelopes.all() == []
    assert depot.controller.units().sessions.all() == []
    assert depot.changes == []


def test_ending_a_session_outside_the_span_is_422(depot: Depot) -> None:
    assert post(depot, "/sessions", session()).status_code == 201
    for at in OUT_OF_SPAN:
        problem(post(depot, "/sessions/bus-0417/end", {"ended_at": at}), 422, "invalid_request")
    assert depot.controller.units().sessions.get("bus-0417").is_open  # type: ignore[union-attr]


def test_times_at_the_ends_of_the_span_keep_the_state_answering(depot: Depot) -> None:
    first, last = "1970-01-01T00:00:00Z", "9998-12-31T23:59:59.999999Z"
    assert post(depot, "/envelopes", envelope(start=first, end=last)).status_code == 201
    late = session(started=last, requirement=None)
    assert post(depot, "/sessions", late).status_code == 201
    reading = {"node": "workshop", "at": first, "power": "1 kW"}
    assert post(depot, "/telemetry", {"readings": [reading]}).status_code == 200
    with depot.client() as client:
        for path in ("/api/v1/state", "/api/v1/envelopes", "/api/v1/sessions", "/api/v1/snapshot"):
            assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**31])
def test_a_priority_beyond_32_bits_is_422(depot: Depot, value: int) -> None:
    error = problem(post(depot, "/envelopes", envelope(priority=value)), 422, "invalid_request")
    assert error["problems"][0]["where"] == "body.priority"
    if value > 0:
        body = session(priority_class=value)
        error = problem(post(depot, "/sessions", body), 422, "invalid_request")
        assert error["problems"][0]["where"] == "body.priority_class"
    assert depot.controller.units().envelopes.all() == []
    assert depot.controller.units().sessions.all() == []


@pytest.mark.parametrize(
    ("limit", "words"),
    [(800, "no unit"), ("800", "no unit"), ("800 kWh", "energy"), ("-5 kW", "negative")],
    ids=["number", "string-without-unit", "energy", "negative"],
)
def test_a_limit_needs_a_power_or_current_unit(depot: Depot, limit: Any, words: str) -> None:
    body = problem(post(depot, "/envelopes", envelope(limit=limit)), 422, "invalid_request")
    assert body["problems"][0]["where"] == "body.limit"
    assert words in body["message"]


def test_an_unknown_target_is_404_with_did_you_mean(depot: Depot) -> None:
    body = problem(post(depot, "/envelopes", envelope(target="gc-mian")), 404, "not_found")
    assert body["node"] == "gc-mian"
    assert body["did_you_mean"] == "gc-main"
    assert 'did you mean "gc-main"' in body["message"]


def test_a_target_that_cannot_carry_a_limit_is_400(depot: Depot) -> None:
    body = problem(post(depot, "/envelopes", envelope(target="workshop")), 400, "invalid_request")
    assert 'site load "workshop" cannot carry a limit' in body["message"]


def test_an_undeclared_source_is_404_with_did_you_mean(depot: Depot) -> None:
    body = problem(post(depot, "/envelopes", envelope(source="ausgrid-ocsp")), 404, "not_found")
    assert body["did_you_mean"] == "ausgrid-oscp"


def test_unknown_fields_are_refused(depot: Depot) -> None:
    body = problem(post(depot, "/envelopes", envelope(limt="800 kW")), 422, "invalid_request")
    assert any(p["where"] == "body.limt" for p in body["problems"])


def test_withdrawing_an_envelope_journals_and_signals_once(depot: Depot) -> None:
    assert post(depot, "/envelopes", envelope(start=iso(0))).status_code == 201
    depot.clock.advance(60)
    response = post(depot, "/envelopes/env-1/withdraw", None)
    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"
    assert response.json()["withdrawn_at"] == iso(1)
    kinds = [e["kind"] for e in depot.journal(envelope="env-1")]
    assert kinds == ["envelope.received", "envelope.withdrawn"]
    assert depot.changes == ["envelope env-1 received", "envelope env-1 withdrawn"]

    depot.clock.advance(60)
    again = post(depot, "/envelopes/env-1/withdraw", None)
    assert again.status_code == 200
    assert again.json()["withdrawn_at"] == iso(1)  # the first withdrawal holds
    assert len(depot.journal(envelope="env-1")) == 2
    assert len(depot.changes) == 2


def test_a_withdrawn_envelope_cannot_be_submitted_again(depot: Depot) -> None:
    assert post(depot, "/envelopes", envelope()).status_code == 201
    assert post(depot, "/envelopes/env-1/withdraw", None).status_code == 200
    body = problem(post(depot, "/envelopes", envelope()), 409, "conflict")
    assert "withdrawn" in body["message"]


def test_withdrawing_an_unknown_envelope_is_404(depot: Depot) -> None:
    body = problem(post(depot, "/envelopes/nope/withdraw", None), 404, "not_found")
    assert body["envelope"] == "nope"


# Sessions


def test_starting_a_session_stores_journals_and_signals_it(depot: Depot) -> None:
    response = post(depot, "/sessions", session())
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "bus-0417" and body["evse"] == "dc-01/1" and body["open"] is True
    assert body["started"] == START.isoformat()  # default: the controller's now
    assert body["energy_delivered"] == "5 kWh"
    assert body["vehicle_max_current"] == "200 A"
    assert body["energy_delivered_wh"] == 5000.0
    assert body["requirement"] == {
        "energy": "180 kWh",
        "energy_wh": 180000.0,
        "departure": "2026-03-02T18:30:00+00:00",
        "source": "schedule",
    }
    record = depot.controller.units().sessions.get("bus-0417")
    assert record is not None and record.session.energy_delivered_wh == 5000
    [entry] = depot.journal(session="bus-0417")
    assert (entry["kind"], entry["evse"], entry["session"]) == (
        "session.started",
        "dc-01/1",
        "bus-0417",
    )
    assert depot.journal(evse="dc-01/1") == [entry]
    assert depot.changes == ["session bus-0417 started on dc-01/1"]


def test_sessions_list_open_ones_and_all_on_request(depot: Depot) -> None:
    assert post(depot, "/sessions", session()).status_code == 201
    assert post(depot, "/sessions", session(id="bus-0420", evse="dc-02/1")).status_code == 201
    assert post(depot, "/sessions/bus-0417/end", {}).status_code == 200
    with depot.client("readonly") as client:
        open_now = client.get("/api/v1/sessions").json()["sessions"]
        every = client.get("/api/v1/sessions", params={"all": "true"}).json()["sessions"]
    assert [s["id"] for s in open_now] == ["bus-0420"]
    assert sorted(s["id"] for s in every) == ["bus-0417", "bus-0420"]


@pytest.mark.parametrize(
    ("evse", "close"), [("dc-1/1", "dc-01/1"), ("dc-01", "dc-01/1"), ("dc-01/9", "dc-01/1")]
)
def test_an_unknown_evse_is_404_with_did_you_mean(depot: Depot, evse: str, close: str) -> None:
    body = problem(post(depot, "/sessions", session(evse=evse)), 404, "not_found")
    assert body["evse"] == evse
    assert body["did_you_mean"] == close
    assert f'did you mean "{close}"' in body["message"]


def test_a_session_id_taken_is_409(depot: Depot) -> None:
    assert post(depot, "/sessions", session()).status_code == 201
    body = problem(post(depot, "/sessions", session(evse="dc-02/1")), 409, "conflict")
    assert body["session"] == "bus-0417"
    record = depot.controller.units().sessions.get("bus-0417")
    assert record is not None and record.session.evse_id == "dc-01/1"


def test_a_second_open_session_on_an_evse_is_409(depot: Depot) -> None:
    assert post(depot, "/sessions", session()).status_code == 201
    body = problem(post(depot, "/sessions", session(id="bus-0999")), 409, "conflict")
    assert "already has an open session" in body["message"]
    assert depot.journal(session="bus-0999") == []


def test_a_departure_before_the_start_is_400(depot: Depot) -> None:
    requirement = {"energy": "180 kWh", "departure": "2026-03-02T13:00:00Z"}
    body = problem(
        post(depot, "/sessions", session(requirement=requirement)), 400, "invalid_request"
    )
    assert "not after it started" in body["message"]


def test_a_requirement_needs_an_energy_not_a_power(depot: Depot) -> None:
    requirement = {"energy": "180 kW", "departure": "2026-03-03T05:30:00+11:00"}
    body = problem(
        post(depot, "/sessions", session(requirement=requirement)), 422, "invalid_request"
    )
    assert body["problems"][0]["where"] == "body.requirement.energy"


def test_ending_a_session_journals_the_energy_delivered(depot: Depot) -> None:
    assert post(depot, "/sessions", session(started=iso(-30))).status_code == 201
    depot.clock.advance(3600)
    response = post(depot, "/sessions/bus-0417/end", {"energy_delivered": "152.5 kWh"})
    assert response.status_code == 200
    body = response.json()
    assert body["open"] is False
    assert body["ended_at"] == iso(60)
    assert body["energy_delivered"] == "152.5 kWh"
    entries = depot.journal(session="bus-0417")
    assert [e["kind"] for e in entries] == ["session.started", "session.ended"]
    assert entries[1]["evse"] == "dc-01/1"
    assert entries[1]["data"]["energy_delivered_wh"] == 152_500
    assert "152.5 kWh delivered" in entries[1]["message"]
    assert depot.changes[-1] == "session bus-0417 ended on dc-01/1"


def test_ending_keeps_the_last_energy_when_none_is_given(depot: Depot) -> None:
    assert post(depot, "/sessions", session()).status_code == 201
    body = post(depot, "/sessions/bus-0417/end", {"ended_at": iso(10)}).json()
    assert body["energy_delivered"] == "5 kWh"
    assert body["ended_at"] == iso(10)


def test_ending_before_the_start_is_400(depot: Depot) -> None:
    assert post(depot, "/sessions", session()).status_code == 201
    response = post(depot, "/sessions/bus-0417/end", {"ended_at": iso(-10)})
    problem(response, 400, "invalid_request")
    record = depot.controller.units().sessions.get("bus-0417")
    assert record is not None and record.is_open


def test_ending_twice_is_409_and_an_unknown_session_404(depot: Depot) -> None:
    assert post(depot, "/sessions", session()).status_code == 201
    assert post(depot, "/sessions/bus-0417/end", {}).status_code == 200
    problem(post(depot, "/sessions/bus-0417/end", {}), 409, "conflict")
    body = problem(post(depot, "/sessions/bus-9999/end", {}), 404, "not_found")
    assert body["session"] == "bus-9999"


def test_the_fleet_schedule_sets_a_running_sessions_requirement(depot: Depot) -> None:
    assert post(depot, "/sessions", session(requirement=None)).status_code == 201
    requirement = {"energy": "220 kWh", "departure": "2026-03-03T06:00:00+11:00"}
    with depot.client() as client:
        response = client.put("/api/v1/sessions/bus-0417/requirement", json=requirement)
    assert response.status_code == 200
    assert response.json()["requirement"]["energy"] == "220 kWh"
    record = depot.controller.units().sessions.get("bus-0417")
    assert record is not None and record.session.requirement is not None
    assert record.session.requirement.energy_wh == 220_000
    assert record.session.requirement.departure == datetime(2026, 3, 2, 19, tzinfo=UTC)
    entry = depot.journal(session="bus-0417")[-1]
    assert (entry["kind"], entry["evse"]) == ("session.requirement", "dc-01/1")
    assert "220 kWh" in entry["message"]
    assert depot.changes[-1] == "session bus-0417 requirement"


def test_an_ended_sessions_requirement_cannot_change(depot: Depot) -> None:
    assert post(depot, "/sessions", session()).status_code == 201
    assert post(depot, "/sessions/bus-0417/end", {}).status_code == 200
    requirement = {"energy": "220 kWh", "departure": "2026-03-03T06:00:00+11:00"}
    with depot.client() as client:
        response = client.put("/api/v1/sessions/bus-0417/requirement", json=requirement)
    problem(response, 409, "conflict")


# Telemetry


def test_telemetry_keeps_the_latest_reading_per_node_and_signals(depot: Depot) -> None:
    readings = [
        {"node": "workshop", "at": iso(0), "power": "42 kW"},
        {"node": "m-main", "at": iso(0), "current": {"L1": "410 A", "L2": "400 A", "L3": "0.4 kA"}},
    ]
    response = post(depot, "/telemetry", {"readings": readings})
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "nodes": ["m-main", "workshop"]}
    stored = depot.controller.units().telemetry.latest()
    assert stored["workshop"].power_w == 42_000
    assert stored["m-main"].current_a == {Phase.L1: 410, Phase.L2: 400, Phase.L3: 400}
    assert stored["m-main"].at == START
    assert depot.changes == ["telemetry from m-main, workshop"]


def test_telemetry_for_an_unknown_node_is_404_with_did_you_mean(depot: Depot) -> None:
    readings = [{"node": "workshp", "at": iso(0), "power": "42 kW"}]
    body = problem(post(depot, "/telemetry", {"readings": readings}), 404, "not_found")
    assert body["did_you_mean"] == "workshop"
    assert depot.controller.units().telemetry.latest() == {}


def test_telemetry_for_a_charger_is_400(depot: Depot) -> None:
    readings = [{"node": "dc-01", "at": iso(0), "power": "42 kW"}]
    body = problem(post(depot, "/telemetry", {"readings": readings}), 400, "invalid_request")
    assert "OCPP" in body["message"]


@pytest.mark.parametrize(
    "reading",
    [
        {"node": "workshop", "at": iso(0)},
        {"node": "workshop", "at": iso(0), "power": 42},
        {"node": "workshop", "at": iso(0), "current": {"L4": "10 A"}},
        {"node": "workshop", "at": "2026-03-02T14:00:00", "power": "42 kW"},
    ],
    ids=["nothing-measured", "no-unit", "no-such-phase", "naive-time"],
)
def test_malformed_readings_are_422(depot: Depot, reading: dict[str, Any]) -> None:
    problem(post(depot, "/telemetry", {"readings": [reading]}), 422, "invalid_request")
    assert depot.changes == []


# Tokens and limits


WRITES = [
    ("POST", "/api/v1/envelopes", envelope()),
    ("POST", "/api/v1/envelopes/env-1/withdraw", None),
    ("POST", "/api/v1/sessions", session()),
    ("POST", "/api/v1/sessions/bus-0417/end", {}),
    ("PUT", "/api/v1/sessions/bus-0417/requirement", {"energy": "1 kWh", "departure": iso(9)}),
    (
        "POST",
        "/api/v1/telemetry",
        {"readings": [{"node": "workshop", "at": iso(0), "power": "1 kW"}]},
    ),
]
WRITE_IDS = ["submit", "withdraw", "start", "end", "requirement", "telemetry"]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=WRITE_IDS)
def test_the_readonly_token_cannot_write(depot: Depot, method: str, path: str, body: Any) -> None:
    with depot.client("readonly") as client:
        response = client.request(method, path, json=body)
    problem(response, 403, "forbidden")
    assert depot.changes == []
    assert depot.controller.units().envelopes.all() == []
    assert depot.controller.units().sessions.all() == []


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=WRITE_IDS)
def test_writes_without_a_token_are_401(depot: Depot, method: str, path: str, body: Any) -> None:
    with depot.client(None) as client:
        response = client.request(method, path, json=body)
    problem(response, 401, "unauthorized")
    assert depot.changes == []


def test_reads_without_a_token_are_401(depot: Depot) -> None:
    with depot.client(None) as client:
        problem(client.get("/api/v1/envelopes"), 401, "unauthorized")
        problem(client.get("/api/v1/sessions"), 401, "unauthorized")


def test_an_envelope_body_over_one_mib_is_413(depot: Depot) -> None:
    huge = envelope(id="env-" + "x" * MAX_BODY_BYTES)
    problem(post(depot, "/envelopes", huge), 413, "too_large")
    assert depot.controller.units().envelopes.all() == []


def test_openapi_publishes_the_inputs(depot: Depot) -> None:
    paths = httpx.get(depot.url + "/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/envelopes"])
    assert "post" in paths["/api/v1/envelopes/{envelope_id}/withdraw"]
    assert {"get", "post"} <= set(paths["/api/v1/sessions"])
    assert "post" in paths["/api/v1/sessions/{session_id}/end"]
    assert "put" in paths["/api/v1/sessions/{session_id}/requirement"]
    assert "post" in paths["/api/v1/telemetry"]


def test_a_reading_stamped_ahead_of_the_controller_is_refused(depot: Depot) -> None:
    """Kept, it would hold back every true reading of its node until its time came."""
    ahead = {"node": "workshop", "at": iso(10), "power": "42 kW"}
    body = problem(post(depot, "/telemetry", {"readings": [ahead]}), 422, "invalid_request")
    assert "check the meter's clock" in body["message"]
    assert "workshop" not in depot.controller.units().telemetry.latest()
    skewed = {"node": "workshop", "at": iso(0.5), "power": "42 kW"}  # within a minute
    assert post(depot, "/telemetry", {"readings": [skewed]}).status_code == 200
