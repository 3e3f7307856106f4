"""OSCP 2.0 messages: valid examples read and written as the specification writes them
and conforming to the hand-written schemas; invalid ones refused by both the schema and
the model, with the field path named; datetimes aware and UTC; a round trip of any
message through its JSON."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from depotctl.protocols import oscp
from depotctl.protocols.oscp import MESSAGES, MessageRefused, OscpMessage, parse_message
from tests.protocols.oscp.schemas import (
    SCHEMA_DIR,
    TYPES,
    assert_conforms,
    schema_file,
    schema_problems,
)

BLOCK = {
    "capacity": 350.5,
    "phase": "ALL",
    "unit": "KW",
    "start_time": "2026-03-02T07:00:00Z",
    "end_time": "2026-03-02T07:15:00Z",
}
MEASUREMENT = {
    "value": 1234.5,
    "phase": "ALL",
    "unit": "KWH",
    "direction": "IMPORT",
    "energy_type": "TOTAL",
    "measure_time": "2026-03-02T07:15:00Z",
    "initial_measure_time": "2026-03-02T07:00:00Z",
}

#: One valid body per message, as a peer would send it.
EXAMPLES: dict[str, dict[str, Any]] = {
    "Register": {
        "token": "e3b0c44298fc1c149afbf4c8996fb924",
        "version_url": [{"version": "2.0", "base_url": "https://depot.example/oscp/fp/2.0"}],
    },
    "Handshake": {
        "required_behaviour": {
            "heartbeat_interval": 60,
            "measurement_configuration": ["CONTINUOUS"],
        }
    },
    "HandshakeAcknowledge": {
        "required_behaviour": {"heartbeat_interval": 30.5, "measurement_configuration": []}
    },
    "Heartbeat": {"offline_mode_at": "2026-03-02T07:05:00Z"},
    "UpdateGroupCapacityForecast": {
        "group_id": "NORTH-01",
        "type": "CONSUMPTION",
        "forecasted_blocks": [
            BLOCK,
            {**BLOCK, "start_time": "2026-03-02T07:15:00Z", "end_time": "2026-03-02T07:30:00Z"},
        ],
    },
    "AdjustGroupCapacityForecast": {
        "group_id": "NORTH-01",
        "type": "OPTIMUM",
        "forecasted_blocks": [{**BLOCK, "unit": "A", "phase": "TWO", "capacity": 32}],
    },
    "GroupCapacityComplianceError": {
        "message": "chargers that take no commands draw 412 kW against a 350 kW forecast",
        "forecasted_blocks": [BLOCK],
    },
    "UpdateGroupMeasurements": {"group_id": "NORTH-01", "measurements": [MEASUREMENT]},
}


def test_every_message_has_a_schema_and_an_example() -> None:
    assert set(EXAMPLES) == set(MESSAGES)
    for name in MESSAGES:
        assert schema_file(name).is_file(), f"{name} has no schema at {schema_file(name)}"
    files = {path.name for path in SCHEMA_DIR.glob("*.schema.json")}
    assert files == {schema_file(name).name for name in MESSAGES} | {TYPES}
    for path in SCHEMA_DIR.glob("*.schema.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_valid_example_is_read_and_written_back_as_it_came(name: str) -> None:
    body = EXAMPLES[name]
    assert_conforms(name, body)
    message = parse_message(MESSAGES[name], json.dumps(body))
    wire = message.to_wire()
    assert_conforms(name, wire)
    assert json.loads(message.to_body()) == wire
    # nothing added or lost (an int may come back as the equal float: 60 == 60.0)
    assert wire == body


def test_optional_fields_absent_are_left_out_not_written_as_null() -> None:
    message = parse_message(oscp.HandshakeAcknowledge, b"{}")
    assert message.to_wire() == {}
    error = oscp.GroupCapacityComplianceError(message="cannot comply")
    assert error.to_wire() == {"message": "cannot comply"}
    behaviour = oscp.RequiredBehaviour(measurement_configuration=[])
    assert oscp.Handshake(required_behaviour=behaviour).to_wire() == {
        "required_behaviour": {"measurement_configuration": []}
    }


def test_a_whole_heartbeat_interval_is_written_as_an_integer() -> None:
    """A draft-04 validator (pyoscp's) takes 60.0 for no integer."""
    for sent, written in (("60", "60"), ("60.0", "60"), ("30.5", "30.5")):
        body = f'{{"required_behaviour": {{"heartbeat_interval": {sent}, "measurement_configuration": []}}}}'
        handshake = parse_message(oscp.Handshake, body)
        assert (
            handshake.to_body()
            == (
                f'{{"required_behaviour":{{"heartbeat_interval":{written},"measurement_configuration":[]}}}}'
            ).encode()
        )


def test_each_message_knows_its_endpoint() -> None:
    assert {name: model.endpoint for name, model in MESSAGES.items()} == {
        "Register": "register",
        "Handshake": "handshake",
        "HandshakeAcknowledge": "handshake_acknowledge",
        "Heartbeat": "heartbeat",
        "UpdateGroupCapacityForecast": "update_group_capacity_forecast",
        "AdjustGroupCapacityForecast": "adjust_group_capacity_forecast",
        "GroupCapacityComplianceError": "group_capacity_compliance_error",
        "UpdateGroupMeasurements": "update_group_measurements",
    }


def _without(body: dict[str, Any], *path: str | int) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(body))
    node: Any = copy
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return copy


