"""How the controller behaves: staleness, minimum current, margins, priorities, defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import (
    CurrentValue,
    DurationValue,
    EnergyValue,
    RatioValue,
    TimeOfDay,
)
from depotctl.domain import Current, Duration, Energy, Ratio


class TelemetryPolicy(SchemaModel):
    stale_after: DurationValue = Field(
        Duration(30, "s"), description="Readings older than this are stale."
    )
    stale_site_load: Literal["fallback", "last_known_plus_margin"] = Field(
        "fallback", description="What a stale site load counts as; never zero."
    )
    stale_margin: RatioValue = Field(
        Ratio(20, "%"),
        description="The margin over the last known load, for last_known_plus_margin.",
    )


class RotationPolicy(SchemaModel):
    """Fairness rotation without churn: how long an EVSE stays switched on or off
    within its tier before the policy's order may switch it again. A limit, a higher
    tier or an uncontrollable charger still takes the room at once."""

    min_on: DurationValue = Field(
        Duration(5, "min"),
        description="Switched on less than this long ago, an EVSE keeps its place ahead of "
        "the others of its tier.",
    )
    min_off: DurationValue = Field(
        Duration(5, "min"),
        description="Switched off during its session less than this long ago, an EVSE is "
        "switched on only with room no other EVSE of its tier can use.",
    )


class ChargingPolicy(SchemaModel):
    min_current: CurrentValue = Field(Current(6, "A"), description="IEC 61851: 6 A for AC.")
    safety_margin: RatioValue = Field(Ratio(5, "%"), description="Kept free below every limit.")
    priority: Literal["laxity", "deadline", "fifo", "fair"] = "laxity"
    urgency_threshold: DurationValue = Field(
        Duration(30, "min"), description="Laxity below this puts a session in the urgent tier."
    )
    hysteresis: CurrentValue = Field(Current(1, "A"), description="Delays increases only.")
    rotation: RotationPolicy = Field(default_factory=RotationPolicy)


class DefaultRequirement(SchemaModel):
    """The need assumed for a session whose vehicle and need are unknown."""

    departure: TimeOfDay = Field("05:30", description="Local time, next occurrence.")
    energy: EnergyValue = Energy(60, "kWh")


class UncontrollablePolicy(SchemaModel):
    assume: Literal["last_accepted", "rating"] = Field(
        "last_accepted",
        description="What an uncontrollable charger is assumed to draw: its last accepted "
        "limit, or its rating.",
    )


class Policies(SchemaModel):
    telemetry: TelemetryPolicy = Field(default_factory=TelemetryPolicy)
    charging: ChargingPolicy = Field(default_factory=ChargingPolicy)
    default_requirement: DefaultRequirement = Field(default_factory=DefaultRequirement)
    uncontrollable_charger: UncontrollablePolicy = Field(default_factory=UncontrollablePolicy)
