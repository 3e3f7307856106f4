"""``sim derms`` against a real ``depotctl serve`` (×300) over real HTTP: registration
both ways, a profile's forecast becoming pending envelopes the API lists, silence
taking the source offline (its fallback in force) and a heartbeat restoring it. Every
message either way conforms to its OSCP 2.0 schema. Nothing waits on the wall clock
for a result: the API is polled for each state, with a bound that only tells a hang;
what the controller must have by a time of its clock (a meter's minutes) is in its
store before that time."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from depotctl.api.state_dir import StateDir
from depotctl.controller.store import Store
from depotctl.controller.store.telemetry import Telemetry
from depotctl.domain.telemetry import Reading
from depotctl.protocols.oscp import MESSAGES, Heartbeat, Register
from depotctl.sim.derms.ledger import Period
from depotctl.sim.derms.link import Silence
from depotctl.sim.derms.report import periods, to_text
from depotctl.sim.derms.run import Setup
from tests.controller.test_serve import Process
from tests.protocols.oscp.schemas import assert_conforms
from tests.sim.derms.running import (
    INITIAL_TOKEN,
    SOURCE,
    TOKEN_ENV,
    depot,
    eventually,
    provider,
    same_port,
)

PROFILE = """\
forecasts:
  - type: CONSUMPTION
    blocks:
      - {start: "+10min", duration: 1h, capacity: 700 kW}
      - {duration: 1h, capacity: 800 kW}
"""

BY_ENDPOINT = {model.endpoint: name for name, model in MESSAGES.items()}


@pytest.fixture(autouse=True)
def _initial_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, INITIAL_TOKEN)


def _envelopes(controller: Process) -> dict[str, Any]:
    answer = controller.get("/api/v1/envelopes", token="readonly")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _source(controller: Process) -> dict[str, Any]:
    return next(s for s in _envelopes(controller)["sources"] if s["id"] == SOURCE)


def _heard_with_exchanged_token(setup: Setup) -> bool:
    """The controller's heartbeats arrive with the token this provider gave it."""
    return bool(setup.link.provider.of(Heartbeat)) and setup.link.provider.ours is not None


def _conforming(setup: Setup) -> None:
    for sent in setup.link.sent:
        assert_conforms(BY_ENDPOINT[sent.endpoint], sent.body)
    for received in setup.link.provider.received:
        assert_conforms(type(received.message).__name__, received.message.to_wire())


def test_the_controllers_registration_is_answered_and_the_forecast_becomes_pending_envelopes(
    tmp_path: Path,
) -> None:
    here = depot(tmp_path, PROFILE)
    with here.serve() as controller, provider(here.options(), here.sock) as setup:
        eventually(lambda: _heard_with_exchanged_token(setup), "the controller's heartbeats")
        oscp = eventually(
            lambda: [e for e in _envelopes(controller)["envelopes"] if e["source"] == SOURCE],
            "the forecast's envelopes",
        )
        link = setup.link
        # the controller registered first (the provider waits for it) and was answered
        [theirs] = [r for r in link.provider.received if r.message.endpoint == "register"]
        assert theirs.correlation_id is None  # not an answer: the controller's own
        [register] = [s for s in link.sent if s.endpoint == "register"]
        assert register.delivery.acknowledged
        assert link.provider.heartbeat_interval_s == 60  # the site's, asked at handshake
        assert [(e["limit"], e["state"], e["target"]) for e in oscp] == [
            ("700 kW", "pending", "gc-main"),
            ("800 kW", "pending", "gc-main"),
        ]
        [forecast] = link.forecasts
        assert [datetime.fromisoformat(e["start"]) for e in oscp] == [
            b.start_time for b in forecast.forecasted_blocks
        ]
        eventually(lambda: link.heartbeats >= 2, "heartbeats at the asked interval")
    _conforming(setup)


