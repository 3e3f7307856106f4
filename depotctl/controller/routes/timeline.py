"""``GET /api/v1/timeline/{subject}``: an EVSE's or a node's load against its limit
over a window, with the envelopes that applied (:mod:`..services.timeline`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl.api.inputs import Time
from depotctl.api.timeline import Timeline as TimelineAnswer
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.timeline import timeline


def timeline_routes() -> APIRouter:
    """Timelines (mounted with ``include_api``)."""
    router = APIRouter(tags=["telemetry"])

    @answering(
        router.get,
        "/timeline/{subject:path}",
        TimelineAnswer,
        "An EVSE's or a node's load against its limit, step by step (at most 1,500)",
    )
    def timeline_of(
        controller: ControllerDep,
        subject: str,
        since: Annotated[
            Time | None, Query(description="ISO 8601 with zone; from (default: 12 h ago)")
        ] = None,
        until: Annotated[
            Time | None, Query(description="ISO 8601 with zone; before (default: now)")
        ] = None,
    ) -> dict[str, Any]:
        found: dict[str, Any] = _utc_text(asdict(timeline(controller, subject, since, until)))
        return found

    return router


def _utc_text(value: Any) -> Any:
    """``value`` as JSON: its times as ISO 8601 text (the service's are UTC)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _utc_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_utc_text(item) for item in value]
    return value
