"""Bearer tokens: an admin token and a read-only one, in ``STATE_DIR/tokens``.

The token files are created once, mode 0600, and kept across restarts; an existing
one that group or others may read or write, or that is empty, is refused
(:class:`~depotctl.credentials.TokenFileError`: ``serve`` exits 3). Everything
under ``/api/v1`` needs one of them; a read-only token may only read (GET, HEAD,
OPTIONS) — any other method gets 403, so every later mutating endpoint is guarded
without saying so itself. :class:`TokenGate` answers 401 and 403 before a request's
route is looked up or its body read (a caller without a token learns nothing but
401); the router's ``authorize`` dependency gives the routes the caller's role.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from depotctl.api.state_dir import StateDir
from depotctl.controller.errors import ApiError, error_response
from depotctl.credentials import TokenFileError, read_private_token

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Role(StrEnum):
    ADMIN = "admin"
    READONLY = "readonly"


@dataclass(frozen=True, slots=True)
class Tokens:
    """The two tokens the API accepts."""

    admin: str
    readonly: str

    def role_of(self, presented: str) -> Role | None:
        """The role a presented token grants, compared in constant time."""
        token = presented.encode()
        if hmac.compare_digest(token, self.admin.encode()):
            return Role.ADMIN
        if hmac.compare_digest(token, self.readonly.encode()):
            return Role.READONLY
        return None


def load_or_create_tokens(state_dir: Path) -> Tokens:
    """The tokens of ``state_dir``; each missing token file is created (0600, random).
    :class:`TokenFileError` (one line, with the fix) when one cannot be used."""
    paths = StateDir(state_dir)
    paths.tokens.mkdir(mode=0o700, parents=True, exist_ok=True)
    admin = _read_or_create(paths.admin_token)
    return Tokens(admin=admin, readonly=_read_or_create(paths.readonly_token))


def _read_or_create(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_private_token(
            path,
            when_empty="delete it and start the controller again to have a new one made "
            "(clients then need the new token)",
        )
    except OSError as error:
        raise TokenFileError(f"cannot create the token file {path}: {error.strerror}") from None
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(token + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    return token


_bearer = HTTPBearer(auto_error=False, description="The admin or read-only token file's content")


def authorize(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
) -> Role:
    """The caller's role: 401 without a valid bearer token, 403 for a read-only token
    on a method that changes something."""
    tokens: Tokens = request.app.state.tokens
    return role_of_request(
        tokens, credentials.credentials if credentials is not None else None, request.method
    )


def role_of_request(tokens: Tokens, token: str | None, method: str) -> Role:
    """The role ``token`` grants for ``method``, else ``ApiError`` 401 or 403."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if token is None:
        error = ApiError(
            401, "unauthorized", "missing bearer token (Authorization: Bearer <token>)"
        )
        error.headers = challenge
        raise error
    role = tokens.role_of(token)
    if role is None:
        error = ApiError(401, "unauthorized", "invalid token")
        error.headers = challenge
        raise error
    if role is Role.READONLY and method not in READ_METHODS:
        raise ApiError(403, "forbidden", "the read-only token cannot change anything")
    return role


class TokenGate:
    """ASGI middleware: a request under ``prefix`` without a valid bearer token is
    answered 401 (a read-only token changing something 403) before anything else —
    route lookup, body size, body parsing — happens. The tokens are the app's
    (``app.state.tokens``)."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        guarded = path == self.prefix or path.startswith(self.prefix + "/")
        if scope["type"] != "http" or not guarded:
            await self.app(scope, receive, send)
            return
        tokens: Tokens = scope["app"].state.tokens
        scheme, credentials = get_authorization_scheme_param(
            Headers(scope=scope).get("authorization")
        )
        token = credentials if scheme.lower() == "bearer" and credentials else None
        try:
            role_of_request(tokens, token, scope["method"])
        except ApiError as error:
            response = error_response(error.status, error.code, error.message, error.headers)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