def _with(body: dict[str, Any], value: object, *path: str | int) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(body))
    node: Any = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


FORECAST = EXAMPLES["UpdateGroupCapacityForecast"]
MEASUREMENTS = EXAMPLES["UpdateGroupMeasurements"]
HANDSHAKE = EXAMPLES["Handshake"]

#: (message, body, the field path the model names): each refused by schema and model.
INVALID: list[tuple[str, dict[str, Any], str]] = [
    # missing fields
    ("Register", _without(EXAMPLES["Register"], "token"), "token"),
    ("Register", _without(EXAMPLES["Register"], "version_url", 0, "base_url"), "version_url[0].base_url"),
    ("Handshake", {}, "required_behaviour"),
    ("Handshake", _without(HANDSHAKE, "required_behaviour", "measurement_configuration"), "required_behaviour.measurement_configuration"),
    ("Heartbeat", {}, "offline_mode_at"),
    ("UpdateGroupCapacityForecast", _without(FORECAST, "group_id"), "group_id"),
    ("UpdateGroupCapacityForecast", _without(FORECAST, "forecasted_blocks", 1, "end_time"), "forecasted_blocks[1].end_time"),
    ("UpdateGroupCapacityForecast", _without(FORECAST, "forecasted_blocks", 0, "phase"), "forecasted_blocks[0].phase"),
    ("GroupCapacityComplianceError", {"forecasted_blocks": [BLOCK]}, "message"),
    ("UpdateGroupMeasurements", _without(MEASUREMENTS, "measurements", 0, "direction"), "measurements[0].direction"),
    # bad enumerations
    ("UpdateGroupCapacityForecast", _with(FORECAST, "MAXIMUM", "type"), "type"),
    ("UpdateGroupCapacityForecast", _with(FORECAST, "MW", "forecasted_blocks", 0, "unit"), "forecasted_blocks[0].unit"),
    ("UpdateGroupCapacityForecast", _with(FORECAST, "all", "forecasted_blocks", 1, "phase"), "forecasted_blocks[1].phase"),
    ("AdjustGroupCapacityForecast", _with(FORECAST, "EUR", "forecasted_blocks", 0, "unit"), "forecasted_blocks[0].unit"),
    ("UpdateGroupMeasurements", _with(MEASUREMENTS, "W", "measurements", 0, "unit"), "measurements[0].unit"),
    ("UpdateGroupMeasurements", _with(MEASUREMENTS, "BOTH", "measurements", 0, "direction"), "measurements[0].direction"),
    ("UpdateGroupMeasurements", _with(MEASUREMENTS, "SOME", "measurements", 0, "energy_type"), "measurements[0].energy_type"),
    ("Handshake", _with(HANDSHAKE, ["HOURLY"], "required_behaviour", "measurement_configuration"), "required_behaviour.measurement_configuration[0]"),
    # wrong types and ranges
    ("UpdateGroupCapacityForecast", _with(FORECAST, "350", "forecasted_blocks", 0, "capacity"), "forecasted_blocks[0].capacity"),
    ("UpdateGroupCapacityForecast", _with(FORECAST, True, "forecasted_blocks", 0, "capacity"), "forecasted_blocks[0].capacity"),
    ("UpdateGroupCapacityForecast", _with(FORECAST, 42, "group_id"), "group_id"),
    ("UpdateGroupCapacityForecast", _with(FORECAST, BLOCK, "forecasted_blocks"), "forecasted_blocks"),
    ("UpdateGroupCapacityForecast", _with(FORECAST, [], "forecasted_blocks"), "forecasted_blocks"),
    ("UpdateGroupCapacityForecast", _with(FORECAST, 1772434800, "forecasted_blocks", 0, "start_time"), "forecasted_blocks[0].start_time"),
    ("Heartbeat", {"offline_mode_at": "2026-03-02T07:05:00"}, "offline_mode_at"),
    ("Heartbeat", {"offline_mode_at": "soon"}, "offline_mode_at"),
    ("Handshake", _with(HANDSHAKE, 0, "required_behaviour", "heartbeat_interval"), "required_behaviour.heartbeat_interval"),
    ("Handshake", _with(HANDSHAKE, "60", "required_behaviour", "heartbeat_interval"), "required_behaviour.heartbeat_interval"),
    ("Handshake", _with(HANDSHAKE, ["CONTINUOUS", "CONTINUOUS"], "required_behaviour", "measurement_configuration"), "required_behaviour.measurement_configuration"),
    ("Register", _with(EXAMPLES["Register"], [], "version_url"), "version_url"),
    ("Register", _with(EXAMPLES["Register"], "", "token"), "token"),
    ("UpdateGroupMeasurements", _with(MEASUREMENTS, None, "measurements", 0, "value"), "measurements[0].value"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "body", "path"), INVALID, ids=[f"{n}:{p}" for n, _, p in INVALID])
