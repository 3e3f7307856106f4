"""``/api/v1/telemetry``: readings of meters that are not chargers, and a node's
downsampled history (:mod:`..services.telemetry`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl import api
from depotctl.api.inputs import TelemetryInput, Time
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.telemetry import take_telemetry, telemetry_history
from depotctl.controller.store import TelemetryMinute


def telemetry_routes() -> APIRouter:
    """The telemetry endpoints (mounted with ``include_api``)."""
    router = APIRouter(tags=["telemetry"])

    @answering(
        router.post,
        "/telemetry",
        api.TelemetryAccepted,
        "Readings of meters that are not chargers (the latest per node is kept)",
    )
    def ingest(body: TelemetryInput, controller: ControllerDep) -> dict[str, Any]:
        taken = take_telemetry(controller, body)
        return {"accepted": taken.accepted, "nodes": list(taken.nodes)}

    @answering(
        router.get,
        "/telemetry/{node}",
        api.TelemetryHistory,
        "A node's (or meter's, or charger's) telemetry, one row per minute",
    )
    def history(
        node: str,
        controller: ControllerDep,
        since: Annotated[Time | None, Query(description="ISO 8601 with zone; from")] = None,
        until: Annotated[Time | None, Query(description="ISO 8601 with zone; before")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many")] = 1440,
    ) -> dict[str, Any]:
        minutes = telemetry_history(controller, node, since=since, until=until, limit=limit)
        return {"node": node, "minutes": [minute_json(m) for m in minutes]}

    return router


def minute_json(minute: TelemetryMinute) -> dict[str, Any]:
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
