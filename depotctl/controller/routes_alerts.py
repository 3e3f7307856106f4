"""``GET /api/v1/alerts``: the open alerts and, on request, the recently cleared ones
(controller/alerts.py keeps them; docs/api.md describes the answer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl.controller.alerts import AlertBook, alert_json
from depotctl.controller.api_inputs import EARLIEST, Time
from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import ApiError


def alert_routes() -> APIRouter:
    """The alerts (mounted with ``include_api``)."""
    router = APIRouter()

    @router.get(
        "/alerts",
        tags=["state"],
        summary="Open alerts, by since (?all=true or ?since= adds cleared ones)",
    )
    def alerts(
        controller: ControllerDep,
        include_cleared: Annotated[
            bool, Query(alias="all", description="Cleared ones too (kept 7 days)")
        ] = False,
        since: Annotated[
            Time | None, Query(description="ISO 8601 with zone: also those cleared from then")
        ] = None,
        limit: Annotated[
            int, Query(ge=1, le=10_000, description="At most this many cleared ones")
        ] = 1000,
    ) -> dict[str, Any]:
        if since is not None and since.utcoffset() is None:
            raise ApiError(
                422, "invalid_request", "since: give a time zone (e.g. 2026-11-26T15:00:00Z)"
            )
        cleared_since = EARLIEST if include_cleared else since
        listed = AlertBook(controller.store).alerts(cleared_since=cleared_since, limit=limit)
        applied = controller.applied
        return {
            "time": controller.clock.now().isoformat(),
            "timezone": applied.topology.timezone if applied is not None else None,
            "open": sum(1 for a in listed if a.is_open),
            "alerts": [alert_json(a) for a in listed],
        }

    return router
