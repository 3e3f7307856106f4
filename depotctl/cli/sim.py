"""``depotctl sim``: simulation commands; ``sim replay`` replays recorded sessions."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from depotctl.cli.app import app

sim_app = typer.Typer(
    help="Simulate: replay recorded charging sessions through the allocator, offline.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["--help"]},
)
app.add_typer(sim_app, name="sim")


class ReplayFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Demand(StrEnum):
    DELIVERED = "delivered"
    REQUESTED = "requested"


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f'"{text}" is not a date like 2019-05-13', param_hint=flag
        ) from None


def _scale(text: str) -> float:
    """A positive number or ratio: ``0.2``, ``1/3``."""
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise typer.BadParameter(
            f'"{text}" is not a number; write a factor like 0.2 or 1/3',
            param_hint="--capacity-scale",
        ) from None
    if value <= 0:
        raise typer.BadParameter("must be above 0", param_hint="--capacity-scale")
    return value


def _fail(message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"depotctl sim replay: {message}\n")
    return typer.Exit(code)


@sim_app.command("replay")
def replay_command(
    site: Annotated[
        Path, typer.Option("--file", "-f", help="The site file to replay on.", show_default=False)
    ],
    sessions: Annotated[
        Path,
        typer.Option(
            "--sessions", help="ACN-Data sessions CSV (.csv or .csv.gz).", show_default=False
        ),
    ],
    first: Annotated[
        str | None,
        typer.Option(
            "--from", help="First local date of arrival to replay (YYYY-MM-DD).", show_default=False
        ),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option(
            "--to", help="Last local date of arrival to replay (inclusive).", show_default=False
        ),
    ] = None,
    step: Annotated[str, typer.Option("--step", help="Simulated time step.")] = "5min",
    capacity_scale: Annotated[
        str,
        typer.Option(
            "--capacity-scale",
            help="Factor on the limits of the top of the tree (grid connection and a "
            "transformer right under it), e.g. 0.2 or 1/3.",
        ),
    ] = "1",
    demand: Annotated[
        Demand,
        typer.Option("--demand", help="Each session's demand: energy delivered or requested."),
    ] = Demand.DELIVERED,
    envelope: Annotated[
        list[str] | None,
        typer.Option(
            "--envelope",
            help="Scripted import envelope, local time, share of the grid connection's import "
            'limit: "17:00-21:00 50%". Repeatable.',
            show_default=False,
        ),
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(
            "--trace", help="Write every step per EVSE and node to this CSV.", show_default=False
        ),
    ] = None,
    output_format: Annotated[
        ReplayFormat, typer.Option("--format", help="Output format.", case_sensitive=False)
    ] = ReplayFormat.TEXT,
) -> None:
    """Replay recorded sessions through the allocator, step by simulated step.

    Reports energy delivered as a share of demand, demands met, deadlines missed, peak
    load per node, limit violations (checked independently of the engine) and wall
    time per simulated day.

    Exit codes: 0 no violation, 1 a limit was exceeded, 2 usage, 3 a file cannot be
    read or written, or the site is not valid.
    """
    from depotctl.domain import Duration, QuantityError
    from depotctl.sim.acn import AcnFormatError, DemandBasis, read_sessions
    from depotctl.sim.run import ReplayError, ReplaySettings, SiteError, load_site, run_replay
    from depotctl.sim.script import ScriptedEnvelope

    try:
        step_s = Duration.parse(step).seconds
    except QuantityError as error:
        raise typer.BadParameter(f"{error.message}; {error.hint}", param_hint="--step") from None
    if step_s <= 0:
        raise typer.BadParameter("the step must be longer than 0 s", param_hint="--step")
    try:
        scripts = tuple(ScriptedEnvelope.parse(text) for text in envelope or ())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--envelope") from None
    settings = ReplaySettings(
        first=_date(first, "--from"),
        last=_date(last, "--to"),
        step_s=step_s,
        capacity_scale=_scale(capacity_scale),
        demand=DemandBasis(demand.value),
        envelopes=scripts,
    )
    if settings.first and settings.last and settings.last < settings.first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")

    try:
        topology, policy = load_site(site)
    except SiteError as error:
        sys.stderr.write(error.text if error.text.endswith("\n") else error.text + "\n")
        raise _fail(f"cannot replay on {site}", 3) from None
    try:
        recorded = read_sessions(sessions)
    except AcnFormatError as error:
        raise _fail(f"{error}", 3) from None
    except OSError as error:
        raise _fail(f"cannot read {sessions}: {error.strerror or error}", 3) from None

    from depotctl.engine import allocate

    try:
        trace_stream = trace.open("w", encoding="utf-8", newline="") if trace else None
    except OSError as error:
        raise _fail(f"cannot write {trace}: {error.strerror or error}", 3) from None
    try:
        from depotctl.sim.trace import TraceWriter

        writer = TraceWriter(trace_stream) if trace_stream else None
        report = run_replay(topology, policy, recorded, settings, allocate, writer)
    except ReplayError as error:
        raise _fail(str(error), 2) from None
    finally:
        if trace_stream:
            trace_stream.close()

    if output_format is ReplayFormat.JSON:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(report.to_text())
    raise typer.Exit(1 if report.result.violations else 0)
