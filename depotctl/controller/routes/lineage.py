"""``GET /api/v1/lineage/{subject}``: an EVSE's, a session's or a vehicle's sessions
from arrival to outcome, or what an envelope cost each EVSE it limited
(:mod:`..services.lineage`; docs/lineage.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl.api.inputs import Time
from depotctl.api.lineage import Lineage as LineageAnswer
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.lineage import Lineage, lineage
from depotctl.engine.lineage import LimitStep, SessionLineage


def lineage_routes() -> APIRouter:
    """Lineage (mounted with ``include_api``)."""
    router = APIRouter(tags=["journal"])

    @answering(
        router.get,
        "/lineage/{subject:path}",
        LineageAnswer,
        "Where the limits of an EVSE, session, vehicle or envelope came from",
    )
    def lineage_of(
        controller: ControllerDep,
        subject: str,
        since: Annotated[Time | None, Query(description="ISO 8601 with zone; from")] = None,
        until: Annotated[
            Time | None, Query(description="ISO 8601 with zone; before (default: now)")
        ] = None,
    ) -> dict[str, Any]:
        return lineage_json(lineage(controller, subject, since, until))

    return router


def lineage_json(found: Lineage) -> dict[str, Any]:
    """A lineage as the API gives it: times in UTC, energies in Wh, and its words."""
    envelope = found.envelope
    return {
        "subject": found.subject,
        "kind": found.kind,
        "since": found.since.isoformat() if found.since is not None else None,
        "until": found.until.isoformat(),
        "sessions": [_session_json(s) for s in found.sessions],
        "envelope": None
        if envelope is None
        else {
            "envelope": envelope.envelope,
            "changes": [_change_json(s) for s in envelope.steps],
            "costs": [
                {"evse": c.evse, "bound_s": c.bound_s, "energy_wh": c.energy_wh}
                for c in envelope.costs
            ],
            "energy_wh": envelope.energy_wh,
        },
        "text": found.words(),
    }


def _session_json(found: SessionLineage) -> dict[str, Any]:
    session = found.session
    return {
        "session": session.id,
        "evse": session.evse_id,
        "vehicle": session.vehicle_id,
        "arrived": session.started.isoformat(),
        "ended": found.ended.isoformat() if found.ended is not None else None,
        "departure": found.departure.isoformat(),
        "need_wh": found.need_wh,
        "default_need": found.default_need,
        "delivered_wh": found.delivered_wh,
        "short_wh": found.short_wh,
        "outcome": found.outcome,
        "changes": [_change_json(s) for s in found.steps],
    }


def _change_json(step: LimitStep) -> dict[str, Any]:
    binding = {"kind": step.kind, "ref": step.ref, "detail": step.detail}
    fields = ("evse", "session", "limit_a", "previous_a")
    return {"at": step.at.isoformat(), **{f: getattr(step, f) for f in fields}, "binding": binding}
