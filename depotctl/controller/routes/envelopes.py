"""``/api/v1/envelopes``: list, submit, withdraw (:mod:`..services.envelopes`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response

from depotctl.api.inputs import EnvelopeInput
from depotctl.controller.deps import ControllerDep
from depotctl.controller.services.envelopes import (
    EnvelopeBoard,
    EnvelopeNow,
    envelope_board,
    envelope_data,
    submit_envelope,
    withdraw_envelope,
)


def envelope_routes() -> APIRouter:
    """The envelope endpoints (mounted with ``include_api``)."""
    router = APIRouter()

    @router.get("/envelopes", tags=["envelopes"], summary="Every envelope with its state now")
    def list_envelopes(controller: ControllerDep) -> dict[str, Any]:
        return board_json(envelope_board(controller))

    @router.post(
        "/envelopes",
        tags=["envelopes"],
        summary="Submit an envelope (201; 200 when the same one was already stored)",
        status_code=201,
        responses={200: {"description": "The same envelope was already stored"}},
    )
    def submit(
        body: EnvelopeInput, response: Response, controller: ControllerDep
    ) -> dict[str, Any]:
        submitted = submit_envelope(controller, body)
        if not submitted.new:
            response.status_code = 200
        return envelope_json(submitted.envelope)

    @router.post(
        "/envelopes/{envelope_id}/withdraw",
        tags=["envelopes"],
        summary="Withdraw an envelope from now (withdrawing it again changes nothing)",
    )
    def withdraw(envelope_id: str, controller: ControllerDep) -> dict[str, Any]:
        return envelope_json(withdraw_envelope(controller, envelope_id))

    return router


def board_json(board: EnvelopeBoard) -> dict[str, Any]:
    return {
        "time": board.at.isoformat(),
        "envelopes": [envelope_json(e) for e in board.envelopes],
        "sources": [
            {
                "id": source.source,
                "online": source.is_online(board.at),
                "last_heard": _iso(source.last_heard),
                "offline_after_s": source.offline_after_s,
            }
            for source in board.sources
        ],
    }


def envelope_json(now: EnvelopeNow) -> dict[str, Any]:
    envelope = now.envelope
    return {
        "id": envelope.id,
        **envelope_data(envelope),
        "received_at": _iso(envelope.received_at),
        "withdrawn_at": _iso(envelope.withdrawn_at),
        "source_online": now.source_online,
        "state": now.status.state.value,
        "reason": now.status.reason,
    }


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None
