"""``GET /api/v1/reports/cost|carbon|readiness``: the past's cost, emissions and
departures (:mod:`..services.reports`; docs/reports.md)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from depotctl import api
from depotctl.api.encoding import figure
from depotctl.api.inputs import Time
from depotctl.api.reports import (
    BillingLine,
    DemandLine,
    DepartureDay,
    DepartureRow,
    EnergyRow,
    EnergyTotals,
    FixedLine,
    ReportBy,
    ReportSpan,
)
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
from depotctl.domain.bill import cents
from depotctl.engine.departure_outcomes import DepartureOutcome
from depotctl.engine.energy_accounts import Account, WindowBill, total

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
            billing=[_billing(b) for b in report.bills],
            total=_totals([r.account for r in report.rows], priced=True),
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
            total=_totals([r.account for r in report.rows], priced=False),
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


def _kwh(wh: float) -> float:
    return round(wh / 1000.0, 6) + 0.0


def _money(amount: float | Decimal | None) -> float | None:
    if amount is None:
        return None
    return float(amount if isinstance(amount, Decimal) else cents(amount))


def _row(row: RowFigures, *, priced: bool) -> EnergyRow:
    """A row; a day's fields only on day rows, a session's EVSE on session rows, the
    cost only in a cost report."""
    figures = row.account
    fields: dict[str, Any] = {
        "key": row.key,
        "start": row.span[0],
        "end": row.span[1],
        "energy_kwh": _kwh(figures.energy_wh),
    }
    if row.evse is not None:
        fields["evse"] = row.evse
    if row.vehicle is not None:
        fields["vehicle"] = row.vehicle
    if row.day is not None:
        fields["ev_energy_kwh"] = _kwh(row.day.ev_energy_wh)
        fields["metered_minutes"] = row.day.metered_minutes
        fields["minutes"] = row.day.minutes
    if priced:
        fields["energy_cost"] = _money(figures.cost)
        fields["unpriced_kwh"] = _kwh(figures.unpriced_wh)
    fields["carbon_kg_co2e"] = figure(figures.kg)
    fields["uncovered_kwh"] = _kwh(figures.uncovered_wh)
    return EnergyRow(**fields)


def _totals(accounts: Sequence[Account], *, priced: bool) -> EnergyTotals:
    summed = total(accounts)
    return EnergyTotals(
        energy_kwh=_kwh(summed.energy_wh),
        energy_cost=_money(summed.cost) if priced else None,
        carbon_kg_co2e=figure(summed.kg),
    )


def _billing(window_bill: WindowBill) -> BillingLine:
    billed = window_bill.bill
    return BillingLine(
        start=window_bill.window.start,
        end=window_bill.window.end,
        partial=window_bill.partial,
        energy_kwh=_kwh(window_bill.energy_wh),
        energy_cost=_money(billed.energy_amount) if billed else None,
        demand_charge=_money(billed.demand_amount) if billed else None,
        demand=[
            DemandLine(
                charge=line.charge.label,
                peak_kw=round(line.peak, 6),
                peak_start=line.peak_start,
                price_per_kw=line.charge.price,
                amount=float(line.amount),
            )
            for line in (billed.demand if billed else ())
        ],
        fixed_charge=_money(billed.fixed_amount) if billed else None,
        fixed=[
            FixedLine(unit=f.unit, count=f.count, price=f.price, amount=float(f.amount))
            for f in (billed.fixed if billed else ())
        ],
        total=_money(window_bill.total),
        unpriced_kwh=_kwh(window_bill.unpriced_wh),
    )


def _readiness(report: ReadinessReport) -> api.ReadinessReport:
    rows = [
        DepartureRow(
            session=o.recorded.session.id,
            evse=o.recorded.session.evse_id,
            vehicle=o.recorded.session.vehicle_id,
            started=o.recorded.session.started,
            ended=o.recorded.ended,
            departure=o.departure,
            requirement_source=o.source.value,
            needed_kwh=_kwh(o.needed_wh),
            delivered_kwh=_kwh(o.delivered_wh),
            met=o.met,
            short_kwh=_kwh(o.short_wh),
        )
        for o in report.outcomes
    ]
    return api.ReadinessReport(
        **_span(report.window), sessions=rows, days=_departure_days(report), ahead=report.ahead
    )


def _departure_days(report: ReadinessReport) -> list[DepartureDay]:
    zone = ZoneInfo(report.window.timezone)
    days: dict[str, list[DepartureOutcome]] = {}
    for outcome in report.outcomes:
        day = days.setdefault(outcome.departure.astimezone(zone).date().isoformat(), [])
        day.append(outcome)
    return [
        DepartureDay(
            date=date,
            sessions=len(outcomes),
            met=sum(1 for o in outcomes if o.met),
            short=sum(1 for o in outcomes if not o.met),
            short_kwh=_kwh(sum(o.short_wh for o in outcomes)),
        )
        for date, outcomes in days.items()
    ]
