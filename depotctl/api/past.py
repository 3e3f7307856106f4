"""Answers about a past instant: the ``past`` block of ``/state?at=`` and
``/explain?at=`` (a cycle rebuilt from its recorded inputs), and ``/decisions?at=``
(the journal's decisions, for instants older than the inputs kept)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from depotctl.api.base import ApiModel, Instant
from depotctl.api.binding_sources import BindingSource


class VehicleStay(ApiModel):
    """The vehicle asked about (``/explain/bus-42?at=``) and the session it was plugged
    in for at that instant."""

    vehicle: str
    session: str
    evse: str
    start: Instant = Field(description="When it was plugged in.")
    end: Instant | None = Field(description="When it left (null: still plugged in).")


class Past(ApiModel):
    """Only on an answer about a past instant (``at``)."""

    asked: Instant = Field(description="The instant asked about.")
    cycle_at: Instant = Field(description="The control cycle at or before it that decided.")
    source: Literal["recorded_inputs"] = Field(
        description="Recomputed from the cycle's recorded inputs."
    )
    vehicle: VehicleStay | None = Field(
        None, description="Only when a vehicle was asked about: where it was then."
    )


class PastDecision(ApiModel):
    """An EVSE's last journaled limit change at or before the instant."""

    evse: str
    at: Instant
    limit_a: float | None
    previous_a: float | None
    state: str | None
    binding: dict[str, Any] | None = Field(description="kind, ref and detail, as journaled.")
    session: str | None
    revision: int | None
    message: str
    binding_source: BindingSource | None = Field(
        None, description="Where the binding limit comes from, at the revision then in force."
    )


class PastDecisions(ApiModel):
    """``GET /api/v1/decisions?at=``: the journal's decisions, by EVSE."""

    asked: Instant
    source: Literal["journal"]
    inputs_kept_since: Instant | None = Field(
        description="The oldest instant the recorded inputs rebuild (null: none)."
    )
    decisions: list[PastDecision]
