"""``report cost|carbon|readiness``: the controller's history in figures — what the
energy cost (with the billing windows' bills), what it emitted, and what each session
got by its departure (docs/reports.md)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.app import command_group
from depotctl.cli.failures import fail
from depotctl.cli.parameters import OutputFormat, bare_option
from depotctl.cli.remote.connection import (
    Connection,
    ContextOption,
    Remote,
    ServerOption,
    SiteClock,
    TokenFileOption,
    flag_instant,
    site_clock,
)
from depotctl.cli.remote.terminal import table
from depotctl.client.figures import DASH, amount
from depotctl.client.terminal_text import escaped, escaped_model

if TYPE_CHECKING:
    from depotctl.api import CarbonReport, CostReport, ReadinessReport
    from depotctl.client.api import ControllerClient

group = command_group(
    "report",
    "Reports from the controller's history: cost, carbon, readiness.\n\n"
    "Each reads a window of the past (--since, --until) and prints a table in site "
    "time, JSON (UTC, exact figures) or CSV. Where each figure comes from is in "
    "docs/reports.md.",
)


class ReportFormat(StrEnum):
    """Text for people, JSON for programs, CSV for spreadsheets."""

    TEXT = "text"
    JSON = "json"
    CSV = "csv"


class ReportBy(StrEnum):
    DAY = "day"
    SESSION = "session"
    DEPOT = "depot"


SinceOption = Annotated[
    str,
    bare_option(
        "--since",
        metavar="TIME",
        help='From: 7d (ago), "2026-12-01" (local midnight), "yesterday 18:00", or ISO 8601 '
        "with an offset.",
    ),
]
UntilOption = Annotated[
    str | None,
    bare_option("--until", metavar="TIME", help="Before this time (default: now); as --since."),
]
ByOption = Annotated[
    ReportBy | None,
    bare_option(
        "--by",
        help="Rows per local day or per session (default: day; readiness and --vehicle: "
        "session); with --history-url, depot: one row per depot.",
        case_sensitive=False,
    ),
]
VehicleOption = Annotated[
    str | None,
    bare_option(
        "--vehicle",
        metavar="ID",
        help="Only this vehicle's sessions, a row each (cost, carbon: no --by day, and no "
        "billing-window bill: a bill is the site's).",
    ),
]
ReportFormatOption = Annotated[
    ReportFormat, typer.Option("--format", help="Output format.", case_sensitive=False)
]
HistoryUrlOption = Annotated[
    str | None,
    bare_option(
        "--history-url",
        metavar="URL",
        help="Report across depots from the fleet's PostgreSQL history "
        "(postgresql://[USER@]HOST/DBNAME, never with a password; docs/history.md) "
        "instead of a controller.",
    ),
]
DepotOption = Annotated[
    list[str] | None,
    bare_option(
        "--depot", metavar="NAME", help="With --history-url: this depot (repeat; default: all)."
    ),
]
PasswordEnvOption = Annotated[
    str | None,
    bare_option(
        "--password-env", metavar="VAR", help="With --history-url: the password's variable."
    ),
]
PasswordFileOption = Annotated[
    Path | None,
    bare_option("--password-file", metavar="FILE", help="With --history-url: the password's file."),
]

#: What each report asks of the client, and how its text and CSV read.
Ask = Callable[..., Any]


def _register(kind: str, doc: str, ask: Callable[[ControllerClient], Ask]) -> None:
    def command(
        since: SinceOption,
        until: UntilOption = None,
        by: ByOption = None,
        vehicle: VehicleOption = None,
        output_format: ReportFormatOption = ReportFormat.TEXT,
        context: ContextOption = None,
        server: ServerOption = None,
        token_file: TokenFileOption = None,
        history_url: HistoryUrlOption = None,
        depot: DepotOption = None,
        password_env: PasswordEnvOption = None,
        password_file: PasswordFileOption = None,
    ) -> None:
        name = f"report {kind}"
        if vehicle is not None:
            _vehicle_usage(name, kind, by, history_url)
        if history_url is not None:
            from depotctl.cli.fleet_report import fleet_report_command

            fleet_report_command(
                kind,
                history_url=history_url,
                depots=depot or (),
                password_env=password_env,
                password_file=password_file,
                window=(since, until),
                by=by.value if by else None,
                output_format=output_format.value,
                render=_RENDER[kind],
            )
            return
        if by is ReportBy.DEPOT or depot:
            raise fail(
                name, "--by depot and --depot read the fleet's history: give --history-url", 2
            )
        shown = OutputFormat.JSON if output_format is ReportFormat.JSON else OutputFormat.TEXT
        remote = Remote(Connection(context, server, token_file), shown)
        with remote.client(name) as client:
            clock = site_clock(client)
            start = flag_instant(name, "--since", since, clock, ahead=False)
            end = flag_instant(name, "--until", until, clock, ahead=False) if until else None
            if end is not None and end <= start:
                raise fail(
                    name,
                    f"--until {clock.text(end)} is not after --since {clock.text(start)}: give "
                    "a window that ends after it starts",
                    2,
                )
            answer = ask(client)(
                since=start, until=end, by=by.value if by else None, vehicle=vehicle
            )
        if remote.printed_json(answer):
            return
        as_csv = output_format is ReportFormat.CSV
        _RENDER[kind](escaped_model(answer), clock, as_csv)
        if vehicle is not None and kind == "cost" and not as_csv:
            sys.stdout.write("billing windows are the site's bills: not shown for one vehicle\n")

    command.__doc__ = doc
    command.__name__ = kind
    group.command(kind)(command)


def _vehicle_usage(name: str, kind: str, by: ReportBy | None, history_url: str | None) -> None:
    """--vehicle's usage errors: not across depots, and no day rows of cost or carbon."""
    if history_url is not None:
        raise fail(
            name,
            "--vehicle reads one controller's sessions: drop --history-url (or --vehicle)",
            2,
        )
    if by is ReportBy.DAY and kind != "readiness":
        raise fail(
            name,
            "--by day with --vehicle: a day's energy is the site's and cannot be split by "
            "vehicle; drop --by day (a vehicle's report is by session)",
            2,
        )


