"""A controller's state directory: the one place that knows what lives where in it.

``depotctl serve --state-dir DIR`` keeps its store, lock, tokens and endpoints there
(docs/api.md, the contracts' "controller process"); the CLI, the simulated chargers and
the demo find a local controller through the same paths. Standard library only, so that
every side can hold one without loading anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: The roles a token file grants: ``admin`` may change things, ``readonly`` only read.
TokenRole = Literal["admin", "readonly"]
TOKEN_ROLES: tuple[TokenRole, ...] = ("admin", "readonly")
#: Who presents an OSCP token: ``ours`` is presented to this controller, ``theirs``
#: by it to the peer.
OscpTokenHolder = Literal["ours", "theirs"]


class EndpointsUnreadable(Exception):
    """``endpoints.json`` cannot be read (no controller runs there, or the file is not
    one), with one line saying why."""


@dataclass(frozen=True, slots=True)
class StateDir:
    """The paths inside one state directory (``root``)."""

    root: Path

    @property
    def store(self) -> Path:
        """The SQLite store (WAL: ``-wal`` and ``-shm`` files beside it)."""
        return self.root / "depotctl.sqlite"

    @property
    def lock(self) -> Path:
        """The exclusive lock that makes one controller per state directory; it names
        its holder."""
        return self.root / "serve.lock"

    @property
    def endpoints(self) -> Path:
        """``{"api": URL, "ocpp": URL, "oscp": URL}`` of the running controller, bound
        ports (``oscp`` only while an OSCP listener runs)."""
        return self.root / "endpoints.json"

    def running_endpoints(self) -> dict[str, object]:
        """What ``endpoints.json`` says of the controller running here (``api``,
        ``ocpp``); :class:`EndpointsUnreadable` when it cannot be read."""
        try:
            endpoints = json.loads(self.endpoints.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EndpointsUnreadable(
                f"{self.endpoints} does not exist: is `depotctl serve --state-dir {self.root}` "
                "running?"
            ) from None
        except (OSError, ValueError) as error:
            raise EndpointsUnreadable(f"cannot read {self.endpoints}: {error}") from None
        if not isinstance(endpoints, dict):
            raise EndpointsUnreadable(f"{self.endpoints} is not a JSON object")
        return endpoints

    @property
    def endpoints_partial(self) -> Path:
        """Where ``endpoints.json`` is written before it replaces the old one."""
        return self.root / "endpoints.json.partial"

    @property
    def tokens(self) -> Path:
        """The directory of the token files (mode 0700)."""
        return self.root / "tokens"

    def token(self, role: TokenRole) -> Path:
        """The token file of ``role`` (mode 0600)."""
        return self.tokens / f"{role}.token"

    def oscp_token(self, source: str, holder: OscpTokenHolder) -> Path:
        """A token exchanged with an OSCP source at registration (mode 0600):
        ``ours``, the one the peer presents to this controller; ``theirs``, the one
        this controller presents to the peer."""
        return self.tokens / "oscp" / f"{source}.{holder}"

    @property
    def admin_token(self) -> Path:
        return self.token("admin")

    @property
    def readonly_token(self) -> Path:
        return self.token("readonly")

    @property
    def sim_clock(self) -> Path:
        """A simulated clock's checkpoint (ISO time), so that its time never runs
        backwards across a restart; a demo writes it to start the night at a chosen
        time."""
        return self.root / "sim-clock"

    @property
    def sim_clock_partial(self) -> Path:
        """Where the clock's checkpoint is written before it replaces the old one."""
        return self.root / "sim-clock.tmp"
