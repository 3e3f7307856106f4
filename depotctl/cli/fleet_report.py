"""``depotctl report cost|carbon|readiness --history-url URL [--depot NAME …]``: the
report across depots from the fleet's PostgreSQL history (docs/history.md). Each
depot's report is the controller's own, printed as ``report`` prints it, under its
depot's name; then the fleet's totals. ``--by depot`` gives one row per depot."""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depotctl import api
from depotctl.api.base import json_of
from depotctl.cli.failures import fail, refused
from depotctl.cli.history import checked_target
from depotctl.cli.remote.connection import SiteClock, flag_instant
from depotctl.cli.remote.terminal import print_json, table
from depotctl.client.figures import DASH, zone_named
from depotctl.client.terminal_text import escaped_model
from depotctl.domain.refusal import Refusal

if TYPE_CHECKING:
    from depotctl.history.reports import FleetReport, RowsBy
    from depotctl.history.target import HistoryTarget

#: A report's printer (cli.remote.report's): the report, its depot's clock, CSV or not.
Render = Callable[[Any, SiteClock, bool], None]


def fleet_report_command(
    kind: str,
    *,
    history_url: str,
    depots: Sequence[str],
    password_env: str | None,
    password_file: Path | None,
    window: tuple[str, str | None],
    by: str | None,
    output_format: str,
    render: Render,
) -> None:
    """Read the history database at ``history_url`` and print the ``kind`` report of
    ``depots`` (every depot shipped when none) over ``window`` (--since, --until)."""
    name = f"report {kind}"
    try:
        target = checked_target(history_url, password_env, password_file)
        report, clock = _asked(kind, target, depots, window, by or _default_by(kind), name)
    except Refusal as refusal:
        raise refused(name, refusal) from None
    if output_format == "json":
        print_json(_json(report))
    elif by == "depot":
        _by_depot(report, output_format == "csv")
    else:
        _each_depot(report, render, output_format == "csv", clock)


def _default_by(kind: str) -> str:
    return "session" if kind == "readiness" else "day"


def _asked(
    kind: str,
    target: HistoryTarget,
    depots: Sequence[str],
    window: tuple[str, str | None],
    by: str,
    name: str,
) -> tuple[FleetReport, SiteClock]:
    """The fleet's report; times without an offset are read in the first depot's zone."""
    import psycopg
    from psycopg.errors import UndefinedTable

    from depotctl.history.fleet import FleetHistory
    from depotctl.history.reports import KINDS, fleet_report
    from depotctl.history.target import CONNECT_TIMEOUT_S

    if kind == "readiness" and by == "depot":
        raise Refusal("--by depot sums cost and carbon; readiness is by session or day", 2)
    rows_by: RowsBy = "session" if by == "session" else "day"
    try:
        with psycopg.connect(
            target.url,
            password=target.password,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="depotctl report",
            autocommit=True,
        ) as connection:
            history = FleetHistory(connection)
            names = history.depots(depots)
            now = datetime.now(UTC)
            clock = SiteClock(now, zone_named(history.site(names[0]).topology.timezone))
            since = flag_instant(name, "--since", window[0], clock, ahead=False)
            until = None
            if window[1] is not None:
                until = flag_instant(name, "--until", window[1], clock, ahead=False)
                if until <= since:
                    raise fail(
                        name,
                        f"--until {clock.text(until)} is not after --since {clock.text(since)}:"
                        " give a window that ends after it starts",
                        2,
                    )
            report = fleet_report(
                history, KINDS[kind], depots=names, since=since, until=until, by=rows_by, now=now
            )
    except psycopg.OperationalError as error:
        raise Refusal(
            f"the history database {target.shown} cannot be reached: {_first_line(error)}", 3
        ) from None
    except UndefinedTable:
        raise Refusal(
            f"the history database {target.shown} holds no depot's history (no history"
            " tables): ship a depot into it first (`depotctl history ship`)",
            3,
        ) from None
    except psycopg.Error as error:
        raise Refusal(
            f"the history database {target.shown} refused the report's query: {_first_line(error)}",
            3,
        ) from None
    return report, clock


