"""A capacity adjustment the operator asks an OSCP source's grid operator for
(``POST /api/v1/envelope-sources/{source}/adjustments``): OSCP's
``AdjustGroupCapacityForecast``, sent by the controller for the source's group."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, ConfigDict, Field

from depotctl.api.base import ApiModel, Instant


class AdjustmentBlock(ApiModel):
    """One block asked for: ``capacity`` in ``unit`` over ``[start_time, end_time)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capacity: float = Field(ge=0, allow_inf_nan=False)
    unit: Literal["A", "W", "KW"]
    phase: Literal["ALL", "ONE", "TWO", "THREE", "UNKNOWN"] = "ALL"
    start_time: AwareDatetime
    end_time: AwareDatetime


class AdjustmentInput(ApiModel):
    """The capacity the depot would need: a forecast type and its blocks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal[
        "CONSUMPTION", "GENERATION", "FALLBACK_CONSUMPTION", "FALLBACK_GENERATION", "OPTIMUM"
    ] = "CONSUMPTION"
    forecasted_blocks: list[AdjustmentBlock] = Field(min_length=1)


class AdjustmentQueued(ApiModel):
    """The request queued for the source's grid operator: its ``X-Request-ID`` (the
    provider's answer, a new forecast, correlates to it)."""

    source: str
    group_id: str
    request_id: str
    queued_at: Instant
    blocks: int
