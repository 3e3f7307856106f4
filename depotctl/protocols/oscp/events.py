"""What the Capacity Provider says, and what the Flexibility Provider's endpoints need
of the controller: the port :class:`CapacityProviderEvents`.

The endpoints (:mod:`~depotctl.protocols.oscp.endpoints`) authenticate a request,
parse its message and hand it here; the controller implements the port
(``controller/oscp_events.py``). A handler records the request id with its effect,
in one transaction, so that a repeated request is answered and not handled twice;
it raises :class:`OscpRefused` to answer 4xx with a message, storing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from depotctl.protocols.oscp.messages import (
    Handshake,
    HandshakeAcknowledge,
    Heartbeat,
    Register,
    UpdateGroupCapacityForecast,
)
from depotctl.protocols.oscp.quirks import PeerQuirks


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: the envelope source its token belongs to, and whether the
    token is the source's initial one (from the site's ``token_env``/``token_file``,
    good for ``register`` only) rather than the one exchanged at registration."""

    source: str
    initial: bool


@dataclass(frozen=True, slots=True)
class Inbound:
    """A request's envelope: its caller, ``X-Request-ID``, ``X-Correlation-ID`` (set
    on an answer to one of ours) and when it arrived (the controller's clock)."""

    caller: Caller
    request_id: str
    correlation_id: str | None
    at: datetime

    @property
    def source(self) -> str:
        return self.caller.source


class OscpRefused(Exception):
    """A request answered ``status`` (4xx) with ``message``; nothing was stored."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CapacityProviderEvents(Protocol):
    """The controller, as the Flexibility Provider's endpoints see it."""

    def caller(self, token: str) -> Caller | None:
        """The caller a presented token identifies (constant-time compared); None for
        a token of no source."""
        ...

    def quirks(self, source: str) -> PeerQuirks:
        """The quirks the site declares for a source's peer (none by default)."""
        ...

    def seen(self, source: str, request_id: str) -> bool:
        """Whether ``source`` sent ``request_id`` before (it was handled then)."""
        ...

    def now(self) -> datetime:
        """The controller's time."""
        ...

    def registered(self, inbound: Inbound, message: Register) -> None:
        """The peer registered (or registered again): its token and base URL."""
        ...

    def unregistered(self, inbound: Inbound) -> None:
        """The peer ended the registration."""
        ...

    def handshake(self, inbound: Inbound, message: Handshake) -> None:
        """The peer's required behaviour; the controller acknowledges with its own."""
        ...

    def handshake_acknowledged(self, inbound: Inbound, message: HandshakeAcknowledge) -> None:
        """The peer acknowledged the controller's handshake, with its own behaviour."""
        ...

    def heartbeat(self, inbound: Inbound, message: Heartbeat) -> None:
        """The peer is alive until ``offline_mode_at``."""
        ...

    def capacity_forecast(self, inbound: Inbound, message: UpdateGroupCapacityForecast) -> None:
        """A capacity forecast for one of the peer's groups."""
        ...
