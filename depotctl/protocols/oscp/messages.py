"""OSCP 2.0 messages as pydantic models, with the specification's JSON field names and
enumerations, and the one way to read them off the wire (:func:`parse_message`).

The fields, cardinalities and enumerations follow the Open Charge Alliance's OSCP 2.0
message definitions (the specification's "Messages" and "Types" chapters and the JSON
schemas published with it). Where the specification's prose and its schemas differ, the
choice is stated beside the field.

Datetimes are aware and UTC inside. On the wire a datetime carries its offset; a naive
one is refused unless the caller states the zone to read it in (``naive_zone``: a peer
quirk). Messages go out as :meth:`OscpMessage.to_wire`: ``model_dump(mode="json",
exclude_none=True)``, datetimes as RFC 3339 with ``Z``.

A body that is not a valid message raises :class:`MessageRefused`, whose text names the
message, each field path and what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
)

# Enumerations (the wire value is the member's name)


class CapacityForecastType(StrEnum):
    """What a capacity forecast limits (or, for ``OPTIMUM``, advises)."""

    CONSUMPTION = "CONSUMPTION"  # the most the group may import
    GENERATION = "GENERATION"  # the most the group may export
    FALLBACK_CONSUMPTION = "FALLBACK_CONSUMPTION"  # import, while the link is down
    FALLBACK_GENERATION = "FALLBACK_GENERATION"  # export, while the link is down
    OPTIMUM = "OPTIMUM"  # an advised level, not a limit


class ForecastedBlockUnit(StrEnum):
    """The unit of a forecasted block's capacity."""

    A = "A"  # current per phase
    W = "W"  # power
    KW = "KW"  # power, in thousands of watts
    WH = "WH"  # energy over the block: not a limit on power
    KWH = "KWH"  # energy, in thousands of watt-hours


class PhaseIndicator(StrEnum):
    """The phase a block or a measurement is meant for."""

    UNKNOWN = "UNKNOWN"  # not known: read as every phase
    ONE = "ONE"  # L1
    TWO = "TWO"  # L2
    THREE = "THREE"  # L3
    ALL = "ALL"  # every phase


class EnergyMeasurementUnit(StrEnum):
    WH = "WH"
    KWH = "KWH"


class EnergyType(StrEnum):
    """Which energy a measurement reports; absent means ``TOTAL``."""

    FLEXIBLE, NONFLEXIBLE, TOTAL = "FLEXIBLE", "NONFLEXIBLE", "TOTAL"


class EnergyFlowDirection(StrEnum):
    """Which way the measured energy flowed (``NET``: import less export)."""

    NET, IMPORT, EXPORT = "NET", "IMPORT", "EXPORT"


class MeasurementConfiguration(StrEnum):
    """How the receiver wants measurements aggregated."""

    CONTINUOUS, INTERMITTENT = "CONTINUOUS", "INTERMITTENT"


# Datetimes


class NaiveDatetimeError(ValueError):
    """A datetime without a UTC offset, where no zone to read it in was given."""


def _aware_utc(value: datetime, info: ValidationInfo) -> datetime:
    """An aware datetime in UTC; a naive one only in the zone the caller states."""
    if value.tzinfo is None or value.utcoffset() is None:
        zone = info.context.get("naive_zone") if isinstance(info.context, Mapping) else None
        if not isinstance(zone, ZoneInfo):
            raise NaiveDatetimeError(
                f"{value.isoformat()} has no UTC offset; OSCP datetimes carry one "
                "(like 2026-03-02T18:10:00Z). If this peer sends local times, declare "
                "the zone it means for its envelope source"
            )
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


#: A datetime on the wire: aware, UTC inside.
OscpDatetime = Annotated[datetime, AfterValidator(_aware_utc)]

#: A finite number (JSON has no NaN or infinity; some encoders write them anyway).
FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]

NonEmptyText = Annotated[str, Field(min_length=1)]


def _whole_as_int(number: float) -> int | float:
    """60, not 60.0: a whole number written as one (a JSON Schema draft-04 validator,
    pyoscp's, takes 60.0 for no integer)."""
    return int(number) if number.is_integer() else number


def _each_once(configurations: list[MeasurementConfiguration]) -> list[MeasurementConfiguration]:
    if len(set(configurations)) != len(configurations):
        raise ValueError(f"each configuration at most once, got {', '.join(configurations)}")
    return configurations


# Messages and their types


