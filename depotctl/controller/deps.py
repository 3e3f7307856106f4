"""What the API's routes ask FastAPI for: the controller the app serves."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from depotctl.controller.service import Controller


def controller_of(request: Request) -> Controller:
    """The controller the app serves (``app.state.controller``; tests swap it)."""
    controller: Controller = request.app.state.controller
    return controller


ControllerDep = Annotated[Controller, Depends(controller_of)]
