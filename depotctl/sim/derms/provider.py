"""The simulated Capacity Provider's endpoints, ``/oscp/cp/2.0/…``, and what it knows
of its one Flexibility Provider (the controller).

Every request is JSON with ``Authorization: Token <token>`` and ``X-Request-ID``, as
OSCP 2.0 asks: no token, another scheme or an unknown token → 401; the initial token
anywhere but ``register`` → 403; no request id → 400; a body over
:data:`MAX_BODY_BYTES` → 413; a body that is not the endpoint's message → 400 naming
the fields; a request id seen before → 204, not handled twice. While the provider is
silent (on cue), every request is answered 503 and nothing is recorded.

Tokens: the initial one (the site's ``token_env``/``token_file``) is good for
``register`` only. A token this provider hands out in its ``register`` is *pending*
until the controller acknowledges that register or presents the token; then it
replaces the one before, which stops working at once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from depotctl.protocols.oscp import messages as oscp
from depotctl.protocols.oscp.events import OscpRefused as Refused
from depotctl.protocols.oscp.messages import Handshake, Heartbeat, OscpMessage, Register

#: The path every endpoint is under.
BASE_PATH = "/oscp/cp/2.0"
#: The OSCP version spoken.
VERSION = "2.0"
#: The largest body read.
MAX_BODY_BYTES = 1024 * 1024

Message = TypeVar("Message", bound=OscpMessage)


@dataclass(frozen=True, slots=True)
class Received:
    """A message the provider accepted: when (the controller's clock), its request and
    correlation ids, and the message."""

    at: datetime
    request_id: str
    correlation_id: str | None
    message: OscpMessage


@dataclass(frozen=True, slots=True)
class Answer:
    """A message to send to the controller, answering ``correlation_id`` (its request
    id) if set."""

    message: OscpMessage
    correlation_id: str | None = None


@dataclass
class CapacityProvider:
    """The provider's side of one OSCP link: ``base_url`` is its own, announced at
    ``register``; ``initial_token`` the site's; ``now`` the controller's time."""

    group_id: str
    base_url: str
    initial_token: str
    now: Callable[[], datetime]
    #: what this provider asks of the controller at the handshake
    asks: oscp.HandshakeAcknowledge = field(default_factory=oscp.HandshakeAcknowledge)
    silent: bool = False
    #: the token the controller presents here, and those handed out not yet in use
    ours: str | None = None
    pending: list[str] = field(default_factory=list)
    #: the token presented to the controller, and its base URL (from its register)
    theirs: str | None = None
    fp_url: str | None = None
    registered_at: datetime | None = None
    #: the heartbeat interval the controller asked for (its handshake), seconds
    heartbeat_interval_s: float | None = None
    #: the controller's own heartbeats: until when it is online
    fp_offline_at: datetime | None = None
    received: list[Received] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    refused: int = 0
    _seen: set[str] = field(default_factory=set)
    woken: asyncio.Event = field(default_factory=asyncio.Event)

    # tokens

    def new_token(self) -> str:
        """A token for the controller, pending until acknowledged or presented."""
        token = secrets.token_urlsafe(32)
        self.pending.append(token)
        return token

    def token_acknowledged(self, token: str) -> None:
        """The controller has ``token``: it replaces the one before."""
        if token in self.pending:
            self.pending.remove(token)
            self.ours = token

    def token_refused(self, token: str) -> None:
        if token in self.pending:
            self.pending.remove(token)

    def registration(self) -> Register:
        """This provider's ``register``: a new token and its base URL."""
        return Register(
            token=self.new_token(),
            version_url=[oscp.VersionUrl(version=VERSION, base_url=self.base_url)],
        )

    def of(self, kind: type[Message]) -> list[Message]:
        """The accepted messages of one kind, in order."""
        return [r.message for r in self.received if isinstance(r.message, kind)]

    # requests

    def caller_initial(self, header: str) -> bool:
        """Whether the request's token is the initial one (else the exchanged one);
        :class:`Refused` 401 for none or another."""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if not header:
            raise Refused(401, "Authorization is missing: send `Authorization: Token <token>`")
        if scheme.lower() != "token" or not token:
            raise Refused(
                401,
                f"Authorization scheme {scheme!r} is not OSCP's: "
                "send `Authorization: Token <token>`",
            )
        for known in [self.ours, *self.pending]:
            if known is not None and _same(known, token):
                self.token_acknowledged(known)
                return False
        if _same(self.initial_token, token):
            return True
        raise Refused(401, "the token is not valid here (rotated at a registration?)")

    def accept(
        self,
        request_id: str,
        correlation_id: str | None,
        message: OscpMessage,
        *,
        initial: bool = False,
    ) -> None:
        """Record an accepted message (``initial``: presented with the initial token)
        and queue what answers it."""
        if isinstance(message, Register):
            self._registered(message, request_id, initial=initial)
        self._seen.add(request_id)
        self.received.append(Received(self.now(), request_id, correlation_id, message))
        if isinstance(message, Handshake):
            self.heartbeat_interval_s = message.required_behaviour.heartbeat_interval
            self.answers.append(Answer(self.asks, correlation_id=request_id))
        elif isinstance(message, Heartbeat):
            self.fp_offline_at = message.offline_mode_at
        self.woken.set()

    def seen(self, request_id: str) -> bool:
        return request_id in self._seen

    def _registered(self, message: Register, request_id: str, *, initial: bool) -> None:
        version = next((v for v in message.version_url if v.version == VERSION), None)
        if version is None:
            offered = ", ".join(v.version for v in message.version_url)
            raise Refused(400, f"register offers OSCP {offered}; this provider speaks {VERSION}")
        self.theirs = message.token
        self.fp_url = version.base_url
        self.registered_at = self.now()
        if initial:  # the controller starts (or starts again): answer with ours
            self.answers.append(Answer(self.registration(), correlation_id=request_id))

    def unregistered(self) -> None:
        """The controller ended the registration: both tokens are forgotten."""
        self.ours, self.theirs, self.fp_url, self.registered_at = None, None, None, None
        self.pending.clear()


def provider_app(provider: CapacityProvider) -> Starlette:
    """The endpoints of ``provider`` (see the module docstring)."""

    def accepting(model: type[OscpMessage]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await _receive(request, provider, model)

        return endpoint

    async def unregister(request: Request) -> Response:
        return await _receive(request, provider, None)

    routes = [
        Route(f"{BASE_PATH}/register", accepting(Register), methods=["POST", "PUT"]),
        Route(f"{BASE_PATH}/register", unregister, methods=["DELETE"]),
    ]
    for model in (
        Handshake,
        oscp.HandshakeAcknowledge,
        Heartbeat,
        oscp.UpdateGroupMeasurements,
        oscp.AdjustGroupCapacityForecast,
        oscp.GroupCapacityComplianceError,
    ):
        routes.append(Route(f"{BASE_PATH}/{model.endpoint}", accepting(model), methods=["POST"]))
    return Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})