class OscpModel(BaseModel):
    """A part of an OSCP message: immutable; unknown fields are ignored (a later
    minor version may add some)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class OscpMessage(OscpModel):
    """A whole OSCP message, posted to the peer's ``endpoint`` under its base URL."""

    endpoint: ClassVar[str]

    def to_wire(self) -> dict[str, Any]:
        """The message's JSON object as the specification writes it (absent optional
        fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_body(self) -> bytes:
        """The request body: :meth:`to_wire` as compact UTF-8 JSON."""
        return json.dumps(self.to_wire(), separators=(",", ":")).encode()


class VersionUrl(OscpModel):
    version: NonEmptyText
    base_url: NonEmptyText


class RequiredBehaviour(OscpModel):
    """What the sender expects of the receiver. ``heartbeat_interval`` (seconds, at
    least 1) is absent when the sender does not want heartbeats;
    ``measurement_configuration`` is required (the OCA schema), an empty list meaning
    no configuration."""

    heartbeat_interval: (
        Annotated[float, Field(ge=1, allow_inf_nan=False), PlainSerializer(_whole_as_int)] | None
    ) = None
    measurement_configuration: Annotated[list[MeasurementConfiguration], AfterValidator(_each_once)]


class ForecastedBlock(OscpModel):
    """A capacity over ``[start_time, end_time)`` on a phase."""

    capacity: FiniteNumber
    phase: PhaseIndicator
    unit: ForecastedBlockUnit
    start_time: OscpDatetime
    end_time: OscpDatetime


class EnergyMeasurement(OscpModel):
    """A reading of an accumulating energy meter. ``initial_measure_time`` is when the
    accumulation (re)started; required by a receiver that asked for ``INTERMITTENT``."""

    value: FiniteNumber
    phase: PhaseIndicator
    unit: EnergyMeasurementUnit
    direction: EnergyFlowDirection
    energy_type: EnergyType | None = None
    measure_time: OscpDatetime
    initial_measure_time: OscpDatetime | None = None


class Register(OscpMessage):
    """The token the receiver is to use towards the sender, and the versions the sender
    speaks with their base URLs (in a reply: the one chosen)."""

    endpoint: ClassVar[str] = "register"

    token: NonEmptyText
    version_url: Annotated[list[VersionUrl], Field(min_length=1)]


class Handshake(OscpMessage):
    """Opens the exchange after registration: what the sender requires of the receiver."""

    endpoint: ClassVar[str] = "handshake"

    required_behaviour: RequiredBehaviour


class HandshakeAcknowledge(OscpMessage):
    """The answer to a handshake, with what its sender requires in turn (optional)."""

    endpoint: ClassVar[str] = "handshake_acknowledge"

    required_behaviour: RequiredBehaviour | None = None


class Heartbeat(OscpMessage):
    """The sender is alive; without another heartbeat it counts as offline from
    ``offline_mode_at``."""

    endpoint: ClassVar[str] = "heartbeat"

    offline_mode_at: OscpDatetime


class UpdateGroupCapacityForecast(OscpMessage):
    """Capacity Provider → Flexibility Provider: the capacity of a group, block by block."""

    endpoint: ClassVar[str] = "update_group_capacity_forecast"

    group_id: NonEmptyText
    type: CapacityForecastType
    forecasted_blocks: Annotated[list[ForecastedBlock], Field(min_length=1)]


class AdjustGroupCapacityForecast(OscpMessage):
    """Flexibility Provider → Capacity Provider: a request to adjust a group's forecast."""

    endpoint: ClassVar[str] = "adjust_group_capacity_forecast"

    group_id: NonEmptyText
    type: CapacityForecastType
    forecasted_blocks: Annotated[list[ForecastedBlock], Field(min_length=1)]


class GroupCapacityComplianceError(OscpMessage):
    """Flexibility Provider → Capacity Provider: the forecast (named by the request's
    ``X-Correlation-ID``) cannot be complied with; optionally, the blocks concerned."""

    endpoint: ClassVar[str] = "group_capacity_compliance_error"

    message: NonEmptyText
    forecasted_blocks: Annotated[list[ForecastedBlock], Field(min_length=1)] | None = None


class UpdateGroupMeasurements(OscpMessage):
    """Flexibility Provider → Capacity Provider: what a group drew. The specification's
    prose allows an empty list ("the total usage can be nothing"); its schema asks for
    one at least, so depotctl sends one at least and accepts none."""

    endpoint: ClassVar[str] = "update_group_measurements"

    group_id: NonEmptyText
    measurements: list[EnergyMeasurement]


#: Every message, by the specification's name.
MESSAGES: Mapping[str, type[OscpMessage]] = {
    message.__name__: message for message in OscpMessage.__subclasses__()
}


# Reading a body


class MessageRefused(ValueError):
    """A body that is not a valid message of its kind. ``problems`` holds each field
    path (``forecasted_blocks[0].unit``; ``(body)`` for the whole) with what is wrong."""

    def __init__(self, message_name: str, problems: list[tuple[str, str]]) -> None:
        self.message_name = message_name
        self.problems = tuple(problems)
        listed = "; ".join(f"{path}: {what}" for path, what in problems)
        super().__init__(f"{message_name} refused: {listed}")


Message = TypeVar("Message", bound=OscpMessage)


def parse_message(
    model: type[Message], body: bytes | str, *, naive_zone: ZoneInfo | None = None
) -> Message:
    """The ``model`` message in ``body`` (JSON). Types are taken strictly (a number
    in a string is not a number); datetimes must carry an offset, unless
    ``naive_zone`` says where a naive one is. Raises :class:`MessageRefused`."""
    try:
        return model.model_validate_json(body, strict=True, context={"naive_zone": naive_zone})
    except ValidationError as error:
        raise MessageRefused(model.__name__, _problems(error)) from None


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for detail in error.errors(include_url=False):
        path = _path(detail["loc"])
        kind = detail["type"]
        if kind == "json_invalid":
            problems.append(("(body)", f"not JSON ({detail['ctx']['error']})"))
        elif kind == "missing":
            problems.append((path, "required, missing"))
        elif kind == "model_type" or (kind == "model_attributes_type" and path == "(body)"):
            problems.append((path, "expected a JSON object"))
        elif kind == "value_error":
            problems.append((path, detail["msg"].removeprefix("Value error, ")))
        else:
            problems.append((path, _what(detail["msg"], detail.get("input"))))
    return problems


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(body)"


def _what(message: str, received: object) -> str:
    shown = json.dumps(received) if isinstance(received, str | int | float | bool) else None
    return f"{message} (got {shown})" if shown is not None else message
