"""``depotctl demo``: the whole product in one command — a controller on a temporary
state directory, simulated chargers with a night of vehicles, an envelope cut in the
evening peak (over OSCP from a simulated grid operator where the site declares an OSCP
source), and the console (or, ``--headless``, a summary at the end)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from depotctl.cli.app import app
from depotctl.cli.failures import fail, refused
from depotctl.cli.parameters import OutputFormat, bare_option, positive_seconds

if TYPE_CHECKING:
    from depotctl.demo.run import Demo


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _duration_s(text: str | None) -> float | None:
    if text is None:
        return None
    return positive_seconds(text, "--duration", what="the duration", hint=" ({hint})")


def _check_speed(speed: float) -> None:
    """--speed within what the demo can keep up with (:data:`~depotctl.demo.run.MAX_SPEED`)."""
    from depotctl.demo.run import MAX_SPEED, TICK_WALL_S

    if speed < 1.0:
        raise typer.BadParameter(
            f"{speed:g} is below 1: the simulated clock runs at least as fast as real time",
            param_hint="--speed",
        )
    if speed > MAX_SPEED:
        cycle_min = TICK_WALL_S * speed / 60.0
        raise typer.BadParameter(
            f"{speed:g} is above {MAX_SPEED:g}: the control cycle ({TICK_WALL_S:g} s of wall "
            f"time) would span {cycle_min:.0f} simulated minutes, more than the evening "
            "cut's 15 minutes' notice and a plan's block, and the start-up (a few seconds) "
            f"would outrun the evening; use --speed {MAX_SPEED:g} or less",
            param_hint="--speed",
        )


def _introduce(demo: Demo) -> None:
    from zoneinfo import ZoneInfo

    from depotctl.demo.site import PASSWORD_ENV
    from depotctl.domain.instants import format_day_clock, format_instant

    zone = ZoneInfo(demo.site.topology.timezone)
    local = demo.start.astimezone(zone)

    def _span(first: datetime, last: datetime) -> str:
        """``17:24-20:40``, ``05:04-06:58 +1d``: times of the start's day, or a later one."""
        since, until = (format_day_clock(at, zone, demo.start, "%H:%M") for at in (first, last))
        day = until[5:]
        return f"{since.removesuffix(day)}-{until}" if day else f"{since}-{until}"

    arrivals = sorted(v.arrival for v in demo.fleet)
    departures = sorted(v.departure for v in demo.fleet)
    _say(f"depotctl demo: {demo.site.topology.site} ({demo.site.source})")
    _say(f"  state      {demo.state_dir} (temporary{', kept' if demo.options.keep else ''})")
    _say(f"  controller {demo.endpoints['api']}  chargers {demo.endpoints['ocpp']}")
    _say(
        f"  clock      simulated, ×{demo.options.speed:g}, from {format_instant(local, zone)} "
        f"({demo.site.topology.timezone}; times below are site time that day, +1d the next)"
    )
    _say(
        f"  secrets    the {demo.site.chargers_rewritten} chargers of the demo's copy read their "
        f"OCPP password from ${PASSWORD_ENV}, a random one for this run"
    )
    if arrivals:
        _say(
            f"  vehicles   {len(demo.fleet)}: arriving {_span(arrivals[0], arrivals[-1])}, "
            f"leaving {_span(departures[0], departures[-1])}"
        )
    for source in demo.derms:
        peer = demo.site.oscp[source]
        _say(
            f"  grid       {source}: a simulated Capacity Provider (sim derms) at "
            f"{peer.base_url}, its initial token in ${peer.token_env}"
        )
    for cut in demo.cuts:
        how = "posted" if cut.source == "local" else f"sent over OSCP by {cut.source}"
        name = cut.id if cut.source == "local" else "the evening cut"
        _say(
            f"  envelope   {name}: {cut.target} import ≤ {cut.limit_w / 1000:g} kW "
            f"(static {cut.static_w / 1000:g} kW) {_span(cut.start, cut.end)}, "
            f"{how} 15 minutes ahead"
        )


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP (the terminal closed) stop the demo as Ctrl-C does: the
    children are stopped and the directory removed on the way out."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, interrupt)


