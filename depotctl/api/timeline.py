"""``GET /api/v1/timeline/{subject}``: an EVSE's or a node's load against its limit
over a window, step by step, with the envelopes that began or ended on its way to the
grid (docs/api.md). Times in UTC; loads and limits in ``unit`` (A per line for an
EVSE; W, or A per phase for a node with only a current limit)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class TimelinePoint(ApiModel):
    """One step: the highest load measured in it and the tightest limit in force."""

    at: Instant = Field(description="The step's start; it lasts the timeline's step_s.")
    load: float | None = Field(description="The peak load measured in the step; null: none.")
    limit: float | None = Field(description="The tightest limit in force; null: none known.")
    resolution_s: int | None = Field(
        description="60 from telemetry minutes, 900 from quarter hours (older than the "
        "raw retention); null without a reading."
    )


class TimelineEnvelope(ApiModel):
    """An envelope on the subject or a node above it, while it applied."""

    envelope: str
    source: str
    target: str
    begin: Instant = Field(description="When it became active (perhaps before the window).")
    end: Instant | None = Field(description="When it stopped applying; null: still applies.")
    limit: float
    unit: str = Field(description="W (total import power) or A (per phase).")
    mode: str = Field(description="normal, or fallback (applies while its source is offline)")


class Timeline(ApiModel):
    """Load against limit over ``[since, until)``: at most 1,500 steps, each the peak
    of the readings in it, so a peak is never hidden by downsampling."""

    subject: str
    kind: Literal["evse", "node"]
    unit: Literal["A", "W"]
    since: Instant
    until: Instant
    step_s: int = Field(description="Each step's length: a minute or more (whole minutes).")
    meters: list[str] = Field(description="Whose readings make the load (summed).")
    points: list[TimelinePoint]
    envelopes: list[TimelineEnvelope]
