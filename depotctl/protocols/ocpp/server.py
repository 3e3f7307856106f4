"""The OCPP endpoint: ``ws://HOST:PORT/ocpp/{charge point id}``.

A charger is admitted when its identity is a charger of the site in force (the
``roster``, read for every new connection, so an applied revision takes effect for
the next one), it authenticates with HTTP Basic (security profile 1: the user is
its identity, the password the one its site entry names) and it offers the
subprotocol the site configures for it (``ocpp1.6`` or ``ocpp2.0.1``). Otherwise
the handshake is refused — 404 unknown identity, 401 missing or wrong credentials,
403 no password configured, 400 no or another subprotocol, 503 its password cannot
be read — and the refusal is reported to the controller.

Admitted chargers are listed by charger id in :meth:`OcppServer.links`; one that
reconnects replaces its old connection. ``on_connected`` callbacks run, in a task
of their own, when a charger can take calls (after its BootNotification, or on a
reconnection).
"""

from __future__ import annotations

import asyncio
import hmac
import http
import inspect
import logging
import socket
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader, NegotiationError
from websockets.headers import build_www_authenticate_basic, parse_authorization_basic
from websockets.headers import parse_subprotocol as parse_subprotocol_header
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from depotctl.domain.charge_points import ChargePoint, CredentialMissing, OcppVersion
from depotctl.protocols.ocpp.connection import ChargerConnection
from depotctl.protocols.ocpp.events import ChargerEvents, Refusal
from depotctl.protocols.ocpp.link import ChargerLink
from depotctl.protocols.ocpp.transactions import TransactionBook

log = logging.getLogger("depotctl.ocpp")

PATH_PREFIX = "/ocpp/"
SUBPROTOCOLS = tuple(Subprotocol(version.value) for version in OcppVersion)
REALM = "depotctl OCPP"

#: A callback told of a charger that can take calls (may be a coroutine function).
ConnectedCallback = Callable[[ChargerLink], Awaitable[None] | None]


