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

pyoscp's endpoints take no trailing slash: ``trailing_slash`` stays off.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

import depotctl.protocols.oscp.messages as oscp
from depotctl.controller.store import JournalKind
from depotctl.protocols.oscp.peer import CapacityProviderClient
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


def _blocks(
    start: datetime, unit: oscp.ForecastedBlockUnit, *capacities: float
) -> list[oscp.ForecastedBlock]:
    step = timedelta(minutes=15)
    return [
        oscp.ForecastedBlock(
            capacity=capacity,
            phase=oscp.PhaseIndicator.ALL,
            unit=unit,
            start_time=start + i * step,
            end_time=start + (i + 1) * step,
        )
        for i, capacity in enumerate(capacities)
    ]


def _send(
    rig: Rig,
    provider: PyoscpProvider,
    endpoint: str,
    body: dict[str, Any],
    correlation_id: str | None = None,
) -> int | None:
    """POST ``body`` to pyoscp with the controller's own client, token and quirks."""
    token = rig.events.tokens.theirs(SOURCE)
    assert token is not None
    client = CapacityProviderClient()
    delivery = rig.loop.run_until_complete(
        client.send(
            provider.base_url,
            endpoint,
            body,
            token=token,
            request_id=str(uuid.uuid4()),
            correlation_id=correlation_id,
            quirks=rig.events.quirks(SOURCE),
        )
    )
    rig.loop.run_until_complete(client.aclose())
    return delivery.status


def test_measurements_and_compliance_errors_as_pyoscp_reads_them(
    tmp_path: Path, pyoscp_in_sydney: None
) -> None:
    with registered(tmp_path) as (rig, provider):
        end = START + timedelta(minutes=15)
        measured = oscp.UpdateGroupMeasurements(
            group_id=GROUP,
            measurements=[
                oscp.EnergyMeasurement(
                    value=41_250.0,
                    phase=oscp.PhaseIndicator.ALL,
                    unit=oscp.EnergyMeasurementUnit.WH,
                    direction=oscp.EnergyFlowDirection.IMPORT,
                    energy_type=oscp.EnergyType.TOTAL,
                    measure_time=end,
                    initial_measure_time=START,
                )
            ],
        )
        assert _send(rig, provider, measured.endpoint, measured.to_wire()) == 204
        [handled] = provider.capacity.of("update_group_measurements")
        [measurement] = handled.payload["measurements"]
        assert handled.payload["group_id"] == GROUP
        assert (measurement["value"], measurement["unit"]) == (41_250.0, "WH")
        assert measurement["measure_time"] == "2026-03-02 17:15:00"  # naive Sydney time

        error = oscp.GroupCapacityComplianceError(
            message="chargers that take no commands draw 700 kW against 660 kW",
            forecasted_blocks=_blocks(START, oscp.ForecastedBlockUnit.KW, 660),
        )
        status = _send(rig, provider, error.endpoint, error.to_wire(), correlation_id="forecast-7")
        assert status == 204
        [handled] = provider.capacity.of("group_capacity_compliance_error")
        assert handled.headers["x-correlation-id"] == "forecast-7"
        assert handled.payload["forecasted_blocks"][0]["capacity"] == 660


def test_pyoscp_validates_its_model_a_wrong_body_is_refused(
    tmp_path: Path, pyoscp_in_sydney: None
) -> None:
    with registered(tmp_path) as (rig, provider):
        wrong = {"group_id": GROUP, "measurements": [{"value": "41250", "unit": "kWh"}]}
        assert _send(rig, provider, "update_group_measurements", wrong) == 400
        assert provider.capacity.handled == []


def test_pyoscp_validates_the_forecasts_of_the_simulated_provider(tmp_path: Path) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
    forecasts = [
        oscp.UpdateGroupCapacityForecast(
            group_id=GROUP,
            type=oscp.CapacityForecastType.CONSUMPTION,
            forecasted_blocks=_blocks(start, oscp.ForecastedBlockUnit.KW, 660, 660, 0),
        ),
        oscp.UpdateGroupCapacityForecast(
            group_id=GROUP,
            type=oscp.CapacityForecastType.FALLBACK_CONSUMPTION,
            forecasted_blocks=_blocks(start, oscp.ForecastedBlockUnit.A, 800),
        ),
    ]
    with pyoscp_flexibility_provider(tmp_path, "cp-token") as (fp_url, flexibility):
        headers = {"Authorization": "Token cp-token", "X-Request-ID": "f-1"}
        for forecast in forecasts:
            body = forecast.to_wire()
            answer = httpx.post(f"{fp_url}/{forecast.endpoint}", json=body, headers=headers)
            assert answer.status_code == 204, answer.text
        assert flexibility.forecasts == [f.to_wire() for f in forecasts]
        # the model is checked: a unit outside pyoscp's enumeration is refused
        wrong = forecasts[0].to_wire()
        wrong["forecasted_blocks"][0]["unit"] = "kW"
        answer = httpx.post(f"{fp_url}/{forecasts[0].endpoint}", json=wrong, headers=headers)
        assert answer.status_code == 400
        assert "unit" in answer.text
        assert len(flexibility.forecasts) == 2
