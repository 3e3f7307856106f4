"""The journal (``GET /api/v1/journal``; each event of ``GET /api/v1/events``)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
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
    """A page of entries, oldest first, and where the next page starts."""

    entries: list[JournalEntry]
    next: str | None = Field(
        None,
        description="The cursor of the next page (pass it as ?cursor= with the same "
        "filters); null when this page holds the last matching entry.",
    )
    remaining: int = Field(0, description="How many matching entries come after this page.")
    next_at: Instant | None = Field(
        None, description="The time of the next page's first entry; null without one."
    )


@dataclass(frozen=True, slots=True)
class JournalPosition:
    """Where an entry stands in the journal's order (time, then id): a page's cursor
    names its last entry's position, and the next page starts after it."""

    at: datetime
    id: int

    def cursor(self) -> str:
        """The opaque text of this position (``?cursor=``)."""
        text = f"{self.at.isoformat()}~{self.id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def of_cursor(cls, cursor: str) -> JournalPosition:
        """The position a :meth:`cursor` names; ValueError for any other text."""
        at: datetime | None = None
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            at_text, _, id_text = base64.urlsafe_b64decode(padded).decode().partition("~")
            written, entry_id = datetime.fromisoformat(at_text), int(id_text)
            at = written.astimezone(UTC) if written.tzinfo is not None else None
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
            entry_id = -1
        if at is None or not 0 <= entry_id < 2**63:
            raise ValueError(
                f"cursor {cursor[:40]!r} is not one this controller gave; pass a page's "
                "`next` unchanged, with the same filters"
            )
        return cls(at, entry_id)


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

    node: str | None  #: about this node: see :data:`NODE_SCOPE`
    vehicle: str | None  #: about a session of this vehicle (bus-42)
    since: datetime | None  #: from this time on
    until: datetime | None  #: before this time
    kind: str | None  #: a JournalKind, such as ``revision.applied``
    after_id: int | None  #: only the entries appended after this one
    cursor: str | None  #: only the entries after a page's last (its ``next``)
    limit: int  #: at most this many (the controller's default 1,000)


#: What ``node`` matches, in the API's words (docs/api.md).
NODE_SCOPE = (
    "Entries about this node or anything under it in the site in force: an EVSE or "
    "charger at or below it (the entry's evse, or its data's charger), an envelope on it "
    "(data.target), an alert about it or a charger below it (data.subject)"
)