class OcppServer:
    """The endpoint (see the module docstring). ``roster()`` gives the site's charge
    points by OCPP identity; ``clock()`` the controller's time (aware)."""

    def __init__(
        self,
        roster: Callable[[], Mapping[str, ChargePoint]],
        events: ChargerEvents,
        clock: Callable[[], datetime],
        *,
        heartbeat_interval_s: int = 300,
        boot_grace_s: float = 60.0,
        ping_interval_s: float | None = 20.0,
    ) -> None:
        self._roster = roster
        self._events = events
        self._clock = clock
        self._heartbeat_interval_s = heartbeat_interval_s
        self._boot_grace_s = boot_grace_s
        self._ping_interval_s = ping_interval_s
        self._links: dict[str, ChargerConnection] = {}
        self._books: dict[str, TransactionBook] = {}
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, ChargePoint] = (
            weakref.WeakKeyDictionary()
        )
        self._callbacks: list[ConnectedCallback] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: Server | None = None

    # For the dispatcher

    def links(self) -> Mapping[str, ChargerLink]:
        """The connected chargers by charger id (a live, read-only view)."""
        return MappingProxyType(self._links)

    def on_connected(self, callback: ConnectedCallback) -> None:
        """Call ``callback(link)`` whenever a charger can take calls: after its
        BootNotification was answered, or when it reconnects (see
        :class:`ChargerConnection`). It runs in a task of its own, outside every
        message handler, so it may call the charger."""
        self._callbacks.append(callback)

    # Serving

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
    ) -> None:
        """Listen on ``host:port`` (port 0: a free one), or on a bound ``sock``."""
        address = {"sock": sock} if sock is not None else {"host": host, "port": port}
        self._server = await serve(
            self._serve_connection,
            subprotocols=list(SUBPROTOCOLS),
            select_subprotocol=self._select_subprotocol,
            process_request=self._admit,
            compression=None,
            server_header="depotctl",
            ping_interval=self._ping_interval_s,
            logger=logging.getLogger("depotctl.ocpp.websockets"),
            **address,
        )

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port."""
        if self._server is None:
            raise RuntimeError("the OCPP endpoint is not started")
        sockname = next(iter(self._server.sockets)).getsockname()
        return str(sockname[0]), int(sockname[1])

    @property
    def port(self) -> int:
        return self.address[1]

    async def stop(self) -> None:
        """Close every connection (each charger is reported disconnected) and stop."""
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        self._server = None

    # The handshake

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if not path.startswith(PATH_PREFIX):
            return connection.respond(
                http.HTTPStatus.NOT_FOUND, "chargers connect to /ocpp/{charge point id}\n"
            )
        raw_id = path[len(PATH_PREFIX) :]
        ocpp_id = unquote(raw_id)
        if not ocpp_id or "/" in raw_id:
            return self._refuse(
                connection, ocpp_id, None, http.HTTPStatus.NOT_FOUND, "no charge point id in path"
            )
        try:
            roster = self._roster()
        except Exception:
            log.exception("cannot read the site's charge points")
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "no site in force\n")
        charge_point = roster.get(ocpp_id)
        if charge_point is None:
            return self._refuse(
                connection, ocpp_id, None, http.HTTPStatus.NOT_FOUND, "unknown charge point id"
            )
        refused = self._authenticate(connection, request.headers, charge_point)
        if refused is not None:
            return refused
        offered = _offered_subprotocols(request.headers)
        if offered is None:
            reason = "malformed Sec-WebSocket-Protocol header"
        elif not offered:
            reason = "no OCPP subprotocol offered (ocpp1.6 or ocpp2.0.1)"
        elif charge_point.version not in offered:
            known = [p for p in offered if p in SUBPROTOCOLS]
            reason = (
                f"configured for {charge_point.version}, offered {', '.join(offered)}"
                if known
                else f"unsupported subprotocol {', '.join(offered)} (ocpp1.6 or ocpp2.0.1)"
            )
        else:
            self._admitted[connection] = charge_point
            return None
        return self._refuse(
            connection, ocpp_id, charge_point.charger_id, http.HTTPStatus.BAD_REQUEST, reason
        )

    def _authenticate(
        self, connection: ServerConnection, headers: Headers, charge_point: ChargePoint
    ) -> Response | None:
        """None when the request carries the charger's credentials, else the refusal."""
        ocpp_id, charger_id = charge_point.ocpp_id, charge_point.charger_id
        if charge_point.password is None:
            return self._refuse(
                connection,
                ocpp_id,
                charger_id,
                http.HTTPStatus.FORBIDDEN,
                "no password configured for this charger (password_env or password_file)",
            )
        header = headers.get("Authorization")
        if header is None:
            return self._refuse(
                connection, ocpp_id, charger_id, http.HTTPStatus.UNAUTHORIZED, "no credentials"
            )
        try:
            username, password = parse_authorization_basic(header)
        except InvalidHeader:
            return self._refuse(
                connection,
                ocpp_id,
                charger_id,
                http.HTTPStatus.UNAUTHORIZED,
                "malformed Basic credentials",
            )
        try:
            expected = charge_point.password.read()
        except CredentialMissing as error:
            return self._refuse(
                connection,
                ocpp_id,
                charger_id,
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f"its password cannot be read: {error}",
            )
        user_ok = hmac.compare_digest(username.encode(), ocpp_id.encode())
        password_ok = hmac.compare_digest(password.encode(), expected.encode())
        if not (user_ok and password_ok):
            reason = "wrong password" if user_ok else "username is not the charge point id"
            return self._refuse(
                connection, ocpp_id, charger_id, http.HTTPStatus.UNAUTHORIZED, reason
            )
        return None

    def _refuse(
        self,
        connection: ServerConnection,
        ocpp_id: str,
        charger_id: str | None,
        status: http.HTTPStatus,
        reason: str,
    ) -> Response:
        remote = _remote(connection)
        log.warning(
            "refused OCPP connection of %r: %s",
            ocpp_id,
            reason,
            extra={"ocpp_id": ocpp_id, "status": int(status), "remote": remote},
        )
        try:
            self._events.refused(
                Refusal(ocpp_id, reason, int(status), self._now(), charger_id, remote)
            )
        except Exception:
            log.exception("could not report a refused connection")
        response = connection.respond(status, f"{reason}\n")
        if status == http.HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = build_www_authenticate_basic(REALM)
        return response

    def _select_subprotocol(
        self, connection: ServerConnection, subprotocols: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        charge_point = self._admitted.get(connection)
        if charge_point is None or charge_point.version.value not in subprotocols:
            raise NegotiationError("no agreed OCPP subprotocol")
        return Subprotocol(charge_point.version.value)

    # A connection

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        charge_point = self._admitted.pop(websocket, None)
        if charge_point is None or websocket.subprotocol != charge_point.version.value:
            await websocket.close(1002, "no agreed OCPP subprotocol")
            return
        charger_id = charge_point.charger_id
        book = self._book(charge_point)
        link = ChargerConnection(
            charge_point,
            websocket,
            book,
            events=self._events,
            clock=self._now,
            heartbeat_interval_s=self._heartbeat_interval_s,
            boot_grace_s=self._boot_grace_s,
            on_ready=self._ready,
        )
        replaced = self._links.get(charger_id)
        self._links[charger_id] = link
        if replaced is not None:
            log.info("%s reconnected: closing its old connection", charge_point.ocpp_id)
            self._spawn(replaced.close("replaced by a new connection"))
        self._report(lambda: self._events.connected(charger_id, charge_point.version, self._now()))
        try:
            await link.run()
        finally:
            if self._links.get(charger_id) is link:
                del self._links[charger_id]
                reason = _close_reason(websocket)
                self._report(lambda: self._events.disconnected(charger_id, reason, self._now()))

    def _book(self, charge_point: ChargePoint) -> TransactionBook:
        book = self._books.get(charge_point.charger_id)
        if book is None:
            book = self._books[charge_point.charger_id] = TransactionBook(charge_point)
        book.adopt(charge_point)
        if not book.restored:
            try:
                book.restore(self._events.open_sessions(charge_point.charger_id))
            except Exception:
                log.exception("cannot read the open sessions of %s", charge_point.charger_id)
        return book

    def _ready(self, link: ChargerConnection) -> None:
        for callback in self._callbacks:
            self._spawn(_run_callback(callback, link))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _report(self, event: Callable[[], None]) -> None:
        try:
            event()
        except Exception:
            log.exception("could not report a charger event")

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)


async def _run_callback(callback: ConnectedCallback, link: ChargerLink) -> None:
    try:
        result = callback(link)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("on_connected callback failed for %s", link.charge_point.charger_id)


def _offered_subprotocols(headers: Headers) -> list[str] | None:
    """The subprotocols a client offers (None: a header that cannot be parsed)."""
    try:
        return [
            str(protocol)
            for value in headers.get_all("Sec-WebSocket-Protocol")
            for protocol in parse_subprotocol_header(value)
        ]
    except InvalidHeader:
        return None


def _remote(connection: ServerConnection) -> str | None:
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return None


def _close_reason(websocket: ServerConnection) -> str:
    code = websocket.close_code
    reason = websocket.close_reason
    if code is None:
        return "connection lost"
    return f"connection closed ({code}{': ' + reason if reason else ''})"
