"""What a service refuses, and why, in the site's terms. The API answers each with
its status and stable code (:mod:`depotctl.controller.errors`); ``fields`` go into
the answer beside the message (``evse``, ``did_you_mean``, ...)."""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """A request the depot's state or rules refuse."""

    code: ClassVar[str] = "invalid_request"

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(ServiceError):
    """No such site, node, EVSE, envelope, session or revision."""

    code = "not_found"


class NoOverride(NotFound):
    """A resume on an EVSE that has no override."""

    code = "no_override"


class Conflict(ServiceError):
    """The request contradicts what is stored (an id taken, a session ended)."""

    code = "conflict"


class Invalid(ServiceError):
    """A request the rules refuse as it is (an envelope window, a charger's node)."""


class Unprocessable(ServiceError):
    """A request that cannot be taken for what it holds (a reading from the future)."""
