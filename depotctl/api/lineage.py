"""``GET /api/v1/lineage/{subject}``: where the limits of an EVSE's, a session's or a
vehicle's sessions came from and how each ended; or every EVSE an envelope limited and
the energy that cost each (an estimate from limits: docs/lineage.md). Times in UTC,
energies in Wh; ``text`` says it all in words, times in the site's zone."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class LineageBinding(ApiModel):
    """The constraint that set a limit, as the allocator names it."""

    kind: str = Field(description="envelope, node_limit, planned_rate, charger_limit, …")
    ref: str | None = Field(description="The envelope, node or policy behind it.")
    detail: str


class LimitChange(ApiModel):
    """One journaled limit change."""

    at: Instant
    evse: str
    session: str | None
    limit_a: float
    previous_a: float | None
    binding: LineageBinding


class SessionLineage(ApiModel):
    """A session from its arrival to its outcome."""

    session: str
    evse: str
    vehicle: str | None
    arrived: Instant
    ended: Instant | None = Field(description="Null: still open.")
    departure: Instant
    need_wh: float
    default_need: bool = Field(description="The need is the site's default requirement.")
    delivered_wh: float = Field(description="In all once ended, else so far.")
    short_wh: float = Field(description="0: met (or, while open, delivered already).")
    outcome: str
    changes: list[LimitChange]


class EnvelopeCost(ApiModel):
    """What an envelope cost one EVSE."""

    evse: str
    bound_s: float = Field(description="How long the envelope bound it (s).")
    energy_wh: float = Field(description="The estimate: docs/lineage.md.")


class EnvelopeLineage(ApiModel):
    """Every EVSE an envelope limited, its changes and their cost."""

    envelope: str
    changes: list[LimitChange]
    costs: list[EnvelopeCost]
    energy_wh: float


class Lineage(ApiModel):
    """The lineage of ``subject`` in ``[since, until)``."""

    subject: str
    kind: Literal["evse", "session", "vehicle", "envelope"]
    since: Instant | None
    until: Instant
    sessions: list[SessionLineage] = Field(description="Empty for an envelope.")
    envelope: EnvelopeLineage | None = Field(description="Only for an envelope.")
    text: list[str] = Field(description="In words, times in the site's zone with offset.")