def test_an_invalid_body_is_refused_by_the_schema_and_the_model(
    name: str, body: dict[str, Any], path: str
) -> None:
    assert schema_problems(name, body), f"the schema of {name} accepts {body}"
    with pytest.raises(MessageRefused) as refused:
        parse_message(MESSAGES[name], json.dumps(body))
    assert refused.value.message_name == name
    assert path in [where for where, _ in refused.value.problems]
    assert str(refused.value).startswith(f"{name} refused: ")
    assert f"{path}: " in str(refused.value)


def test_a_refusal_says_what_is_wrong_and_what_came() -> None:
    with pytest.raises(MessageRefused) as refused:
        parse_message(
            oscp.UpdateGroupCapacityForecast,
            json.dumps(_with(FORECAST, "MW", "forecasted_blocks", 0, "unit")),
        )
    assert str(refused.value) == (
        "UpdateGroupCapacityForecast refused: forecasted_blocks[0].unit: "
        "Input should be 'A', 'W', 'KW', 'WH' or 'KWH' (got \"MW\")"
    )


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"", "(body): not JSON"),
        (b'{"group_id": "G",', "(body): not JSON"),
        (b"[]", "(body): expected a JSON object"),
        (b'"text"', "(body): expected a JSON object"),
    ],
)
def test_a_body_that_is_no_json_object_is_refused(body: bytes, what: str) -> None:
    with pytest.raises(
        MessageRefused, match=f"^UpdateGroupCapacityForecast refused: {re.escape(what)}"
    ):
        parse_message(oscp.UpdateGroupCapacityForecast, body)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_a_capacity_that_is_no_finite_number_is_refused(number: str) -> None:
    body = json.dumps(FORECAST).replace("350.5", number, 1)
    with pytest.raises(MessageRefused, match=r"forecasted_blocks\[0\]\.capacity: .*finite"):
        parse_message(oscp.UpdateGroupCapacityForecast, body)


def test_datetimes_come_in_with_any_offset_and_are_utc_inside() -> None:
    heartbeat = parse_message(oscp.Heartbeat, b'{"offline_mode_at": "2026-03-02T18:05:00+11:00"}')
    assert heartbeat.offline_mode_at == datetime(2026, 3, 2, 7, 5, tzinfo=UTC)
    assert heartbeat.offline_mode_at.tzinfo is UTC
    assert heartbeat.to_wire() == {"offline_mode_at": "2026-03-02T07:05:00Z"}


def test_a_naive_datetime_is_refused_with_what_to_do() -> None:
    with pytest.raises(MessageRefused) as refused:
        parse_message(oscp.Heartbeat, b'{"offline_mode_at": "2026-03-02 18:05:00"}')
    assert str(refused.value) == (
        "Heartbeat refused: offline_mode_at: 2026-03-02T18:05:00 has no UTC offset; OSCP "
        "datetimes carry one (like 2026-03-02T18:10:00Z). If this peer sends local times, "
        "declare the zone it means for its envelope source"
    )


def test_a_naive_datetime_is_read_in_the_zone_the_caller_states() -> None:
    sydney = ZoneInfo("Australia/Sydney")
    body = b'{"offline_mode_at": "2026-03-02 18:05:00"}'  # pyoscp's form: local, no offset
    heartbeat = parse_message(oscp.Heartbeat, body, naive_zone=sydney)
    assert heartbeat.offline_mode_at == datetime(2026, 3, 2, 7, 5, tzinfo=UTC)
    # an offset the peer does state wins over the zone
    stated = parse_message(
        oscp.Heartbeat, b'{"offline_mode_at": "2026-03-02T18:05:00Z"}', naive_zone=sydney
    )
    assert stated.offline_mode_at == datetime(2026, 3, 2, 18, 5, tzinfo=UTC)


