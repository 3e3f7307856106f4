"""Interoperability with pyoscp, an OSCP 2.0 implementation not written here, over real
HTTP: pyoscp serves the Capacity Provider's endpoints (validating each body against its
message models) and the controller (its endpoints on uvicorn, a real SQLite store, a
simulated clock the test advances) talks to it.

pyoscp deviates from the specification; the source declares a quirk for each:

- ``acknowledge_path: handshake_acknowledgment`` — pyoscp serves, and posts its
  acknowledgement to, ``handshake_acknowledgment`` (the specification:
  ``handshake_acknowledge``);
- ``naive_times_in: Australia/Sydney`` — pyoscp writes ``offline_mode_at`` as a naive
  local time (``2026-03-02 17:03:00``, its machine's zone) and parses only that form:
  a specification datetime (``2026-03-02T06:03:00Z``) fails in its heartbeat handler;
- ``omits_measurement_configuration: true`` — pyoscp's acknowledgement's
  ``required_behaviour`` has no ``measurement_configuration`` (required by the
  specification's schema).

pyoscp answers a token it does not know 403 (the specification: 401): the controller
tries both again, no quirk needed. Its endpoints take no trailing slash:
``trailing_slash`` stays off. Its models check types and enumerations; a datetime's
format only where ``rfc3339-validator`` is installed, which pyoscp does not require
(nor is it here: pyoscp's own naive heartbeats would fail it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

import depotctl.protocols.oscp.messages as oscp
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.store import JournalKind
from depotctl.domain.chargers import ChargerState
from depotctl.domain.telemetry import Reading
from depotctl.sim.derms.profile import read_profile
from depotctl.sim.derms.provider import body_of
from tests.conftest import ROOT
from tests.controller.oscp.rig import (
    GROUP,
    INITIAL_TOKEN,
    SOURCE,
    START,
    TOKEN_ENV,
    CapacityProvider,
    Rig,
    rig_at,
)
from tests.controller.oscp.test_forecasts import forecast
from tests.interop.pyoscp_provider import (
    PyoscpProvider,
    pyoscp_flexibility_provider,
    pyoscp_provider,
)

#: The zone pyoscp's machine runs in (its naive datetimes are local times).
ZONE = "Australia/Sydney"
#: The quirks the site declares for a pyoscp provider (the module docstring says why).
PYOSCP_QUIRKS = (
    "{acknowledge_path: handshake_acknowledgment, naive_times_in: "
    f"{ZONE}, omits_measurement_configuration: true}}"
)
#: The heartbeat interval the bus depot asks of its DNSP (heartbeat_interval: 60 s).
INTERVAL = timedelta(seconds=60)
QUARTER = timedelta(minutes=15)
#: The bus depot's revenue meter, bound to gc-main (the source's target).
METER = "m-main"
#: Chargers made uncontrollable (offline) for a compliance error.
OFFLINE = ("dc-01", "dc-02", "dc-03", "dc-04")


@pytest.fixture(autouse=True)
def _initial_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, INITIAL_TOKEN)


@pytest.fixture
def pyoscp_in_sydney() -> Iterator[None]:
    """This process's local zone is the provider's (pyoscp writes ``datetime.now()``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", ZONE)
        time.tzset()
        yield
    time.tzset()


@contextmanager
def registered(
    tmp_path: Path, quirks: str | None = PYOSCP_QUIRKS
) -> Iterator[tuple[Rig, PyoscpProvider]]:
    """pyoscp and the controller, registered both ways and the handshake sent."""
    (tmp_path / "controller").mkdir()
    with (
        pyoscp_provider(tmp_path, INITIAL_TOKEN) as provider,
        rig_at(tmp_path / "controller", provider.url, CapacityProvider(), quirks) as rig,
    ):
        rig.link_pass()  # register; pyoscp answers with its own inside the request
        rig.link_pass()  # the handshake
        yield rig, provider


def test_registration_handshake_and_heartbeats_both_ways(
    tmp_path: Path, pyoscp_in_sydney: None
) -> None:
    with registered(tmp_path) as (rig, provider):
        # registration both ways: pyoscp dropped the initial token for one of its own,
        # under which it keeps the controller's token and base URL
        [(token, entry)] = provider.endpoints().items()
        assert token != INITIAL_TOKEN
        assert rig.events.tokens.theirs(SOURCE) == token
        assert entry["register"] == {
            "token": rig.events.tokens.ours(SOURCE),
            "base_url": rig.events.base_url,
        }
        [registration] = rig.journal(JournalKind.OSCP_REGISTERED)
        assert "registration completed" in registration.message
        # the controller's handshake, as pyoscp parsed it: heartbeats every 60 s
        assert entry["required_behavior"] == {
            "heartbeat_interval": 60,
            "measurement_configuration": [],
        }
        assert entry["new"] is True

        # pyoscp acknowledges (at handshake_acknowledgment, without
        # measurement_configuration) and sends a heartbeat (a naive Sydney time)
        before = datetime.now(UTC).replace(microsecond=0)
        provider.background_job()
        after = datetime.now(UTC)
        assert provider.endpoints()[token]["new"] is False  # the acknowledgement got a 2xx
        record = rig.controller.units().oscp.get(SOURCE)
        assert (record.heartbeat_interval_s, record.measurement_configuration) == (60, ())
        [acknowledged] = [
            e for e in rig.journal(JournalKind.OSCP_HANDSHAKE) if "acknowledgement" in e.message
        ]
        assert "heartbeats every 60 s" in acknowledged.message
        deadline = rig.controller.units().sources.heard()[SOURCE].deadline
        assert deadline is not None
        assert before + 3 * INTERVAL <= deadline <= after + 3 * INTERVAL

        # the controller's heartbeat, as pyoscp parsed it: 06:03 UTC is 17:03 in Sydney
        rig.link_pass()
        offline_at = START + 3 * INTERVAL
        assert offline_at.astimezone(ZoneInfo(ZONE)).hour == 17
        expected = offline_at.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None).isoformat()
        assert provider.endpoints()[token]["offline_at"] == expected


