"""The CLI's side of the controller: a typed HTTP client (:mod:`.api`), the contexts
that say which controller to talk to, with which token (:mod:`.contexts`), and text
from the controller made safe for a terminal (:mod:`.terminal_text`).

Imported only by the commands that talk to a controller, never by ``validate``. The
names below load on first use, so that importing :mod:`.terminal_text` (the offline
renderers do) does not load httpx.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depotctl.client.api import ApiError, ControllerClient, Unreachable
    from depotctl.client.contexts import ContextError, Contexts, Target

_LAZY = {
    "ApiError": "api",
    "ControllerClient": "api",
    "Unreachable": "api",
    "ContextError": "contexts",
    "Contexts": "contexts",
    "Target": "contexts",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = ["ApiError", "ContextError", "Contexts", "ControllerClient", "Target", "Unreachable"]
