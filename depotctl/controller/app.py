"""The HTTP API: ``create_app(controller)`` builds the ASGI app that ``serve`` runs.

``/healthz`` and ``/metrics`` are open; everything under ``/api/v1`` needs a bearer
token (``auth.TokenGate`` answers 401 or 403 before anything else; ``auth.authorize``,
a router dependency, gives every endpoint, including those added later, the role).
Errors are JSON with a stable code (``errors``), declared in the OpenAPI document at
``/openapi.json``; docs/api.md describes each endpoint.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from depotctl import __version__
from depotctl.controller.api_inputs import Time
from depotctl.controller.auth import Role, TokenGate, Tokens, authorize
from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import (
    ERROR_RESPONSES,
    ApiError,
    BodyLimit,
    install_error_handlers,
)
from depotctl.controller.routes_alerts import alert_routes
from depotctl.controller.routes_events import entry_json, event_routes
from depotctl.controller.routes_inputs import input_routes
from depotctl.controller.routes_overrides import override_routes
from depotctl.controller.routes_revisions import revision_routes
from depotctl.controller.routes_snapshot import snapshot_routes
from depotctl.controller.routes_telemetry import telemetry_routes
from depotctl.controller.service import AppliedSite, Controller, LiveState, NoSite
from depotctl.controller.store import Revision
from depotctl.views import Origin, allocation_json, explain_json

API_PREFIX = "/api/v1"


def create_app(controller: Controller, tokens: Tokens) -> FastAPI:
    """The API of one controller, accepting ``tokens``."""
    app = FastAPI(
        title="depotctl controller API",
        version=__version__,
        description="The running depot controller: site revisions, live allocation, "
        "explanations, clock and journal. Send `Authorization: Bearer <token>` (the "
        "admin or read-only token file in STATE_DIR/tokens) under /api/v1.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.controller = controller
    app.state.tokens = tokens
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(TokenGate, prefix=API_PREFIX)  # outermost: 401 before all
    app.include_router(_open_routes())
    include_api(app, _api_routes())
    include_api(app, input_routes())
    include_api(app, override_routes())
    include_api(app, revision_routes())
    include_api(app, telemetry_routes())
    include_api(app, snapshot_routes())
    include_api(app, event_routes())
    include_api(app, alert_routes())
    return app


def include_api(app: FastAPI, router: APIRouter) -> None:
    """Mount ``router`` under ``/api/v1`` behind the token check (a read-only token gets
    403 on any method but GET, HEAD and OPTIONS)."""
    app.include_router(
        router, prefix=API_PREFIX, dependencies=[Depends(authorize)], responses=ERROR_RESPONSES
    )


def _open_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["health"], summary="Liveness: 200 while the API serves")
    def healthz(controller: ControllerDep) -> dict[str, Any]:
        applied = controller.applied
        return {
            "status": "ok",
            "revision": applied.revision.number if applied is not None else None,
        }

    @router.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics",
        response_class=Response,
    )
    def metrics(controller: ControllerDep) -> Response:
        body = generate_latest(controller.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router


def _api_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/whoami", tags=["controller"], summary="The role the presented token grants")
    def whoami(role: Annotated[Role, Depends(authorize)]) -> dict[str, Any]:
        return {"role": role.value, "may_write": role is Role.ADMIN}

    @router.get("/clock", tags=["controller"], summary="The controller's clock")
    def clock(controller: ControllerDep) -> dict[str, Any]:
        clock = controller.clock
        return {"time": clock.now().isoformat(), "speed": clock.speed, "kind": clock.kind}

    @router.get("/site", tags=["site"], summary="The site revision in force, with its text")
    def site(controller: ControllerDep) -> dict[str, Any]:
        applied = _applied(controller)
        return {
            **_revision_json(applied.revision),
            "name": applied.site.metadata.name,
            "text": applied.revision.site_text,
        }

    @router.get("/revisions", tags=["site"], summary="Every site revision, newest first")
    def revisions(controller: ControllerDep) -> dict[str, Any]:
        current = controller.store.current_revision()
        listed = controller.store.revisions()
        return {
            "current": current.number if current is not None else None,
            "revisions": [_revision_json(r) for r in listed],
        }

    @router.get("/state", tags=["state"], summary="Every node's and EVSE's live allocation")
    def state(request: Request, controller: ControllerDep) -> Response:
        live = _live(controller)
        rendered: tuple[LiveState, bytes] | None = getattr(request.app.state, "state_body", None)
        if rendered is None or rendered[0] is not live:  # once per cycle, not per request
            origin = Origin(revision=live.revision.hash)
            body = {
                **allocation_json(live.snapshot, live.allocation, origin),
                "time": live.snapshot.at.isoformat(),
                "revision": _revision_json(live.revision),
            }
            rendered = (live, json.dumps(body, separators=(",", ":")).encode())
            request.app.state.state_body = rendered
        return Response(rendered[1], media_type="application/json")

    @router.get(
        "/explain/{evse_id:path}",
        tags=["state"],
        summary="Why one EVSE has its limit (EVSE id URL-encoded: chg-01%2F1)",
    )
    def explain(evse_id: str, controller: ControllerDep) -> dict[str, Any]:
        applied = _applied(controller)
        known = applied.topology.evses
        if evse_id not in known:
            raise _unknown_evse(evse_id, sorted(known))
        live = _live(controller)
        origin = Origin(revision=live.revision.hash)
        return {
            **explain_json(live.snapshot, live.allocation, evse_id, origin),
            "time": live.snapshot.at.isoformat(),
            "revision": _revision_json(live.revision),
        }

    @router.get("/journal", tags=["journal"], summary="Journal entries, oldest first")
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
        entries = controller.store.journal(
            since=since,
            until=until,
            evse=evse,
            envelope=envelope,
            session=session,
            kind=kind,
            after_id=after_id,
            limit=limit,
        )
        return {"entries": [entry_json(entry) for entry in entries]}

    return router


def _applied(controller: Controller) -> AppliedSite:
    try:
        return controller.require_site()
    except NoSite as error:
        raise ApiError(404, "not_found", str(error)) from None


def _live(controller: Controller) -> LiveState:
    try:
        return controller.current()
    except NoSite as error:
        raise ApiError(404, "not_found", str(error)) from None


def _revision_json(revision: Revision) -> dict[str, Any]:
    return {
        "number": revision.number,
        "hash": revision.hash,
        "created_at": revision.created_at.isoformat(),
        "author": revision.author,
        "message": revision.message,
        "rollback_of": revision.rollback_of,
    }


def _unknown_evse(evse: str, known: list[str]) -> ApiError:
    from depotctl.config.snapshot.checks import likely_id

    own = [k for k in known if k.startswith(evse + "/")]  # a charger id: its first EVSE
    close = own[0] if own else likely_id(evse, known)
    message = f'site has no EVSE "{evse}" (EVSE ids are "<charger id>/<evse id>")'
    if close:
        message += f'; did you mean "{close}"?'
    return ApiError(404, "not_found", message, evse=evse, did_you_mean=close)