@app.command("demo")
def demo(
    site: Annotated[
        str | None,
        bare_option(
            "--site",
            metavar="SITE",
            help="A bundled site (au-bus-depot, us-truck-depot, large-depot, caltech-acn) "
            "or a site file. Default: au-bus-depot.",
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            metavar="FACTOR",
            help="Simulated seconds per real second, 1 to 7200.",
        ),
    ] = 300.0,
    headless: Annotated[
        bool,
        typer.Option("--headless", help="No console: run, then print a summary."),
    ] = False,
    duration: Annotated[
        str | None,
        bare_option(
            "--duration",
            metavar="DURATION",
            help="With --headless: how long to run, in simulated time (e.g. 14h). "
            "Default: until the last vehicle has left.",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="The summary's format (--headless).", case_sensitive=False),
    ] = OutputFormat.TEXT,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the temporary state directory (and logs).")
    ] = False,
) -> None:
    """Show the whole product working: a controller, simulated chargers with a night
    of vehicles (the evening return and the morning departures), an envelope cut in
    the evening peak, and the console.

    Where the site declares an OSCP envelope source (au-bus-depot, large-depot), the
    cut arrives over OSCP from a simulated grid operator (depotctl sim derms) on the
    controller's clock.

    Everything runs in a temporary state directory, on free loopback ports, with a
    copy of the site whose chargers read a password generated for the run. q in the
    console, or Ctrl-C, stops everything and removes the directory (unless --keep).

    With --headless the console is not opened; at the end a summary says the energy
    delivered, the deadlines met, the peak load against each grid connection's
    limits, and the violations found.

    Exit codes: 0 done (--headless: every vehicle due left with its energy and no
    limit was exceeded); 1 --headless: a deadline was missed or a limit exceeded, or
    the site is invalid; 2 usage (an unknown bundled site, --duration without
    --headless, no terminal for the console); 3 a process could not be started.

    **Examples**

    ```
    depotctl demo
    depotctl demo --site us-truck-depot --speed 600
    depotctl demo --headless
    depotctl demo --headless --duration 14h --format json
    ```
    """
    from depotctl.demo.run import Demo, Options
    from depotctl.domain.refusal import Refusal

    _check_speed(speed)
    seconds = _duration_s(duration)
    if seconds is not None and not headless:
        raise typer.BadParameter("--duration needs --headless", param_hint="--duration")
    if not headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise fail("demo", "the console needs a terminal; use --headless", 2)
    options = Options(site=site, speed=speed, duration_s=seconds, keep=keep, whole_night=headless)
    _stop_on_signals()
    try:
        with Demo(options) as running:
            _introduce(running)
            if headless:
                code = _headless(running, output_format)
            else:
                _console(running)
                code = 0
    except Refusal as error:  # the site (SiteError), a process that did not start
        raise refused("demo", error) from None
    except KeyboardInterrupt:
        _say("depotctl demo: interrupted; everything is stopped")
        raise typer.Exit(130) from None
    if code:
        raise typer.Exit(code)


def _headless(running: Demo, output_format: OutputFormat) -> int:
    from depotctl.demo.summary import passed, render_text

    assert running.duration_s is not None
    _say(
        f"  running    {running.duration_s / 3600:.1f} h of simulated time, about "
        f"{running.duration_s / running.options.speed:.0f} s; Ctrl-C stops early"
    )
    interrupted = False
    try:
        running.wait_for_chargers()
    except KeyboardInterrupt:
        interrupted = True
        if running.chargers is not None:
            running.chargers.stop()  # they write their report when stopped
    summary = running.summary()
    if output_format is OutputFormat.JSON:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(summary))
    if interrupted:
        return 130
    return 0 if passed(summary) else 1


def _console(running: Demo) -> None:
    running.console_app().run()
