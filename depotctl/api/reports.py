"""The reports (``GET /api/v1/reports/cost|carbon|readiness``): what the depot's past
energy cost and emitted, per local day or per session with the billing windows'
bills, and what each session got by its departure. docs/reports.md says where each
figure comes from."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.api.base import ApiModel, Instant

#: How a report's rows are cut.
ReportBy = Literal["day", "session"]


class ReportSpan(ApiModel):
    """What every report states first: when it was made, the window and the zone."""

    time: Instant = Field(description="When the controller made the report (its clock).")
    timezone: str = Field(description="The site's: days and billing windows are its own.")
    since: Instant
    until: Instant
    by: ReportBy


class EnergyRow(ApiModel):
    """One local day, or one session, within the report's window."""

    key: str = Field(description="The local date (2026-12-07) or the session id.")
    start: Instant = Field(description="The row's span within the window: from.")
    end: Instant = Field(description="The row's span within the window: until.")
    evse: str | None = Field(None, description="The session's EVSE (session rows).")
    vehicle: str | None = Field(
        None, description="The session's vehicle (session rows; only when known): bus-42."
    )
    energy_kwh: float = Field(
        description="Day rows: the site's import (its grid meters; the EV load in the "
        "minutes they did not measure). Session rows: the session's energy."
    )
    ev_energy_kwh: float | None = Field(None, description="Day rows: the sessions' energy.")
    metered_minutes: int | None = Field(
        None, description="Day rows: the minutes the site's grid meters measured."
    )
    minutes: int | None = Field(None, description="Day rows: the minutes of the row.")
    energy_cost: float | None = Field(
        None, description="Cost reports: the energy's cost; null when some of it has no price."
    )
    unpriced_kwh: float | None = Field(None, description="Cost reports: energy without a price.")
    carbon_kg_co2e: float | None = Field(
        None, description="Null when the site declares no carbon or some energy is uncovered."
    )
    uncovered_kwh: float | None = Field(
        None, description="Energy no carbon intensity covers (null: the site has none)."
    )


class DemandLine(ApiModel):
    """A demand charge of a billing window, on its peak."""

    charge: str
    peak_kw: float = Field(description="The highest average power over a demand interval.")
    peak_start: Instant
    price_per_kw: float
    amount: float


class FixedLine(ApiModel):
    """A fixed charge: ``count`` days or billing periods at ``price`` each."""

    unit: str
    count: int
    price: float
    amount: float


class BillingLine(ApiModel):
    """The bill of the site's energy in one billing window (a calendar month of the
    site), or in its part inside the report (``partial``: the demand charge is on the
    peak so far)."""

    start: Instant
    end: Instant
    partial: bool
    energy_kwh: float
    energy_cost: float | None = Field(description="Null when some energy has no price.")
    demand_charge: float | None
    demand: list[DemandLine]
    fixed_charge: float | None
    fixed: list[FixedLine]
    total: float | None
    unpriced_kwh: float


class EnergyTotals(ApiModel):
    """The rows' sums."""

    energy_kwh: float
    energy_cost: float | None = None
    carbon_kg_co2e: float | None = None


class CostReport(ReportSpan):
    """What the energy cost: per row, and each billing window's bill."""

    currency: str
    rows: list[EnergyRow]
    billing: list[BillingLine]
    total: EnergyTotals


class CarbonReport(ReportSpan):
    """What the energy emitted, per row."""

    intensity: str = Field(description="The site's carbon signal, in words.")
    rows: list[EnergyRow]
    total: EnergyTotals


class DepartureRow(ApiModel):
    """One session at its departure."""

    session: str
    evse: str
    vehicle: str | None = Field(None, description="Its vehicle, when known: bus-42.")
    started: Instant
    ended: Instant | None
    departure: Instant
    requirement_source: str = Field(description="schedule, vehicle or default.")
    needed_kwh: float = Field(description="The energy it had to have in all.")
    delivered_kwh: float = Field(description="The energy it had received by its departure.")
    met: bool
    short_kwh: float


class DepartureDay(ApiModel):
    """The departures of one local day."""

    date: str
    sessions: int
    met: int
    short: int
    short_kwh: float


class ReadinessReport(ReportSpan):
    """What each session departing in the window got by its departure (the past; the
    sessions still to depart are counted in ``ahead``)."""

    sessions: list[DepartureRow]
    days: list[DepartureDay]
    ahead: int = Field(description="Sessions of the window that have not departed yet.")
