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


class OscpLinkState(ApiModel):
    """An OSCP source's link: its registration, handshake, the deadline its provider's
    last heartbeat named, and the messages to it not yet acknowledged."""

    registered_at: Instant | None = Field(description="Null: not registered (yet).")
    awaiting_register: bool = Field(
        description="This controller registered and waits for the provider's register."
    )
    handshake_at: Instant | None
    heartbeat_interval_s: float | None = Field(
        description="The heartbeat interval the provider asked of this controller."
    )
    waiting: int = Field(description="Messages to the provider not yet acknowledged.")
    last_error: str | None = Field(description="Why the oldest waiting message failed.")


class EnvelopeSource(ApiModel):
    """A source the site declares, or one heard from (``local``)."""

    id: str
    online: bool
    last_heard: Instant | None
    offline_after_s: float | None = Field(description="Null: never goes offline once heard.")
    offline_at: Instant | None = Field(
        None,
        description="When it goes (or went) offline unless heard from again: the deadline "
        "its last message named (OSCP's offline_mode_at), else offline_after from last_heard.",
    )
    oscp: OscpLinkState | None = Field(None, description="For an OSCP source.")


class Envelopes(ApiModel):
    time: Instant
    envelopes: list[Envelope]
    sources: list[EnvelopeSource]
