"""The snapshot file schema (pydantic v2): the state of a depot at one instant.

Times are ISO 8601 with an offset; quantities carry their unit in the site file's
grammar (``400 kW``, ``120 A``, ``42 kWh``). The ``site`` block is checked apart
(:mod:`.load`): a path plus revision, or a whole embedded ``kind: Site`` document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import Marker, NodeId, Text, Units
from depotctl.domain import Current, Dimension, Energy, Power, Quantity


class Timestamp(Marker):
    """``Annotated`` marker: an aware ISO 8601 time; naive and malformed ones are the
    rules ``snapshot/naive-time`` and ``snapshot/malformed-time``."""

    @staticmethod
    def validate(value: Any) -> datetime:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                raise PydanticCustomError(
                    "snapshot/malformed-time",
                    f'"{value}" is not an ISO 8601 time',
                    {"hint": 'write it like "2024-05-14T18:30:00+10:00"'},
                ) from None
        else:
            raise PydanticCustomError(
                "snapshot/malformed-time",
                f"expected an ISO 8601 time as a string, got {type(value).__name__}",
                {"hint": 'write it like "2024-05-14T18:30:00+10:00"'},
            )
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise PydanticCustomError(
                "snapshot/naive-time",
                f'"{value}" has no UTC offset; times need an offset',
                {"hint": f'add the offset, like "{parsed.isoformat()}+10:00" or "…Z" for UTC'},
            )
        return parsed

    def serialization(self) -> core_schema.SerSchema:
        return core_schema.plain_serializer_function_ser_schema(lambda value: value.isoformat())

    def json_schema(self) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time", "description": "ISO 8601, with offset"}


def _not_negative(value: Quantity) -> Quantity:
    if value.magnitude < 0:
        raise PydanticCustomError(
            "quantity/not-positive",
            f"{value} must not be negative",
            {"hint": "use zero or more"},
        )
    return value


#: zero or more (a measurement, an amount)
_NOT_NEGATIVE = AfterValidator(_not_negative)
Time = Annotated[datetime, Timestamp()]
LimitValue = Annotated[
    Current | Power,
    Units(
        (Dimension.CURRENT, Dimension.POWER),
        "A current per phase (A) or a power (kW); zero is allowed.",
        positive=False,
    ),
    _NOT_NEGATIVE,
]
ReadingPower = Annotated[
    Power, Units.signed(Dimension.POWER, "Measured power; negative is export.")
]
ReadingCurrent = Annotated[
    Current, Units.signed(Dimension.CURRENT, "Measured current on one phase."), _NOT_NEGATIVE
]
AmpsValue = Annotated[
    Current, Units.signed(Dimension.CURRENT, "A current per line: A."), _NOT_NEGATIVE
]
EnergyAmount = Annotated[
    Energy, Units.signed(Dimension.ENERGY, "An energy: Wh, kWh, MWh."), _NOT_NEGATIVE
]
Revision = Annotated[
    str,
    Text(
        r"sha256:[0-9a-f]{64}",
        "site revision (sha256:<64 hex digits>)",
        "the sha256 of the site file's bytes, like sha256:3f1c…; `sha256sum SITE` prints it",
    ),
]
EvseId = Annotated[
    str,
    Text(
        r"[a-z0-9][a-z0-9._-]*/[^/\s]+",
        "EVSE id",
        'EVSE ids are "<charger id>/<evse id>", like "dc-01/1"',
    ),
]
PhaseName = Literal["L1", "L2", "L3"]
#: the phases a current limit applies to
LimitPhases = Annotated[
    list[PhaseName] | None,
    Field(description="For a current limit: the phases it applies to (default: all)."),
]


class SiteRef(SchemaModel):
    """The site a snapshot goes with: a file, relative to the snapshot, and the
    revision (sha256 of its bytes) it must match."""

    path: str | None = Field(None, description="The site file, relative to the snapshot.")
    revision: Revision = Field(description="sha256 of the site file's bytes.")


class Metadata(SchemaModel):
    description: str | None = None
    exported_by: str | None = Field(None, description="What wrote the snapshot.")


class SourceHealthEntry(SchemaModel):
    """When an envelope source was last heard from. A source not listed has never been
    heard from: it is offline and its fallback applies."""

    id: NodeId
    last_heard: Time | None = None
    deadline: Time | None = Field(
        None,
        description="The deadline the source's last message named (OSCP's offline_mode_at): "
        "offline after it; none: offline_after from last_heard.",
    )


class EnvelopeEntry(SchemaModel):
    """An operating envelope: a limit on ``target`` over ``[start, end)``."""

    id: str = Field(min_length=1)
    source: NodeId
    target: NodeId
    direction: Literal["import", "export"] = "import"
    limit: LimitValue
    phases: LimitPhases = None
    start: Time
    end: Time | None = Field(None, description="Exclusive; none for open-ended.")
    received_at: Time
    mode: Literal["normal", "fallback"] = "normal"
    priority: int = 0
    withdrawn_at: Time | None = None


class ReadingEntry(SchemaModel):
    """The latest reading of a node (or of a meter, by its id); the API's reading
    (``depotctl.api.inputs.ReadingInput``) is one too."""

    node: NodeId
    at: Time
    power: ReadingPower | None = None
    current: dict[PhaseName, ReadingCurrent] | None = Field(
        None, description='Current per phase: {"L1": "40 A", "L2": "38 A", "L3": "41 A"}.'
    )


class RequirementEntry(SchemaModel):
    energy: EnergyAmount = Field(
        description="The energy the session must have received in all (energy_delivered included)."
    )
    departure: Time
    source: Literal["schedule", "vehicle", "default"] = "schedule"


class PlanNoteEntry(SchemaModel):
    """Why the horizon plan followed gives the session its planned rate (explain's
    words): the energy price now, the first later and cheaper block it charges in, its
    departure and slack."""

    price_now: float = Field(description="The energy price per kWh of the block now.")
    cheaper_price: float | None = Field(
        None, description="The price per kWh of the first later, cheaper block it charges in."
    )
    cheaper_from: Time | None = Field(None, description="When that cheaper block starts.")
    departure: Time
    slack_hours: float = Field(
        description="The hours it could still wait and charge at its maximum until it departs."
    )
    grid_price_now: float | None = Field(
        None,
        description="The tariff's price per kWh now when the plan's margin now is forecast "
        "solar (price_now 0).",
    )
    cheaper_solar: bool = Field(False, description="The cheaper block's margin is forecast solar.")


class SessionEntry(SchemaModel):
    id: str = Field(min_length=1)
    evse: EvseId
    started: Time
    energy_delivered: EnergyAmount = Energy(0, "kWh")
    requirement: RequirementEntry | None = Field(
        None, description="Unknown when left out: the site's default requirement applies."
    )
    vehicle_max_current: AmpsValue | None = None
    planned_rate: AmpsValue | None = Field(None, description="The planner's cap for this block.")
    plan_note: PlanNoteEntry | None = Field(
        None, description="Why the plan gives that rate (explain's words); with planned_rate."
    )
    priority_class: int = Field(0, ge=0, description="0 is the most important.")


class ChargerEntry(SchemaModel):
    """What the controller knows of a charger; one not listed is online and controllable."""

    id: NodeId
    online: bool = True
    last_outcome: Literal["accepted", "rejected", "timeout", "offline"] | None = None
    last_accepted_limit: AmpsValue | None = None
    last_command_at: Time | None = None
    reason: str | None = None


class OverrideEntry(SchemaModel):
    """An operator's override on an EVSE: paused, and/or capped at so many amps per
    line (at least one of the two)."""

    evse: EvseId
    paused: bool = False
    cap: AmpsValue | None = Field(None, description="At most this current per line.")
    set_at: Time | None = Field(None, description="When it was set (default: the snapshot's at).")
    author: str = Field("unknown", min_length=1, description="Who set it.")
    reason: str | None = None


class AdmissionEntry(SchemaModel):
    """Since when an EVSE has been switched on (its limit in force above 0 A) or off
    (at 0 A): one of the two. The minimum on and off times of fairness rotation count
    from it."""

    on_since: Time | None = Field(None, description="Switched on at this time.")
    off_since: Time | None = Field(None, description="Switched off at this time.")


class SnapshotDocument(SchemaModel):
    """``kind: Snapshot``: everything one allocation depends on."""

    apiVersion: Literal["depotctl/v1"]
    kind: Literal["Snapshot"]
    metadata: Metadata = Field(default_factory=Metadata)
    at: Time
    site: dict[str, Any] = Field(
        description="{path, revision} of the site file, or an embedded kind: Site document."
    )
    envelope_sources: list[SourceHealthEntry] = Field(default_factory=list)
    envelopes: list[EnvelopeEntry] = Field(default_factory=list)
    telemetry: list[ReadingEntry] = Field(default_factory=list)
    sessions: list[SessionEntry] = Field(default_factory=list)
    chargers: list[ChargerEntry] = Field(default_factory=list)
    previous_limits: dict[str, AmpsValue] = Field(
        default_factory=dict, description="The limit in force per EVSE id, for hysteresis."
    )
    overrides: list[OverrideEntry] = Field(
        default_factory=list, description="Operators' pauses and caps, one per EVSE."
    )
    admission: dict[str, AdmissionEntry] = Field(
        default_factory=dict,
        description="Per EVSE id, since when it has been switched on or off, for the "
        "minimum on and off times of rotation.",
    )
