"""Bearer tokens: an admin token and a read-only one, in ``STATE_DIR/tokens``.

The token files are created once, mode 0600, and kept across restarts. Everything
under ``/api/v1`` needs one of them; a read-only token may only read (GET, HEAD,
OPTIONS) — any other method gets 403, so every later mutating endpoint is guarded
by the router's dependency without saying so itself.
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

from depotctl.controller.errors import ApiError

TOKEN_FILES = {"admin": "admin.token", "readonly": "readonly.token"}
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


def token_dir(state_dir: Path) -> Path:
    return state_dir / "tokens"


def load_or_create_tokens(state_dir: Path) -> Tokens:
    """The tokens of ``state_dir``; each missing token file is created (0600, random)."""
    directory = token_dir(state_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    values = {role: _read_or_create(directory / name) for role, name in TOKEN_FILES.items()}
    return Tokens(admin=values["admin"], readonly=values["readonly"])


def _read_or_create(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text(encoding="utf-8").strip()
        if not token:
            raise ValueError(
                f"token file {path} is empty; delete it to have a new one made"
            ) from None
        return token
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
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        error = ApiError(
            401, "unauthorized", "missing bearer token (Authorization: Bearer <token>)"
        )
        error.headers = challenge
        raise error
    role = tokens.role_of(credentials.credentials)
    if role is None:
        error = ApiError(401, "unauthorized", "invalid token")
        error.headers = challenge
        raise error
    if role is Role.READONLY and request.method not in READ_METHODS:
        raise ApiError(403, "forbidden", "the read-only token cannot change anything")
    return role
