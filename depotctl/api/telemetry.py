"""Telemetry of meters that are not chargers: what a post accepted, and a node's
history, one row per minute it reported in."""

from __future__ import annotations

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class TelemetryAccepted(ApiModel):
    """``POST /api/v1/telemetry``."""

    accepted: int
    nodes: list[str]


class TelemetryMinute(ApiModel):
    minute: Instant
    samples: int
    power_w_mean: float | None
    power_w_max: float | None
    current_a_max: dict[str, float] | None = Field(description='{"L1": …}, or null.')


class TelemetryHistory(ApiModel):
    """``GET /api/v1/telemetry/{node}``: oldest first."""

    node: str
    minutes: list[TelemetryMinute]
