"""``GET /api/v1/reports/cost|carbon|readiness``: the past's cost, emissions and
departures (:mod:`..services.reports`; docs/reports.md)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from depotctl import api
from depotctl.api.inputs import Time
from depotctl.api.reports import EnergyRow, ReportBy, ReportSpan
from depotctl.controller.deps import ControllerDep
from depotctl.controller.routes import answering
from depotctl.controller.services.reports import (
    EnergyReport,
    ReadinessReport,
    ReportWindow,
    RowFigures,
    carbon_report,
    cost_report,
    readiness_report,
)
from depotctl.views.report_figures import (
    billing_line,
    departure_days,
    departure_row,
    energy_row,
    energy_totals,
)

Since = Annotated[Time, Query(description="ISO 8601 with zone; from")]
Until = Annotated[Time | None, Query(description="ISO 8601 with zone; before (default: now)")]


def report_routes() -> APIRouter:
    """The reports (mounted with ``include_api``)."""
    router = APIRouter(tags=["reports"])

    @answering(router.get, "/reports/cost", api.CostReport, "What the energy cost, and the bills")
    def cost(
        controller: ControllerDep, since: Since, until: Until = None, by: ReportBy = "day"
    ) -> api.CostReport:
        report = cost_report(controller, since, until, by)
        return api.CostReport(
            **_span(report.window),
            currency=report.rates.currency or "",
            rows=[_row(r, priced=True) for r in report.rows],
            billing=[billing_line(b) for b in report.bills],
            total=energy_totals([r.account for r in report.rows], priced=True),
        )

    @answering(router.get, "/reports/carbon", api.CarbonReport, "What the energy emitted")
    def carbon(
        controller: ControllerDep, since: Since, until: Until = None, by: ReportBy = "day"
    ) -> api.CarbonReport:
        report: EnergyReport = carbon_report(controller, since, until, by)
        assert report.rates.intensity is not None
        return api.CarbonReport(
            **_span(report.window),
            intensity=report.rates.intensity.describe(),
            rows=[_row(r, priced=False) for r in report.rows],
            total=energy_totals([r.account for r in report.rows], priced=False),
        )

    @answering(
        router.get,
        "/reports/readiness",
        api.ReadinessReport,
        "What each session departing in the window got by its departure",
    )
    def readiness(
        controller: ControllerDep, since: Since, until: Until = None, by: ReportBy = "session"
    ) -> api.ReadinessReport:
        return _readiness(readiness_report(controller, since, until, by))

    return router


def _span(window: ReportWindow) -> dict[str, Any]:
    return {name: getattr(window, name) for name in ReportSpan.model_fields}


def _row(row: RowFigures, *, priced: bool) -> EnergyRow:
    """A row; a day's fields only on day rows, a session's EVSE on session rows, the
    cost only in a cost report."""
    day = row.day
    coverage = (day.ev_energy_wh, day.metered_minutes, day.minutes) if day else None
    return energy_row(
        row.key,
        row.span,
        row.account,
        priced=priced,
        evse=row.evse,
        vehicle=row.vehicle,
        day=coverage,
    )


def _readiness(report: ReadinessReport) -> api.ReadinessReport:
    return api.ReadinessReport(
        **_span(report.window),
        sessions=[departure_row(o) for o in report.outcomes],
        days=departure_days(report.outcomes, ZoneInfo(report.window.timezone)),
        ahead=report.ahead,
    )
