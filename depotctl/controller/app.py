"""The HTTP API: ``create_app(controller)`` builds the ASGI app that ``serve`` runs.

``/healthz`` and ``/metrics`` are open; everything under ``/api/v1`` needs a bearer
token (``auth.TokenGate`` answers 401 or 403 before anything else; ``auth.authorize``,
a router dependency, gives every endpoint, including those added later, the role).
Errors are JSON with a stable code (``errors``), declared in the OpenAPI document at
``/openapi.json``; docs/api.md describes each endpoint. The routes are in
:mod:`depotctl.controller.routes`, one module per resource.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from depotctl import __version__
from depotctl.controller.auth import TokenGate, Tokens, authorize
from depotctl.controller.errors import ERROR_RESPONSES, BodyLimit, install_error_handlers
from depotctl.controller.routes.alerts import alert_routes
from depotctl.controller.routes.chargers import charger_routes
from depotctl.controller.routes.envelopes import envelope_routes
from depotctl.controller.routes.events import event_routes
from depotctl.controller.routes.journal import journal_routes
from depotctl.controller.routes.lineage import lineage_routes
from depotctl.controller.routes.overrides import override_routes
from depotctl.controller.routes.reports import report_routes
from depotctl.controller.routes.revisions import revision_routes
from depotctl.controller.routes.sessions import session_routes
from depotctl.controller.routes.state import open_routes, state_routes
from depotctl.controller.routes.telemetry import telemetry_routes
from depotctl.controller.routes.timeline import timeline_routes
from depotctl.controller.service import Controller

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
    app.include_router(open_routes())
    for routes in (
        state_routes,
        revision_routes,
        journal_routes,
        lineage_routes,
        envelope_routes,
        session_routes,
        telemetry_routes,
        timeline_routes,
        override_routes,
        event_routes,
        alert_routes,
        charger_routes,
        report_routes,
    ):
        include_api(app, routes())
    return app


def include_api(app: FastAPI, router: APIRouter) -> None:
    """Mount ``router`` under ``/api/v1`` behind the token check (a read-only token gets
    403 on any method but GET, HEAD and OPTIONS)."""
    app.include_router(
        router, prefix=API_PREFIX, dependencies=[Depends(authorize)], responses=ERROR_RESPONSES
    )
