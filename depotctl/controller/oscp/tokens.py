"""The tokens exchanged with OSCP peers, in the state directory's token files (0600).

``ours`` is what a peer presents to this controller: made anew at every registration
this controller answers or starts, so the one before stops working at once.
``theirs`` is what the peer gave at its registration, presented to it. Kept in
memory as well; every change is written before it is used.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from depotctl.api.state_dir import OscpTokenHolder, StateDir
from depotctl.credentials import read_private_token


class OscpTokens:
    """The exchanged tokens of every OSCP source of one state directory."""

    def __init__(self, state_dir: StateDir) -> None:
        self._state_dir = state_dir
        self._cache: dict[tuple[str, OscpTokenHolder], str | None] = {}

    def ours(self, source: str) -> str | None:
        return self._read(source, "ours")

    def theirs(self, source: str) -> str | None:
        return self._read(source, "theirs")

    def new_ours(self, source: str) -> str:
        """A fresh token for the peer of ``source`` (the one before stops working)."""
        token = secrets.token_urlsafe(32)
        self._write(source, "ours", token)
        return token

    def set_theirs(self, source: str, token: str) -> None:
        self._write(source, "theirs", token)

    def forget(self, source: str) -> None:
        """Both tokens of ``source`` (the peer ended its registration)."""
        for holder in ("ours", "theirs"):
            self._state_dir.oscp_token(source, holder).unlink(missing_ok=True)
            self._cache[(source, holder)] = None

    def is_ours(self, source: str, presented: str) -> bool:
        """Whether ``presented`` is the token the peer of ``source`` holds (compared in
        constant time)."""
        ours = self.ours(source)
        return ours is not None and hmac.compare_digest(ours.encode(), presented.encode())

    def _read(self, source: str, holder: OscpTokenHolder) -> str | None:
        key = (source, holder)
        if key not in self._cache:
            path = self._state_dir.oscp_token(source, holder)
            self._cache[key] = read_private_token(path) if path.exists() else None
        return self._cache[key]

    def _write(self, source: str, holder: OscpTokenHolder, token: str) -> None:
        path = self._state_dir.oscp_token(source, holder)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(path, token)
        self._cache[(source, holder)] = token


def _write_private(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` (0600) atomically: a crash leaves the old or the new."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(token + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)
