"""The OCPP endpoint: ``ws://HOST:PORT/ocpp/{charge point id}``.

A charger is admitted when its identity is a charger of the site in force (the
``roster``, read for every new connection, so an applied revision takes effect for
the next one), it authenticates with HTTP Basic (security profile 1: the user is
its identity, the password the one its site entry names) and it offers the
subprotocol the site configures for it (``ocpp1.6`` or ``ocpp2.0.1``).

Refusals give nothing away. An unknown identity and missing, malformed or wrong
credentials get one answer, a bare 401 with ``WWW-Authenticate: Basic``, after the
same work (:mod:`~depotctl.protocols.ocpp.credentials`; for an unknown identity a
password of the site is read too, as for a known one). The subprotocol is looked
at only once the charger has authenticated: 400 (its reason in the body) is for a
known, authenticated charger only, so it tells an outsider nothing. 403 (no
password configured) and 503 (its password cannot be read) are the controller's
own configuration problems; they do tell that the identity is the site's. The
reason goes to the controller (``ChargerEvents.refused``, which journals it) and
to this module's log at DEBUG, never into the answer.

Refused attempts are throttled per source address (an IPv6 address by its /64):
a burst of :data:`REFUSALS_BURST_MIN` or twice the site's chargers, whichever is
more (a depot's chargers behind one NAT may all be refused once), then one every
``1 / REFUSALS_PER_S`` seconds of the controller's clock. An address with none left
is answered 429 at once, without the password work. An admission never spends any.

Messages are at most :data:`MAX_MESSAGE_BYTES` (a larger one closes the connection
with 1009, "message too big"), and at most :data:`MAX_QUEUED_FRAMES` frames wait
unread per connection; a charger's flood of calls is answered, not handled, past
its allowance (:mod:`~depotctl.protocols.ocpp.frames`).

Admitted chargers are listed by charger id in :meth:`OcppServer.links`; one that
reconnects replaces its old connection. ``on_connected`` callbacks run, in a task
of their own, when a charger can take calls (after its BootNotification, or on a
reconnection).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import inspect
import logging
import math
import socket
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader, NegotiationError
from websockets.headers import build_www_authenticate_basic
from websockets.headers import parse_subprotocol as parse_subprotocol_header
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from depotctl.credentials import CredentialMissing, read_password
from depotctl.domain.charge_points import ChargePoint, OcppVersion
from depotctl.protocols.ocpp.connection import ChargerConnection, ConnectionTerms
from depotctl.protocols.ocpp.credentials import presented, refusal_reason
from depotctl.protocols.ocpp.events import ChargerEvents, Refusal
from depotctl.protocols.ocpp.link import ChargerLink
from depotctl.protocols.ocpp.throttle import AddressThrottle
from depotctl.protocols.ocpp.transactions import TransactionBook

log = logging.getLogger("depotctl.ocpp")

PATH_PREFIX = "/ocpp/"
SUBPROTOCOLS = tuple(Subprotocol(version.value) for version in OcppVersion)
REALM = "depotctl OCPP"
#: The refused attempts one address may make in a burst, at the least (the burst is
#: twice the site's chargers when that is more) …
REFUSALS_BURST_MIN = 100
#: … and how fast its allowance comes back: one every 6 s of the controller's clock.
REFUSALS_PER_S = 1 / 6
#: The largest message a charger may send (OCPP sets none; a 1.6 StopTransaction
#: carrying a night's transactionData stays well below).
MAX_MESSAGE_BYTES = 1 << 20
#: Frames received and not yet read, per connection (messages are handled one at a
#: time; beyond this, TCP's flow control holds the charger back).
MAX_QUEUED_FRAMES = 4

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
        self._terms = ConnectionTerms(events, self._now, heartbeat_interval_s, boot_grace_s)
        self._ping_interval_s = ping_interval_s
        self._links: dict[str, ChargerConnection] = {}
        self._books: dict[str, TransactionBook] = {}
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, ChargePoint] = (
            weakref.WeakKeyDictionary()
        )
        self._callbacks: list[ConnectedCallback] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self._throttle = AddressThrottle(REFUSALS_PER_S)

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
            max_size=MAX_MESSAGE_BYTES,
            max_queue=MAX_QUEUED_FRAMES,
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
        try:
            roster = self._roster()
        except Exception:
            log.exception("cannot read the site's charge points")
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "no site in force\n")
        raw_id = path[len(PATH_PREFIX) :]
        ocpp_id = unquote(raw_id)
        attempt = _Attempt(
            connection, ocpp_id, self._now(), max(REFUSALS_BURST_MIN, 2 * len(roster))
        )
        wait_s = self._throttle.seconds_to_allowed(attempt.host, attempt.burst, attempt.clock_s)
        if wait_s > 0:
            return self._too_many(attempt, wait_s)
        charge_point = roster.get(ocpp_id) if ocpp_id and "/" not in raw_id else None
        refused = self._authenticate(request.headers, ocpp_id, charge_point, roster)
        if refused is not None:
            return self._refuse(attempt, charge_point, *refused)
        assert charge_point is not None  # authenticated: a charger of the site
        problem = _subprotocol_problem(request.headers, charge_point)
        if problem is not None:
            return self._refuse(attempt, charge_point, http.HTTPStatus.BAD_REQUEST, problem)
        self._admitted[connection] = charge_point
        return None

    def _authenticate(
        self,
        headers: Headers,
        ocpp_id: str,
        charge_point: ChargePoint | None,
        roster: Mapping[str, ChargePoint],
    ) -> tuple[http.HTTPStatus, str] | None:
        """None when the request carries the charger's credentials, else the status
        and the reason of the refusal (the same work either way: the module
        docstring)."""
        credentials = presented(headers)
        if charge_point is None:
            _read_any_password(roster)  # as a known identity's is read
            reason = refusal_reason(credentials, ocpp_id, None)
            if not ocpp_id:
                reason = "no charge point id in the path"
            return http.HTTPStatus.UNAUTHORIZED, str(reason)
        if charge_point.password is None:
            return (
                http.HTTPStatus.FORBIDDEN,
                "no password configured for this charger (password_env or password_file)",
            )
        try:
            expected = read_password(charge_point.password)
        except CredentialMissing as error:
            return http.HTTPStatus.SERVICE_UNAVAILABLE, f"its password cannot be read: {error}"
        reason = refusal_reason(credentials, ocpp_id, expected)
        return None if reason is None else (http.HTTPStatus.UNAUTHORIZED, reason)

    def _refuse(
        self,
        attempt: _Attempt,
        charge_point: ChargePoint | None,
        status: http.HTTPStatus,
        reason: str,
    ) -> Response:
        """Answer ``status`` (the reason only in the body of a 400, to a charger that
        authenticated), spend the address's allowance and report the refusal."""
        self._throttle.refused(attempt.host, attempt.burst, attempt.clock_s)
        self._report_refusal(attempt, charge_point, status, reason)
        if status == http.HTTPStatus.BAD_REQUEST:
            return attempt.connection.respond(status, f"{reason}\n")
        response = attempt.connection.respond(
            status, "" if status == http.HTTPStatus.UNAUTHORIZED else f"{status.phrase}\n"
        )
        if status == http.HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = build_www_authenticate_basic(REALM)
        return response

    def _too_many(self, attempt: _Attempt, wait_s: float) -> Response:
        """429 at once, for an address that has spent its allowance of refusals."""
        status = http.HTTPStatus.TOO_MANY_REQUESTS
        reason = f"too many refused attempts from {attempt.host}: refused unchecked"
        self._report_refusal(attempt, None, status, reason)
        response = attempt.connection.respond(status, "too many refused attempts\n")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
        return response

    def _report_refusal(
        self,
        attempt: _Attempt,
        charge_point: ChargePoint | None,
        status: http.HTTPStatus,
        reason: str,
    ) -> None:
        log.debug(
            "refused OCPP connection of %r: %s",
            attempt.ocpp_id,
            reason,
            extra={"ocpp_id": attempt.ocpp_id, "status": int(status), "remote": attempt.remote},
        )
        charger_id = charge_point.charger_id if charge_point is not None else None
        refusal = Refusal(
            attempt.ocpp_id, reason, int(status), attempt.at, charger_id, attempt.remote
        )
        try:
            self._events.refused(refusal)
        except Exception:
            log.exception("could not report a refused connection")

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
            self._terms,
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