def test_a_naive_datetime_is_refused_when_built_in_code_too() -> None:
    with pytest.raises(ValueError, match="has no UTC offset"):
        oscp.Heartbeat(offline_mode_at=datetime(2026, 3, 2, 18, 5))
    aware = oscp.Heartbeat(
        offline_mode_at=datetime(2026, 3, 2, 18, 5, tzinfo=timezone(timedelta(hours=1)))
    )
    assert aware.offline_mode_at == datetime(2026, 3, 2, 17, 5, tzinfo=UTC)


def test_an_empty_measurement_list_is_accepted_as_the_prose_allows() -> None:
    body = {"group_id": "NORTH-01", "measurements": []}
    assert_conforms("UpdateGroupMeasurements", body)
    assert parse_message(oscp.UpdateGroupMeasurements, json.dumps(body)).measurements == []


def test_unknown_fields_are_ignored_by_model_and_schema() -> None:
    body = {**EXAMPLES["Heartbeat"], "vendor_extension": {"x": 1}}
    assert_conforms("Heartbeat", body)
    assert parse_message(oscp.Heartbeat, json.dumps(body)).to_wire() == EXAMPLES["Heartbeat"]


# Any message, through its JSON and back

_instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=10)), ZoneInfo("America/New_York")]),
)
_numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)
_text = st.text(min_size=1, max_size=20)
_blocks = st.builds(
    oscp.ForecastedBlock,
    capacity=_numbers,
    phase=st.sampled_from(oscp.PhaseIndicator),
    unit=st.sampled_from(oscp.ForecastedBlockUnit),
    start_time=_instants,
    end_time=_instants,
)
_behaviours = st.builds(
    oscp.RequiredBehaviour,
    heartbeat_interval=st.none() | st.floats(min_value=1, max_value=1e9),
    measurement_configuration=st.lists(
        st.sampled_from(oscp.MeasurementConfiguration), unique=True, max_size=2
    ),
)
_measurements = st.builds(
    oscp.EnergyMeasurement,
    value=_numbers,
    phase=st.sampled_from(oscp.PhaseIndicator),
    unit=st.sampled_from(oscp.EnergyMeasurementUnit),
    direction=st.sampled_from(oscp.EnergyFlowDirection),
    energy_type=st.none() | st.sampled_from(oscp.EnergyType),
    measure_time=_instants,
    initial_measure_time=st.none() | _instants,
)
_forecast_fields: dict[str, st.SearchStrategy[Any]] = {
    "group_id": _text,
    "type": st.sampled_from(oscp.CapacityForecastType),
    "forecasted_blocks": st.lists(_blocks, min_size=1, max_size=4),
}
MESSAGE_STRATEGIES: dict[str, st.SearchStrategy[OscpMessage]] = {
    "Register": st.builds(
        oscp.Register,
        token=_text,
        version_url=st.lists(st.builds(oscp.VersionUrl, version=_text, base_url=_text), min_size=1),
    ),
    "Handshake": st.builds(oscp.Handshake, required_behaviour=_behaviours),
    "HandshakeAcknowledge": st.builds(oscp.HandshakeAcknowledge, required_behaviour=st.none() | _behaviours),
    "Heartbeat": st.builds(oscp.Heartbeat, offline_mode_at=_instants),
    "UpdateGroupCapacityForecast": st.builds(oscp.UpdateGroupCapacityForecast, **_forecast_fields),
    "AdjustGroupCapacityForecast": st.builds(MESSAGES["AdjustGroupCapacityForecast"], **_forecast_fields),
    "GroupCapacityComplianceError": st.builds(
        oscp.GroupCapacityComplianceError,
        message=_text,
        forecasted_blocks=st.none() | st.lists(_blocks, min_size=1, max_size=3),
    ),
    "UpdateGroupMeasurements": st.builds(
        oscp.UpdateGroupMeasurements, group_id=_text, measurements=st.lists(_measurements, max_size=3)
    ),
}  # fmt: skip


def test_every_message_has_a_round_trip_strategy() -> None:
    assert set(MESSAGE_STRATEGIES) == set(MESSAGES)


@given(
    st.sampled_from(sorted(MESSAGE_STRATEGIES)).flatmap(
        lambda name: st.tuples(st.just(name), MESSAGE_STRATEGIES[name])
    )
)
def test_any_message_survives_its_json_and_conforms_to_its_schema(
    named: tuple[str, OscpMessage],
) -> None:
    name, message = named
    body = message.to_body()
    assert_conforms(name, body)
    again = parse_message(type(message), body)
    assert again == message
    assert again.to_body() == body
    for value in json.loads(body).values():
        assert not (isinstance(value, float) and math.isnan(value))