def test_a_provider_the_controller_holds_registered_registers_itself_with_the_initial_token(
    tmp_path: Path,
) -> None:
    here = depot(tmp_path, PROFILE)
    with here.serve():
        with provider(here.options(), here.sock) as first:
            eventually(lambda: _heard_with_exchanged_token(first), "the first registration")
        # a new provider knows no token: the controller holds itself registered, so the
        # provider registers after waiting for it, and the controller answers
        with provider(here.options(), same_port(here.port)) as second:
            eventually(lambda: second.link.provider.of(Register), "the controller's answer")
            eventually(lambda: _heard_with_exchanged_token(second), "the second registration")
            registers = [s for s in second.link.sent if s.endpoint == "register"]
            assert registers and registers[0].delivery.acknowledged
            [answer] = [
                r for r in second.link.provider.received if r.message.endpoint == "register"
            ]
            assert answer.correlation_id == registers[0].request_id  # answering ours
            assert isinstance(answer.message, Register)
            assert answer.message.token != first.link.provider.theirs  # a new token, rotated
            eventually(
                lambda: any(
                    s.endpoint == "heartbeat" and s.delivery.acknowledged for s in second.link.sent
                ),
                "the provider's heartbeat accepted with the token exchanged now",
            )
        _conforming(second)


def test_silence_takes_the_source_offline_and_a_heartbeat_brings_it_back(
    tmp_path: Path,
) -> None:
    here = depot(tmp_path, PROFILE.replace("+10min", "+1min"))
    with here.serve() as controller, provider(here.options(), here.sock) as setup:
        link = setup.link

        def states() -> list[str]:
            return [
                e["state"] for e in _envelopes(controller)["envelopes"] if e["source"] == SOURCE
            ]

        eventually(lambda: "active" in states() and _source(controller)["online"], "active")
        link.settings.silence = Silence(link.time.now(), None)
        eventually(lambda: not _source(controller)["online"], "the source offline")
        assert "fallback_eligible" in states()
        assert link.provider.silent
        heartbeats = link.heartbeats
        link.settings.silence = Silence(link.settings.silence.start, link.time.now())
        eventually(lambda: _source(controller)["online"], "the source back online")
        assert "active" in states() and link.heartbeats > heartbeats
        [(went, back)] = link.silences
        assert back is not None and went < back
    _conforming(setup)


def _metered_ahead(controller: Process, meter: str, power_w: float, hours: int) -> None:
    """A reading of ``power_w`` at ``meter`` for every minute from the one before the
    controller's now to ``hours`` ahead, written to its store as the meter would have
    reported them by then: each quarter the controller measures is whole however far
    the machine lets the test fall behind its clock (the API refuses readings stamped
    ahead of it, and at ×600 the quarter's last minute has 0.2 s to arrive)."""
    now = datetime.fromisoformat(controller.get("/api/v1/clock").json()["time"])
    first = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    minutes = (first + timedelta(minutes=n) for n in range(hours * 60 + 2))
    with Store.open(StateDir(controller.state_dir).store) as store:
        Telemetry(store).put(Reading(meter, at, power_w=power_w) for at in minutes)


def test_measurements_over_the_forecast_are_reported_as_exceeded_in_site_time(
    tmp_path: Path,
) -> None:
    here = depot(tmp_path, PROFILE.replace("+10min", "+1min"))  # 700 kW, then 800 kW
    with here.serve(speed=600) as controller, provider(here.options(), here.sock) as setup:
        _metered_ahead(controller, "m-main", 860_000.0, hours=3)

        def measured() -> list[Period]:
            return [p for p in periods(setup) if p.allowed_wh is not None]

        [checked, *_] = eventually(measured, "a measured quarter the forecast covers")
    assert checked.end - checked.start == timedelta(minutes=15)
    # 860 kW for a quarter: 215 kWh, over what either block allows (700 kW: 175 kWh,
    # 800 kW: 200 kWh; which quarter is measured first depends on the machine's speed)
    assert checked.energy_wh == pytest.approx(215_000, rel=0.01)
    assert checked.allowed_wh in (pytest.approx(175_000), pytest.approx(200_000))
    assert checked.exceeded
    summary = to_text(setup)
    start = checked.start.astimezone(ZoneInfo("Australia/Sydney")).strftime("%H:%M:%S")
    exceeded = sum(p.exceeded for p in periods(setup) if p.allowed_wh is not None)
    assert f"periods checked, {exceeded} exceeded" in summary
    allows = f"the forecast allows {checked.allowed_wh / 1000:.1f} kWh"
    assert f"    {start}–" in summary and allows in summary
    _conforming(setup)
