"""Reports across depots (``depotctl report cost|carbon|readiness --history-url``):
each depot's report is the controller's own — the same engine functions
(:mod:`~depotctl.engine.energy_history`, :mod:`~depotctl.engine.energy_accounts`,
:mod:`~depotctl.engine.departure_outcomes`) and the same API models — fed from the rows
its shipper put in the history database (:mod:`.fleet`) instead of its store, with the
site revision it shipped last. docs/history.md says what differs: nothing but where
the rows come from, and that the history holds what was shipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from depotctl import api
from depotctl.domain.refusal import Refusal
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import NodeKind
from depotctl.engine import energy_history as energy
from depotctl.engine.departure_outcomes import departure_outcomes
from depotctl.engine.energy_accounts import window_bills
from depotctl.engine.outlook import requirement_of
from depotctl.engine.report_rows import day_rows, session_rows
from depotctl.history.fleet import DepotSite, FleetHistory
from depotctl.views.report_figures import (
    billing_line,
    departure_days,
    departure_row,
    energy_totals,
    figures_row,
)

ReportKind = Literal["cost", "carbon", "readiness"]
#: The reports by their command's name.
KINDS: dict[str, ReportKind] = {"cost": "cost", "carbon": "carbon", "readiness": "readiness"}
#: How a depot's rows are cut (``depot``: the CLI sums each depot's day rows).
RowsBy = Literal["day", "session"]

#: The longest window a report reads, as the controller's.
MAX_WINDOW = timedelta(days=400)
#: How long before the window a session may start and still depart in it by default.
_DEFAULT_DEPARTURE_REACH = timedelta(days=2)

DepotAnswer = api.CostReport | api.CarbonReport | api.ReadinessReport


@dataclass(frozen=True)
class FleetReport:
    """One report per depot, in the order asked (or by name)."""

    kind: ReportKind
    depots: tuple[tuple[str, DepotAnswer], ...]


@dataclass(frozen=True)
class _Window:
    now: datetime
    since: datetime
    until: datetime
    asked: datetime
    by: RowsBy


def fleet_report(
    history: FleetHistory,
    kind: ReportKind,
    *,
    depots: Sequence[str],
    since: datetime,
    until: datetime | None,
    by: RowsBy,
    now: datetime,
) -> FleetReport:
    """Each depot's ``kind`` report of ``[since, until)`` (until no later than ``now``);
    a :class:`Refusal` (exit 2) for a window in the future or over 400 days, and for a
    depot that cannot answer it (no tariff, no carbon, no history in the window)."""
    window = _window(since, until, by, now)
    answers: list[tuple[str, DepotAnswer]] = []
    for depot in history.depots(depots):
        site = history.site(depot)
        if kind == "readiness":
            answers.append((depot, _readiness(history, site, window)))
        else:
            answers.append((depot, _energy(history, site, window, kind)))
    return FleetReport(kind, tuple(answers))


def _window(since: datetime, until: datetime | None, by: RowsBy, now: datetime) -> _Window:
    since = since.astimezone(UTC)
    asked = now if until is None else until.astimezone(UTC)
    if since >= now:
        raise Refusal(f"--since {since.isoformat()} is not in the past: a report reads history", 2)
    end = min(asked, now)
    if end - since > MAX_WINDOW:
        raise Refusal(
            f"the window from {since.isoformat()} is {(end - since).days} days long; a report"
            f" covers at most {MAX_WINDOW.days} days: report it in parts",
            2,
        )
    return _Window(now, since, end, asked, by)


def _span(site: DepotSite, window: _Window) -> dict[str, Any]:
    return {
        "time": window.now,
        "timezone": site.topology.timezone,
        "since": window.since,
        "until": window.until,
        "by": window.by,
    }


def _profiles(
    history: FleetHistory, depot: str, recorded: list[energy.RecordedSession], now: datetime
) -> dict[str, energy.MinuteEnergy]:
    """Each session's energy by minute, as the controller's report spreads it."""
    if not recorded:
        return {}
    start = min(r.session.started for r in recorded) - timedelta(minutes=1)
    end = max(r.end(now) for r in recorded) + timedelta(minutes=1)
    chargers = {r.charger_id for r in recorded}
    return energy.session_energy(
        recorded, history.power_by_minute(depot, chargers, since=start, until=end), now
    )


def _energy(
    history: FleetHistory, site: DepotSite, window: _Window, kind: ReportKind
) -> api.CostReport | api.CarbonReport:
    rates, depot = site.rates, site.depot
    if kind == "cost" and rates.tariff is None and rates.prices is None:
        raise Refusal(f"depot {depot}'s site has no tariff and no price series to cost with", 2)
    if kind == "carbon" and rates.intensity is None:
        raise Refusal(f"depot {depot}'s site declares no carbon intensity (`carbon:`)", 2)
    recorded = history.sessions(depot, window.since, window.until)
    profiles = _profiles(history, depot, recorded, window.now)
    meters = [
        node.meter or node.id
        for node in site.topology.nodes.values()
        if node.kind is NodeKind.GRID_CONNECTION
    ]
    metered = history.power_by_minute(depot, meters, since=window.since, until=window.until)
    ev = energy.summed(profiles.values())
    site_wh = energy.site_energy([metered[m] for m in meters], ev, window.since, window.until)
    if not recorded and not site_wh.metered:
        raise Refusal(
            f"depot {depot}: no session and no reading of the grid meters"
            f" ({', '.join(meters)}) in the window in the history database: widen the"
            " window (--since, --until), or leave the depot out (--depot)",
            2,
        )
    priced = kind == "cost"
    if window.by == "day":
        figures = day_rows(site_wh.energy, ev, site_wh.metered, rates, window.since, window.until)
    else:
        figures = session_rows(recorded, profiles, rates, window.since, window.until, window.now)
    accounts = [f.account for f in figures]
    rows = [figures_row(f, priced=priced) for f in figures]
    if not priced:
        assert rates.intensity is not None
        return api.CarbonReport(
            **_span(site, window),
            intensity=rates.intensity.describe(),
            rows=rows,
            total=energy_totals(accounts, priced=False),
        )
    bills = window_bills(site_wh.energy, rates, window.since, window.until)
    return api.CostReport(
        **_span(site, window),
        currency=rates.currency or "",
        rows=rows,
        billing=[billing_line(b) for b in bills],
        total=energy_totals(accounts, priced=True),
    )


def _readiness(history: FleetHistory, site: DepotSite, window: _Window) -> api.ReadinessReport:
    recorded = history.sessions(
        site.depot,
        window.since,
        window.asked,
        departing_from=window.since - _DEFAULT_DEPARTURE_REACH,
    )
    snapshot = Snapshot(at=window.now, topology=site.topology, policy=site.policy)
    every = departure_outcomes(
        recorded,
        _profiles(history, site.depot, recorded, window.now),
        lambda session: requirement_of(session, snapshot),
        window.since,
        window.asked,
    )
    if not every:
        raise Refusal(
            f"depot {site.depot}: no session departs in the window in the history database:"
            " widen the window (--since, --until), or leave the depot out (--depot)",
            2,
        )
    past = [o for o in every if o.departure < window.until]
    return api.ReadinessReport(
        **_span(site, window),
        sessions=[departure_row(o) for o in past],
        days=departure_days(past, site.rates.zone),
        ahead=len(every) - len(past),
    )
