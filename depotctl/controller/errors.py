"""The API's errors: always JSON ``{"code", "message", ...}`` with a stable ``code``.

Codes: ``unauthorized`` (401), ``forbidden`` (403), ``not_found`` (404),
``invalid_request`` (400, 405, 422), ``conflict`` (409), ``too_large`` (413),
``internal`` (500). Handlers turn FastAPI's and Starlette's own errors (a 404 route,
a 422 validation error) into the same shape, and an unexpected exception into a
logged ``internal`` error instead of a bare 500 page.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from depotctl.controller.services.errors import (
    Conflict,
    Invalid,
    NotFound,
    ServiceError,
    Unprocessable,
)

log = logging.getLogger("depotctl.controller")

#: The largest request body the API reads.
MAX_BODY_BYTES = 1024 * 1024

_CODE_OF_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "invalid_request",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
}


class ErrorBody(BaseModel):
    """Every error's body, as the OpenAPI document describes it."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable: unauthorized, forbidden, not_found, invalid_request, …")
    message: str = Field(description="What is wrong, in the site's terms")


#: The error responses every operation under /api/v1 declares (in place of FastAPI's
#: own 422 body, which is not this API's).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "JSON with a stable code and a message"}
}


class ApiError(Exception):
    """An error the API returns as it is: HTTP status, stable code, message, extra fields."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response(error.status, error.code, error.message, error.headers, **error.extra)


#: The status of each refusal of a service (its ``code`` is its own).
_STATUS_OF_REFUSAL: tuple[tuple[type[ServiceError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 400),
    (Unprocessable, 422),
)


async def _service_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    status = next((s for kind, s in _STATUS_OF_REFUSAL if isinstance(error, kind)), 400)
    return error_response(status, error.code, error.message, **error.fields)


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code = _CODE_OF_STATUS.get(status, "internal" if status >= 500 else "invalid_request")
    message = error.detail if isinstance(error.detail, str) else str(error.detail)
    if status == 404 and message == "Not Found":
        message = "no such endpoint (the API is under /api/v1; see /openapi.json)"
    return error_response(status, code, message, dict(error.headers or {}))


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        {
            "where": ".".join(str(part) for part in problem.get("loc", ())),
            "message": problem.get("msg", ""),
        }
        for problem in error.errors()
    ]
    first = problems[0] if problems else {"where": "request", "message": "invalid"}
    message = f"{first['where']}: {first['message']}"
    return error_response(422, "invalid_request", message, problems=problems)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return error_response(
        500, "internal", f"internal error ({type(error).__name__}); the controller log has details"
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app can produce, as JSON with a stable code."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 ``too_large``.

    A declared ``Content-Length`` is refused before reading; a chunked body is read
    up to the limit, then handed on whole.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.limit
            except ValueError:
                await self._refuse(send, 400, "invalid_request", "Content-Length is not a number")
                return
            if too_large:
                await self._refuse_size(send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse_size(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse_size(self, send: Send) -> None:
        await self._refuse(
            send, 413, "too_large", f"request body is over the {self.limit // 1024} KiB limit"
        )

    @staticmethod
    async def _refuse(send: Send, status: int, code: str, message: str) -> None:
        body = json.dumps(error_body(code, message)).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
