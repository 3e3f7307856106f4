"""What the sync and the async client share, as httpx's ``BaseClient`` does: a call
to the controller described once (:class:`Call`: method, path, query, body, and the
model of its answer), endpoints declared once (:class:`Endpoint`), the answer read
into its model or an error mapped to :class:`ApiError` / :class:`Unreachable`. Only
the transport differs between the two clients."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Self, TypeVar, overload

import httpx
from pydantic import BaseModel, ValidationError

from depotctl.api.errors import ErrorBody
from depotctl.client.errors import ApiError, Unreachable

if TYPE_CHECKING:
    from depotctl.client.api import AsyncControllerClient, ControllerClient

P = ParamSpec("P")
Answer = TypeVar("Answer", bound=BaseModel)

#: The prefix of every endpoint but ``/healthz`` and ``/metrics``.
API = "/api/v1"

Query = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class Call(Generic[Answer]):
    """One request to the controller and the model its answer reads into."""

    method: str
    path: str
    answer: type[Answer]
    params: Query | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


class Endpoint(Generic[P, Answer]):
    """An endpoint, declared once on :class:`~depotctl.client.api.ControllerApi` by the
    function that builds its :class:`Call`: on the sync client it answers the model, on
    the async client an awaitable of it."""

    def __init__(self, build: Callable[P, Call[Answer]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: ControllerClient, owner: type[Any]) -> Callable[P, Answer]: ...
    @overload
    def __get__(
        self, client: AsyncControllerClient, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, Answer]]: ...
    def __get__(
        self, client: ControllerClient | AsyncControllerClient | None, owner: type[Any]
    ) -> Any:
        if client is None:
            return self
        build = self.build

        @functools.wraps(build)
        def send(*args: P.args, **kwargs: P.kwargs) -> Any:
            return client.send(build(*args, **kwargs))

        return send


def reading(path: str, answer: type[Answer], doc: str | None = None) -> Endpoint[[], Answer]:
    """An endpoint that reads ``path`` (a GET without parameters) into ``answer``."""

    def build() -> Call[Answer]:
        return Call("GET", path, answer)

    build.__doc__ = doc
    return Endpoint(build)


def only_given(**values: Any) -> dict[str, Any]:
    """The values that are not None (a query, or a body's optional fields)."""
    return {name: value for name, value in values.items() if value is not None}


@contextmanager
def transport_errors(base_url: str) -> Iterator[None]:
    """A failed exchange with the controller as :class:`Unreachable`, naming the URL."""
    try:
        yield
    except httpx.TimeoutException:
        raise Unreachable(base_url, "no answer (timed out)") from None
    except httpx.TransportError as error:
        raise Unreachable(base_url, _reason(error)) from None


def answer_of(call: Call[Answer], response: httpx.Response, base_url: str) -> Answer:
    """The answer as ``call``'s model, or the error the controller answered."""
    if not response.is_success:
        raise _error_of(response)
    try:
        return call.answer.model_validate_json(response.content)
    except ValidationError as error:
        raise Unreachable(base_url, _misread(response.request.url.path, error)) from None


def _misread(path: str, error: ValidationError) -> str:
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return f"the answer to {path} is not JSON; is it a controller?"
    if not first["loc"]:
        return f"the answer to {path} is not an object"
    where = ".".join(str(part) for part in first["loc"])
    return f"the answer to {path} is not what this depotctl reads ({where}: {first['msg']})"


def _reason(error: httpx.TransportError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
        return f"connection refused or no route ({text}); is `depotctl serve` running?"
    return text


def _error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code, message = str(body.get("code", "")), body["message"]
        try:
            read = ErrorBody.model_validate(body)
        except ValidationError:  # an error body with odd extras: its code and message
            read = ErrorBody(code=code, message=message)
        return ApiError(response.status_code, code, message, read)
    text = response.text.strip()[:200] or response.reason_phrase
    return ApiError(response.status_code, "http_error", text)
