"""The API's routes, one module per resource. Each route parses its request, calls
one service (:mod:`depotctl.controller.services`) and renders what it returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

Handler = TypeVar("Handler", bound=Callable[..., Any])


def answers(model: Any) -> dict[str, Any]:
    """A route's options for answering ``model`` (:mod:`depotctl.api`): the JSON it
    validates and documents, holding only the fields the route set."""
    return {"response_model": model, "response_model_exclude_unset": True}


def answering(
    method: Callable[..., Any], path: str, model: Any, summary: str, **options: Any
) -> Callable[[Handler], Handler]:
    """The decorator of a route at ``path`` (``method``: ``router.get``, ``router.post``
    …) that answers ``model`` (see :func:`answers`), summed up in OpenAPI as
    ``summary``; ``options`` are FastAPI's (``status_code``, ``responses``, ``tags``)."""
    return cast(
        "Callable[[Handler], Handler]", method(path, summary=summary, **answers(model), **options)
    )
