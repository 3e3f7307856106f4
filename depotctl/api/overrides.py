"""Operator overrides: an operator's pause or cap on one EVSE (``GET
/api/v1/overrides``, and the answers of setting and clearing one)."""

from __future__ import annotations

from pydantic import Field

from depotctl.api.allocation import EvseAllocation
from depotctl.api.base import ApiModel, Instant


class Override(ApiModel):
    """An override in force (times in UTC)."""

    evse: str
    paused: bool
    cap: str | None = Field(description='"16 A"; null when only paused.')
    cap_a: float | None
    reason: str | None
    set_at: Instant
    author: str


class ListedOverride(Override):
    allocation: EvseAllocation | None = Field(
        description="The EVSE's live allocation (null for an EVSE the site no longer has)."
    )


class Overrides(ApiModel):
    time: Instant
    overrides: list[ListedOverride]


class OverrideSet(ApiModel):
    """``PUT /api/v1/evses/{evse}/override``."""

    override: Override
    changed: bool = Field(description="false: the EVSE already had this override.")
    allocation: EvseAllocation | None


class OverrideCleared(ApiModel):
    """``DELETE /api/v1/evses/{evse}/override``."""

    override: None
    cleared: Override = Field(description="The override that was.")
    allocation: EvseAllocation | None
