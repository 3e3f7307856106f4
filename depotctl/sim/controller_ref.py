"""Where a simulation finds the controller it plays against, as its command was told."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ControllerRef:
    """A local controller's state directory (its ``endpoints.json`` and token), or a
    context, or a server with a token file: the API whose clock the simulation
    follows (none given: real time)."""

    state_dir: Path | None = None
    context: str | None = None
    server: str | None = None
    token_file: Path | None = None


#: No controller named (a simulation that is given its URL alone follows real time).
NOWHERE = ControllerRef()
