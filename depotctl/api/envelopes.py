"""Operating envelopes and their sources (``GET /api/v1/envelopes``; one envelope
answers a submit or a withdrawal)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class Envelope(ApiModel):
    """A stored envelope with its lifecycle state now and the reason (times in UTC)."""

    id: str
    source: str
    target: str
    direction: Literal["import", "export"]
    limit: str = Field(
        description='A power over the node\'s phases ("800 kW") or a current per phase ("150 A").'
    )
    phases: list[str] | None
    start: Instant
    end: Instant | None = Field(description="Exclusive; null: open-ended.")
    mode: Literal["normal", "fallback"]
    priority: int
    received_at: Instant
    withdrawn_at: Instant | None
    source_online: bool
    state: str = Field(
        description="pending, active, expired, withdrawn, fallback_eligible, active_fallback, received."
    )
    reason: str


class EnvelopeSource(ApiModel):
    """A source the site declares, or one heard from (``local``)."""

    id: str
    online: bool
    last_heard: Instant | None
    offline_after_s: float | None = Field(description="Null: never goes offline once heard.")


class Envelopes(ApiModel):
    time: Instant
    envelopes: list[Envelope]
    sources: list[EnvelopeSource]
