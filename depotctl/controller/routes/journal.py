"""``GET /api/v1/journal``: journal entries by filter, oldest first, a page at a time
(:mod:`..services.journal`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from depotctl import api
from depotctl.api.inputs import Time
from depotctl.api.journal import NODE_SCOPE, JournalFilters, JournalPosition
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.journal import JournalPage, journal_page
from depotctl.controller.store import JournalEntry

#: The most entries one page holds.
MAX_LIMIT = 10_000


def _cursor(text: str) -> str:
    JournalPosition.of_cursor(text)  # a ValueError is the 422's message
    return text


Cursor = Annotated[str, AfterValidator(_cursor)]
#: ``?vehicle=``: the entries about that vehicle's sessions (its id in any case)
VehicleQuery = Annotated[
    str | None, Query(description="Only entries about this vehicle's sessions (bus-42)")
]


def journal_routes() -> APIRouter:
    """The journal (mounted with ``include_api``)."""
    router = APIRouter(tags=["journal"])

    @answering(router.get, "/journal", api.Journal, "Journal entries, oldest first, a page")
    def journal(
        controller: ControllerDep,
        since: Annotated[Time | None, Query(description="ISO 8601 with zone; from")] = None,
        until: Annotated[Time | None, Query(description="ISO 8601 with zone; before")] = None,
        evse: Annotated[str | None, Query(description="Only this EVSE's entries")] = None,
        envelope: Annotated[str | None, Query(description="Only this envelope's")] = None,
        session: Annotated[str | None, Query(description="Only this session's")] = None,
        node: Annotated[str | None, Query(description=NODE_SCOPE)] = None,
        vehicle: VehicleQuery = None,
        kind: Annotated[str | None, Query(description="Only this kind (revision.applied)")] = None,
        after_id: Annotated[
            int | None, Query(ge=0, le=2**63 - 1, description="Only entries after this id")
        ] = None,
        cursor: Annotated[
            Cursor | None,
            Query(description="The entries after a page: that page's `next`, same filters"),
        ] = None,
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description="At most this many in the page")
        ] = 1000,
    ) -> dict[str, Any]:
        filters = JournalFilters(since=since, until=until, kind=kind, after_id=after_id)
        filters |= JournalFilters(evse=evse, envelope=envelope, session=session, node=node)
        filters |= JournalFilters(cursor=cursor, limit=limit, vehicle=vehicle)
        return page_json(journal_page(controller, filters))

    return router


def page_json(page: JournalPage) -> dict[str, Any]:
    """A page of the journal as the API gives it: its entries and where it goes on."""
    return {
        "entries": [entry_json(e) for e in page.entries],
        "next": page.next.cursor() if page.next is not None else None,
        "remaining": page.remaining,
        "next_at": page.next_at.isoformat() if page.next_at is not None else None,
    }


def entry_json(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry as the API gives it."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "kind": entry.kind,
        "evse": entry.evse,
        "envelope": entry.envelope,
        "session": entry.session,
        "message": entry.message,
        "data": entry.data,
    }
