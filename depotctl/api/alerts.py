"""Alerts (``GET /api/v1/alerts``): conditions people must know about while they hold.

Read leniently: an alert of a kind this depotctl does not know (a newer controller)
still reads, with the headline and reason the controller gave."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class AlertSubject(ApiModel):
    kind: str = Field(description="node, evse, charger, source, session or meter.")
    id: str


class Alert(ApiModel):
    id: int
    kind: str = Field(description="charger_uncontrollable, meter_stale, source_offline, …")
    severity: str = Field(description="critical (a limit may be broken now) or warning.")
    subject: AlertSubject
    since: Instant
    cleared_at: Instant | None
    open: bool
    headline: str
    reason: str
    message: str
    data: dict[str, Any]

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    @property
    def is_critical(self) -> bool:
        return self.severity == "critical"


class Alerts(ApiModel):
    """The open alerts (and the cleared ones asked for), by ``since``."""

    time: Instant
    timezone: str | None = Field(description="The site's (null before the first revision).")
    open: int
    alerts: list[Alert]