async def _receive(
    request: Request, provider: CapacityProvider, model: type[OscpMessage] | None
) -> Response:
    """Authenticate, read and hand over one request (``model`` None: ``DELETE
    register``)."""
    if provider.silent:
        provider.refused += 1
        return _refusal(503, "the simulated Capacity Provider is silent (--silent-at)")
    try:
        initial = provider.caller_initial(request.headers.get("authorization", ""))
        if initial and model is not Register:
            raise Refused(403, "the initial token is good for register only; register first")
        request_id = request.headers.get("x-request-id", "").strip()
        if not request_id:
            raise Refused(400, "X-Request-ID is missing: every OSCP request carries one")
        body = await _body(request)
        if provider.seen(request_id):
            return Response(status_code=204)
        if model is None:
            provider.unregistered()
            return Response(status_code=204)
        message = oscp.parse_message(model, body)
        correlation = request.headers.get("x-correlation-id") or None
        provider.accept(request_id, correlation, message, initial=initial)
    except Refused as refused:
        return _refusal(refused.status, refused.message)
    except oscp.MessageRefused as refused:
        return _refusal(400, str(refused))
    return Response(status_code=204)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    too_large = Refused(413, f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    return bytes(body)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _refusal(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)


async def _not_found(request: Request, _: Exception) -> Response:
    return _refusal(404, f"no endpoint at {request.url.path}; endpoints are under {BASE_PATH}/")


async def _not_allowed(request: Request, _: Exception) -> Response:
    return _refusal(405, f"{request.method} is not allowed on {request.url.path}; OSCP uses POST")


def body_of(message: OscpMessage) -> dict[str, Any]:
    """A message's JSON body, checked: it parses back as its own model."""
    wire = message.to_wire()
    oscp.parse_message(type(message), json.dumps(wire))
    return wire