def test_without_the_quirks_pyoscp_and_the_controller_do_not_understand_each_other(
    tmp_path: Path, pyoscp_in_sydney: None
) -> None:
    with registered(tmp_path, quirks=None) as (rig, provider):
        [(token, _)] = provider.endpoints().items()  # registration needs no quirk
        provider.background_job()
        # the acknowledgement went to a path the controller does not serve
        assert provider.endpoints()[token]["new"] is True
        assert rig.controller.units().oscp.get(SOURCE).heartbeat_interval_s is None
        # pyoscp's heartbeat names a naive time: refused
        assert rig.controller.units().sources.heard()[SOURCE].deadline is None
        # a heartbeat as the specification writes it fails in pyoscp's handler
        headers = {"Authorization": f"Token {token}", "X-Request-ID": "hb-1"}
        beat = {"offline_mode_at": "2026-03-02T06:03:00Z"}
        answer = httpx.post(f"{provider.base_url}/heartbeat", json=beat, headers=headers)
        assert answer.status_code == 500
        assert "offline_at" not in provider.endpoints()[token]


def _naive_sydney(at: datetime) -> str:
    """``at`` as pyoscp writes and reads it: a naive local time."""
    return at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M:%S")


def test_measurements_reach_pyoscp_each_quarter(tmp_path: Path, pyoscp_in_sydney: None) -> None:
    with registered(tmp_path) as (rig, provider):
        [token] = provider.endpoints()
        # the group's meter: 400 kW through the first quarter, a reading every 20 s
        readings = [
            Reading(METER, START + timedelta(seconds=20 * n + 7), power_w=400_000.0)
            for n in range(45)
        ]
        rig.controller.units().telemetry.put(readings)
        rig.clock.advance(16 * 60)  # the quarter ended and settled
        rig.link_pass()
        [handled] = provider.capacity.of("update_group_measurements")
        assert handled.token == token
        assert handled.payload == {
            "group_id": GROUP,
            "measurements": [
                {
                    "value": 100_000.0,  # Wh: 400 kW for a quarter hour
                    "phase": "ALL",
                    "unit": "WH",
                    "direction": "IMPORT",
                    "energy_type": "TOTAL",
                    "measure_time": _naive_sydney(START + QUARTER),
                    "initial_measure_time": _naive_sydney(START),
                }
            ],
        }
        assert rig.controller.units().oscp.outbox(SOURCE) == []  # pyoscp acknowledged it


def test_a_compliance_error_reaches_pyoscp_correlated_to_its_forecast(
    tmp_path: Path, pyoscp_in_sydney: None
) -> None:
    with registered(tmp_path) as (rig, provider):
        [entry] = provider.endpoints().values()
        # four chargers that take no commands, each assumed at its 25 kW fallback
        with rig.controller.units() as uow:
            uow.chargers.put([ChargerState(c, online=False, reason="offline") for c in OFFLINE])
        rig.controller.units().telemetry.put([Reading("m-workshop", START, power_w=10_000.0)])
        # a forecast (pyoscp sends none of its own: its user does, with pyoscp's token)
        body = forecast(START, [40, 2000])  # kW: the first block cannot be kept to
        answer = rig.post(
            "update_group_capacity_forecast",
            body,
            token=entry["register"]["token"],
            request_id="fc-7",
        )
        assert answer.status_code == 204, answer.text
        cycle = ControlLoop(rig.controller, RecordingDispatcher()).cycle("test")
        assert rig.loop.run_until_complete(cycle).error is None
        rig.link_pass()
        [handled] = provider.capacity.of("group_capacity_compliance_error")
        assert handled.headers["x-correlation-id"] == "fc-7"
        assert "gc-main" in handled.payload["message"]
        sent = body["forecasted_blocks"][0]
        assert handled.payload["forecasted_blocks"] == [
            sent
            | {
                "start_time": _naive_sydney(START),
                "end_time": _naive_sydney(START + QUARTER),
            }
        ]


