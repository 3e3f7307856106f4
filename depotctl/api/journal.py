"""The journal (``GET /api/v1/journal``; each event of ``GET /api/v1/events``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

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


class JournalSubjects(TypedDict, total=False):
    """What a journal entry is about, by id: an EVSE, an envelope, a session (None or
    left out: none of that kind)."""

    evse: str | None
    envelope: str | None
    session: str | None


class JournalFilters(JournalSubjects, total=False):
    """The journal's filters, named once for both sides of the wire: the query of
    ``GET /api/v1/journal``, the client's ``journal()`` and the store's ``entries()``.
    A filter left out or None matches every entry."""

    since: datetime | None  #: from this time on
    until: datetime | None  #: before this time
    kind: str | None  #: a JournalKind, such as ``revision.applied``
    after_id: int | None  #: only the entries appended after this one
    limit: int  #: at most this many (the controller's default 1,000)
