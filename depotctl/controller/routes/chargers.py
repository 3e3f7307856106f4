"""``GET /api/v1/chargers``: every charger of the site as the controller sees it
(:mod:`..services.chargers`; docs/api.md describes the answer)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from depotctl import api
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answers
from depotctl.controller.services.chargers import ChargerSeen, list_chargers


def charger_routes() -> APIRouter:
    """The chargers (mounted with ``include_api``)."""
    router = APIRouter(tags=["state"])
    summary = "Every charger: online, controllable or why not, its fallback and limits"
    router.add_api_route("/chargers", chargers, summary=summary, **answers(api.Chargers))
    return router


def chargers(controller: ControllerDep) -> api.Chargers:
    listed = list_chargers(controller)
    return api.Chargers(
        time=listed.at,
        timezone=listed.timezone,
        uncontrollable=sum(1 for c in listed.chargers if not c.state.is_controllable),
        chargers=[_charger(c, listed.at) for c in listed.chargers],
    )


def _charger(charger: ChargerSeen, at: datetime) -> api.Charger:
    state, alert = charger.state, charger.alert
    controllable = state.is_controllable
    return api.Charger(
        id=state.charger_id,
        evses=list(charger.evses),
        heard_from=charger.heard_from,
        online=state.online,
        controllable=controllable,
        reason=None if controllable else (alert.reason if alert else state.reason),
        since=alert.since if alert and not controllable else None,
        fallback_accepted=state.fallback_accepted,
        last_outcome=state.last_outcome.value if state.last_outcome else None,
        last_command_at=state.last_command_at,
        last_accepted_limit_a=state.last_accepted_limit_a,
        held={
            evse_id: [
                api.HeldLimit(limit_a=h.limit_a, until=h.until, holds=h.holds_at(at))
                for h in limits
            ]
            for evse_id, limits in sorted(state.held.items())
        },
    )
