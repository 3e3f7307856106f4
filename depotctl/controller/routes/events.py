"""The event stream: ``GET /api/v1/events``, the journal as server-sent events.

Every journal entry appended after the stream starts is one event: ``id:`` the
journal id, ``event:`` its kind, ``data:`` its JSON (as ``GET /api/v1/journal``
gives it). A client resumes with ``Last-Event-ID`` (browsers send it when they
reconnect) or ``?since_id=``: the stream then starts with the entry after that id.

The stream follows the store by polling it (:func:`~..services.journal.entries_after`) every
``poll_s`` of wall time, so it sees what any writer journals (the control loop, the
API, another process). A comment line keeps idle connections open. It ends when the
client disconnects or when :func:`end_event_streams` is called (the server is
stopping: uvicorn waits for every open response to finish before it exits).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import ApiError
from depotctl.controller.ports import Depot
from depotctl.controller.routes.journal import entry_json
from depotctl.controller.services.journal import entries_after, latest_id
from depotctl.controller.store import JournalEntry

#: The largest journal id SQLite can hold.
MAX_ID = 2**63 - 1


def end_event_streams(app: Starlette) -> None:
    """End every open event stream of ``app`` within one poll (call it when the server
    begins to stop)."""
    _closing(app).set()


def _closing(app: Starlette) -> threading.Event:
    closing: threading.Event | None = getattr(app.state, "event_streams_closing", None)
    if closing is None:
        closing = threading.Event()
        app.state.event_streams_closing = closing
    return closing


def event_routes(*, poll_s: float = 0.25, keep_alive_s: float = 15.0) -> APIRouter:
    """The event stream endpoint (mounted with ``include_api``), polling the journal
    every ``poll_s`` and sending a keep-alive comment after ``keep_alive_s`` of quiet."""
    router = APIRouter(tags=["journal"])

    @router.get(
        "/events",
        summary="Server-sent events: every new journal entry (id, kind, JSON)",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def events(
        request: Request,
        controller: ControllerDep,
        since_id: Annotated[
            int | None,
            Query(ge=0, le=MAX_ID, description="Start after this journal id (0: from the start)"),
        ] = None,
        last_event_id: Annotated[
            str | None,
            Header(description="Resume after this event id (sent by reconnecting clients)"),
        ] = None,
    ) -> StreamingResponse:
        after = _resume_id(last_event_id)
        if after is None:
            after = since_id
        if after is None:
            after = await run_in_threadpool(latest_id, controller)
        closing = _closing(request.app)
        stream = _follow(request, controller, after, closing, poll_s, keep_alive_s)
        return StreamingResponse(
            stream,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


def _resume_id(header: str | None) -> int | None:
    if header is None or not header.strip():
        return None
    try:
        value = int(header.strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_ID:
        raise ApiError(
            422,
            "invalid_request",
            f"Last-Event-ID: {header!r} is not an event id of this stream (a journal id, "
            "0 or more)",
        )
    return value


async def _follow(
    request: Request,
    depot: Depot,
    after: int,
    closing: threading.Event,
    poll_s: float,
    keep_alive_s: float,
) -> AsyncIterator[str]:
    last_sent = time.monotonic()
    while not closing.is_set() and not await request.is_disconnected():
        entries = await run_in_threadpool(entries_after, depot, after)
        for entry in entries:
            yield event_text(entry)
            after = entry.id
        now = time.monotonic()
        if entries:
            last_sent = now
        elif now - last_sent >= keep_alive_s:
            yield ": keep-alive\n\n"
            last_sent = now
        await asyncio.sleep(poll_s)


def event_text(entry: JournalEntry) -> str:
    """One journal entry as a server-sent event."""
    kind = " ".join(entry.kind.split())  # a field is one line
    data = json.dumps(entry_json(entry), ensure_ascii=False, separators=(",", ":"))
    return f"id: {entry.id}\nevent: {kind}\ndata: {data}\n\n"
