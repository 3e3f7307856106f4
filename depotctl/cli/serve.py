"""``depotctl serve``: run the controller — the store, the clock and the HTTP API.

Web and server libraries are imported inside the command only, so that ``validate``
and the other offline commands never load them.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from depotctl.cli.app import app
from depotctl.cli.history_in_serve import (
    HistoryPasswordEnvOption,
    HistoryPasswordFileOption,
    HistoryUrlOption,
    history_beside,
)
from depotctl.cli.parameters import bare_option, positive_seconds
from depotctl.cli.retention_options import (
    DEFAULT_DECISIONS,
    DEFAULT_INPUTS,
    DEFAULT_TELEMETRY,
    KeepDecisionsOption,
    KeepInputsOption,
    KeepTelemetryOption,
    retention_of,
)
from depotctl.controller.log_lines import LogFormat as LogFormatChoice

if TYPE_CHECKING:
    from depotctl.controller.settings import Settings

DEFAULT_LISTEN = "127.0.0.1:8180"
DEFAULT_OCPP_LISTEN = "127.0.0.1:9000"
DEFAULT_OSCP_LISTEN = "127.0.0.1:9100"


class ClockKind(StrEnum):
    REAL = "real"
    SIM = "sim"


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/depotctl``, else ``~/.local/state/depotctl``."""
    base = os.environ.get("XDG_STATE_HOME")
    root = Path(base) if base else Path.home() / ".local" / "state"
    return root / "depotctl"


