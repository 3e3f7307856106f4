"""``GET /api/v1/alerts``: the open alerts and, on request, the recently cleared ones
(:mod:`..services.alerts`; docs/api.md describes the answer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl import api
from depotctl.api.inputs import Time
from depotctl.controller.alerts import alert_json
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.alerts import list_alerts


def alert_routes() -> APIRouter:
    """The alerts (mounted with ``include_api``)."""
    router = APIRouter(tags=["state"])

    @answering(
        router.get,
        "/alerts",
        api.Alerts,
        "Open alerts, by since (?all=true or ?since= adds cleared ones)",
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
        listed = list_alerts(controller, include_cleared=include_cleared, since=since, limit=limit)
        return {
            "time": listed.at.isoformat(),
            "timezone": listed.timezone,
            "open": sum(1 for a in listed.alerts if a.is_open),
            "alerts": [alert_json(a) for a in listed.alerts],
        }

    return router
