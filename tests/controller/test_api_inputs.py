"""Every API field that takes a quantity, over real HTTP (uvicorn on 127.0.0.1, a real
SQLite store): a value either parses, in the grammar of the site file, to a finite
quantity within its dimension's bound, or is 422 ``invalid_request`` naming the field
with the grammar's own reason; never a 5xx. What was accepted never breaks a later
read: the state, the snapshot export (JSON and YAML), explanations, histories."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.domain.quantity import BOUNDS, Dimension, QuantityError, parse_quantity
from tests.controller.test_app import serving
from tests.controller.test_inputs import fresh_controller, iso
from tests.domain.quantity_texts import quantity_values

API = "/api/v1"
#: Drawn values per field (set DEPOTCTL_QUANTITY_EXAMPLES, say 500, for a longer run).
EXAMPLES = int(os.environ.get("DEPOTCTL_QUANTITY_EXAMPLES", "40"))
#: Reads that render what the store holds; none may fail after any accepted write.
READS = [
    "/state",
    "/snapshot",
    "/snapshot?format=yaml",
    "/sessions?all=true",
    "/envelopes",
    "/overrides",
    "/telemetry/workshop",
    "/telemetry/gc-main",
    "/explain/dc-01%2F1",
    "/journal?limit=20",
]
_ids = itertools.count()


def _session(client: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"id": f"q-{next(_ids)}", "evse": "dc-01/1", **fields}
    return client.post(API + "/sessions", json=body)


def _open_session(client: httpx.Client) -> str:
    response = _session(client)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _end_open_sessions(client: httpx.Client) -> None:
    """dc-01/1 free again for the next example."""
    for record in client.get(API + "/sessions").json()["sessions"]:
        assert client.post(f"{API}/sessions/{record['id']}/end", json={}).status_code == 200


def _envelope(client: httpx.Client, value: Any) -> httpx.Response:
    body = {"id": f"q-{next(_ids)}", "target": "gc-main", "start": iso(0), "end": iso(60)}
    return client.post(API + "/envelopes", json={**body, "limit": value})


def _end(client: httpx.Client, value: Any) -> httpx.Response:
    session_id = _open_session(client)
    return client.post(f"{API}/sessions/{session_id}/end", json={"energy_delivered": value})


def _requirement(client: httpx.Client, value: Any) -> httpx.Response:
    session_id = _open_session(client)
    body = {"energy": value, "departure": iso(600)}
    return client.put(f"{API}/sessions/{session_id}/requirement", json=body)


def _reading(client: httpx.Client, **measured: Any) -> httpx.Response:
    reading = {"node": "workshop", "at": iso(0), **measured}
    return client.post(API + "/telemetry", json={"readings": [reading]})


@dataclass(frozen=True, slots=True)
class QuantityField:
    """A field of a request body that takes a quantity, and how to send it one."""

    where: str
    dimensions: tuple[Dimension, ...]
    send: Callable[[httpx.Client, Any], httpx.Response]
    signed: bool = False  # a negative value is accepted (an exported power)


POWER_OR_CURRENT = (Dimension.CURRENT, Dimension.POWER)
FIELDS = [
    QuantityField("body.limit", POWER_OR_CURRENT, _envelope),
    QuantityField(
        "body.energy_delivered",
        (Dimension.ENERGY,),
        lambda client, value: _session(client, energy_delivered=value),
    ),
    QuantityField(
        "body.requirement.energy",
        (Dimension.ENERGY,),
        lambda client, value: _session(
            client, requirement={"energy": value, "departure": iso(600)}
        ),
    ),
    QuantityField(
        "body.vehicle_max_current",
        (Dimension.CURRENT,),
        lambda client, value: _session(client, vehicle_max_current=value),
    ),
    QuantityField("body.energy_delivered", (Dimension.ENERGY,), _end),
    QuantityField("body.energy", (Dimension.ENERGY,), _requirement),
    QuantityField(
        "body.readings.0.power",
        (Dimension.POWER,),
        lambda client, value: _reading(client, power=value),
        signed=True,
    ),
    QuantityField(
        "body.readings.0.current.L2",
        (Dimension.CURRENT,),
        lambda client, value: _reading(client, current={"L2": value}),
    ),
]
FIELD_IDS = [
    "envelope-limit",
    "session-energy-delivered",
    "session-requirement-energy",
    "session-vehicle-max-current",
    "session-end-energy",
    "requirement-energy",
    "telemetry-power",
    "telemetry-current",
]


def expected_reason(field: QuantityField, value: Any) -> str | None:
    """The reason the grammar gives for refusing ``value`` in ``field``; None when the
    field takes it."""
    try:
        quantity = parse_quantity(value, field.dimensions)
    except QuantityError as error:
        return error.message
    if quantity.magnitude < 0 and not field.signed:
        return f"{quantity} must not be negative"
    return None


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The AU bus depot served for the whole module, its clock standing still."""
    state_dir = tmp_path_factory.mktemp("state")
    controller, _ = fresh_controller(state_dir)
    tokens = load_or_create_tokens(state_dir)
    headers = {"Authorization": f"Bearer {tokens.admin}"}
    try:
        with (
            serving(create_app(controller, tokens)) as url,
            # a connection per request: on a kept-alive one each request waits ~40 ms for
            # a delayed ACK
            httpx.Client(
                base_url=url,
                headers=headers,
                timeout=30,
                limits=httpx.Limits(max_keepalive_connections=0),
            ) as http,
        ):
            yield http
    finally:
        controller.close()


