"""``GET /api/v1/reports/cost|carbon|readiness``: the past's cost, emissions and
departures (:mod:`..services.reports`; docs/reports.md)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from depotctl import api
from depotctl.api.inputs import Time
from depotctl.api.reports import ReportBy, ReportSpan
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.reports import (
    EnergyReport,
    ReadinessReport,
    ReportWindow,
    carbon_report,
    cost_report,
    readiness_report,
)
from depotctl.views.report_figures import (
    billing_line,
    departure_days,
    departure_row,
    energy_totals,
    figures_row,
)

Since = Annotated[Time, Query(description="ISO 8601 with zone; from")]
Until = Annotated[Time | None, Query(description="ISO 8601 with zone; before (default: now)")]
Vehicle = Annotated[
    str | None,
    Query(
        description="Only this vehicle's sessions, a row each (no billing-window bill: "
        "a bill is the site's; by=day is refused)"
    ),
]
EnergyBy = Annotated[
    ReportBy | None,
    Query(description="Rows per local day or per session (default: day; with vehicle: session)"),
]
ReadinessVehicle = Annotated[
    str | None, Query(description="Only the departures of this vehicle's sessions")
]


def report_routes() -> APIRouter:
    """The reports (mounted with ``include_api``)."""
    router = APIRouter(tags=["reports"])

    @answering(router.get, "/reports/cost", api.CostReport, "What the energy cost, and the bills")
    def cost(
        controller: ControllerDep,
        since: Since,
        until: Until = None,
        by: EnergyBy = None,
        vehicle: Vehicle = None,
    ) -> api.CostReport:
        report = cost_report(controller, since, until, _by(by, vehicle), vehicle)
        return api.CostReport(
            **_span(report.window),
            currency=report.rates.currency or "",
            rows=[figures_row(r, priced=True) for r in report.rows],
            billing=[billing_line(b) for b in report.bills],
            total=energy_totals([r.account for r in report.rows], priced=True),
        )

    @answering(router.get, "/reports/carbon", api.CarbonReport, "What the energy emitted")
    def carbon(
        controller: ControllerDep,
        since: Since,
        until: Until = None,
        by: EnergyBy = None,
        vehicle: Vehicle = None,
    ) -> api.CarbonReport:
        per = _by(by, vehicle)
        report: EnergyReport = carbon_report(controller, since, until, per, vehicle)
        assert report.rates.intensity is not None
        return api.CarbonReport(
            **_span(report.window),
            intensity=report.rates.intensity.describe(),
            rows=[figures_row(r, priced=False) for r in report.rows],
            total=energy_totals([r.account for r in report.rows], priced=False),
        )

    @answering(
        router.get,
        "/reports/readiness",
        api.ReadinessReport,
        "What each session departing in the window got by its departure",
    )
    def readiness(
        controller: ControllerDep,
        since: Since,
        until: Until = None,
        by: ReportBy = "session",
        vehicle: ReadinessVehicle = None,
    ) -> api.ReadinessReport:
        return _readiness(readiness_report(controller, since, until, by, vehicle))

    return router


def _by(by: ReportBy | None, vehicle: str | None) -> ReportBy:
    """Rows per day, or per session when the report is of one vehicle."""
    if by is not None:
        return by
    return "session" if vehicle is not None else "day"


def _span(window: ReportWindow) -> dict[str, Any]:
    return {name: getattr(window, name) for name in ReportSpan.model_fields}


def _readiness(report: ReadinessReport) -> api.ReadinessReport:
    return api.ReadinessReport(
        **_span(report.window),
        sessions=[departure_row(o) for o in report.outcomes],
        days=departure_days(report.outcomes, ZoneInfo(report.window.timezone)),
        ahead=report.ahead,
    )
