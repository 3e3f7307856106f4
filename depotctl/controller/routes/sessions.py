"""``/api/v1/sessions``: list with outlooks, one, start, end, requirement
(:mod:`..services.sessions`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl.api.inputs import RequirementInput, SessionEndInput, SessionInput
from depotctl.controller.deps import ControllerDep
from depotctl.controller.services.sessions import (
    end_session,
    list_sessions,
    one_session,
    rounded,
    session_data,
    set_requirement,
    start_session,
)
from depotctl.controller.store import SessionRecord
from depotctl.engine import SessionOutlook
from depotctl.views import binding_json


def session_routes() -> APIRouter:
    """The session endpoints (mounted with ``include_api``)."""
    router = APIRouter()

    @router.get(
        "/sessions",
        tags=["sessions"],
        summary="Open sessions with their outlook at departure (all with ?all=true)",
    )
    def sessions(
        controller: ControllerDep,
        include_ended: Annotated[bool, Query(alias="all", description="Ended ones too")] = False,
    ) -> dict[str, Any]:
        listed = list_sessions(controller, include_ended=include_ended)
        return {
            "time": _iso(listed.at),
            "sessions": [_with_outlook(r, listed.outlooks) for r in listed.records],
        }

    @router.get(
        "/sessions/{session_id}",
        tags=["sessions"],
        summary="One session with its outlook at departure",
    )
    def session(session_id: str, controller: ControllerDep) -> dict[str, Any]:
        found = one_session(controller, session_id)
        return {"time": _iso(found.at), **_with_outlook(found.records[0], found.outlooks)}

    @router.post(
        "/sessions", tags=["sessions"], summary="A session starting on an EVSE", status_code=201
    )
    def start(body: SessionInput, controller: ControllerDep) -> dict[str, Any]:
        return session_json(start_session(controller, body))

    @router.post("/sessions/{session_id}/end", tags=["sessions"], summary="A session ending")
    def end(session_id: str, body: SessionEndInput, controller: ControllerDep) -> dict[str, Any]:
        return session_json(end_session(controller, session_id, body))

    @router.put(
        "/sessions/{session_id}/requirement",
        tags=["sessions"],
        summary="The fleet's schedule for a running session: energy by departure",
    )
    def requirement(
        session_id: str, body: RequirementInput, controller: ControllerDep
    ) -> dict[str, Any]:
        return session_json(set_requirement(controller, session_id, body))

    return router


def session_json(record: SessionRecord) -> dict[str, Any]:
    return {
        "id": record.session.id,
        **session_data(record.session),
        "open": record.is_open,
        "ended_at": _iso(record.ended_at),
    }


def _with_outlook(record: SessionRecord, outlooks: dict[str, SessionOutlook]) -> dict[str, Any]:
    """A session as listed, with its ``outlook`` (null once ended, or when the site in
    force has no such EVSE)."""
    outlook = outlooks.get(record.session.id) if record.is_open else None
    return {
        **session_json(record),
        "outlook": outlook_json(outlook) if outlook is not None else None,
    }


def outlook_json(outlook: SessionOutlook) -> dict[str, Any]:
    """Energy in Wh, power in kW, current in A (3 decimals); times in UTC; the
    constraint as the EVSE's ``binding`` in ``/state``."""
    constraint = outlook.constraint
    return {
        "required_energy_wh": rounded(outlook.required_wh),
        "departure": _iso(outlook.departure),
        "requirement_source": outlook.requirement_source.value,
        "limit_a": rounded(outlook.limit_a),
        "limit_kw": rounded(outlook.limit_w / 1000.0),
        "expected_energy_wh": rounded(outlook.expected_wh),
        "shortfall_wh": rounded(outlook.shortfall_wh),
        "on_track": outlook.on_track,
        "complete_at": _iso(outlook.complete_at),
        "overdue": outlook.overdue,
        "constraint": binding_json(constraint) if constraint is not None else None,
    }


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None
