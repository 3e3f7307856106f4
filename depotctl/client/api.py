"""``ControllerClient``: one method per endpoint of the controller's API (docs/api.md).

Responses are the API's JSON as dicts. An error response becomes :class:`ApiError`
(its status, stable ``code`` and ``message`` from the JSON body); a controller that
cannot be reached becomes :class:`Unreachable`, naming the URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias
from urllib.parse import quote

import httpx

Json: TypeAlias = dict[str, Any]

API = "/api/v1"


class ApiError(Exception):
    """An error the controller answered with: HTTP status, stable code, message, body."""

    def __init__(self, status: int, code: str, message: str, body: Json | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body: Json = body or {}


class Unreachable(Exception):
    """No answer from the controller at ``url``."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the controller at {url}: {reason}")
        self.url = url
        self.reason = reason


class ControllerClient:
    """The API of one controller at ``base_url`` (``http://host:port``), with a bearer
    ``token``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControllerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Controller and site

    def health(self) -> Json:
        return self._request("GET", "/healthz")

    def clock(self) -> Json:
        return self._get("/clock")

    def site(self) -> Json:
        return self._get("/site")

    def revisions(self) -> Json:
        return self._get("/revisions")

    def state(self) -> Json:
        return self._get("/state")

    def explain(self, evse: str) -> Json:
        return self._get("/explain/" + quote(evse, safe=""))

    def snapshot(self) -> Json:
        """The live state as a snapshot document (JSON), with the site embedded."""
        return self._get("/snapshot")

    def alerts(self, *, include_cleared: bool = False, since: datetime | None = None) -> Json:
        """The open alerts; with ``include_cleared`` every cleared one still kept, with
        ``since`` those cleared from then (``depotctl.client.alerts`` reads them)."""
        return self._get("/alerts", params=_alert_params(include_cleared, since))

    def journal(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        evse: str | None = None,
        envelope: str | None = None,
        session: str | None = None,
        kind: str | None = None,
        after_id: int | None = None,
        limit: int | None = None,
    ) -> Json:
        params: dict[str, str | int] = {}
        for name, instant in (("since", since), ("until", until)):
            if instant is not None:
                params[name] = instant.isoformat()
        for name, value in (
            ("evse", evse),
            ("envelope", envelope),
            ("session", session),
            ("kind", kind),
            ("after_id", after_id),
            ("limit", limit),
        ):
            if value is not None:
                params[name] = value
        return self._get("/journal", params=params)

    # GitOps

    def plan(
        self, site_text: str, path: str | None = None, files: dict[str, str] | None = None
    ) -> Json:
        """What applying ``site_text`` (read from ``path``, with the ``files`` it refers
        to) would change, now."""
        body: Json = {"site": site_text, "path": path}
        if files is not None:
            body["files"] = files
        return self._request("POST", API + "/plan", json=body)

    def apply(
        self,
        *,
        base_revision: int | None,
        site_text: str | None = None,
        path: str | None = None,
        plan: Json | None = None,
        message: str | None = None,
        author: str | None = None,
        files: dict[str, str] | None = None,
    ) -> Json:
        """Apply a site text (with the ``files`` it refers to) or a saved plan, if the
        controller is still at ``base_revision`` (``If-Match``; a 409 ``conflict``
        otherwise)."""
        body: Json = {"message": message, "author": author}
        if plan is not None:
            body["plan"] = plan
        else:
            body["site"] = site_text
            if files is not None:
                body["files"] = files
        if path is not None:
            body["path"] = path
        headers = {"If-Match": f'"{base_revision}"'} if base_revision is not None else {}
        return self._request("POST", API + "/apply", json=body, headers=headers)

    def rollback(
        self,
        revision: int,
        *,
        base_revision: int,
        message: str | None = None,
        author: str | None = None,
    ) -> Json:
        """Apply ``revision``'s site again, as a new revision, if the controller is
        still at ``base_revision`` (``If-Match``)."""
        body: Json = {"revision": revision, "message": message, "author": author}
        headers = {"If-Match": f'"{base_revision}"'}
        return self._request("POST", API + "/rollback", json=body, headers=headers)

    def revision(self, number: int) -> Json:
        """One revision, with its site text."""
        return self._get(f"/revisions/{number}")

    # Inputs

    def envelopes(self) -> Json:
        return self._get("/envelopes")

    def submit_envelope(self, envelope: Json) -> Json:
        return self._request("POST", API + "/envelopes", json=envelope)

    def withdraw_envelope(self, envelope_id: str) -> Json:
        return self._request("POST", f"{API}/envelopes/{quote(envelope_id, safe='')}/withdraw")

    def sessions(self, *, include_ended: bool = False) -> Json:
        """Sessions, each with its ``outlook`` at departure while open."""
        return self._get("/sessions", params={"all": "true"} if include_ended else None)

    def session(self, session_id: str) -> Json:
        """One session with its ``outlook`` at departure."""
        return self._get("/sessions/" + quote(session_id, safe=""))

    def set_requirement(self, session_id: str, requirement: Json) -> Json:
        path = f"{API}/sessions/{quote(session_id, safe='')}/requirement"
        return self._request("PUT", path, json=requirement)

    def telemetry_history(self, node: str, *, limit: int = 10000) -> Json:
        """A node's (or meter's) telemetry, one row per minute it reported in."""
        params: dict[str, str | int] = {"limit": limit}
        return self._get("/telemetry/" + quote(node, safe=""), params=params)

    # Operator overrides

    def overrides(self) -> Json:
        """Every override in force, each with its EVSE's live allocation."""
        return self._get("/overrides")

    def set_override(
        self,
        evse: str,
        *,
        paused: bool = False,
        cap: str | float | None = None,
        reason: str | None = None,
        author: str | None = None,
    ) -> Json:
        """Pause the EVSE and/or cap it (``"16 A"``, or a number of amps), replacing any
        override it had; the answer has the override and the EVSE's live allocation."""
        body: Json = {"paused": paused, "cap": cap, "reason": reason, "author": author}
        return self._request("PUT", _override_path(evse), json=body)

    def clear_override(self, evse: str, *, author: str | None = None) -> Json:
        """Resume the EVSE: remove its override (404 ``no_override`` when it has none)."""
        params = {"author": author} if author is not None else None
        return self._request("DELETE", _override_path(evse), params=params)

    # Transport

    def _get(self, path: str, params: dict[str, str | int] | dict[str, str] | None = None) -> Json:
        return self._request("GET", API + path, params=params)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Json:
        try:
            response = self._http.request(method, path, params=params, json=json, headers=headers)
        except httpx.TimeoutException:
            raise Unreachable(self.base_url, "no answer (timed out)") from None
        except httpx.TransportError as error:
            raise Unreachable(self.base_url, _reason(error)) from None
        if response.is_success:
            return _json_of(response, self.base_url)
        raise _error_of(response)


