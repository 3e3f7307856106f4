"""The readiness forecast in the controller: each open session's ``readiness`` over
real HTTP (uvicorn in a thread, a real SQLite store) on the AU bus depot, read back
into the API's model and its words in the site's time; and ``departure_at_risk``
raised by the real control loop and cleared as simulated time moves on."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from depotctl import api
from depotctl.client.api import ControllerClient
from depotctl.controller.alerts import CLEAR_AFTER_S
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.planning import Planning
from depotctl.controller.readiness import live_forecasts
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind
from depotctl.domain.alerts import AlertKind, Subject, SubjectKind
from depotctl.domain.readiness import Basis
from depotctl.domain.sessions import EnergyRequirement, Session
from tests.controller import test_inputs, test_loop, test_planning, test_session_outlook
from tests.controller.test_app import serving
from tests.controller.test_inputs import START, Depot, iso
from tests.controller.test_session_outlook import listed, start_buses, state_evses

# the served app for the module and a fresh controller per test (test_inputs'); the
# minimal site on a paused simulated clock (test_loop's); the same with a tariff and
# two sessions, one with slack (test_planning's)
server = test_inputs.server
depot = test_inputs.depot
controller = test_loop.controller
planned_controller = test_planning.controller

W_PER_A = test_session_outlook.W_PER_A


def test_a_bus_behind_a_full_board_will_be_short_naming_the_board(depot: Depot) -> None:
    """No plan: bus-1's present limit held for 1.5 h leaves it short of 300 kWh, and
    the board db-dc-north, full now, is the cause."""
    start_buses(depot)
    body = listed(depot)
    sessions = {s["id"]: s for s in body["sessions"]}
    readiness = sessions["bus-1"]["readiness"]
    limit_a = state_evses(depot)["dc-01/1"]["limit_a"]
    expected = 5_000 + limit_a * W_PER_A * 1.5
    assert readiness["basis"] == "present limit"
    assert (readiness["session"], readiness["evse"]) == ("bus-1", "dc-01/1")
    assert readiness["at"] == START.isoformat() and readiness["departure"] == iso(90)
    assert readiness["need_wh"] == 300_000
    assert readiness["expected_wh"] == round(expected, 3)
    assert readiness["short_wh"] == round(300_000 - expected, 3)
    assert readiness["short_wh"] == sessions["bus-1"]["outlook"]["shortfall_wh"]
    cause = readiness["cause"]
    assert (cause["kind"], cause["ref"], cause["node"]) == (
        "node_limit",
        "db-dc-north",
        "db-dc-north",
    )
    assert cause["since"] == START.isoformat()
    assert readiness["text"].endswith(
        f"short at {iso(90).replace('+00:00', 'Z')}: db-dc-north is full now (present limit)"
    )
    # the relaxed bus on the other board will be ready
    relaxed = sessions["bus-9"]["readiness"]
    assert (relaxed["short_wh"], relaxed["cause"]) == (0, None)
    assert relaxed["expected_wh"] == relaxed["need_wh"] == 100_000


def test_the_api_model_reads_it_back_and_says_it_in_the_sites_time(depot: Depot) -> None:
    """START is 01:00 in Sydney (UTC+11): the departure 90 min later is 02:30 there."""
    start_buses(depot)
    read = api.Sessions.model_validate(listed(depot))
    [bus] = [s for s in read.sessions if s.id == "bus-1"]
    assert bus.readiness is not None
    forecast = bus.readiness.forecast()
    assert forecast.is_short and forecast.short_wh == bus.readiness.short_wh
    words = forecast.words(ZoneInfo("Australia/Sydney"))
    short = f"{forecast.short_wh / 1000:,.1f} kWh"
    assert words == (
        f"dc-01/1 (session bus-1) will be {short} short at 02:30: "
        "db-dc-north is full now (present limit)"
    )


def test_an_ended_session_has_no_readiness(depot: Depot) -> None:
    start_buses(depot)
    with depot.client("admin") as client:
        ended = client.post("/api/v1/sessions/bus-9/end", json={})
    assert ended.status_code == 200, ended.text
    every = {s["id"]: s for s in listed(depot, all="true")["sessions"]}
    assert every["bus-9"]["readiness"] is None
    assert every["bus-1"]["readiness"] is not None


def cycle(loop: ControlLoop) -> None:
    asyncio.run(loop.cycle("test"))


def test_a_departure_at_risk_is_raised_by_the_loop_and_cleared_as_time_moves_on(
    controller: Controller,
) -> None:
    """The minimal depot, cut to 10 kW for an hour: chg-01/1 needs 30 kWh in 2 h and
    at its present limit (under 10 kW) will have under 20 kWh — raised, naming the
    envelope. An hour
    later the cut has ended and it has its 10 kWh: at 22 kW for the hour left it will
    be ready — the alert clears once the condition has stayed away its 30 s."""
    start = controller.clock.now()
    test_loop.cut(controller, 10_000.0)
    requirement = EnergyRequirement(30_000.0, start + timedelta(hours=2))
    plugged = Session("S-1", "chg-01/1", start, requirement=requirement)
    controller.units().sessions.put(plugged)
    loop = ControlLoop(controller, RecordingDispatcher())
    cycle(loop)
    [alert] = [a for a in loop.alerts.open_alerts() if a.kind is AlertKind.DEPARTURE_AT_RISK]
    assert alert.subject == Subject(SubjectKind.EVSE, "chg-01/1")
    assert alert.since == start
    assert alert.data["session"] == "S-1" and alert.data["basis"] == "present limit"
    # below 10 kW: the envelope less the safety margin and the idle chg-02/1's start
    limit_w = controller.current().allocation.evses["chg-01/1"].limit_w
    assert limit_w < 10_000.0
    assert alert.data["short_wh"] == pytest.approx(30_000.0 - 2 * limit_w, abs=0.001)
    assert alert.data["cause"] == {"kind": "envelope", "ref": "E-10000"}
    assert alert.reason.startswith("session S-1 will be ")
    assert "gc-main is full under envelope E-10000 now (present limit)" in alert.reason

    test_planning.advance(controller, 3600)
    # what its charger's meter said meanwhile
    controller.units().sessions.put(replace(plugged, energy_delivered_wh=10_000.0))
    cycle(loop)
    cycle(loop)  # the increase sent after the cut's end is in force
    assert [a.kind for a in loop.alerts.open_alerts()].count(AlertKind.DEPARTURE_AT_RISK) == 1
    test_planning.advance(controller, CLEAR_AFTER_S)
    cycle(loop)
    assert AlertKind.DEPARTURE_AT_RISK not in {a.kind for a in loop.alerts.open_alerts()}
    entries = controller.units().journal.entries(evse="chg-01/1")
    kinds = [e.kind for e in entries if e.data.get("kind") == "departure_at_risk"]
    assert sorted(kinds) == [JournalKind.ALERT_CLEARED, JournalKind.ALERT_RAISED]


def test_a_session_the_plan_defers_is_forecast_on_the_plan_and_not_at_risk(
    planned_controller: Controller,
) -> None:
    """test_planning's depot: the lax bus is held at 0 A until the night price. On its
    present limit (0 A) it would miss all its 40 kWh; on the plan it will have them —
    and no departure_at_risk is raised for it. The urgent one, which the plan does not
    hold, is forecast on the plan too."""
    controller = planned_controller
    planning = Planning(controller, test_planning.SETTINGS)
    loop = ControlLoop(controller, RecordingDispatcher())
    asyncio.run(test_planning.cycle_and_plan(loop, planning))
    live = controller.current()
    assert live.allocation.evses[test_planning.LAX].limit_a == 0.0
    lax = live_forecasts(live, planning)["S-lax"]
    assert lax.basis is Basis.PLAN
    assert (lax.short_wh, lax.expected_wh) == (0.0, 40_000.0)
    assert live_forecasts(live, None)["S-lax"].short_wh == 40_000.0  # held at 0 A
    assert AlertKind.DEPARTURE_AT_RISK not in {a.kind for a in loop.alerts.open_alerts()}
    # over the API too, through the typed client
    tokens = load_or_create_tokens(controller.store.path.parent)
    with (
        serving(create_app(controller, tokens)) as url,
        ControllerClient(url, tokens.readonly) as client,
    ):
        listed_now = client.sessions()
    readiness = {s.id: s.readiness for s in listed_now.sessions}
    assert readiness["S-lax"] is not None and readiness["S-urgent"] is not None
    assert (readiness["S-lax"].basis, readiness["S-lax"].short_wh) == ("plan", 0)
    assert readiness["S-urgent"].basis == "plan"
