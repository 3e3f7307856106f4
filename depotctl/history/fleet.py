"""What the history database holds of each depot, read back as the controller's own
store gives it to its reports: the site revision in force (compiled, with its tariff,
price series and carbon from the files shipped with it), the sessions that overlap a
window, and each node's mean power by minute — from the minutes, and past the raw
retention from the quarter hours (each minute of a quarter an even share of its
energy, as the store reads them)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from depotctl.config import (
    Site,
    compile_site,
    load_text,
    site_carbon_intensity,
    site_price_series,
    site_tariff,
    write_bundle,
)
from depotctl.domain.policy import Policy
from depotctl.domain.refusal import Refusal
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.topology import Topology
from depotctl.engine.energy_accounts import Rates
from depotctl.engine.energy_history import RecordedSession

Connection = psycopg.Connection[tuple[Any, ...]]

#: Minutes in a quarter hour.
QUARTER_MINUTES = 15

_SESSIONS = (
    "SELECT id, evse_id, started_at, energy_delivered_wh, requirement_energy_wh,"
    " requirement_departure, requirement_source, vehicle_max_current_a, planned_rate_a,"
    " priority_class, vehicle_id, fleet_id, ended_at FROM sessions"
    " WHERE depot = %s AND started_at < %s AND ({open}) ORDER BY started_at, id"
)


@dataclass(frozen=True)
class DepotSite:
    """A depot's site revision in force, compiled, and what it prices with."""

    depot: str
    revision: int
    site: Site
    topology: Topology
    policy: Policy
    rates: Rates


class FleetHistory:
    """The history database, read (:meth:`depots`, :meth:`site`, :meth:`sessions`,
    :meth:`power_by_minute`)."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._sites: dict[str, DepotSite] = {}

    def depots(self, wanted: Sequence[str] = ()) -> list[str]:
        """The depots with a site revision shipped, or ``wanted`` of them (exit 2
        naming the shipped ones for a name the database does not hold)."""
        known = [
            row[0]
            for row in self._db.execute(
                "SELECT DISTINCT depot FROM revisions ORDER BY depot"
            ).fetchall()
        ]
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise Refusal(
                f"the history database holds no site revision of depot"
                f" {', '.join(unknown)}; it holds {', '.join(known) or 'none'}: give one of"
                " those to --depot, or ship that depot with a depotctl that ships revisions",
                2,
            )
        if not known:
            raise Refusal(
                "the history database holds no depot's site revision yet: ship a depot"
                " (`depotctl history ship`) first",
                2,
            )
        return list(dict.fromkeys(wanted)) if wanted else known

    def site(self, depot: str) -> DepotSite:
        """The depot's latest site revision, compiled against the files shipped with it
        (written to a temporary directory for the loaders, then removed)."""
        if depot in self._sites:
            return self._sites[depot]
        row = self._db.execute(
            "SELECT number, site_text, files FROM revisions WHERE depot = %s"
            " ORDER BY number DESC LIMIT 1",
            (depot,),
        ).fetchone()
        if row is None:
            raise Refusal(f"the history database holds no site revision of depot {depot}", 2)
        number, text, files = row
        with tempfile.TemporaryDirectory(prefix="depotctl-revision-") as scratch:
            base = Path(scratch)
            write_bundle(files, base)
            compiled = _compiled(depot, number, text, base)
        self._sites[depot] = compiled
        return compiled

    def sessions(
        self,
        depot: str,
        since: datetime,
        until: datetime,
        *,
        departing_from: datetime | None = None,
    ) -> list[RecordedSession]:
        """As the store's ``overlapping``: the sessions that started before ``until``
        and were open at or after ``since``; with ``departing_from``, also those whose
        requirement departs from ``since`` on or that started from then on."""
        clauses = "ended_at IS NULL OR ended_at >= %s"
        params: list[Any] = [depot, until, since]
        if departing_from is not None:
            clauses += " OR requirement_departure >= %s OR started_at >= %s"
            params += [since, departing_from]
        rows = self._db.execute(_SESSIONS.format(open=clauses).encode(), params).fetchall()
        return [_recorded(row) for row in rows]

    def power_by_minute(
        self, depot: str, nodes: Iterable[str], *, since: datetime, until: datetime
    ) -> dict[str, dict[datetime, float]]:
        """Each node's mean power (W) by minute in ``[since, until)``: its minutes with a
        power reading, and where the minutes were folded into quarter hours, each minute
        of a quarter with a power reading an even share of the quarter's energy."""
        found: dict[str, dict[datetime, float]] = {}
        for node in sorted(set(nodes)):
            power: dict[datetime, float] = {}
            quarters = self._db.execute(
                "SELECT quarter, power_w_mean * power_minutes FROM telemetry_quarters"
                " WHERE depot = %s AND node = %s AND quarter > %s AND quarter < %s"
                " AND power_w_mean IS NOT NULL ORDER BY quarter",
                (depot, node, since - timedelta(minutes=QUARTER_MINUTES), until),
            ).fetchall()
            for start, summed in quarters:
                share = summed / QUARTER_MINUTES
                for n in range(QUARTER_MINUTES):
                    minute = start.astimezone(UTC) + timedelta(minutes=n)
                    if since <= minute < until:
                        power[minute] = share
            minutes = self._db.execute(
                "SELECT minute, power_w_mean FROM telemetry_minutes WHERE depot = %s"
                " AND node = %s AND minute >= %s AND minute < %s"
                " AND power_w_mean IS NOT NULL ORDER BY minute",
                (depot, node, since, until),
            ).fetchall()
            power.update((minute.astimezone(UTC), watts) for minute, watts in minutes)
            found[node] = power
        return found


def _compiled(depot: str, number: int, text: str, base: Path) -> DepotSite:
    """A shipped revision's site, compiled; exit 3 when it no longer loads."""
    loaded = load_text(text, base / f"revision-{number}.yaml", f"{depot} revision {number}")
    sites = [d.model for d in loaded.documents if isinstance(d.model, Site)]
    if loaded.report.errors or len(sites) != 1:
        raise Refusal(
            f"depot {depot}'s site revision {number} in the history database does not"
            " load with this depotctl; report it with the depotctl that shipped it",
            3,
        )
    site = sites[0]
    try:
        topology, policy = compile_site(site, base)
        rates = Rates(
            ZoneInfo(topology.timezone),
            site_tariff(site, base),
            site_price_series(site, base),
            site_carbon_intensity(site, base),
        )
    except (OSError, ValueError) as error:
        raise Refusal(
            f"depot {depot}'s site revision {number}: its tariff, prices or carbon"
            f" cannot be read ({error}); were its files shipped with it?",
            3,
        ) from None
    return DepotSite(depot, number, site, topology, policy, rates)


def _recorded(row: tuple[Any, ...]) -> RecordedSession:
    (id_, evse, started, energy, need, departure, source, vmax, planned, priority) = row[:10]
    vehicle, fleet, ended = row[10:]
    requirement = None
    if need is not None:
        requirement = EnergyRequirement(
            energy_wh=need,
            departure=departure.astimezone(UTC),
            source=RequirementSource(source or RequirementSource.SCHEDULE),
        )
    # the fields in the order Session declares them
    session = Session(
        id_, evse, started.astimezone(UTC), energy, requirement, vmax, planned, priority
    )
    session = replace(session, vehicle_id=vehicle, fleet_id=fleet)
    return RecordedSession(session, ended.astimezone(UTC) if ended is not None else None)