def _alert_params(include_cleared: bool, since: datetime | None) -> dict[str, str]:
    params = {"all": "true"} if include_cleared else {}
    if since is not None:
        params["since"] = since.isoformat()
    return params


def _override_path(evse: str) -> str:
    return f"{API}/evses/{quote(evse, safe='')}/override"


def _reason(error: httpx.TransportError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
        return f"connection refused or no route ({text}); is `depotctl serve` running?"
    return text


def _json_of(response: httpx.Response, base_url: str) -> Json:
    try:
        body = response.json()
    except ValueError:
        raise Unreachable(
            base_url, f"the answer to {response.request.url.path} is not JSON; is it a controller?"
        ) from None
    if not isinstance(body, dict):
        raise Unreachable(base_url, f"the answer to {response.request.url.path} is not an object")
    return body


def _error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return ApiError(response.status_code, str(body.get("code", "")), body["message"], body)
    text = response.text.strip()[:200] or response.reason_phrase
    return ApiError(response.status_code, "http_error", text)


class AsyncControllerClient:
    """The reads and the few writes the console needs, over async httpx, so that a
    Textual app never blocks its UI thread; errors as :class:`ControllerClient`'s."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def clock(self) -> Json:
        return await self._request("GET", API + "/clock")

    async def site(self) -> Json:
        return await self._request("GET", API + "/site")

    async def state(self) -> Json:
        return await self._request("GET", API + "/state")

    async def envelopes(self) -> Json:
        return await self._request("GET", API + "/envelopes")

    async def sessions(self) -> Json:
        return await self._request("GET", API + "/sessions")

    async def explain(self, evse: str) -> Json:
        return await self._request("GET", API + "/explain/" + quote(evse, safe=""))

    async def snapshot(self) -> Json:
        """The live state as a snapshot document (JSON): the latest telemetry per node."""
        return await self._request("GET", API + "/snapshot")

    async def alerts(self, *, include_cleared: bool = False, since: datetime | None = None) -> Json:
        """As :meth:`ControllerClient.alerts`."""
        params = _alert_params(include_cleared, since)
        return await self._request("GET", API + "/alerts", params=params)

    async def journal(
        self,
        *,
        since: datetime | None = None,
        after_id: int | None = None,
        evse: str | None = None,
        limit: int | None = None,
    ) -> Json:
        params: dict[str, str | int] = {}
        if since is not None:
            params["since"] = since.isoformat()
        for name, value in (("after_id", after_id), ("evse", evse), ("limit", limit)):
            if value is not None:
                params[name] = value
        return await self._request("GET", API + "/journal", params=params)

    async def may_write(self) -> bool:
        """Whether the token may change anything (``GET /api/v1/whoami``)."""
        answer = await self._request("GET", API + "/whoami")
        return bool(answer.get("may_write"))

    async def submit_envelope(self, envelope: Json) -> Json:
        return await self._request("POST", API + "/envelopes", json=envelope)

    async def withdraw_envelope(self, envelope_id: str) -> Json:
        path = f"{API}/envelopes/{quote(envelope_id, safe='')}/withdraw"
        return await self._request("POST", path)

    async def set_override(self, evse: str, override: Json) -> Json:
        path = f"{API}/evses/{quote(evse, safe='')}/override"
        return await self._request("PUT", path, json=override)

    async def clear_override(self, evse: str, *, author: str | None = None) -> Json:
        path = f"{API}/evses/{quote(evse, safe='')}/override"
        params = {"author": author} if author else None
        return await self._request("DELETE", path, params=params)

    async def _request(
        self, method: str, path: str, *, params: Any = None, json: Any = None
    ) -> Json:
        try:
            response = await self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException:
            raise Unreachable(self.base_url, "no answer (timed out)") from None
        except httpx.TransportError as error:
            raise Unreachable(self.base_url, _reason(error)) from None
        if response.is_success:
            return _json_of(response, self.base_url)
        raise _error_of(response)
