"""The horizon planner's settings (``spec.planner``): off unless enabled. Their bounds
are the ``planner/…`` rules, so that a wrong value is named with its fix."""

from __future__ import annotations

from pydantic import Field

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import DurationValue
from depotctl.domain import Duration


class Planner(SchemaModel):
    enabled: bool = Field(
        False, description="Plan charging over the horizon; the allocator follows the plan."
    )
    horizon: DurationValue = Field(
        Duration(24, "h"), description="How far ahead it plans: 1 h to 48 h, whole blocks."
    )
    block: DurationValue = Field(
        Duration(15, "min"), description="The plan's step; it divides an hour (5, 15, 30 min…)."
    )
    replan: DurationValue = Field(
        Duration(5, "min"),
        description="Plan again at least this often; arrivals, departures, envelope changes "
        "and block boundaries replan at once.",
    )
