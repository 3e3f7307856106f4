"""A session's readiness forecast as the API gives it (``readiness`` of each open
session in ``GET /api/v1/sessions``): the energy it is expected to have at its
departure, the shortfall, on what basis, and what causes it. Times in UTC; energies
in Wh. :meth:`Readiness.forecast` gives the domain's value, which says it in words
in the site's time."""

from __future__ import annotations

import math

from pydantic import Field

from depotctl.api.base import ApiModel, Instant
from depotctl.domain.readiness import Readiness as Forecast
from depotctl.domain.readiness import ReadinessCause as Cause


class ReadinessCause(ApiModel):
    """What keeps the session short."""

    kind: str = Field(
        description="As the allocator names bindings: node_limit, envelope, fallback, "
        "charger_limit, vehicle_limit, …"
    )
    ref: str | None = Field(description="The node, envelope, offline source or EVSE.")
    node: str | None = Field(description="The node that is full (node_limit, envelope, fallback).")
    since: Instant = Field(description="From when (the forecast's instant: now).")
    detail: str = Field("", description="The binding's words, for another kind.")


class Readiness(ApiModel):
    """The forecast at ``at``: ``need_wh`` in all by ``departure``, ``expected_wh``
    then, ``short_wh`` missing (0: met)."""

    session: str
    evse: str
    at: Instant
    departure: Instant
    need_wh: float | None = Field(description="Null: not a finite number (a stored extreme).")
    expected_wh: float | None
    short_wh: float | None
    basis: str = Field(description='"plan" or "present limit" (no plan covers it).')
    cause: ReadinessCause | None = Field(description="Null when met, overdue, or nothing to name.")
    text: str = Field(description="In words, times in UTC.")

    def forecast(self) -> Forecast:
        """The domain's value, for words in the site's time (:meth:`Forecast.words`)."""
        cause = self.cause
        return Forecast(
            self.session,
            self.evse,
            self.at,
            self.departure,
            _wh(self.need_wh),
            _wh(self.expected_wh),
            _wh(self.short_wh),
            self.basis,
            None
            if cause is None
            else Cause(cause.kind, cause.ref, cause.node, cause.since, cause.detail),
        )


def _wh(figure: float | None) -> float:
    """An energy the controller could not write as a number (null) reads as infinite."""
    return math.inf if figure is None else figure
