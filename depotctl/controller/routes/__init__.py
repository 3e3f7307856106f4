"""The API's routes, one module per resource. Each route parses its request, calls
one service (:mod:`depotctl.controller.services`) and renders what it returns."""

from __future__ import annotations

from typing import Any


def answers(model: Any) -> dict[str, Any]:
    """A route's options for answering ``model`` (:mod:`depotctl.api`): the JSON it
    validates and documents, holding only the fields the route set."""
    return {"response_model": model, "response_model_exclude_unset": True}