def _first_line(error: Exception) -> str:
    """The driver's first line, which names the server and never the password."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _json(report: FleetReport) -> dict[str, Any]:
    return {
        "kind": report.kind,
        "depots": [{"depot": depot, "report": json_of(answer)} for depot, answer in report.depots],
        "total": _totals(report),
    }


def _totals(report: FleetReport) -> dict[str, Any]:
    """The fleet's sums: energy, and per currency the energy cost and the bills."""
    if report.kind == "readiness":
        sessions = [
            s
            for _, answer in report.depots
            if isinstance(answer, api.ReadinessReport)
            for s in answer.sessions
        ]
        return {
            "departed": len(sessions),
            "short": sum(1 for s in sessions if not s.met),
            "short_kwh": round(sum(s.short_kwh for s in sessions), 6),
        }
    energy = _energy_answers(report)
    totals: dict[str, Any] = {
        "energy_kwh": round(sum(a.total.energy_kwh for _, a in energy), 6),
        "carbon_kg_co2e": _sum_or_none([a.total.carbon_kg_co2e for _, a in energy]),
    }
    costs: dict[str, dict[str, float | None]] = {}
    for _, answer in energy:
        if isinstance(answer, api.CostReport):
            money = costs.setdefault(answer.currency, {"energy_cost": 0.0, "billed": 0.0})
            money["energy_cost"] = _add(money["energy_cost"], answer.total.energy_cost)
            money["billed"] = _add(money["billed"], _billed(answer))
    if report.kind == "cost":
        totals["by_currency"] = costs
    return totals


def _energy_answers(report: FleetReport) -> list[tuple[str, api.CostReport | api.CarbonReport]]:
    return [
        (depot, answer)
        for depot, answer in report.depots
        if isinstance(answer, api.CostReport | api.CarbonReport)
    ]


def _billed(answer: api.CostReport) -> float | None:
    """The sum of a depot's billing lines (None when one is unknown)."""
    billed: float | None = 0.0
    for line in answer.billing:
        billed = _add(billed, line.total)
    return billed


def _add(a: float | None, b: float | None) -> float | None:
    """A sum of amounts to the cent; None (unknown) when either is."""
    if a is None or b is None:
        return None
    return float(Decimal(repr(a)) + Decimal(repr(b)))


def _sum_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return None if len(known) < len(values) else round(sum(known), 3)


def _each_depot(report: FleetReport, render: Render, as_csv: bool, first: SiteClock) -> None:
    """Each depot's report as `report` prints it: text under a heading naming the
    depot, CSV with a depot column first; the fleet's totals last (text)."""
    for n, (depot, answer) in enumerate(report.depots):
        clock = SiteClock(first.now, zone_named(answer.timezone))
        if not as_csv:
            sys.stdout.write(f"{'' if n == 0 else chr(10)}== depot {depot}\n")
            render(escaped_model(answer), clock, False)
            continue
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            render(escaped_model(answer), clock, True)
        lines = list(csv.reader(io.StringIO(printed.getvalue())))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if n == 0 and lines:
            writer.writerow(["depot", *lines[0]])
        writer.writerows([depot, *line] for line in lines[1:])
    if not as_csv:
        sys.stdout.write(f"\n== fleet ({len(report.depots)} depots)\n{_total_text(report)}\n")


def _total_text(report: FleetReport) -> str:
    totals = _totals(report)
    if report.kind == "readiness":
        return (
            f"{totals['departed']} departed, {totals['short']} short"
            f" ({totals['short_kwh']:.1f} kWh)"
        )
    carbon = totals["carbon_kg_co2e"]
    words = [f"{totals['energy_kwh']:.1f} kWh"]
    words.append(f"{carbon:.2f} kg CO2e" if carbon is not None else f"{DASH} kg CO2e")
    for currency, money in totals.get("by_currency", {}).items():
        words.append(
            f"energy {_money(money['energy_cost'])} {currency},"
            f" billed {_money(money['billed'])} {currency}"
        )
    return "total: " + "; ".join(words)


def _by_depot(report: FleetReport, as_csv: bool) -> None:
    """One row per depot: its energy, energy cost and bills, carbon."""
    header = (
        *("depot", "energy_kwh", "ev_energy_kwh"),
        *("energy_cost", "billed", "currency", "carbon_kg_co2e"),
    )
    rows = []
    for depot, answer in _energy_answers(report):
        cost = answer if isinstance(answer, api.CostReport) else None
        rows.append(
            (
                depot,
                f"{answer.total.energy_kwh:.1f}",
                f"{sum(r.ev_energy_kwh or 0.0 for r in answer.rows):.1f}",
                _money(cost.total.energy_cost) if cost else "",
                _money(_billed(cost)) if cost else "",
                cost.currency if cost else "",
                _money(answer.total.carbon_kg_co2e),
            )
        )
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return
    sys.stdout.write(f"{report.kind} by depot\n")
    table(header, rows)
    sys.stdout.write(f"{_total_text(report)}\n")


def _money(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"
