"""Who made a change, as the controller keeps it with a revision, an override or a
journal entry: ``user@host``, the same from ``serve`` (the first revision), ``apply``,
``rollback``, ``override`` and the console. Standard library only."""

from __future__ import annotations

import getpass
import socket


def local_author() -> str:
    """``root@depot-north``: this process's user (``unknown`` when it has no name) at
    this machine."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