@dataclass(frozen=True, slots=True)
class _Attempt:
    """A connection attempt being decided: who, from where, when, and the burst of
    refusals its address may make."""

    connection: ServerConnection
    ocpp_id: str
    at: datetime
    burst: int

    @property
    def clock_s(self) -> float:
        return self.at.timestamp()

    @property
    def host(self) -> str | None:
        address = self.connection.remote_address
        return str(address[0]) if isinstance(address, tuple) and len(address) >= 2 else None

    @property
    def remote(self) -> str | None:
        address = self.connection.remote_address
        if isinstance(address, tuple) and len(address) >= 2:
            return f"{address[0]}:{address[1]}"
        return None


def _read_any_password(roster: Mapping[str, ChargePoint]) -> None:
    """Read (and forget) one password of the site: what checking a known identity
    costs, spent for an unknown one too."""
    for charge_point in roster.values():
        if charge_point.password is not None:
            with contextlib.suppress(CredentialMissing):
                read_password(charge_point.password)
            return


def _subprotocol_problem(headers: Headers, charge_point: ChargePoint) -> str | None:
    """None when the request offers the charger's own subprotocol, else why not."""
    offered = _offered_subprotocols(headers)
    if offered is None:
        return "malformed Sec-WebSocket-Protocol header"
    if not offered:
        return "no OCPP subprotocol offered (ocpp1.6 or ocpp2.0.1)"
    if charge_point.version in offered:
        return None
    if any(protocol in SUBPROTOCOLS for protocol in offered):
        return f"configured for {charge_point.version}, offered {', '.join(offered)}"
    return f"unsupported subprotocol {', '.join(offered)} (ocpp1.6 or ocpp2.0.1)"


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


def _close_reason(websocket: ServerConnection) -> str:
    code = websocket.close_code
    reason = websocket.close_reason
    if code is None:
        return "connection lost"
    return f"connection closed ({code}{': ' + reason if reason else ''})"
