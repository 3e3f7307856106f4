"""Lineage over real HTTP: the real ASGI app served by uvicorn over a real SQLite store
that the real control loop filled through a recorded night on a simulated clock
(:func:`tests.controller.test_time_travel.a_recorded_night`: two sessions, one short
at its end, an envelope that cut the site) — one test per subject kind, and a subject
that names nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from depotctl.controller.service import Controller
from depotctl.controller.store import JournalEntry, JournalKind
from tests.controller.test_time_travel import a_recorded_night, controller_of
from tests.controller.test_vehicles import http_api


@dataclass
class Depot:
    controller: Controller
    http: httpx.Client
    end: datetime  #: the night's last instant


@pytest.fixture(scope="module")
def depot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Depot]:
    """The recorded night, once for the module, and the API over it."""
    tmp_path: Path = tmp_path_factory.mktemp("lineage")
    controller = controller_of(tmp_path)
    night = a_recorded_night(controller)
    try:
        with http_api(controller, tmp_path) as http:
            yield Depot(controller, http, night.now())
    finally:
        controller.close()


def changes_of(
    depot: Depot,
    *,
    session: str | None = None,
    evse: str | None = None,
    envelope: str | None = None,
) -> list[JournalEntry]:
    """The journal's limit changes about a session, an EVSE or an envelope."""
    journal = depot.controller.units().journal
    kind = JournalKind.ALLOCATION_CHANGED
    return journal.entries(kind=kind, session=session, evse=evse, envelope=envelope, limit=10_000)


def test_a_session_from_arrival_to_short_by_because(depot: Depot) -> None:
    answer = depot.http.get("/api/v1/lineage/S-urgent").json()
    assert answer["kind"] == "session"
    [session] = answer["sessions"]
    journaled = changes_of(depot, session="S-urgent")
    assert len(journaled) >= 2
    assert [c["at"] for c in session["changes"]] == [e.at.isoformat() for e in journaled]
    assert [c["limit_a"] for c in session["changes"]] == [e.data["limit_a"] for e in journaled]
    assert [c["binding"] for c in session["changes"]] == [e.data["binding"] for e in journaled]
    # 30 kWh needed, 12 kWh delivered when it ended
    assert session["need_wh"] == 30_000.0 and session["delivered_wh"] == 12_000.0
    assert session["short_wh"] == pytest.approx(18_000.0)
    assert session["ended"] is not None and session["arrived"].endswith("+00:00")
    assert session["outcome"] == (
        "short by 18.0 kWh (12.0 kWh of 30.0 kWh) because envelope E-cut held it back most"
    )  # 15 A under its highest for 6 min; the pause 32 A for 77 s
    text = "\n".join(answer["text"])
    assert "session S-urgent arrived at chg-02/1" in text
    assert "+11:00" in text and "ended" in text  # Sydney's summer time


def test_an_evse_is_its_sessions_in_the_window(depot: Depot) -> None:
    whole = depot.http.get("/api/v1/lineage/chg-02%2F1").json()
    assert whole["kind"] == "evse"
    assert [s["session"] for s in whole["sessions"]] == ["S-urgent"]
    later = (depot.end - timedelta(minutes=5)).isoformat()
    after = depot.http.get("/api/v1/lineage/chg-02%2F1", params={"since": later}).json()
    assert after["sessions"] == []
    assert after["text"] == ["evse chg-02/1 had no session in this window"]


def test_a_vehicle_is_its_sessions_and_an_open_one_is_so_far(depot: Depot) -> None:
    put = depot.http.put("/api/v1/sessions/S-lax/vehicle", json={"vehicle": "bus-42"})
    assert put.status_code == 200, put.text
    answer = depot.http.get("/api/v1/lineage/BUS-42").json()  # a vehicle's id in any case
    assert answer["kind"] == "vehicle"
    [session] = answer["sessions"]
    assert session["session"] == "S-lax" and session["vehicle"] == "bus-42"
    assert session["ended"] is None and session["outcome"].startswith("open: ")
    journaled = changes_of(depot, session="S-lax")
    assert [c["limit_a"] for c in session["changes"]] == [e.data["limit_a"] for e in journaled]
    assert "session S-lax (vehicle bus-42) arrived" in answer["text"][0]


def test_an_envelope_is_every_evse_it_limited_and_what_it_cost(depot: Depot) -> None:
    answer = depot.http.get("/api/v1/lineage/E-cut").json()
    assert answer["kind"] == "envelope" and answer["sessions"] == []
    envelope = answer["envelope"]
    bound = changes_of(depot, envelope="E-cut")
    assert bound, "the night's envelope bound no EVSE"
    assert {c["evse"] for c in envelope["costs"]} == {e.evse for e in bound}
    topology = depot.controller.require_site().topology
    for cost in envelope["costs"]:
        own = changes_of(depot, evse=cost["evse"])
        first = next(i for i, e in enumerate(own) if e.envelope == "E-cut")
        before = own[first].data["previous_a"]
        # each span it bound: (the limit before - the limit then) x W/A x the span
        expected, seconds = 0.0, 0.0
        for entry, after in zip(own[first:], [*own[first + 1 :], None], strict=True):
            if entry.envelope != "E-cut":
                break
            end = after.at if after is not None else depot.end
            span = (end - entry.at).total_seconds()
            seconds += span
            lost = max(before - entry.data["limit_a"], 0.0)
            expected += lost * topology.evses[cost["evse"]].watts_per_amp * span / 3600
        assert cost["bound_s"] == pytest.approx(seconds)
        assert cost["energy_wh"] == pytest.approx(expected)
    assert envelope["energy_wh"] == pytest.approx(sum(c["energy_wh"] for c in envelope["costs"]))
    assert envelope["energy_wh"] > 0
    assert answer["text"][-1].startswith("envelope E-cut limited ")


def test_a_subject_that_names_nothing_is_404_with_the_likely_one(depot: Depot) -> None:
    answer = depot.http.get("/api/v1/lineage/chg-02%2F2")
    assert answer.status_code == 404
    body = answer.json()
    assert "did you mean" in str(body) and "chg-02/1" in str(body)
    assert "envelope id" in str(body)
