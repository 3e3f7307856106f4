"""The controller's own endpoints: health and metrics (open), the token's role, the
clock, the live state, one EVSE's explanation, and the snapshot export."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from depotctl import __version__, api
from depotctl.config import export_document, snapshot_to_yaml
from depotctl.controller.auth import Role, authorize
from depotctl.controller.binding_sources import binding_source
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.routes.plans import revision_json
from depotctl.controller.service import LiveState
from depotctl.controller.services.lookups import current_state
from depotctl.controller.services.past import (
    AT_HELP,
    decisions_json,
    instant,
    past_json,
    past_state,
)
from depotctl.controller.services.planner import planner_json
from depotctl.controller.services.state import explained, explained_evse, snapshot_export
from depotctl.views import Origin, allocation_json, explain_json

YAML_MEDIA_TYPE = "application/yaml"


def open_routes() -> APIRouter:
    """``/healthz`` and ``/metrics``: no token."""
    router = APIRouter(tags=["health"])

    @answering(router.get, "/healthz", api.Health, "Liveness: 200 while the API serves")
    def healthz(controller: ControllerDep) -> dict[str, Any]:
        applied = controller.applied
        return {
            "status": "ok",
            "revision": applied.revision.number if applied is not None else None,
        }

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
    )
    def metrics(controller: ControllerDep) -> Response:
        body = generate_latest(controller.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router


def state_routes() -> APIRouter:
    """Whoami, clock, state, explain, snapshot (mounted with ``include_api``)."""
    router = APIRouter()

    @answering(
        router.get,
        "/whoami",
        api.WhoAmI,
        "The role the presented token grants",
        tags=["controller"],
    )
    def whoami(role: Annotated[Role, Depends(authorize)]) -> dict[str, Any]:
        return {"role": role.value, "may_write": role is Role.ADMIN}

    @answering(router.get, "/clock", api.Clock, "The controller's clock", tags=["controller"])
    def clock(controller: ControllerDep) -> dict[str, Any]:
        clock = controller.clock
        applied = controller.applied
        zone = applied.topology.timezone if applied is not None else None
        return {"time": clock.now().isoformat(), "speed": clock.speed, "kind": clock.kind,
                "timezone": zone}  # fmt: skip

    @answering(
        router.get, "/state", api.State, "Every node's and EVSE's live allocation", tags=["state"]
    )
    def state(
        request: Request,
        controller: ControllerDep,
        at: Annotated[str | None, Query(description=AT_HELP)] = None,
    ) -> Response:
        if at is not None:
            past = past_state(controller, instant(at))
            return JSONResponse({**_state_json(past.live), "past": past_json(past)})
        live = current_state(controller)
        planner = planner_json(controller, controller.clock.now())
        rendered: tuple[LiveState, dict[str, Any], bytes] | None
        rendered = getattr(request.app.state, "state_body", None)
        # once per cycle (or change of the planner's state), not per request
        if rendered is None or rendered[0] is not live or rendered[1] != planner:
            body = {**_state_json(live), "planner": planner}
            rendered = (live, planner, json.dumps(body, separators=(",", ":")).encode())
            request.app.state.state_body = rendered
        return Response(rendered[2], media_type="application/json")

    @answering(
        router.get,
        "/explain/{evse_id:path}",
        api.Explanation,
        "Why one EVSE has its limit (EVSE id URL-encoded: chg-01%2F1)",
        tags=["state"],
    )
    def explain(
        evse_id: str,
        controller: ControllerDep,
        at: Annotated[str | None, Query(description=AT_HELP)] = None,
    ) -> dict[str, Any]:
        asked = None if at is None else instant(at)
        # or a vehicle's (bus-42): the EVSE it was plugged in on at that instant
        evse_id, stay = explained_evse(controller, evse_id, asked)
        past = None if asked is None else past_state(controller, asked, evse_id)
        live = explained(controller, evse_id) if past is None else past.live
        origin = Origin(revision=live.revision.hash)
        binding = live.allocation.evses[evse_id].binding
        held = next((e.source for e in live.snapshot.envelopes if e.id == binding.ref), None)
        source = binding_source(live.revision, binding, held)
        return {
            **explain_json(live.snapshot, live.allocation, evse_id, origin),
            "time": live.snapshot.at.isoformat(),
            "revision": revision_json(live.revision),
            **({"past": past_json(past, stay)} if past is not None else {}),
            "binding_source": source.json() if source is not None else None,
        }

    @answering(
        router.get,
        "/decisions",
        api.PastDecisions,
        "Each EVSE's last journaled limit change at or before an instant (time travel "
        "beyond the recorded inputs)",
        tags=["state"],
    )
    def decisions(
        controller: ControllerDep,
        at: Annotated[str, Query(description="The instant (ISO 8601 with its offset or Z).")],
        evse: Annotated[str | None, Query(description="Only this EVSE.")] = None,
    ) -> dict[str, Any]:
        return decisions_json(controller, instant(at), evse)

    @router.get(
        "/snapshot",
        tags=["state"],
        summary="The live state as a snapshot file (for `depotctl allocate --snapshot`)",
        response_class=Response,
        responses={
            200: {
                "description": "A `kind: Snapshot` document with the site embedded",
                "content": {"application/json": {}, YAML_MEDIA_TYPE: {}},
            },
            404: {"description": "No site revision yet"},
        },
    )
    def snapshot(
        controller: ControllerDep,
        output_format: Annotated[
            Literal["json", "yaml"], Query(alias="format", description="json (default) or yaml")
        ] = "json",
        at: Annotated[str | None, Query(description=AT_HELP)] = None,
    ) -> Response:
        export = snapshot_export(controller, None if at is None else instant(at))
        revision = export.revision
        document = export_document(
            export.snapshot,
            revision.site_text,
            exported_by=f"depotctl {__version__} controller",
            description=f"exported from the controller at site revision {revision.number} "
            f"(sha256:{revision.hash})",
            base_dir=export.base_dir,
        )
        if output_format == "yaml":
            return Response(snapshot_to_yaml(document), media_type=YAML_MEDIA_TYPE)
        return JSONResponse(document)

    return router


def _state_json(live: LiveState) -> dict[str, Any]:
    origin = Origin(revision=live.revision.hash)
    return {
        **allocation_json(live.snapshot, live.allocation, origin),
        "time": live.snapshot.at.isoformat(),
        "revision": revision_json(live.revision),
    }
