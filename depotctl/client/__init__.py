"""The CLI's and the console's side of the controller: a typed HTTP client
(:mod:`.api`, answering the models of :mod:`depotctl.api`), the contexts that say
which controller to talk to, with which token (:mod:`.contexts`), text from the
controller made safe for a terminal (:mod:`.terminal_text`), and the figures and
alerts the CLI and the console put into words alike (:mod:`.figures`, :mod:`.alerts`).

Imported only by the commands that talk to a controller, never by ``validate``. The
names below load on first use, so that importing :mod:`.terminal_text` (the offline
renderers do) does not load httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from depotctl.lazy import lazy_attributes

if TYPE_CHECKING:
    from depotctl.client.api import AsyncControllerClient, ControllerApi, ControllerClient
    from depotctl.client.contexts import ContextError, Contexts, Target
    from depotctl.client.errors import ApiError, Unreachable

__getattr__ = lazy_attributes(
    __name__,
    {
        "api": ("AsyncControllerClient", "ControllerApi", "ControllerClient"),
        "contexts": ("ContextError", "Contexts", "Target"),
        "errors": ("ApiError", "Unreachable"),
    },
)


__all__ = [
    "ApiError",
    "AsyncControllerClient",
    "ContextError",
    "Contexts",
    "ControllerApi",
    "ControllerClient",
    "Target",
    "Unreachable",
]
