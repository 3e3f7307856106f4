"""A session's vehicle: real chargers over OCPP (1.6 and 2.0.1) on the controller's
real endpoint and store, the site's ``vehicles:`` mapping their idTags, and the API
over real HTTP — a mapped tag names bus-42 in the sessions, explain and the journal;
an unknown tag names no vehicle; the API sets one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.cli.render_explain import explain_text
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind, Store, UnitOfWork
from depotctl.controller.vehicles import SESSION_VEHICLE
from tests.controller.test_app import serving
from tests.controller.test_ocpp_events import START, depot, write_site
from tests.protocols.ocpp.chargers import charger
from tests.protocols.ocpp.endpoint_rig import until

VEHICLES = """\
  vehicles:
    - {id: bus-42, fleet: sydney-buses, id_tags: [04A1B2C3]}
    - {id: bus-43, id_tags: [04A1B2C4]}
"""

pytestmark = pytest.mark.anyio


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    """The minimal depot listing the vehicles above, on a paused simulated clock."""
    site = write_site(tmp_path)
    text = site.read_text() + VEHICLES
    site.write_text(text)
    paused = SimClock(START, speed=1.0)
    paused.pause()
    store = Store.open(tmp_path / "depotctl.sqlite")
    with closing(Controller(store, paused, base_dir=tmp_path)) as depot_controller:
        depot_controller.seed(site, text, author="test")
        yield depot_controller


@contextmanager
def http_api(controller: Controller, tmp_path: Path) -> Iterator[httpx.Client]:
    """The controller's API served over real HTTP, and an admin's client of it."""
    tokens = load_or_create_tokens(tmp_path / "state")
    with (
        serving(create_app(controller, tokens)) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens.admin}"}) as http,
    ):
        yield http


async def start_16(url: str, id_tag: str) -> str:
    """A 1.6 transaction on chg-01/1 with ``id_tag``; its session id."""
    async with charger(url, "CP-01", "ocpp1.6") as cp:
        started = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag=id_tag, meter_start=0, timestamp="2026-03-02T18:00:00Z"
            )
        )
    return f"chg-01:{started.transaction_id}"


async def test_a_mapped_idtag_names_the_vehicle_in_sessions_explain_and_journal(
    controller: Controller, tmp_path: Path
) -> None:
    async with depot(controller) as rig:
        session_id = await start_16(rig.url, "04a1b2c3")  # any case of the site's tag
    record = UnitOfWork(controller.store).sessions.get(session_id)
    assert record is not None
    assert (record.session.vehicle_id, record.session.fleet_id) == ("bus-42", "sydney-buses")
    assert record.session.id_token == "04a1b2c3"
    [entry] = UnitOfWork(controller.store).journal.entries(kind=JournalKind.SESSION_STARTED)
    assert entry.message == (
        f"session {session_id} started on EVSE chg-01/1 (OCPP; vehicle bus-42 (fleet sydney-buses))"
    )
    assert (entry.data["vehicle"], entry.data["id_tag"]) == ("bus-42", "04a1b2c3")

    with http_api(controller, tmp_path) as http:
        [listed] = http.get("/api/v1/sessions").json()["sessions"]
        assert (listed["id"], listed["vehicle"], listed["fleet"]) == (
            session_id,
            "bus-42",
            "sydney-buses",
        )
        by_vehicle = http.get("/api/v1/sessions/BUS-42")  # a vehicle id in any case
        assert by_vehicle.status_code == 200 and by_vehicle.json()["id"] == session_id
        explained = http.get("/api/v1/explain/bus-42")
        assert explained.status_code == 200, explained.text
        assert explained.json()["evse"]["id"] == "chg-01/1"
        other = http.get("/api/v1/explain/bus-43")  # listed, but not charging
        assert other.status_code == 404


async def test_an_unknown_idtag_names_no_vehicle(controller: Controller, tmp_path: Path) -> None:
    async with depot(controller) as rig:
        session_id = await start_16(rig.url, "04A1B2C5")  # one digit off bus-42's
    record = UnitOfWork(controller.store).sessions.get(session_id)
    assert record is not None
    assert (record.session.vehicle_id, record.session.fleet_id) == (None, None)
    [entry] = UnitOfWork(controller.store).journal.entries(kind=JournalKind.SESSION_STARTED)
    assert entry.message.endswith("(OCPP; idTag 04A1B2C5, no vehicle of the site)")
    with http_api(controller, tmp_path) as http:
        [listed] = http.get("/api/v1/sessions").json()["sessions"]
        assert listed["vehicle"] is None
        missing = http.get("/api/v1/sessions/bus-42")
        assert missing.status_code == 404
        assert "no vehicle bus-42 with an open session" in missing.json()["message"]


async def test_a_201_idtoken_after_the_start_names_the_vehicle(controller: Controller) -> None:
    store = controller.store
    async with depot(controller) as rig, charger(rig.url, "CP-02", "ocpp2.0.1") as cp:
        for seq, (kind, token) in enumerate(
            [("Started", None), ("Updated", {"idToken": "04A1B2C4", "type": "ISO14443"})]
        ):
            await cp.call(
                call201.TransactionEvent(
                    event_type=kind,
                    timestamp="2026-03-02T18:00:00Z",
                    trigger_reason="CablePluggedIn" if token is None else "Authorized",
                    seq_no=seq,
                    transaction_info={"transactionId": "tx-9"},
                    evse={"id": 1, "connectorId": 1},
                    **({"id_token": token} if token else {}),
                )
            )
        await until(lambda: UnitOfWork(store).sessions.get("chg-02:tx-9") is not None)
    record = UnitOfWork(store).sessions.get("chg-02:tx-9")
    assert record is not None and record.session.vehicle_id == "bus-43"
    assert record.session.fleet_id is None
    [entry] = UnitOfWork(store).journal.entries(kind=SESSION_VEHICLE)
    assert entry.session == "chg-02:tx-9"
    assert entry.message == "session chg-02:tx-9 on EVSE chg-02/1 authorised: vehicle bus-43"


def test_the_api_sets_a_sessions_vehicle_and_the_schedule_names_it(
    controller: Controller, tmp_path: Path
) -> None:
    with http_api(controller, tmp_path) as http:
        started = http.post(
            "/api/v1/sessions", json={"id": "s-1", "evse": "chg-01/1", "vehicle": "Bus-7"}
        )
        assert started.status_code == 201 and started.json()["vehicle"] == "bus-7"
        explained = http.get("/api/v1/explain/bus-7").json()
        assert (explained["evse"]["id"], explained["evse"]["vehicle"]) == ("chg-01/1", "bus-7")
        assert "session s-1 (vehicle bus-7)" in explain_text(explained)
        state = {e["id"]: e for e in http.get("/api/v1/state").json()["evses"]}
        assert state["chg-01/1"]["vehicle"] == "bus-7" and "vehicle" not in state["chg-02/1"]
        readiness = http.get("/api/v1/sessions/bus-7").json()["readiness"]
        assert readiness["text"].startswith("bus-7 (chg-01/1) ")
        http.post("/api/v1/sessions", json={"id": "s-2", "evse": "chg-02/1"})
        taken = http.put("/api/v1/sessions/s-2/vehicle", json={"vehicle": "bus-7"})
        assert taken.status_code == 409
        assert "vehicle bus-7 is charging in session s-1 on EVSE chg-01/1" in taken.text
        named = http.put(
            "/api/v1/sessions/s-2/vehicle", json={"vehicle": "bus-9", "fleet": "metro"}
        )
        assert (named.json()["vehicle"], named.json()["fleet"]) == ("bus-9", "metro")
        scheduled = http.put(
            "/api/v1/sessions/bus-9/requirement",
            json={"energy": "60 kWh", "departure": "2026-03-02T23:00:00Z"},
        )
        assert scheduled.status_code == 200 and scheduled.json()["id"] == "s-2"
        cleared = http.put("/api/v1/sessions/s-2/vehicle", json={"vehicle": None})
        assert cleared.json()["vehicle"] is None
    journal = UnitOfWork(controller.store).journal.entries()
    said = [e.message for e in journal if e.session == "s-2"]
    assert "session s-2 on EVSE chg-02/1: vehicle bus-9 (fleet metro) (the API)" in said
    assert any(m.startswith("session s-2 (bus-9) on EVSE chg-02/1: needs 60 kWh") for m in said)
    assert said[-1] == "session s-2 on EVSE chg-02/1: no known vehicle (the API)"


def test_the_journal_of_a_vehicle_is_its_sessions_entries(
    controller: Controller, tmp_path: Path
) -> None:
    with http_api(controller, tmp_path) as http:
        http.post("/api/v1/sessions", json={"id": "s-1", "evse": "chg-01/1", "vehicle": "bus-42"})
        http.post("/api/v1/sessions", json={"id": "s-2", "evse": "chg-02/1", "vehicle": "bus-43"})
        http.post("/api/v1/sessions/bus-42/end", json={})
        http.post("/api/v1/sessions", json={"id": "s-3", "evse": "chg-01/1", "vehicle": "bus-42"})
        found = http.get("/api/v1/journal", params={"vehicle": "BUS-42"}).json()["entries"]
        nobody = http.get("/api/v1/journal", params={"vehicle": "bus-99"}).json()["entries"]
    assert [(e["kind"], e["session"]) for e in found] == [
        ("session.started", "s-1"),
        ("session.ended", "s-1"),
        ("session.started", "s-3"),
    ]
    assert found[1]["message"].startswith("session s-1 (bus-42) ended on EVSE chg-01/1")
    assert nobody == []
