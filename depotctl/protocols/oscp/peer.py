"""Requests to a Capacity Provider's endpoints (``{base_url}/{endpoint}``), over httpx.

One POST (DELETE for ending a registration) of a message's JSON with
``Authorization: Token …``, ``X-Request-ID`` and, on an answer, ``X-Correlation-ID``;
the outcome is a :class:`Delivery` — what to do next (retry, give up) is the
caller's, which keeps unacknowledged messages in its outbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from depotctl.protocols.oscp.quirks import NO_QUIRKS, PeerQuirks

#: Statuses after which sending the same request again may succeed.
_RETRYABLE_4XX = frozenset({401, 403, 404, 408, 409, 425, 429})


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a request went: the peer's ``status`` (None when no answer came) and,
    unless acknowledged, what went wrong in one line."""

    status: int | None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def final(self) -> bool:
        """Acknowledged, or refused for good (a 4xx that repeating cannot change: the
        message itself is wrong)."""
        if self.acknowledged:
            return True
        return (
            self.status is not None
            and 400 <= self.status < 500
            and self.status not in _RETRYABLE_4XX
        )


def endpoint_url(base_url: str, endpoint: str, quirks: PeerQuirks = NO_QUIRKS) -> str:
    """``https://cp.example/oscp/cp/2.0`` + ``heartbeat`` → ``…/2.0/heartbeat`` (a
    base URL's trailing slash is not doubled), as the peer's quirks have it."""
    url = f"{base_url.rstrip('/')}/{quirks.endpoint(endpoint)}"
    return url + "/" if quirks.trailing_slash else url


class CapacityProviderClient:
    """Sends messages to Capacity Providers (one connection pool for all of them)."""

    def __init__(
        self, *, timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def send(
        self,
        base_url: str,
        endpoint: str,
        body: dict[str, Any] | None,
        *,
        token: str,
        request_id: str,
        correlation_id: str | None = None,
        method: str = "POST",
        quirks: PeerQuirks = NO_QUIRKS,
    ) -> Delivery:
        """Send one request; never raises for the peer's or the network's failures."""
        headers = {"Authorization": f"Token {token}", "X-Request-ID": request_id}
        if correlation_id is not None:
            headers["X-Correlation-ID"] = correlation_id
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(quirks.written(body)).encode()
        url = endpoint_url(base_url, endpoint, quirks)
        try:
            response = await self._http.request(method, url, headers=headers, content=content)
        except httpx.HTTPError as error:
            return Delivery(None, f"no answer from {url}: {error!r}")
        if 200 <= response.status_code < 300:
            return Delivery(response.status_code)
        return Delivery(response.status_code, _refusal_text(response))

    async def aclose(self) -> None:
        await self._http.aclose()


def _refusal_text(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    if len(text) > 300:
        text = text[:299] + "…"
    return f"{response.status_code} {response.reason_phrase}" + (f": {text}" if text else "")
