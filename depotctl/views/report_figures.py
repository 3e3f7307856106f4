"""The reports' figures as the API gives them (:mod:`depotctl.api.reports`): a row's
account, the rows' totals, a billing window's itemised bill, a departure and the
departures of each local day — energies in kWh, amounts to the cent. One place for
the controller's reports (controller/routes/reports.py) and the fleet's
(history/reports.py), so both print the same figures from the same accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from depotctl.api.encoding import figure
from depotctl.api.reports import (
    BillingLine,
    DemandLine,
    DepartureDay,
    DepartureRow,
    EnergyRow,
    EnergyTotals,
    FixedLine,
)
from depotctl.domain.bill import cents
from depotctl.engine.departure_outcomes import DepartureOutcome
from depotctl.engine.energy_accounts import Account, WindowBill, total
from depotctl.engine.report_rows import RowFigures


def kwh(wh: float) -> float:
    """Wh as kWh to 6 decimals (never ``-0.0``)."""
    return round(wh / 1000.0, 6) + 0.0


def money(amount: float | Decimal | None) -> float | None:
    """An amount to the cent, half up; None stays unknown."""
    if amount is None:
        return None
    return float(amount if isinstance(amount, Decimal) else cents(amount))


def energy_row(
    key: str,
    span: tuple[datetime, datetime],
    figures: Account,
    *,
    priced: bool,
    evse: str | None = None,
    vehicle: str | None = None,
    day: tuple[float, int, int] | None = None,
) -> EnergyRow:
    """A row: a session's (on ``evse``, of ``vehicle`` when known) or a local day's
    (``day``: its EV energy in Wh, its metered minutes and its minutes); the cost only
    in a cost report (``priced``)."""
    fields: dict[str, Any] = {
        "key": key,
        "start": span[0],
        "end": span[1],
        "energy_kwh": kwh(figures.energy_wh),
    }
    if evse is not None:
        fields["evse"] = evse
    if vehicle is not None:
        fields["vehicle"] = vehicle
    if day is not None:
        fields["ev_energy_kwh"] = kwh(day[0])
        fields["metered_minutes"], fields["minutes"] = day[1], day[2]
    if priced:
        fields["energy_cost"] = money(figures.cost)
        fields["unpriced_kwh"] = kwh(figures.unpriced_wh)
    fields["carbon_kg_co2e"] = figure(figures.kg)
    fields["uncovered_kwh"] = kwh(figures.uncovered_wh)
    return EnergyRow(**fields)


def figures_row(row: RowFigures, *, priced: bool) -> EnergyRow:
    """:func:`energy_row` of a report's row as :mod:`depotctl.engine.report_rows`
    builds it: a day's fields only on day rows, a session's EVSE on session rows."""
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


def energy_totals(accounts: Sequence[Account], *, priced: bool) -> EnergyTotals:
    """The rows' sums (the cost only when ``priced``)."""
    summed = total(accounts)
    return EnergyTotals(
        energy_kwh=kwh(summed.energy_wh),
        energy_cost=money(summed.cost) if priced else None,
        carbon_kg_co2e=figure(summed.kg),
    )


def billing_line(window_bill: WindowBill) -> BillingLine:
    """A billing window's bill, itemised (unknown amounts where its energy is not all
    priced)."""
    billed = window_bill.bill
    return BillingLine(
        start=window_bill.window.start,
        end=window_bill.window.end,
        partial=window_bill.partial,
        energy_kwh=kwh(window_bill.energy_wh),
        energy_cost=money(billed.energy_amount) if billed else None,
        demand_charge=money(billed.demand_amount) if billed else None,
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
        fixed_charge=money(billed.fixed_amount) if billed else None,
        fixed=[
            FixedLine(unit=f.unit, count=f.count, price=f.price, amount=float(f.amount))
            for f in (billed.fixed if billed else ())
        ],
        total=money(window_bill.total),
        unpriced_kwh=kwh(window_bill.unpriced_wh),
    )


def departure_row(outcome: DepartureOutcome) -> DepartureRow:
    """One session at its departure."""
    session = outcome.recorded.session
    return DepartureRow(
        session=session.id,
        evse=session.evse_id,
        vehicle=session.vehicle_id,
        started=session.started,
        ended=outcome.recorded.ended,
        departure=outcome.departure,
        requirement_source=outcome.source.value,
        needed_kwh=kwh(outcome.needed_wh),
        delivered_kwh=kwh(outcome.delivered_wh),
        met=outcome.met,
        short_kwh=kwh(outcome.short_wh),
    )


def departure_days(outcomes: Sequence[DepartureOutcome], zone: tzinfo) -> list[DepartureDay]:
    """The departures counted per local day of ``zone``, in the outcomes' order."""
    days: dict[str, list[DepartureOutcome]] = {}
    for outcome in outcomes:
        day = days.setdefault(outcome.departure.astimezone(zone).date().isoformat(), [])
        day.append(outcome)
    return [
        DepartureDay(
            date=date,
            sessions=len(day),
            met=sum(1 for o in day if o.met),
            short=sum(1 for o in day if not o.met),
            short_kwh=kwh(sum(o.short_wh for o in day)),
        )
        for date, day in days.items()
    ]
