"""The alerts as the API reads them: the open ones and, on request, those cleared
recently (:mod:`depotctl.controller.alerts` keeps them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from depotctl.api.inputs import EARLIEST
from depotctl.controller.alerts import AlertBook
from depotctl.controller.ports import Depot
from depotctl.controller.services.errors import Unprocessable
from depotctl.domain.alerts import Alert


@dataclass(frozen=True, slots=True)
class AlertsNow:
    """The alerts listed at ``at``, with the site's time zone (None without a site)."""

    at: datetime
    timezone: str | None
    alerts: list[Alert]


def list_alerts(
    depot: Depot, *, include_cleared: bool, since: datetime | None, limit: int
) -> AlertsNow:
    """The open alerts, then those cleared since ``since`` (all kept with
    ``include_cleared``), at most ``limit`` of those."""
    if since is not None and since.utcoffset() is None:
        raise Unprocessable("since: give a time zone (e.g. 2026-11-26T15:00:00Z)")
    cleared_since = EARLIEST if include_cleared else since
    listed = AlertBook(depot.units).alerts(cleared_since=cleared_since, limit=limit)
    applied = depot.applied
    return AlertsNow(
        depot.clock.now(), applied.topology.timezone if applied is not None else None, listed
    )
