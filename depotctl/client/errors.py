"""What a call to the controller can fail with: an error the controller answered
(:class:`ApiError`), or no usable answer at all (:class:`Unreachable`)."""

from __future__ import annotations

from depotctl.api.errors import ErrorBody


class ApiError(Exception):
    """An error the controller answered with: HTTP status, stable code, message, and
    the whole body (``problems``, ``diagnostics``, ``did_you_mean``, …)."""

    def __init__(self, status: int, code: str, message: str, body: ErrorBody | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body if body is not None else ErrorBody(code=code, message=message)


class Unreachable(Exception):
    """No answer from the controller at ``url`` (or none that reads as its API's)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the controller at {url}: {reason}")
        self.url = url
        self.reason = reason
