"""The journal (``GET /api/v1/journal``; each event of ``GET /api/v1/events``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class JournalEntry(ApiModel):
    """One decision, command, input or change the controller journaled."""

    id: int
    at: Instant
    kind: str = Field(description="revision.applied, allocation.changed, envelope.received, …")
    evse: str | None
    envelope: str | None
    session: str | None
    message: str
    data: dict[str, Any] = Field(description="The entry's details, by kind.")


class Journal(ApiModel):
    """Entries, oldest first."""

    entries: list[JournalEntry]
