"""The bodies the API accepts for its inputs: envelopes, sessions, requirements and
telemetry.

Quantities carry their unit in the site file's grammar (``"200 kW"``, ``"150 A"``,
``"60 kWh"``; a bare number is refused, and so is a value beyond its dimension's bound:
``docs/quantities.md``); times are ISO 8601 with an offset (a naive time is refused). These models check the shape of one request; what depends on the
site in force (does the node or EVSE exist, does the window make sense) is checked by
the controller's services (:mod:`depotctl.controller.services`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from depotctl.config import (
    AmpsValue,
    EnergyAmount,
    LimitPhases,
    LimitValue,
    NodeId,
    ReadingEntry,
    SchemaModel,
)
from depotctl.config import AwareTime as AnyTime
from depotctl.domain import Current
from depotctl.domain.envelopes import LOCAL_SOURCE

#: The span of times the API takes, ``[EARLIEST, LATEST)``: any of them converts to
#: any time zone and takes a year's arithmetic without leaving ``datetime``'s range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _in_span(at: datetime) -> datetime:
    if not EARLIEST <= at < LATEST:
        raise PydanticCustomError(
            "time/out-of-range",
            f"{at.isoformat()} is outside the times the controller takes: from "
            f"{_zulu(EARLIEST)} up to, not including, {_zulu(LATEST)}",
        )
    return at


def _zulu(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


#: An aware ISO 8601 time within ``[EARLIEST, LATEST)`` (bodies and query parameters).
Time = Annotated[AnyTime, AfterValidator(_in_span)]

#: An envelope's or a session's priority: what SQLite and every JSON client hold exactly.
Priority = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]

#: Envelope and session ids: they appear in paths, so no ``/`` and no spaces.
RecordId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="Letters, digits, '.', '_', ':' and '-', starting with a letter or digit.",
    ),
]

#: A vehicle's or fleet's id as the site names it (``bus-42``): read in any case,
#: kept in lower case.
VehicleId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Letters, digits, '.', '_' and '-', starting with a letter or digit; "
        "kept in lower case: bus-42.",
    ),
    AfterValidator(str.lower),
]

#: The source of envelopes posted by operators and tests.


class EnvelopeInput(SchemaModel):
    """An operating envelope to submit: a limit on ``target`` over ``[start, end)``."""

    id: RecordId
    target: NodeId = Field(description="The node the limit applies to, e.g. gc-main.")
    direction: Literal["import", "export"] = "import"
    limit: LimitValue
    phases: LimitPhases = None
    start: Time
    end: Time | None = Field(None, description="Exclusive; none for open-ended.")
    mode: Literal["normal", "fallback"] = Field(
        "normal", description="fallback: applies only while its source is offline."
    )
    source: NodeId = Field(
        LOCAL_SOURCE, description="The envelope source: local, or one the site declares."
    )
    priority: Priority = 0

    @model_validator(mode="after")
    def _phases_only_for_current(self) -> EnvelopeInput:
        if self.phases is not None and not isinstance(self.limit, Current):
            raise ValueError(
                f"phases apply only to a current limit (A per phase), not to {self.limit}"
            )
        if self.phases is not None and (
            not self.phases or len(set(self.phases)) != len(self.phases)
        ):
            raise ValueError("phases must list each phase once, at least one")
        return self


class RequirementInput(SchemaModel):
    """The fleet's schedule for a session: the energy it must have received in all (what
    it has received already included) by its departure."""

    energy: EnergyAmount
    departure: Time


class SessionInput(SchemaModel):
    """A session starting on an EVSE."""

    id: RecordId
    evse: str = Field(
        min_length=1,
        max_length=200,
        description='The EVSE, "<charger id>/<evse id>" like "dc-01/1" (an unknown one is 404 '
        "with the likely id).",
    )
    started: Time | None = Field(None, description="Default: now, on the controller's clock.")
    energy_delivered: EnergyAmount | None = Field(
        None, description="Energy received so far (default 0 kWh)."
    )
    requirement: RequirementInput | None = Field(
        None, description="Unknown when left out: the site's default requirement applies."
    )
    vehicle_max_current: AmpsValue | None = None
    priority_class: int = Field(0, ge=0, le=2**31 - 1, description="0 is the most important.")
    vehicle: VehicleId | None = Field(None, description="The vehicle it charges: bus-42.")
    fleet: VehicleId | None = Field(None, description="Its fleet operator: sydney-buses.")


class VehicleInput(SchemaModel):
    """The vehicle a running session charges, and its fleet operator (null: unknown)."""

    vehicle: VehicleId | None
    fleet: VehicleId | None = None


class SessionEndInput(SchemaModel):
    """A session ending."""

    ended_at: Time | None = Field(None, description="Default: now, on the controller's clock.")
    energy_delivered: EnergyAmount | None = Field(
        None, description="Energy delivered in all (default: the last value recorded)."
    )


class ReadingInput(ReadingEntry):
    """What a meter measured at a node (or meter, by its id) that is not a charger."""

    at: Time  # within the controller's span, where a snapshot's reading takes any time

    @model_validator(mode="after")
    def _measures_something(self) -> ReadingInput:
        if self.power is None and not self.current:
            raise ValueError(f'telemetry for "{self.node}" has neither power nor current')
        return self


class TelemetryInput(SchemaModel):
    """A batch of readings."""

    readings: list[ReadingInput] = Field(min_length=1, max_length=10_000)
