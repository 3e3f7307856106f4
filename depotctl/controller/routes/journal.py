"""``GET /api/v1/journal``: journal entries by filter, oldest first
(:mod:`..services.journal`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl import api
from depotctl.api.inputs import Time
from depotctl.api.journal import JournalFilters
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.journal import journal_entries
from depotctl.controller.store import JournalEntry


def journal_routes() -> APIRouter:
    """The journal (mounted with ``include_api``)."""
    router = APIRouter(tags=["journal"])

    @answering(router.get, "/journal", api.Journal, "Journal entries, oldest first")
    def journal(
        controller: ControllerDep,
        since: Annotated[Time | None, Query(description="ISO 8601 with zone; from")] = None,
        until: Annotated[Time | None, Query(description="ISO 8601 with zone; before")] = None,
        evse: Annotated[str | None, Query(description="Only this EVSE's entries")] = None,
        envelope: Annotated[str | None, Query(description="Only this envelope's")] = None,
        session: Annotated[str | None, Query(description="Only this session's")] = None,
        kind: Annotated[str | None, Query(description="Only this kind (revision.applied)")] = None,
        after_id: Annotated[
            int | None, Query(ge=0, le=2**63 - 1, description="Only entries after this id")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many")] = 1000,
    ) -> dict[str, Any]:
        filters = JournalFilters(since=since, until=until, kind=kind, after_id=after_id)
        filters |= JournalFilters(evse=evse, envelope=envelope, session=session, limit=limit)
        return {"entries": [entry_json(e) for e in journal_entries(controller, filters)]}

    return router


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
