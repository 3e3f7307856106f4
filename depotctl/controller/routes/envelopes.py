"""``/api/v1/envelopes``: list, submit, withdraw (:mod:`..services.envelopes`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from depotctl import api
from depotctl.api.adjustments import AdjustmentInput
from depotctl.api.encoding import utc_text
from depotctl.api.inputs import EnvelopeInput
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.adjustments import request_adjustment
from depotctl.controller.services.envelopes import (
    EnvelopeBoard,
    EnvelopeNow,
    envelope_board,
    envelope_data,
    submit_envelope,
    withdraw_envelope,
)
from depotctl.controller.store.oscp import OutboxMessage, PeerRecord


def envelope_routes() -> APIRouter:
    """The envelope endpoints (mounted with ``include_api``)."""
    router = APIRouter(tags=["envelopes"])

    @answering(router.get, "/envelopes", api.Envelopes, "Every envelope with its state now")
    def list_envelopes(controller: ControllerDep) -> dict[str, Any]:
        return board_json(envelope_board(controller))

    @answering(
        router.post,
        "/envelopes",
        api.Envelope,
        "Submit an envelope (201; 200 when the same one was already stored)",
        status_code=201,
        responses={
            200: {"model": api.Envelope, "description": "The same envelope was already stored"}
        },
    )
    def submit(
        body: EnvelopeInput, response: Response, controller: ControllerDep
    ) -> dict[str, Any]:
        submitted = submit_envelope(controller, body)
        if not submitted.new:
            response.status_code = 200
        return envelope_json(submitted.envelope)

    @answering(
        router.post,
        "/envelopes/{envelope_id}/withdraw",
        api.Envelope,
        "Withdraw an envelope from now (withdrawing it again changes nothing)",
    )
    def withdraw(envelope_id: str, controller: ControllerDep) -> dict[str, Any]:
        return envelope_json(withdraw_envelope(controller, envelope_id))

    @answering(
        router.post,
        "/envelope-sources/{source}/adjustments",
        api.AdjustmentQueued,
        "Ask an OSCP source's grid operator for capacity (202: queued for it)",
        status_code=202,
    )
    def adjust(source: str, body: AdjustmentInput, controller: ControllerDep) -> dict[str, Any]:
        queued = request_adjustment(controller, source, body)
        return {
            "source": queued.source,
            "group_id": queued.group_id,
            "request_id": queued.request_id,
            "queued_at": queued.at.isoformat(),
            "blocks": queued.blocks,
        }

    return router


def board_json(board: EnvelopeBoard) -> dict[str, Any]:
    return {
        "time": board.at.isoformat(),
        "envelopes": [envelope_json(e) for e in board.envelopes],
        "sources": [
            {
                "id": source.source,
                "online": source.is_online(board.at),
                "last_heard": utc_text(source.last_heard),
                "offline_after_s": source.offline_after_s,
                "offline_at": utc_text(source.offline_at),
                "oscp": _link_json(*board.links[source.source])
                if source.source in board.links
                else None,
            }
            for source in board.sources
        ],
    }


def _link_json(record: PeerRecord, waiting: tuple[OutboxMessage, ...]) -> dict[str, Any]:
    return {
        "registered_at": utc_text(record.registered_at),
        "awaiting_register": record.awaiting_register,
        "handshake_at": utc_text(record.handshake_at),
        "heartbeat_interval_s": record.heartbeat_interval_s,
        "waiting": len(waiting),
        "last_error": waiting[0].last_error if waiting else None,
    }


def envelope_json(now: EnvelopeNow) -> dict[str, Any]:
    envelope = now.envelope
    return {
        "id": envelope.id,
        **envelope_data(envelope),
        "received_at": utc_text(envelope.received_at),
        "withdrawn_at": utc_text(envelope.withdrawn_at),
        "source_online": now.source_online,
        "state": now.status.state.value,
        "reason": now.status.reason,
    }
