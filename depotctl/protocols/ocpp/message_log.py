"""What the dispatcher said to chargers and what they answered, in order.

A bounded in-memory log: every request, and its answer (a response, a CallError, a
timeout, a closed connection) or why it was never sent. ``seq`` orders the entries
totally (the tests check that a decrease was answered before an increase that
shares a node went out); ``at`` is the controller's clock.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from depotctl.protocols.ocpp.profiles import ProfilePurpose


class Exchange(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"
    CALL_ERROR = "call_error"
    TIMEOUT = "timeout"
    CLOSED = "closed"
    FAILED = "failed"
    NOT_SENT = "not_sent"

    @property
    def is_answer(self) -> bool:
        """The end of a request's wait (anything but the request itself)."""
        return self is not Exchange.REQUEST


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """One entry. ``request_seq`` links an answer to its request; ``payload`` is the
    library's request or response object (None for a timeout or a closed link);
    ``detail`` says why, for anything but a plain response."""

    seq: int
    at: datetime
    charger_id: str
    ocpp_id: str
    exchange: Exchange
    action: str
    purpose: ProfilePurpose | None = None  #: a charging profile's; None for other calls
    evse_id: str | None = None  #: the EVSE the message is for; None: the charger
    payload: Any = None
    request_seq: int | None = None
    detail: str | None = None


class MessageLog:
    """The last ``size`` entries (older ones drop off)."""

    def __init__(self, size: int = 10_000) -> None:
        self._entries: deque[LoggedMessage] = deque(maxlen=size)
        self._seq = itertools.count(1)

    def add(
        self,
        at: datetime,
        charger_id: str,
        ocpp_id: str,
        exchange: Exchange,
        action: str,
        *,
        purpose: ProfilePurpose | None = None,
        evse_id: str | None = None,
        payload: Any = None,
        request_seq: int | None = None,
        detail: str | None = None,
    ) -> LoggedMessage:
        entry = LoggedMessage(
            next(self._seq),
            at,
            charger_id,
            ocpp_id,
            exchange,
            action,
            purpose,
            evse_id,
            payload,
            request_seq,
            detail,
        )
        self._entries.append(entry)
        return entry

    def __iter__(self) -> Iterator[LoggedMessage]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
