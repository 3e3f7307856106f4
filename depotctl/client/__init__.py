"""The CLI's side of the controller: a typed HTTP client (:mod:`.api`) and the
contexts that say which controller to talk to, with which token (:mod:`.contexts`).

Imported only by the commands that talk to a controller, never by ``validate``.
"""

from depotctl.client.api import ApiError, ControllerClient, Unreachable
from depotctl.client.contexts import ContextError, Contexts, Target

__all__ = ["ApiError", "ContextError", "Contexts", "ControllerClient", "Target", "Unreachable"]