def parse_address(text: str, flag: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); port 0 picks a free port."""
    host, sep, port_text = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise typer.BadParameter(
            f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:8180)", param_hint=flag
        )
    return host, int(port_text)


def _settings(
    state_dir: Path | None,
    site: Path | None,
    listen: str,
    ocpp_listen: str,
    clock: ClockKind,
    speed: float,
    tick: str,
    shadow: bool = False,
    log_format: LogFormatChoice | None = None,
    charger_password_env: str | None = None,
    oscp_listen: str = DEFAULT_OSCP_LISTEN,
    oscp_base_url: str | None = None,
) -> Settings:
    tick_s = positive_seconds(tick, "--tick", what="the tick", hint=" ({hint})")
    if clock is ClockKind.REAL and speed != 1.0:
        raise typer.BadParameter("--speed needs --clock sim", param_hint="--speed")
    if charger_password_env is not None:
        _check_shared_password(charger_password_env, clock)
    api_at, ocpp_at = parse_address(listen, "--listen"), parse_address(ocpp_listen, "--ocpp-listen")
    oscp_at, base_url = parse_address(oscp_listen, "--oscp-listen"), _base_url(oscp_base_url)
    from depotctl.controller.log_lines import LogFormat
    from depotctl.controller.settings import Settings

    return Settings(
        state_dir=state_dir or default_state_dir(),
        site_file=site,
        listen=api_at,
        ocpp_listen=ocpp_at,
        clock=clock.value,
        speed=speed,
        tick_s=tick_s,
        shadow=shadow,
        log_format=LogFormat(log_format_for(log_format, tty=sys.stderr.isatty())),
        charger_password_env=charger_password_env,
        oscp_listen=oscp_at,
        oscp_base_url=base_url,
    )


def _base_url(text: str | None) -> str | None:
    if text is not None and not text.startswith(("https://", "http://")):
        raise typer.BadParameter(
            f"{text!r} is not an http(s) URL (e.g. https://depot.example/oscp/fp/2.0)",
            param_hint="--oscp-base-url",
        )
    return text


def _check_shared_password(variable: str, clock: ClockKind) -> None:
    """One password for every charger is for simulated chargers only, and it must be
    there."""
    if clock is not ClockKind.SIM:
        raise typer.BadParameter(
            "one password for every charger is for simulated chargers: it needs --clock "
            "sim (real chargers each have the site's password_env or password_file)",
            param_hint="--charger-password-env",
        )
    if not os.environ.get(variable):
        raise typer.BadParameter(
            f"the environment variable {variable} is not set; export {variable}=PASSWORD "
            f"(sim chargers --password-env {variable} sends the same)",
            param_hint="--charger-password-env",
        )


def log_format_for(chosen: LogFormatChoice | None, *, tty: bool) -> str:
    """The log's form: the one chosen, else text on a terminal and JSON lines elsewhere
    (a pipe, a file, journald)."""
    if chosen is not None:
        return chosen.value
    return LogFormatChoice.TEXT.value if tty else LogFormatChoice.JSON.value


@app.command()
def serve(
    state_dir: Annotated[
        Path | None,
        bare_option(
            "--state-dir",
            metavar="DIR",
            help="Where the store, tokens and endpoints.json live. "
            "Default: $XDG_STATE_HOME/depotctl, else ~/.local/state/depotctl.",
        ),
    ] = None,
    site: Annotated[
        Path | None,
        bare_option(
            "--site",
            metavar="FILE",
            help="Site file: the first revision of an empty store (validated first). A store "
            "with revisions keeps its own; a different file gets a warning to plan/apply.",
        ),
    ] = None,
    listen: Annotated[
        str,
        typer.Option(
            "--listen", metavar="HOST:PORT", help="API address HOST:PORT (port 0: a free port)."
        ),
    ] = DEFAULT_LISTEN,
    ocpp_listen: Annotated[
        str,
        typer.Option(
            "--ocpp-listen",
            metavar="HOST:PORT",
            help="OCPP address HOST:PORT for chargers (set the depot LAN address explicitly).",
        ),
    ] = DEFAULT_OCPP_LISTEN,
    oscp_listen: Annotated[
        str,
        typer.Option(
            "--oscp-listen",
            metavar="HOST:PORT",
            help="OSCP address HOST:PORT for the grid operator's Capacity Provider; it "
            "listens while the site declares an OSCP envelope source.",
        ),
    ] = DEFAULT_OSCP_LISTEN,
    oscp_base_url: Annotated[
        str | None,
        bare_option(
            "--oscp-base-url",
            metavar="URL",
            help="The base URL announced at OSCP register: the depot's public address of "
            "the listener, usually a TLS-terminating proxy "
            "(https://depot.example/oscp/fp/2.0). Default: the listener's own.",
        ),
    ] = None,
    clock: Annotated[
        ClockKind, typer.Option("--clock", help="real, or sim (simulated, --speed times faster).")
    ] = ClockKind.REAL,
    speed: Annotated[
        float,
        typer.Option(
            "--speed", metavar="FACTOR", min=0.001, help="Simulated seconds per real second."
        ),
    ] = 1.0,
    tick: Annotated[
        str, typer.Option("--tick", metavar="DURATION", help="Control-loop period.")
    ] = "5s",
    shadow: Annotated[
        bool,
        typer.Option(
            "--shadow",
            help="Decide and journal every limit but send none to the chargers (commissioning "
            "beside another system; tests without chargers). Chargers still connect.",
        ),
    ] = False,
    charger_password_env: Annotated[
        str | None,
        bare_option(
            "--charger-password-env",
            metavar="VAR",
            help="Simulation (needs --clock sim): every charger's password from this "
            "environment variable, not the site's password_env/password_file; sim "
            "chargers --password-env VAR sends the same.",
        ),
    ] = None,
    log_format: Annotated[
        LogFormatChoice | None,
        bare_option(
            "--log-format",
            help="json (one object per line, for journald and log shippers) or text (one "
            "line a person reads, times in the site's zone). Default: text on a terminal, "
            "json otherwise.",
        ),
    ] = None,
    history_url: HistoryUrlOption = None,
    history_password_env: HistoryPasswordEnvOption = None,
    history_password_file: HistoryPasswordFileOption = None,
    keep_decisions: KeepDecisionsOption = DEFAULT_DECISIONS,
    keep_telemetry: KeepTelemetryOption = DEFAULT_TELEMETRY,
    keep_inputs: KeepInputsOption = DEFAULT_INPUTS,
) -> None:
    """Run the depot controller: the SQLite store, the clock and the HTTP API.

    Before it creates anything it checks what it can: the state directory (a directory
    it may write, not held by another controller), the site file (readable; valid when
    it seeds an empty store) and both addresses (free). A refusal is one sentence on
    stderr with the fix, and nothing is created.

    One controller per state directory: it first locks STATE_DIR/serve.lock (naming its
    pid and start time) for its life; a crashed holder's lock is taken over. On start it
    creates STATE_DIR/tokens/admin.token and readonly.token (mode 0600, kept across
    restarts) and writes STATE_DIR/endpoints.json with the bound addresses. The log is
    on stderr (--log-format). Ctrl-C or SIGTERM stops it cleanly.

    Exit codes: 0 stopped cleanly, 1 the site (--site, or the stored revision) is
    invalid (diagnostics on stderr), 2 usage, 3 the state directory, the site file or an
    address cannot be used, 4 the state directory is in use by another running
    controller (named on stderr; nothing in the directory is changed).

    **Examples**

    ```
    depotctl serve --state-dir /tmp/depot --site examples/minimal.yaml
    depotctl serve --site sites/au-bus-depot.yaml \\
        --ocpp-listen 192.168.10.2:9000
    depotctl serve --state-dir /tmp/depot --site examples/minimal.yaml \\
        --listen 127.0.0.1:0 --ocpp-listen 127.0.0.1:0 --clock sim --speed 60
    SIM_OCPP_PASSWORD=sim depotctl serve --state-dir /tmp/depot \\
        --site sites/au-bus-depot.yaml --clock sim --speed 60 \\
        --charger-password-env SIM_OCPP_PASSWORD
    ```
    """
    settings = _settings(
        state_dir,
        site,
        listen,
        ocpp_listen,
        clock,
        speed,
        tick,
        shadow,
        log_format,
        charger_password_env,
        oscp_listen,
        oscp_base_url,
    )
    retention = retention_of(keep_decisions, keep_telemetry, keep_inputs)
    settings = dataclasses.replace(settings, retention=retention)
    shipping = history_beside(
        history_url, history_password_env, history_password_file, settings.state_dir
    )
    # the server (web, OCPP and engine libraries: a second or two of imports) only for
    # good flags and a start-up that can go ahead
    from depotctl.controller.startup import StartRefused, precheck, refuse

    try:
        checked = precheck(settings)
    except StartRefused as refused:
        raise typer.Exit(refuse(refused)) from None
    from depotctl.controller.server import run

    with shipping:
        code = run(settings, checked)
    if code:
        sys.stderr.flush()
        raise typer.Exit(code)