def test_pyoscp_refuses_a_body_against_its_model(tmp_path: Path) -> None:
    with pyoscp_provider(tmp_path, INITIAL_TOKEN) as provider:
        headers = {"Authorization": f"Token {INITIAL_TOKEN}", "X-Request-ID": "m-1"}
        wrong = {"group_id": GROUP, "measurements": [{"value": "41250", "unit": "kWh"}]}
        url = f"{provider.base_url}/update_group_measurements"
        answer = httpx.post(url, json=wrong, headers=headers)
        assert answer.status_code == 400
        assert "measurements.0.value" in answer.text and "measurements.0.unit" in answer.text
        assert provider.capacity.handled == []


#: A profile for ``depotctl sim derms`` (its CSV form) with the types, units and
#: phases the bundled evening cut does not use.
EVERY_KIND = """\
send_at,type,start,duration,capacity,phase
,GENERATION,18:00,15min,500000 W,
,GENERATION,,15min,0 kW,
,FALLBACK_GENERATION,18:00,1h,80 A,ONE
,OPTIMUM,18:00,30min,1.2 MW,THREE
"""


def test_pyoscp_validates_the_forecasts_of_the_simulated_provider(tmp_path: Path) -> None:
    every_kind = tmp_path / "every-kind.csv"
    every_kind.write_text(EVERY_KIND)
    profiles = [ROOT / "examples" / "derms-evening-cut.yaml", every_kind]
    zone = ZoneInfo(ZONE)
    planned = [
        each
        for profile in profiles
        for each in read_profile(profile, group_id=GROUP, start=START, zone=zone)
    ]
    bodies = [body_of(each.message) for each in planned]  # as the simulator sends them
    assert {b["type"] for b in bodies} == {t.value for t in oscp.CapacityForecastType}
    blocks = [block for body in bodies for block in body["forecasted_blocks"]]
    assert {b["unit"] for b in blocks} == {"A", "W", "KW"}
    with pyoscp_flexibility_provider(tmp_path, "cp-token") as (fp_url, flexibility):
        url = f"{fp_url}/update_group_capacity_forecast"
        for n, body in enumerate(bodies):
            headers = {"Authorization": "Token cp-token", "X-Request-ID": f"f-{n}"}
            answer = httpx.post(url, json=body, headers=headers)
            assert answer.status_code == 204, answer.text
        assert flexibility.forecasts == bodies
        # the model is checked: a unit outside pyoscp's enumeration is refused
        wrong = bodies[0] | {"forecasted_blocks": [blocks[0] | {"unit": "kW"}]}
        headers = {"Authorization": "Token cp-token", "X-Request-ID": "f-wrong"}
        answer = httpx.post(url, json=wrong, headers=headers)
        assert answer.status_code == 400
        assert "forecasted_blocks.0.unit" in answer.text
        assert flexibility.forecasts == bodies


def test_pyoscp_refusing_a_token_with_403_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyoscp answers a token it does not know 403 (the specification: 401); either
    may pass once the token is put right, so the controller tries again."""
    monkeypatch.setenv(TOKEN_ENV, "a-token-pyoscp-never-heard-of")
    with (
        pyoscp_provider(tmp_path, INITIAL_TOKEN) as provider,
        rig_at(tmp_path, provider.url, CapacityProvider(), PYOSCP_QUIRKS) as rig,
    ):
        rig.link_pass()
        [refused] = rig.journal(JournalKind.OSCP_DELIVERY)
        assert "register" in refused.message and "403" in refused.message
        assert [m.queued.message for m in rig.controller.units().oscp.outbox(SOURCE)] == [
            "register"
        ]
        monkeypatch.setenv(TOKEN_ENV, INITIAL_TOKEN)  # the site's token put right
        rig.clock.advance(60)
        rig.link_pass()
        assert rig.controller.units().oscp.get(SOURCE).registered_at is not None
        assert list(provider.endpoints()) == [rig.events.tokens.theirs(SOURCE)]
