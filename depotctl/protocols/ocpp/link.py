"""One connected charger, as the dispatcher sees it: send a request, await its answer.

The connection handler implements :class:`ChargerLink`; the dispatcher only ever
uses this interface, so it can be tested against any charger that speaks OCPP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from depotctl.domain.charge_points import ChargePoint


class LinkError(Exception):
    """A request that got no acceptable answer."""


class LinkTimeout(LinkError):
    """No answer within the timeout (counts as not accepted)."""


class LinkClosed(LinkError):
    """The charger is not connected (or the connection closed while waiting)."""


class AnswerUnreadable(LinkError):
    """The charger answered something that does not read as the response expected
    (the request went out: it may have been applied)."""


class CallErrorReceived(LinkError):
    """The charger answered with a CallError."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description


class ChargerLink(Protocol):
    """A charger connected over OCPP (1.6 or 2.0.1, as ``charge_point.version``)."""

    @property
    def charge_point(self) -> ChargePoint: ...

    @property
    def online(self) -> bool: ...

    async def wait_closed(self) -> None:
        """Return once the connection has closed."""
        ...

    def transaction_of(self, evse_number: int) -> str | None:
        """The id of the transaction running on this EVSE (1.6: connector), if any."""
        ...

    def announcing(self, evse_number: int) -> bool:
        """The EVSE's transaction is not the charger's to name yet: 1.6 gives a
        transaction its id in the answer to StartTransaction, and that answer is still
        on its way (a TxProfile for it now would be refused)."""
        ...

    def unconfirmed(self) -> Sequence[Any]:
        """The transactions a boot left unconfirmed (each with ``evse_number``)."""
        ...

    def statuses_heard(self, evse_number: int) -> int:
        """How many StatusNotifications the EVSE sent on this connection."""
        ...

    def transaction_unknown(self, evse_number: int, transaction_id: str) -> bool:
        """The charger says it has no such transaction: close it (its session ends).
        True when it was still listed on that EVSE."""
        ...

    async def call(self, request: Any, *, timeout_s: float | None = None) -> Any:
        """Send one request (an ``ocpp.v16.call.*`` or ``ocpp.v201.call.*`` payload)
        and return the charger's response payload (``call_result.*``). At most one
        call is outstanding per connection: callers queue. Raises ``LinkTimeout``
        (after ``timeout_s``; None: the caller times it and cancels the call),
        ``LinkClosed`` or ``CallErrorReceived``; never call it from inside a message
        handler (answer first)."""
        ...
