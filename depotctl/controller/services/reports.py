"""Reports of the past: what the energy cost and emitted (per local day or per session,
with each billing window's bill), and what each session got by its departure.

The store is read once per report: the sessions that overlap the window, their
chargers' and the grid meters' telemetry by minute (past the raw retention, by
quarter hour: docs/retention.md); the engine does the rest
(:mod:`~depotctl.engine.energy_history`, :mod:`~depotctl.engine.energy_accounts`,
:mod:`~depotctl.engine.departure_outcomes`). The site in force gives the tariff, the
price series, the carbon intensity, the default requirement and the time zone.
docs/reports.md says where each figure comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from depotctl.api.encoding import utc_text
from depotctl.config import site_carbon_intensity, site_price_series, site_tariff
from depotctl.controller.ports import Depot
from depotctl.controller.service import AppliedSite
from depotctl.controller.services.errors import NotFound, Unprocessable
from depotctl.controller.services.lookups import current_state, site_in_force
from depotctl.domain.topology import NodeKind
from depotctl.engine.departure_outcomes import DepartureOutcome, departure_outcomes
from depotctl.engine.energy_accounts import (
    Rates,
    WindowBill,
    window_bills,
)
from depotctl.engine.energy_history import (
    MinuteEnergy,
    RecordedSession,
    session_energy,
    site_energy,
    summed,
)
from depotctl.engine.outlook import requirement_of
from depotctl.engine.report_rows import RowFigures, day_rows, session_rows

ReportBy = Literal["day", "session"]

#: The longest window a report reads (its days and minutes are counted one by one).
MAX_WINDOW = timedelta(days=400)

#: How long before the window a session may have started and still depart in it by
#: the default requirement (the next local departure time: within a day, 25 h at most).
_DEFAULT_DEPARTURE_REACH = timedelta(days=2)


def _refusal(code: str, doc: str) -> type[NotFound]:
    """A refusal of a report: 404 with its own stable ``code``."""
    return type(code.title().replace("_", ""), (NotFound,), {"code": code, "__doc__": doc})


NoTariff = _refusal("no_tariff", "A cost report of a site that prices nothing.")
NoCarbon = _refusal("no_carbon", "A carbon report of a site without ``carbon:``.")
NoHistory = _refusal("no_history", "A window without a session or a grid meter's reading.")


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """What a report covers: ``[since, until)``, until no later than ``time`` (when it
    is made; ``asked``: the until asked for: a readiness report counts the departures
    between its time and then as ahead)."""

    time: datetime
    timezone: str
    since: datetime
    until: datetime
    by: ReportBy
    asked: datetime


@dataclass(frozen=True, slots=True)
class EnergyReport:
    """A cost or carbon report."""

    window: ReportWindow
    rates: Rates
    rows: tuple[RowFigures, ...]
    bills: tuple[WindowBill, ...]


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    """The departures in the window, and how many of its sessions depart later."""

    window: ReportWindow
    outcomes: tuple[DepartureOutcome, ...]
    ahead: int


def cost_report(
    depot: Depot,
    since: datetime,
    until: datetime | None,
    by: ReportBy,
    vehicle: str | None = None,
) -> EnergyReport:
    """The energy's cost per row and the billing windows' bills (none for one
    ``vehicle``: a bill is the site's); :class:`NoTariff` for a site that prices
    nothing."""
    site = site_in_force(depot)
    rates = _rates(depot, site)
    if rates.tariff is None and rates.prices is None:
        raise NoTariff(
            f"site {site.topology.site} has no tariff and no price series: add a "
            "`tariff:` (or `prices:`) to the site (docs/tariffs.md) and apply it"
        )
    window = _window(depot, site, since, until, by)
    return _energy_report(depot, site, rates, window, vehicle)


def carbon_report(
    depot: Depot,
    since: datetime,
    until: datetime | None,
    by: ReportBy,
    vehicle: str | None = None,
) -> EnergyReport:
    """The energy's emissions per row (of one ``vehicle``'s sessions when given);
    :class:`NoCarbon` for a site without ``carbon:``."""
    site = site_in_force(depot)
    rates = _rates(depot, site)
    if rates.intensity is None:
        raise NoCarbon(
            f"site {site.topology.site} declares no carbon intensity: add `carbon:` to "
            "the site (a constant, an hourly profile or a series; docs/reports.md) and "
            "apply it"
        )
    window = _window(depot, site, since, until, by)
    return _energy_report(depot, site, rates, window, vehicle)


def readiness_report(
    depot: Depot,
    since: datetime,
    until: datetime | None,
    by: ReportBy,
    vehicle: str | None = None,
) -> ReadinessReport:
    """What each session departing in the window (of ``vehicle`` when given) got by its
    departure."""
    site = site_in_force(depot)
    window = _window(depot, site, since, until, by)
    snapshot = current_state(depot).snapshot
    recorded = [
        RecordedSession(r.session, r.ended_at)
        for r in depot.units().sessions.overlapping(
            window.since, window.asked, departing_from=window.since - _DEFAULT_DEPARTURE_REACH
        )
        if vehicle is None or r.session.vehicle_id == vehicle
    ]
    every = departure_outcomes(
        recorded,
        _session_profiles(depot, recorded, window.time),
        lambda session: requirement_of(session, snapshot),
        window.since,
        window.asked,
    )
    past = tuple(o for o in every if o.departure < window.until)
    if not every:
        of = f" of vehicle {vehicle}" if vehicle is not None else ""
        raise NoHistory(
            f"no session{of} departs between {utc_text(window.since)} and "
            f"{utc_text(window.asked)}: widen the window (--since, --until)"
        )
    return ReadinessReport(window, past, len(every) - len(past))


def _window(
    depot: Depot, site: AppliedSite, since: datetime, until: datetime | None, by: ReportBy
) -> ReportWindow:
    now = depot.clock.now()
    until = now if until is None else until
    for name, instant in (("since", since), ("until", until)):
        if instant.utcoffset() is None:
            raise Unprocessable(f"{name}: give a time zone (e.g. 2026-11-26T15:00:00Z)")
    if since >= now:
        raise Unprocessable(
            f"since {utc_text(since)} is not in the past (the controller's time is "
            f"{utc_text(now)}): a report reads history"
        )
    if until <= since:
        raise Unprocessable(
            f"until {utc_text(until)} is not after since {utc_text(since)}: give a window "
            "that ends after it starts"
        )
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    if min(until, now) - since > MAX_WINDOW:
        raise Unprocessable(
            f"the window from {utc_text(since)} is {(min(until, now) - since).days} days "
            f"long; a report covers at most {MAX_WINDOW.days} days: report it in parts"
        )
    return ReportWindow(now, site.topology.timezone, since, min(until, now), by, until)


def _rates(depot: Depot, site: AppliedSite) -> Rates:
    base_dir = depot.base_dir_of(site.revision)
    try:
        return Rates(
            ZoneInfo(site.topology.timezone),
            site_tariff(site.site, base_dir),
            site_price_series(site.site, base_dir),
            site_carbon_intensity(site.site, base_dir),
        )
    except (OSError, ValueError) as error:
        raise Unprocessable(
            f"the site's tariff, prices or carbon file cannot be read: {error}; "
            "`depotctl validate` the site and apply it again"
        ) from None


def _session_profiles(
    depot: Depot, recorded: list[RecordedSession], now: datetime
) -> dict[str, MinuteEnergy]:
    if not recorded:
        return {}
    start = min(r.session.started for r in recorded)
    end = max(r.end(now) for r in recorded) + timedelta(minutes=1)
    power = depot.units().telemetry.power_by_minute(
        {r.charger_id for r in recorded}, since=start - timedelta(minutes=1), until=end
    )
    return session_energy(recorded, power, now)


def _energy_report(
    depot: Depot, site: AppliedSite, rates: Rates, window: ReportWindow, vehicle: str | None
) -> EnergyReport:
    uow = depot.units()
    recorded = [
        RecordedSession(r.session, r.ended_at)
        for r in uow.sessions.overlapping(window.since, window.until)
    ]
    if vehicle is not None:
        return _vehicle_report(depot, rates, window, vehicle, recorded)
    profiles = _session_profiles(depot, recorded, window.time)
    meters = [
        node.meter or node.id
        for node in site.topology.nodes.values()
        if node.kind is NodeKind.GRID_CONNECTION
    ]
    metered = uow.telemetry.power_by_minute(meters, since=window.since, until=window.until)
    site_wh = site_energy(
        [metered[m] for m in meters], summed(profiles.values()), window.since, window.until
    )
    if not recorded and not site_wh.metered:
        raise NoHistory(
            f"no session and no reading of the grid meters ({', '.join(meters)}) between "
            f"{utc_text(window.since)} and {utc_text(window.until)}: widen the window "
            "(--since, --until); telemetry is kept by the minute for `depotctl serve "
            "--keep-telemetry` and by the quarter hour for --keep-decisions"
        )
    if window.by == "day":
        rows = day_rows(
            site_wh.energy,
            summed(profiles.values()),
            site_wh.metered,
            rates,
            window.since,
            window.until,
        )
    else:
        rows = session_rows(recorded, profiles, rates, window.since, window.until, window.time)
    bills = window_bills(site_wh.energy, rates, window.since, window.until)
    return EnergyReport(window, rates, rows, tuple(bills))


def _vehicle_report(
    depot: Depot,
    rates: Rates,
    window: ReportWindow,
    vehicle: str,
    recorded: list[RecordedSession],
) -> EnergyReport:
    """One vehicle's sessions, a row each; no bill (a billing window is the site's)."""
    if window.by == "day":
        raise Unprocessable(
            f"vehicle {vehicle}: a day's energy is the site's and cannot be split by "
            "vehicle; report its sessions (by=session)"
        )
    recorded = [r for r in recorded if r.session.vehicle_id == vehicle]
    if not recorded:
        raise NoHistory(
            f"no session of vehicle {vehicle} between {utc_text(window.since)} and "
            f"{utc_text(window.until)}: widen the window (--since, --until) or check the "
            "vehicle's id"
        )
    profiles = _session_profiles(depot, recorded, window.time)
    rows = session_rows(recorded, profiles, rates, window.since, window.until, window.time)
    return EnergyReport(window, rates, rows, ())
