"""Operator overrides over real HTTP (uvicorn in a thread, a real SQLite store in
``tmp_path``): pause, cap and resume an EVSE, each journaled with its author and
reason and signalled to the control loop; what ``/state``, ``/explain`` and the
loop's next cycle make of them."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from tests.controller.test_inputs import (
    Depot,
    post,
    problem,
    server,  # noqa: F401  (a fixture)
    session,
)
from tests.controller.test_inputs import depot as inputs_depot  # noqa: F401  (a fixture)

EVSE = "dc-01/1"


@pytest.fixture
def depot(inputs_depot: Depot) -> Depot:  # noqa: F811
    """test_inputs' depot: the AU bus depot served over real HTTP, a fresh SQLite store
    per test, ``changes`` collecting what the control loop is told."""
    return inputs_depot


def url(evse: str) -> str:
    return f"/api/v1/evses/{quote(evse, safe='')}/override"


def put(depot: Depot, evse: str, body: Any, token: str = "admin") -> httpx.Response:
    with depot.client(token) as client:
        return client.put(url(evse), json=body)


def delete(depot: Depot, evse: str, token: str = "admin", **params: str) -> httpx.Response:
    with depot.client(token) as client:
        return client.delete(url(evse), params=params)


def get(depot: Depot, path: str) -> dict[str, Any]:
    with depot.client("readonly") as client:
        response = client.get("/api/v1" + path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def charging(depot: Depot, evse: str = EVSE, session_id: str = "bus-0417") -> float:
    """Start a session on ``evse``; its live limit (above zero)."""
    assert post(depot, "/sessions", session(id=session_id, evse=evse)).status_code == 201
    view = get(depot, "/explain/" + quote(evse, safe=""))["evse"]
    assert view["state"] == "charging" and view["limit_a"] > 0, view
    limit: float = view["limit_a"]
    return limit


# Pause and resume


def test_pausing_an_evse_stores_journals_and_signals_it(depot: Depot) -> None:
    charging(depot)
    depot.changes.clear()

    response = put(depot, EVSE, {"paused": True, "reason": "cable damaged", "author": "alice"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] is True
    assert body["override"] == {
        "evse": EVSE,
        "paused": True,
        "cap": None,
        "cap_a": None,
        "reason": "cable damaged",
        "set_at": "2026-03-02T14:00:00+00:00",
        "author": "alice",
    }
    allocation = body["allocation"]
    assert (allocation["limit_a"], allocation["state"]) == (0.0, "paused")
    assert allocation["binding"]["kind"] == "operator_override"
    assert allocation["binding"]["detail"] == (
        'paused by operator (alice, 2026-03-03 01:00:00+11:00: "cable damaged")'
    )
    assert depot.changes == [f"override on {EVSE}"]
    [entry] = [e for e in depot.journal(evse=EVSE) if e["kind"] == "override.set"]
    assert entry["session"] == "bus-0417"
    assert entry["message"] == f"{EVSE} paused by operator alice: cable damaged"
    assert entry["data"]["author"] == "alice" and entry["data"]["role"] == "admin"
    assert entry["data"]["reason"] == "cable damaged" and entry["data"]["paused"] is True
    assert entry["data"]["previous"] is None


def test_without_an_author_the_tokens_role_is_the_author(depot: Depot) -> None:
    response = put(depot, EVSE, {"paused": True})
    assert response.status_code == 200, response.text
    assert response.json()["override"]["author"] == "admin"
    [entry] = depot.journal(kind="override.set")
    assert (entry["data"]["author"], entry["data"]["role"], entry["data"]["reason"]) == (
        "admin",
        "admin",
        None,
    )


def test_resuming_clears_the_override_journals_it_and_restores_the_limit(depot: Depot) -> None:
    before = charging(depot)
    assert put(depot, EVSE, {"paused": True, "reason": "cable damaged"}).status_code == 200
    depot.changes.clear()

    response = delete(depot, EVSE, author="bob")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["override"] is None and body["cleared"]["paused"] is True
    assert body["allocation"]["limit_a"] == before
    assert body["allocation"]["state"] == "charging"
    assert "override" not in body["allocation"]
    assert depot.controller.units().overrides.all() == {}
    assert depot.changes == [f"override on {EVSE} cleared"]
    [entry] = depot.journal(evse=EVSE, kind="override.cleared")
    assert entry["session"] == "bus-0417"
    assert entry["message"].startswith(f"{EVSE} resumed by operator bob (was paused by admin")
    assert entry["data"]["author"] == "bob" and entry["data"]["role"] == "admin"
    assert entry["data"]["previous"]["reason"] == "cable damaged"


def test_resuming_an_evse_without_an_override_is_404_no_override(depot: Depot) -> None:
    body = problem(delete(depot, EVSE), 404, "no_override")
    assert body["evse"] == EVSE
    assert depot.journal(kind="override.cleared") == []
    assert depot.changes == []


def test_setting_the_same_override_again_changes_nothing(depot: Depot) -> None:
    assert put(depot, EVSE, {"cap": "40 A", "reason": "hot cable"}).status_code == 200
    again = put(depot, EVSE, {"cap": 40, "reason": "hot cable", "author": "carol"})
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert again.json()["override"]["author"] == "admin"  # the first one stands
    assert len(depot.journal(kind="override.set")) == 1
    assert depot.changes == [f"override on {EVSE}"]
    other = put(depot, EVSE, {"cap": "30 A", "reason": "hot cable"})
    assert other.json()["changed"] is True
    assert other.json()["override"]["cap"] == "30 A"
    [_, second] = depot.journal(kind="override.set")
    assert second["data"]["previous"]["cap"] == "40 A"


# Caps


@pytest.mark.parametrize("cap", ["40 A", "40A", 40, 40.0, "0.04 kA"])
def test_a_cap_in_the_quantity_grammar_or_in_amps_binds_the_evse(depot: Depot, cap: Any) -> None:
    assert charging(depot) > 40

    response = put(depot, EVSE, {"cap": cap})

    assert response.status_code == 200, response.text
    assert response.json()["override"]["cap"] == "40 A"
    assert response.json()["override"]["cap_a"] == 40.0
    allocation = response.json()["allocation"]
    assert allocation["limit_a"] == 40.0 and allocation["state"] == "charging"
    assert allocation["binding"] == {
        "kind": "operator_override",
        "ref": EVSE,
        "detail": "capped at 40 A by operator (admin, 2026-03-03 01:00:00+11:00)",
    }


def test_a_cap_looser_than_the_node_limits_is_not_reported_as_binding(depot: Depot) -> None:
    before = charging(depot)
    free = get(depot, "/state")
    (free_view,) = [e for e in free["evses"] if e["id"] == EVSE]

    response = put(depot, EVSE, {"cap": before + 50})

    allocation = response.json()["allocation"]
    assert allocation["limit_a"] == before
    assert allocation["binding"] == free_view["binding"]
    assert allocation["binding"]["kind"] != "operator_override"
    assert allocation["override"]["cap_a"] == before + 50


def test_a_cap_below_the_minimum_current_pauses_the_session(depot: Depot) -> None:
    charging(depot)
    allocation = put(depot, EVSE, {"cap": "2 A"}).json()["allocation"]
    assert (allocation["limit_a"], allocation["state"]) == (0.0, "paused")
    assert allocation["binding"]["kind"] == "operator_override"
    assert "below the EVSE's minimum" in allocation["binding"]["detail"]


def test_an_override_on_an_idle_evse_waits_for_a_session(depot: Depot) -> None:
    response = put(depot, EVSE, {"paused": True, "reason": "bay closed"})
    allocation = response.json()["allocation"]
    # a vehicle plugging in must not start at the fallback: its start allowance is 0 A
    assert (allocation["state"], allocation["limit_a"], allocation["binding"]["kind"]) == (
        "idle",
        0.0,
        "operator_override",
    )
    assert allocation["override"]["reason"] == "bay closed"

    assert post(depot, "/sessions", session()).status_code == 201

    view = get(depot, "/explain/" + quote(EVSE, safe=""))["evse"]
    assert (view["limit_a"], view["state"]) == (0.0, "paused")
    assert view["binding"]["kind"] == "operator_override"


# What the API shows


def test_state_explain_and_the_list_show_the_override(depot: Depot) -> None:
    charging(depot)
    charging(depot, "dc-02/1", "bus-0420")
    assert put(depot, EVSE, {"paused": True, "reason": "cable damaged"}).status_code == 200
    assert put(depot, "dc-02/1", {"cap": "25 A"}).status_code == 200

    state = {e["id"]: e for e in get(depot, "/state")["evses"]}
    assert state[EVSE]["override"]["paused"] is True
    assert state[EVSE]["override"]["reason"] == "cable damaged"
    assert state[EVSE]["binding"]["kind"] == "operator_override"
    assert state["dc-02/1"]["override"]["cap_a"] == 25.0
    assert state["dc-02/1"]["limit_a"] == 25.0
    assert "override" not in state["dc-03/1"]

    explained = get(depot, "/explain/" + quote(EVSE, safe=""))["evse"]
    assert explained["override"]["paused"] is True
    [bound] = [c for c in explained["candidates"] if c["binding"]]
    assert (bound["what"], bound["limit"], bound["source"]) == (
        "operator override",
        "0 A",
        "operator",
    )

    listed = get(depot, "/overrides")
    assert [(o["evse"], o["paused"], o["cap"]) for o in listed["overrides"]] == [
        (EVSE, True, None),
        ("dc-02/1", False, "25 A"),
    ]
    assert [o["allocation"]["limit_a"] for o in listed["overrides"]] == [0.0, 25.0]


def test_the_snapshot_export_carries_the_overrides(depot: Depot) -> None:
    assert put(depot, EVSE, {"cap": "25 A", "reason": "hot cable"}).status_code == 200
    exported = get(depot, "/snapshot")
    assert exported["overrides"] == [
        {
            "evse": EVSE,
            "paused": False,
            "cap": "25 A",
            "set_at": "2026-03-03T01:00:00+11:00",
            "author": "admin",
            "reason": "hot cable",
        }
    ]


# Refusals


def test_the_read_only_token_may_list_but_not_set_or_clear(depot: Depot) -> None:
    assert put(depot, EVSE, {"paused": True}).status_code == 200
    problem(put(depot, EVSE, {"cap": "10 A"}, token="readonly"), 403, "forbidden")
    problem(delete(depot, EVSE, token="readonly"), 403, "forbidden")
    assert depot.controller.units().overrides.all()[EVSE].paused is True
    assert len(get(depot, "/overrides")["overrides"]) == 1


def test_no_token_is_401(depot: Depot) -> None:
    with httpx.Client(base_url=depot.url) as client:
        response = client.put(url(EVSE), json={"paused": True})
    problem(response, 401, "unauthorized")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_an_unknown_evse_is_404_with_did_you_mean(depot: Depot, method: str) -> None:
    response = (
        put(depot, "dc-1/1", {"paused": True}) if method == "put" else delete(depot, "dc-1/1")
    )
    body = problem(response, 404, "not_found")
    assert body["evse"] == "dc-1/1" and body["did_you_mean"] == "dc-01/1"
    assert depot.controller.units().overrides.all() == {}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "must pause the EVSE"),
        ({"paused": False, "cap": None}, "must pause the EVSE"),
        ({"cap": "16"}, "has no unit"),
        ({"cap": "5 kW"}, "is a power"),
        ({"cap": -1}, "0 or more"),
        ({"cap": True}, "a cap is a current"),
        ({"cap": [16]}, "a cap is a current"),
        ({"paused": "maybe"}, "paused"),
        ({"paused": True, "colour": "red"}, "colour"),
        ({"paused": True, "reason": "x" * 501}, "reason"),
        ([1, 2], "object"),
    ],
)
def test_a_bad_body_is_a_json_422(depot: Depot, body: Any, words: str) -> None:
    found = problem(put(depot, EVSE, body), 422, "invalid_request")
    assert words in found["message"] or any(words in p["where"] for p in found["problems"])
    assert depot.controller.units().overrides.all() == {}
    assert depot.journal(kind="override.set") == []


def test_malformed_json_is_a_json_422(depot: Depot) -> None:
    with depot.client() as client:
        response = client.put(
            url(EVSE), content=b'{"paused": tru', headers={"Content-Type": "application/json"}
        )
    problem(response, 422, "invalid_request")


# The control loop


def test_the_next_cycle_sends_0_A_to_a_paused_evse(depot: Depot) -> None:
    dispatcher = RecordingDispatcher()
    loop = ControlLoop(depot.controller, dispatcher)
    charging(depot)
    asyncio.run(loop.cycle("session"))  # the idle pantographs' allowances come down first
    asyncio.run(loop.cycle("their outcomes"))
    [first] = [c for sent in dispatcher.sent for c in sent if c.evse_id == EVSE]
    assert first.evse_id == EVSE and first.limit_a > 0

    assert put(depot, EVSE, {"paused": True, "reason": "cable damaged"}).status_code == 200
    asyncio.run(loop.cycle("override"))

    [command] = [c for c in dispatcher.sent[-1] if c.evse_id == EVSE]
    assert (command.evse_id, command.limit_a, command.previous_a) == (EVSE, 0.0, first.limit_a)
    asyncio.run(loop.cycle("its outcome"))
    assert loop.in_force[EVSE] == 0.0
    [changed] = depot.controller.units().journal.entries(
        evse=EVSE, kind="allocation.changed", latest=True, limit=1
    )
    assert changed.data["binding"]["kind"] == "operator_override"
    assert "cable damaged" in changed.message

    assert delete(depot, EVSE).status_code == 200
    cycles = len(dispatcher.sent)
    asyncio.run(loop.cycle("override cleared"))
    asyncio.run(loop.cycle("its outcome"))
    [resumed] = [c for sent in dispatcher.sent[cycles:] for c in sent if c.evse_id == EVSE]
    assert (resumed.limit_a, resumed.previous_a) == (first.limit_a, 0.0)
