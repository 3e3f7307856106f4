"""The Flexibility Provider's endpoints, ``/oscp/fp/2.0/…``, as an ASGI app.

Every request is JSON with ``Authorization: Token <token>`` and ``X-Request-ID``:

- no token, another scheme, or a token of no source → 401; the source's initial
  token anywhere but ``register`` → 403 (register first);
- no ``X-Request-ID`` → 400; a request id the source sent before → 204 again,
  not handled twice;
- a body over :data:`MAX_BODY_BYTES` → 413, before the rest is read;
- a body that is not the endpoint's message → 400 naming each field and what is
  wrong; a message the controller refuses (an unknown group, a forecast it cannot
  take) → its 4xx. Every refusal is ``{"message": "…"}`` and stores nothing;
- accepted → ``204 No Content``. Where the protocol has an answer, the controller
  sends it to the peer as a separate request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from depotctl.protocols.oscp.events import Caller, CapacityProviderEvents, Inbound, OscpRefused
from depotctl.protocols.oscp.messages import (
    Handshake,
    HandshakeAcknowledge,
    Heartbeat,
    MessageRefused,
    OscpMessage,
    Register,
    UpdateGroupCapacityForecast,
    parse_message,
)

log = logging.getLogger("depotctl.oscp")

#: The path every endpoint is under.
BASE_PATH = "/oscp/fp/2.0"
#: The largest body read; a 96-block forecast is about 20 kB.
MAX_BODY_BYTES = 1024 * 1024

Message = TypeVar("Message", bound=OscpMessage)


def oscp_app(events: CapacityProviderEvents) -> Starlette:
    """The endpoints, handing what they accept to ``events``."""

    def accepting(
        model: type[Message], handle: Callable[[Inbound, Message], None]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await _receive(request, events, model, handle)

        return endpoint

    async def unregister(request: Request) -> Response:
        return await _receive(
            request, events, None, lambda inbound, _: events.unregistered(inbound)
        )

    register = accepting(Register, events.registered)
    acknowledged = accepting(HandshakeAcknowledge, events.handshake_acknowledged)

    async def elsewhere(request: Request) -> Response:
        """A peer's own path for an acknowledgement (its declared quirk), else 404."""
        caller = events.caller(_token(request) or "")
        path = request.path_params["endpoint"]
        if caller is not None and path == events.quirks(caller.source).acknowledge_path:
            return await acknowledged(request)
        return await _not_found(request, LookupError(path))

    return Starlette(
        routes=[
            Route(f"{BASE_PATH}/register", register, methods=["POST", "PUT"]),
            Route(f"{BASE_PATH}/register", unregister, methods=["DELETE"]),
            Route(
                f"{BASE_PATH}/handshake", accepting(Handshake, events.handshake), methods=["POST"]
            ),
            Route(f"{BASE_PATH}/handshake_acknowledge", acknowledged, methods=["POST"]),
            Route(
                f"{BASE_PATH}/heartbeat", accepting(Heartbeat, events.heartbeat), methods=["POST"]
            ),
            Route(
                f"{BASE_PATH}/update_group_capacity_forecast",
                accepting(UpdateGroupCapacityForecast, events.capacity_forecast),
                methods=["POST"],
            ),
            Route(f"{BASE_PATH}/{{endpoint}}", elsewhere, methods=["POST"]),
        ],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )


async def _receive(
    request: Request,
    events: CapacityProviderEvents,
    model: type[Message] | None,
    handle: Callable[[Inbound, Message], None] | Callable[[Inbound, None], None],
) -> Response:
    endpoint = request.url.path.removeprefix(BASE_PATH + "/")
    try:
        caller = _caller(request, events)
        if caller.initial and endpoint != "register":
            raise OscpRefused(
                403,
                f"the initial token of source {caller.source} is good for register only; "
                "register first and use the token exchanged there",
            )
        request_id = request.headers.get("x-request-id", "").strip()
        if not request_id:
            raise OscpRefused(400, "X-Request-ID is missing: every OSCP request carries one")
        body = await _body(request)
        if events.seen(caller.source, request_id):
            log.info("repeated request %s from %s answered again", request_id, caller.source)
            return Response(status_code=204)
        quirks = events.quirks(caller.source)
        message = (
            parse_message(model, quirks.read(body), naive_zone=quirks.naive_zone)
            if model is not None
            else None
        )
        inbound = Inbound(
            caller, request_id, request.headers.get("x-correlation-id") or None, events.now()
        )
        handle(inbound, message)  # type: ignore[arg-type]
    except OscpRefused as refused:
        return _refusal(refused.status, refused.message)
    except MessageRefused as refused:
        return _refusal(400, str(refused))
    return Response(status_code=204)


def _token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "token" and token.strip() else None


def _caller(request: Request, events: CapacityProviderEvents) -> Caller:
    header = request.headers.get("authorization", "")
    if not header:
        raise OscpRefused(401, "Authorization is missing: send `Authorization: Token <token>`")
    token = _token(request)
    if token is None:
        scheme = header.partition(" ")[0]
        raise OscpRefused(
            401,
            f"Authorization scheme {scheme!r} is not OSCP's: send `Authorization: Token <token>`",
        )
    caller = events.caller(token)
    if caller is None:
        raise OscpRefused(401, "the token is not valid here (rotated at a registration?)")
    return caller


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
    return bytes(body)


def _too_large() -> OscpRefused:
    return OscpRefused(
        413, f"the body is over {MAX_BODY_BYTES // 1024} KiB; send a forecast in smaller parts"
    )


def _refusal(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)


async def _not_found(request: Request, _: Exception) -> Response:
    return _refusal(
        404, f"no OSCP endpoint at {request.url.path}; endpoints are under {BASE_PATH}/"
    )


async def _not_allowed(request: Request, _: Exception) -> Response:
    return _refusal(405, f"{request.method} is not allowed on {request.url.path}; OSCP uses POST")