def check(client: httpx.Client, field: QuantityField, value: Any) -> httpx.Response:
    """Send ``value`` in ``field``: 422 with the grammar's reason at the field when the
    grammar refuses it, no complaint about the field when it takes it, never a 5xx;
    every read still answers after an accepted write."""
    try:
        response = field.send(client, value)
        assert response.status_code < 500, response.text
        reason = expected_reason(field, value)
        problems = response.json().get("problems", []) if response.status_code == 422 else []
        at_field = [p["message"] for p in problems if p["where"] == field.where]
        if reason is not None:
            assert response.status_code == 422, (value, response.text)
            assert response.json()["code"] == "invalid_request"
            assert at_field == [reason], (value, response.text)
        else:
            assert at_field == [], (value, response.text)
        if response.status_code < 300:
            for path in READS:
                read = client.get(API + path)
                assert read.status_code == 200, (value, path, read.text)
        return response
    finally:
        _end_open_sessions(client)


#: Each case issue 11 found, in every field it fits, and the grammar's other edges.
EDGE_VALUES = [
    "1e306 kW",
    "1e306 MW",
    "1e306 MWh",
    "1e306 kA",
    "1e999 kW",
    "-1e306 kW",
    "５ kW",
    "５ A",
    "５ kWh",
    " 40 kW",
    "40 kW ",
    " 40 A",
    "40 kWh\n",
    "40\u00a0A",
    "400kW",
    "40A",
    "40 kWh",
    "-40 kW",
    "-40 A",
    "0 kWh",
    "1000 MW",
    "1000.001 MW",
    "100 kA",
    "100001 A",
    "10000 MWh",
    "10000.1 MWh",
    10**400,
    1e308,
    True,
]


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
@pytest.mark.parametrize("value", EDGE_VALUES, ids=lambda value: repr(value)[:24])
def test_each_edge_is_parsed_or_422_at_its_field(
    client: httpx.Client, field: QuantityField, value: Any
) -> None:
    check(client, field, value)


def test_an_overflowing_reading_is_422_and_the_snapshot_still_exports(
    client: httpx.Client,
) -> None:
    """Issue 11: "1e306 kW" was accepted, then /snapshot answered 500 until a newer
    reading came; the telemetry history's mean and max became null."""
    response = _reading(client, power="1e306 kW")
    assert response.status_code == 422
    assert response.json()["problems"][0]["where"] == "body.readings.0.power"
    assert "out of range" in response.json()["message"]
    assert _reading(client, power="40 kW").status_code == 200
    assert client.get(API + "/snapshot").status_code == 200
    minutes = client.get(API + "/telemetry/workshop").json()["minutes"]
    assert minutes and all(m["power_w_mean"] is not None for m in minutes)
    assert all(m["power_w_max"] is not None for m in minutes)


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
@settings(max_examples=EXAMPLES)
@given(value=quantity_values)
def test_any_value_is_parsed_or_422_at_its_field(
    client: httpx.Client, field: QuantityField, value: Any
) -> None:
    check(client, field, value)


# The override's cap: the grammar, or a bare number of amps


def _cap(client: httpx.Client, value: Any) -> httpx.Response:
    return client.put(API + "/evses/dc-02%2F1/override", json={"cap": value})


def _cap_refused(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return not 0 <= value <= BOUNDS[Dimension.CURRENT].largest
    try:
        return parse_quantity(value, (Dimension.CURRENT,)).magnitude < 0
    except QuantityError:
        return True


@settings(max_examples=2 * EXAMPLES)
@given(
    value=quantity_values
    | st.floats(min_value=-1, max_value=2e5)
    | st.integers(min_value=-1, max_value=200_000)
)
def test_a_cap_is_a_current_or_a_number_of_amps_within_the_bound(
    client: httpx.Client, value: Any
) -> None:
    response = _cap(client, value)
    assert response.status_code < 500, response.text
    if _cap_refused(value):
        assert response.status_code == 422, (value, response.text)
        assert response.json()["problems"][0]["where"] == "body.cap"
    else:
        assert response.status_code == 200, (value, response.text)
        for path in READS:
            assert client.get(API + path).status_code == 200, (value, path)


@pytest.mark.parametrize(
    "cap",
    [1e306, 10**400, -(10**400), 100_001, "1e306 kA", "５ A"],
    ids=lambda value: repr(value)[:24],
)
def test_an_overflowing_cap_is_422(client: httpx.Client, cap: Any) -> None:
    response = _cap(client, cap)
    assert response.status_code == 422, response.text
    assert response.json()["problems"][0]["where"] == "body.cap"


def test_the_bound_is_in_the_published_schema_of_a_cap(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    schema = document["components"]["schemas"]["OverrideInput"]["properties"]["cap"]
    numbers = [s for s in schema["anyOf"] if s.get("type") == "number"]
    assert numbers == [{"type": "number", "minimum": 0, "maximum": 1e5}]