_COMMON = """

Exit codes: 0 ok; 2 usage (a time that cannot be read, --until not after --since, a
window in the future, --vehicle with --history-url{by_day}, {refusal}, no history in
the window, or no session of --vehicle in it); 3 the controller
cannot be reached or refuses the token.
"""


def _named(key: str, vehicle: str | None, as_csv: bool) -> str:
    """A session row's key, with its vehicle when known (text only: CSV keeps the id)."""
    return f"{key} ({vehicle})" if vehicle and not as_csv else key


def _cost_text(report: CostReport, clock: SiteClock, as_csv: bool) -> None:
    rows = [
        (
            _named(row.key, row.vehicle, as_csv),
            row.evse or "",
            _figure(row.energy_kwh),
            _figure(row.ev_energy_kwh) if row.ev_energy_kwh is not None else "",
            _money(row.energy_cost),
            _figure(row.carbon_kg_co2e, 2),
        )
        for row in report.rows
    ]
    header = ("row", "evse", "energy_kwh", "ev_energy_kwh", "energy_cost", "carbon_kg_co2e")
    sessions = report.by == "session"
    keep = [0, 1, 2, 4, 5] if sessions else [0, 2, 3, 4, 5]
    if not _shown(report, clock, as_csv, f"cost in {report.currency}", (header, rows, keep)):
        return
    total = report.total
    whose = "the sessions'" if sessions else "the site's"
    sys.stdout.write(
        f"total: {_figure(total.energy_kwh)} kWh, {_money(total.energy_cost)} "
        f"{report.currency} for {whose} energy\n"
    )
    for line in report.billing:
        span = f"{clock.text(line.start)} to {clock.text(line.end)}"
        partial = " (partial: the demand charge is on the peak so far)" if line.partial else ""
        sys.stdout.write(f"\nbilling window {span}{partial}\n")
        sys.stdout.write(f"  energy  {_figure(line.energy_kwh)} kWh  {_money(line.energy_cost)}\n")
        for demand in line.demand:
            sys.stdout.write(
                f"  demand  {demand.charge}: peak {amount(demand.peak_kw, 'kW')} from "
                f"{clock.text(demand.peak_start)} × {demand.price_per_kw:g} /kW  "
                f"{_money(demand.amount)}\n"
            )
        for fixed in line.fixed:
            sys.stdout.write(
                f"  fixed   {fixed.count} {fixed.unit}(s) × {fixed.price:g}  {_money(fixed.amount)}\n"
            )
        sys.stdout.write(f"  total   {_money(line.total)} {report.currency}\n")


def _carbon_text(report: CarbonReport, clock: SiteClock, as_csv: bool) -> None:
    rows = [
        (
            _named(row.key, row.vehicle, as_csv),
            row.evse or "",
            _figure(row.energy_kwh),
            _figure(row.carbon_kg_co2e, 2),
            _figure(row.carbon_kg_co2e / row.energy_kwh, 3)
            if row.carbon_kg_co2e is not None and row.energy_kwh > 0
            else "",
            _figure(row.uncovered_kwh),
        )
        for row in report.rows
    ]
    header = ("row", "evse", "energy_kwh", "carbon_kg_co2e", "kg_per_kwh", "uncovered_kwh")
    keep = [0, 1, 2, 3, 4, 5] if report.by == "session" else [0, 2, 3, 4, 5]
    if not _shown(report, clock, as_csv, f"carbon at {report.intensity}", (header, rows, keep)):
        return
    total = report.total
    sys.stdout.write(
        f"total: {_figure(total.carbon_kg_co2e, 2)} kg CO2e for {_figure(total.energy_kwh)} kWh\n"
    )


