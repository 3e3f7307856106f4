"""``/api/v1/sessions``: list with outlooks, one, start, end, requirement, vehicle
(:mod:`..services.sessions`). A session is named by its id or by the vehicle of an
open one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from depotctl import api
from depotctl.api.encoding import figure, utc_text
from depotctl.api.inputs import RequirementInput, SessionEndInput, SessionInput, VehicleInput
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.sessions import (
    SessionsAt,
    end_session,
    list_sessions,
    one_session,
    session_data,
    set_requirement,
    set_vehicle,
    start_session,
)
from depotctl.controller.store import SessionRecord
from depotctl.engine import SessionOutlook
from depotctl.views import binding_json
from depotctl.views.readiness import readiness_json


def session_routes() -> APIRouter:
    """The session endpoints (mounted with ``include_api``)."""
    router = APIRouter(tags=["sessions"])

    @answering(
        router.get,
        "/sessions",
        api.Sessions,
        "Open sessions with their outlook at departure (all with ?all=true)",
    )
    def sessions(
        controller: ControllerDep,
        include_ended: Annotated[bool, Query(alias="all", description="Ended ones too")] = False,
    ) -> dict[str, Any]:
        listed = list_sessions(controller, include_ended=include_ended)
        return {
            "time": utc_text(listed.at),
            "sessions": [_with_outlook(r, listed) for r in listed.records],
        }

    @answering(
        router.get,
        "/sessions/{session_id}",
        api.SessionAt,
        "One session with its outlook at departure",
    )
    def session(session_id: str, controller: ControllerDep) -> dict[str, Any]:
        found = one_session(controller, session_id)
        return {"time": utc_text(found.at), **_with_outlook(found.records[0], found)}

    @answering(
        router.post,
        "/sessions",
        api.SessionRecord,
        "A session starting on an EVSE",
        status_code=201,
    )
    def start(body: SessionInput, controller: ControllerDep) -> dict[str, Any]:
        return session_json(start_session(controller, body))

    @answering(router.post, "/sessions/{session_id}/end", api.SessionRecord, "A session ending")
    def end(session_id: str, body: SessionEndInput, controller: ControllerDep) -> dict[str, Any]:
        return session_json(end_session(controller, session_id, body))

    @answering(
        router.put,
        "/sessions/{session_id}/requirement",
        api.SessionRecord,
        "The fleet's schedule for a running session: energy by departure",
    )
    def requirement(
        session_id: str, body: RequirementInput, controller: ControllerDep
    ) -> dict[str, Any]:
        return session_json(set_requirement(controller, session_id, body))

    @answering(
        router.put,
        "/sessions/{session_id}/vehicle",
        api.SessionRecord,
        "The vehicle a running session charges, and its fleet (null: unknown)",
    )
    def vehicle(session_id: str, body: VehicleInput, controller: ControllerDep) -> dict[str, Any]:
        return session_json(set_vehicle(controller, session_id, body))

    return router


def session_json(record: SessionRecord) -> dict[str, Any]:
    return {
        "id": record.session.id,
        **session_data(record.session),
        "open": record.is_open,
        "ended_at": utc_text(record.ended_at),
    }


def _with_outlook(record: SessionRecord, listed: SessionsAt) -> dict[str, Any]:
    """A session as listed, with its ``outlook`` and ``readiness`` (null once ended, or
    when the site in force has no such EVSE)."""
    outlook = listed.outlooks.get(record.session.id) if record.is_open else None
    forecast = listed.forecasts.get(record.session.id) if record.is_open else None
    return {
        **session_json(record),
        "outlook": outlook_json(outlook) if outlook is not None else None,
        "readiness": readiness_json(forecast) if forecast is not None else None,
    }


def outlook_json(outlook: SessionOutlook) -> dict[str, Any]:
    """Energy in Wh, power in kW, current in A (3 decimals); times in UTC; the
    constraint as the EVSE's ``binding`` in ``/state``."""
    constraint = outlook.constraint
    return {
        "required_energy_wh": figure(outlook.required_wh),
        "departure": utc_text(outlook.departure),
        "requirement_source": outlook.requirement_source.value,
        "limit_a": figure(outlook.limit_a),
        "limit_kw": figure(outlook.limit_w / 1000.0),
        "expected_energy_wh": figure(outlook.expected_wh),
        "shortfall_wh": figure(outlook.shortfall_wh),
        "on_track": outlook.on_track,
        "complete_at": utc_text(outlook.complete_at),
        "overdue": outlook.overdue,
        "constraint": binding_json(constraint) if constraint is not None else None,
    }
