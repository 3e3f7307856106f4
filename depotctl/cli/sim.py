"""``depotctl sim``: simulation commands; ``sim replay`` replays recorded sessions,
``sim chargers`` runs simulated OCPP chargers against a controller, ``sim derms`` a
simulated OSCP Capacity Provider."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer

from depotctl.cli.app import command_group
from depotctl.cli.failures import fail, refused
from depotctl.cli.parameters import (
    FormatOption,
    OutputFormat,
    bare_option,
    date_option,
    positive_seconds,
    site_file_option,
)

sim_app = command_group(
    "sim",
    "Simulate: replay recorded charging sessions through the allocator, offline; "
    "run simulated OCPP chargers against a controller; play a grid operator's OSCP "
    "Capacity Provider.",
)


#: Which controller's clock a simulator follows, besides a local --state-dir.
ContextOption = Annotated[
    str | None,
    bare_option("--context", metavar="NAME", help="Follow the clock of this context's controller."),
]
ServerOption = Annotated[
    str | None,
    bare_option(
        "--server", metavar="URL", help="Follow the clock of the controller at this API URL."
    ),
]
TokenFileOption = Annotated[
    Path | None, bare_option("--token-file", metavar="FILE", help="The token for --server.")
]


def _state_dir_option(gives: str) -> Any:
    """``--state-dir DIR``: a local controller, whose endpoints.json ``gives`` what the
    simulator needs."""
    return bare_option(
        "--state-dir",
        metavar="DIR",
        help=f"A local controller's state directory: its endpoints.json gives {gives}.",
    )


class Demand(StrEnum):
    DELIVERED = "delivered"
    REQUESTED = "requested"


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


@sim_app.command("replay")
def replay_command(
    site: Annotated[Path, site_file_option("The site file to replay on.")],
    sessions: Annotated[
        Path,
        bare_option("--sessions", metavar="FILE", help="ACN-Data sessions CSV (.csv or .csv.gz)."),
    ],
    first: Annotated[
        date | None, date_option("--from", "First local date of arrival to replay (YYYY-MM-DD).")
    ] = None,
    last: Annotated[
        date | None, date_option("--to", "Last local date of arrival to replay (inclusive).")
    ] = None,
    step: Annotated[
        str, typer.Option("--step", metavar="DURATION", help="Simulated time step.")
    ] = "5min",
    capacity_scale: Annotated[
        str,
        typer.Option(
            "--capacity-scale",
            metavar="FACTOR",
            help="Factor on the limits of the top of the tree: every grid connection, "
            "every transformer right under one and that transformer's secondary bus (each "
            "circuit right under it), as acnportal's transformer_cap scales a transformer "
            "on both sides; e.g. 0.2 or 1/3.",
        ),
    ] = "1",
    demand: Annotated[
        Demand,
        typer.Option("--demand", help="Each session's demand: energy delivered or requested."),
    ] = Demand.DELIVERED,
    envelope: Annotated[
        list[str] | None,
        bare_option(
            "--envelope",
            metavar="WINDOW SHARE",
            help="Scripted import envelope, local time, share of the grid connection's import "
            'limit: "17:00-21:00 50%". Repeatable.',
        ),
    ] = None,
    trace: Annotated[
        Path | None,
        bare_option(
            "--trace", metavar="FILE", help="Write every step per EVSE and node to this CSV."
        ),
    ] = None,
    carbon_file: Annotated[
        Path | None,
        bare_option(
            "--carbon",
            metavar="FILE",
            help="Carbon intensity for the emissions instead of the site's carbon: a series "
            "CSV (time,intensity) or a daily profile (hour,intensity), .csv or .csv.gz.",
        ),
    ] = None,
    tariff_file: Annotated[
        Path | None,
        bare_option(
            "--tariff",
            metavar="FILE",
            help="Tariff for the bill instead of the site's: a kind: Tariff YAML, or an "
            "acnportal tariff JSON (.json).",
        ),
    ] = None,
    planner: Annotated[
        bool,
        typer.Option(
            "--planner",
            help="Follow the horizon planner: every step it plans the sessions present "
            "(no future arrivals) under the tariff, demand charges and carbon, and the "
            "allocator caps non-urgent sessions at the plan's rate. On without the flag "
            "when the site's planner: is enabled; its horizon, block and carbon price hold.",
        ),
    ] = False,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Replay recorded sessions through the allocator, step by simulated step.

    Reports energy delivered as a share of demand, demands met, deadlines missed, the
    emissions (kg CO2e per day and per session, under the site's carbon or --carbon),
    the bill (energy, demand charge and fixed charges over the replayed period, under
    the site's tariff or --tariff), peak load per node, limit violations (checked
    independently of the engine) and wall time per simulated day.

    With --planner (or the site's planner: enabled), every step the horizon planner
    sees only the sessions plugged in (their energy still needed and departure), plans
    them over the site's horizon and blocks (24 h of 15 minutes by default, cut at the
    last departure) at the least energy cost, demand charge (the peak metered so far
    counts) and carbon cost (the site's carbon price), and the allocator caps each
    session at the plan's rate for the block now, an urgent one too while the plan
    meets it; one the plan leaves short is decided by the allocator alone, urgency
    included.

    Exit codes: 0 no violation, 1 a limit was exceeded, 2 usage, 3 a file cannot be
    read or written, or the site is not valid.

    **Examples**

    ```
    depotctl sim replay -f sites/caltech-acn.yaml \\
        --sessions data/acn/caltech_2019-05-01_2019-08-31.csv.gz \\
        --from 2019-05-13 --to 2019-05-13 --capacity-scale 1/3 \\
        --carbon data/carbon/caiso-sce-moer-2019-05-08.csv.gz
    depotctl sim replay -f sites/caltech-acn.yaml \\
        --sessions data/acn/caltech_2019-05-01_2019-08-31.csv.gz \\
        --from 2019-05-13 --to 2019-05-13 --planner \\
        --tariff sce_tou_ev_4_march_2019.json
    depotctl sim replay -f site.yaml --sessions sessions.csv \\
        --envelope "17:00-21:00 50%" --trace steps.csv --format json
    ```
    """
    from zoneinfo import ZoneInfo

    from depotctl.config import (
        CarbonFileError,
        SiteError,
        carbon_file_intensity,
        load_site,
        site_file_carbon_intensity,
    )
    from depotctl.recordings import AcnFormatError, DemandBasis, read_sessions
    from depotctl.replay import ReplayError, ReplaySettings, ScriptedEnvelope, run_replay

    step_s = positive_seconds(step, "--step", what="the step")
    try:
        scripts = tuple(ScriptedEnvelope.parse(text) for text in envelope or ())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--envelope") from None
    settings = ReplaySettings(
        first=first,
        last=last,
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
        raise fail("sim replay", f"cannot replay on {site}", 3) from None
    try:
        recorded = read_sessions(sessions)
    except AcnFormatError as error:
        raise fail("sim replay", f"{error}", 3) from None
    except OSError as error:
        raise fail("sim replay", f"cannot read {sessions}: {error.strerror or error}", 3) from None

    try:
        carbon = (
            carbon_file_intensity(carbon_file, ZoneInfo(topology.timezone))
            if carbon_file is not None
            else site_file_carbon_intensity(site)
        )
    except CarbonFileError as error:
        raise fail("sim replay", f"cannot use the carbon file: {error}", 3) from None
    from depotctl.replay.costs import ReplayCostError, replay_costs

    try:
        costs = replay_costs(site, tariff_file)
    except ReplayCostError as error:
        raise fail("sim replay", str(error), 3) from None

    from depotctl.engine import allocate
    from depotctl.replay.steps import Allocator

    allocator: Allocator = allocate
    if planner or costs.planner.enabled:
        from depotctl.replay.planning import PlanFollower

        allocator = PlanFollower(
            allocate,
            ZoneInfo(topology.timezone),
            costs.signals(carbon),
            costs.planner_settings(),
        )

    try:
        trace_stream = trace.open("w", encoding="utf-8", newline="") if trace else None
    except OSError as error:
        raise fail("sim replay", f"cannot write {trace}: {error.strerror or error}", 3) from None
    try:
        from depotctl.replay import TraceWriter

        writer = TraceWriter(trace_stream) if trace_stream else None
        report = run_replay(
            topology,
            policy,
            recorded,
            settings,
            allocator,
            writer,
            carbon,
            costs.tariff,
            costs.prices,
        )
    except ReplayError as error:
        raise fail("sim replay", str(error), 2) from None
    finally:
        if trace_stream:
            trace_stream.close()

    if output_format is OutputFormat.JSON:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(report.to_text())
    raise typer.Exit(1 if report.result.violations else 0)


@contextlib.contextmanager
def _warnings_on_stderr(simulator: str, *also: str) -> Iterator[None]:
    """A simulator's warnings (logger ``depotctl.sim.SIMULATOR``, and the loggers of
    the ``also`` simulators it uses parts of) on stderr, each line starting
    ``depotctl sim SIMULATOR:``, while the block runs."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"depotctl sim {simulator}: %(message)s"))
    logs = [logging.getLogger(f"depotctl.sim.{name}") for name in (simulator, *also)]
    for log in logs:
        log.addHandler(handler)
        log.setLevel(logging.WARNING)
        log.propagate = False
    try:
        yield
    finally:
        for log in logs:
            log.removeHandler(handler)


def _duration_s(text: str | None, flag: str) -> float | None:
    return None if text is None else positive_seconds(text, flag)


@sim_app.command("chargers")
def chargers_command(
    site: Annotated[Path, site_file_option("The site whose chargers to simulate.")],
    controller: Annotated[
        str | None,
        bare_option(
            "--controller",
            metavar="URL",
            help="The controller's OCPP URL (ws://HOST:PORT/ocpp); each charger connects to "
            "URL/{ocpp id}.",
        ),
    ] = None,
    state_dir: Annotated[
        Path | None, _state_dir_option("the OCPP URL and the API whose clock to follow")
    ] = None,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
    vehicles: Annotated[
        Path | None,
        bare_option(
            "--vehicles",
            metavar="FILE",
            help="Scenario: YAML, CSV, or an ACN-Data sessions CSV (docs/sim-chargers.md).",
        ),
    ] = None,
    misbehave: Annotated[
        list[str] | None,
        bare_option(
            "--misbehave",
            metavar="CHARGER:MODE",
            help="CHARGER:MODE (node id, OCPP id or *): reject-profiles, reject-tx-profiles, "
            "ignore-profiles, no-answer, offline=DURATION or offline=DURATION@AFTER, "
            '"offline=DURATION@random SHARE/WINDOW", '
            'reboot@AFTER, "reboot=every PERIOD" or "reboot=every PERIOD@FIRST", '
            '"reboot=random SHARE/WINDOW" '
            "(e.g. 10%/8h), boot-time=DURATION (default 20s), reconnect-without-boot, "
            "stale-meter-values or stale-meter-values=AGE, bad-meter-values, rate-unit=A|W. "
            "Repeatable.",
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            metavar="N",
            help="Seed of the random fault drills (reboot=random, offline=…@random): which "
            "chargers, and when.",
        ),
    ] = 0,
    password_env: Annotated[
        str | None,
        bare_option(
            "--password-env",
            metavar="VAR",
            help="Every charger's password from this environment variable, not the "
            "site's (whose secrets this machine may lack, as for the bundled sites); the "
            "controller then needs serve --charger-password-env VAR.",
        ),
    ] = None,
    meter_interval: Annotated[
        str,
        typer.Option(
            "--meter-interval",
            metavar="DURATION",
            help="Meter values every, in the controller's time.",
        ),
    ] = "10s",
    duration: Annotated[
        str | None,
        bare_option(
            "--duration", metavar="DURATION", help="Stop after this long of the controller's time."
        ),
    ] = None,
    first: Annotated[
        date | None,
        date_option("--from", "ACN-Data scenario: first local date of arrival (shifted to today)."),
    ] = None,
    last: Annotated[
        date | None, date_option("--to", "ACN-Data scenario: last local date of arrival.")
    ] = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Run one simulated OCPP charger (1.6 or 2.0.1, as the site says) per charger of a
    site against a controller, until Ctrl-C.

    The chargers follow the controller's clock (with --state-dir, --context or --server;
    else real time), hold and obey the charging profiles they are sent, plug in the
    scenario's vehicles and report meter values. Text mode shows a live line on stderr
    and a summary at the end.

    A charger the controller refuses says so with the HTTP status; the controller
    journals why (depotctl journal --kind charger.refused).

    Exit codes: 0 stopped cleanly, 1 the site or scenario is invalid, 2 usage (also a
    charger's password variable unset), 3 a file or the controller cannot be read, or no
    charger could boot.

    **Examples**

    ```
    depotctl sim chargers -f site.yaml --state-dir /tmp/depot
    depotctl sim chargers -f site.yaml --state-dir /tmp/depot \\
        --vehicles evening.yaml --misbehave CP-02:reject-profiles
    SIM_OCPP_PASSWORD=sim depotctl sim chargers -f sites/au-bus-depot.yaml \\
        --state-dir /tmp/depot --password-env SIM_OCPP_PASSWORD
    depotctl sim chargers -f site.yaml --controller ws://10.0.0.2:9000/ocpp \\
        --misbehave "*:reboot=random 10%/8h" --seed 7 --duration 8h
    ```
    """
    import asyncio

    from depotctl.domain.refusal import Refusal
    from depotctl.sim.chargers.report import to_json, to_text
    from depotctl.sim.chargers.run import Options, prepare, run
    from depotctl.sim.controller_ref import ControllerRef

    meter_s = _duration_s(meter_interval, "--meter-interval")
    options = Options(
        site=site,
        controller=controller,
        where=ControllerRef(state_dir, context, server, token_file),
        vehicles=vehicles,
        misbehave=tuple(misbehave or ()),
        seed=seed,
        password_env=password_env,
        meter_interval_s=meter_s or 10.0,
        duration_s=_duration_s(duration, "--duration"),
        first=first,
        last=last,
    )
    tty = sys.stderr.isatty()

    def live(line: str) -> None:
        sys.stderr.write(f"\r\x1b[2K{line}" if tty else f"{line}\n")
        sys.stderr.flush()

    async def main() -> tuple[str, str, object]:
        setup = await prepare(options)
        text_mode = output_format is OutputFormat.TEXT
        await run(setup, live if text_mode else None, 1.0 if tty else 10.0)
        return setup.site_name, setup.url, setup.fleet

    try:
        with _warnings_on_stderr("chargers"):
            site_name, url, fleet = asyncio.run(main())
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise fail(
            "sim chargers", "interrupted twice; running transactions were not all stopped", 3
        ) from None
    except Refusal as error:  # the site, the scenario, the controller, a context
        raise refused("sim chargers", error) from None
    if tty and output_format is OutputFormat.TEXT:
        sys.stderr.write("\n")
    from depotctl.sim.chargers.fleet import Fleet

    assert isinstance(fleet, Fleet)
    if output_format is OutputFormat.JSON:
        sys.stdout.write(json.dumps(to_json(fleet, site=site_name, url=url), indent=2) + "\n")
    else:
        sys.stdout.write(to_text(fleet, site=site_name, url=url))
    if not any(charger.stats.boots for charger in fleet.chargers):
        errors = {c.stats.last_error for c in fleet.chargers if c.stats.last_error}
        reason = f": {sorted(errors)[0]}" if errors else ""
        raise fail("sim chargers", f"no charger could boot at {url}{reason}", 3)


@sim_app.command("derms")
def derms_command(
    site: Annotated[Path, site_file_option("The site whose OSCP envelope source to play.")],
    profile: Annotated[
        Path,
        bare_option(
            "--profile",
            metavar="FILE",
            help="The capacity forecasts to send: YAML or CSV (docs/sim-derms.md).",
        ),
    ],
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
    state_dir: Annotated[
        Path | None, _state_dir_option("the API whose clock to follow and the OSCP URL")
    ] = None,
    controller: Annotated[
        str | None,
        bare_option(
            "--controller",
            metavar="URL",
            help="The controller's OSCP base URL (http://HOST:PORT/oscp/fp/2.0), where the "
            "provider registers unless the controller registers first.",
        ),
    ] = None,
    source: Annotated[
        str | None,
        bare_option(
            "--source", metavar="ID", help="The OSCP source to play, where the site has several."
        ),
    ] = None,
    listen: Annotated[
        str | None,
        bare_option(
            "--listen",
            metavar="HOST:PORT",
            help="Where the provider's endpoints listen; default: the host and port of the "
            "source's base_url in the site, which the controller registers at.",
        ),
    ] = None,
    silent_at: Annotated[
        str | None,
        bare_option(
            "--silent-at",
            metavar="TIME",
            help='Go silent (no heartbeats, no answers) then: "+30min", "19:00" (site time).',
        ),
    ] = None,
    silent_for: Annotated[
        str | None,
        bare_option(
            "--silent-for",
            metavar="DURATION",
            help="Come back after this long of the controller's time (default: stay silent).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        bare_option(
            "--until", metavar="TIME", help='Stop then: "+4h", "23:00" (site time); else Ctrl-C.'
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Play the grid operator's OSCP 2.0 Capacity Provider for one envelope source of a
    site, against a controller, until --until or Ctrl-C.

    The provider serves its endpoints (/oscp/cp/2.0/…), registers and hand-shakes with
    the controller, sends heartbeats at the interval the controller asked, sends the
    profile's capacity forecasts when their time comes, goes silent on cue, and records
    the measurements and compliance errors it receives. It follows the controller's
    clock (with --state-dir, --context or --server; else real time). The summary says
    which measured periods exceeded the forecast, in site time.

    The initial token is the site's (token_env or token_file), as for the controller.

    Exit codes: 0 stopped cleanly, 1 the site or profile is invalid, 2 usage (also the
    token's variable unset), 3 a file, the address or the controller cannot be had.

    **Examples**

    ```
    AUSGRID_OSCP_TOKEN=secret depotctl sim derms -f site.yaml \\
        --state-dir /tmp/depot --profile examples/derms-evening-cut.yaml
    depotctl sim derms -f site.yaml --state-dir /tmp/depot --profile cut.csv \\
        --silent-at +2h --silent-for 15min --until +6h
    ```
    """
    import asyncio

    from depotctl.cli.serve import parse_address
    from depotctl.domain.refusal import Refusal
    from depotctl.sim.controller_ref import ControllerRef
    from depotctl.sim.derms.report import to_json, to_text
    from depotctl.sim.derms.run import Options, prepare, run

    if silent_for is not None and silent_at is None:
        raise typer.BadParameter("needs --silent-at", param_hint="--silent-for")
    options = Options(
        site,
        profile,
        ControllerRef(state_dir, context, server, token_file),
        listen=parse_address(listen, "--listen") if listen is not None else None,
        silent_for_s=_duration_s(silent_for, "--silent-for"),
        controller=controller,
        source=source,
        silent_at=silent_at,
        until=until,
    )

    async def main() -> object:
        setup = await prepare(options)
        sys.stderr.write(f"depotctl sim derms: listening at {setup.url}\n")
        if setup.url.rstrip("/") != setup.site.base_url.rstrip("/"):
            sys.stderr.write(
                f"depotctl sim derms: the site's base_url is {setup.site.base_url}; the "
                "controller registers there, so it must lead here\n"
            )
        await run(setup)
        return setup

    try:
        with _warnings_on_stderr("derms", "chargers"):  # its clock follower's
            setup = asyncio.run(main())
    except KeyboardInterrupt:
        raise fail("sim derms", "interrupted twice; the summary was not written", 3) from None
    except Refusal as error:  # the site, the profile, the controller, the address
        raise refused("sim derms", error) from None
    from depotctl.sim.derms.run import Setup

    assert isinstance(setup, Setup)
    if output_format is OutputFormat.JSON:
        sys.stdout.write(json.dumps(to_json(setup), indent=2) + "\n")
    else:
        sys.stdout.write(to_text(setup))