def _readiness_text(report: ReadinessReport, clock: SiteClock, as_csv: bool) -> None:
    by_day = report.by == "day"
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    if by_day:
        header = ("date", "sessions", "met", "short", "short_kwh")
        rows = [
            (d.date, str(d.sessions), str(d.met), str(d.short), _figure(d.short_kwh))
            for d in report.days
        ]
    else:
        header = ("session", "evse", "departure", "needed_kwh", "delivered_kwh", "outcome")
        rows = [
            (
                _named(s.session, s.vehicle, as_csv),
                s.evse,
                s.departure.isoformat() if as_csv else clock.text(s.departure),
                _figure(s.needed_kwh),
                _figure(s.delivered_kwh),
                "met" if s.met else f"short by {_figure(s.short_kwh)} kWh",
            )
            for s in report.sessions
        ]
    columns = (header, rows, list(range(len(header))))
    if not _shown(report, clock, as_csv, "readiness at departure", columns):
        return
    short = sum(1 for s in report.sessions if not s.met)
    ahead = f"; {report.ahead} still to depart" if report.ahead else ""
    sys.stdout.write(f"{len(report.sessions)} departed, {short} short{ahead}\n")


_RENDER: dict[str, Callable[[Any, SiteClock, bool], None]] = {
    "cost": _cost_text,
    "carbon": _carbon_text,
    "readiness": _readiness_text,
}


#: A report's columns: the header, the rows, and which columns to show.
Columns = tuple[tuple[str, ...], Sequence[tuple[str, ...]], list[int]]


def _shown(report: Any, clock: SiteClock, as_csv: bool, what: str, columns: Columns) -> bool:
    """The rows as CSV (False: nothing more to print), or a heading and a table (True:
    the totals follow)."""
    header, rows, keep = columns
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([header[i] for i in keep])
        writer.writerows([row[i] for i in keep] for row in rows)
        return False
    span = f"{clock.text(report.since)} to {clock.text(report.until)}"
    sys.stdout.write(f"{escaped(what)}, {span}, by {report.by}\n")
    if rows:
        table(tuple(header[i] for i in keep), [tuple(row[i] for i in keep) for row in rows])
    return True


def _figure(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def _money(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


_register(
    "cost",
    """What the energy of a window cost, per local day or per session.

Each row's energy and its cost at the site's tariff or price series (and its carbon
where the site declares it); then the bill of each billing window (a calendar month of
the site) the window touches: its energy, its demand charges on the peak, its fixed
charges. A day's peak is no bill: demand charges appear only on the billing lines.
"""
    + _COMMON.format(by_day=" or --by day", refusal="a site without a tariff or price series")
    + """
**Examples**

```
depotctl report cost --since 2026-12-01 --until 2026-12-08
depotctl report cost --since 7d --by session --format csv > sessions.csv
depotctl report cost --since "yesterday 00:00" --format json
depotctl report cost --since 30d --vehicle bus-42
depotctl report cost --since 2026-12-01 --by depot \\
    --history-url postgresql://ops@pg.example/fleet
```
""",
    lambda client: client.cost_report,
)
_register(
    "carbon",
    """What the energy of a window emitted, per local day or per session.

Each row's energy, its kg CO2e at the site's carbon intensity and the average per kWh;
energy the intensity does not cover is counted apart and leaves its row's figure
unknown, never zero.
"""
    + _COMMON.format(by_day=" or --by day", refusal="a site without carbon")
    + """
**Examples**

```
depotctl report carbon --since 7d
depotctl report carbon --since 2026-12-01 --by session --format csv
```
""",
    lambda client: client.carbon_report,
)
_register(
    "readiness",
    """What each session departing in a window got by its departure.

Its departure and need (its own requirement, else the site's default), the energy it
had by then, met or short by how much; --by day counts them per local day. Sessions
still to depart are only counted: their forecast is in `depotctl requirements list`.
"""
    + _COMMON.format(by_day="", refusal="no session departing in the window")
    + """
**Examples**

```
depotctl report readiness --since "yesterday 18:00"
depotctl report readiness --since 30d --by day --format csv
```
""",
    lambda client: client.readiness_report,
)
