"""``GET /api/v1/telemetry/{node}``: a node's downsampled history (one row per minute:
samples, mean and peak power, peak current per phase), from the store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl.controller.api_inputs import Time
from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import ApiError
from depotctl.controller.service import NoSite
from depotctl.controller.store import TelemetryMinute


def telemetry_routes() -> APIRouter:
    """The telemetry history (mounted with ``include_api``)."""
    router = APIRouter()

    @router.get(
        "/telemetry/{node}",
        tags=["telemetry"],
        summary="A node's (or meter's, or charger's) telemetry, one row per minute",
    )
    def history(
        node: str,
        controller: ControllerDep,
        since: Annotated[Time | None, Query(description="ISO 8601 with zone; from")] = None,
        until: Annotated[Time | None, Query(description="ISO 8601 with zone; before")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many")] = 1440,
    ) -> dict[str, Any]:
        try:
            applied = controller.require_site()
        except NoSite as error:
            raise ApiError(404, "not_found", str(error)) from None
        known = {n.id for n in applied.site.spec.nodes} | {m.id for m in applied.site.spec.meters}
        if node not in known:
            raise ApiError(404, "not_found", f'site has no node or meter "{node}"', node=node)
        for name, instant in (("since", since), ("until", until)):
            if instant is not None and instant.utcoffset() is None:
                raise ApiError(
                    422, "invalid_request", f"{name}: give a time zone (e.g. 2026-11-26T15:00:00Z)"
                )
        minutes = controller.store.telemetry(node, since=since, until=until, limit=limit)
        return {"node": node, "minutes": [_minute_json(m) for m in minutes]}

    return router


def _minute_json(minute: TelemetryMinute) -> dict[str, Any]:
    return {
        "minute": minute.minute.isoformat(),
        "samples": minute.samples,
        "power_w_mean": minute.power_w_mean,
        "power_w_max": minute.power_w_max,
        "current_a_max": (
            {str(phase): amps for phase, amps in minute.current_a_max.items()}
            if minute.current_a_max
            else None
        ),
    }
